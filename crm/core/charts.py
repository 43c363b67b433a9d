"""Charts for reports: one description, drawn by ECharts in the browser and listed as a table.

A ``Chart`` holds what a report wants to show (categories along one axis, one or more
series of numbers). ``option()`` turns it into an ECharts option object, which the page
embeds with ``json_script`` (never as markup, so names typed by users stay data);
static/js/charts.js draws every chart on the page with the ECharts build the app serves
itself (static/vendor/echarts, docs/decisions/0019-charts.md). ``table()`` gives the same
numbers as rows for the table under each chart: what a screen reader, a printout, a
browser without JavaScript and the tests read.

Templates use ``{% load charts %}{% chart c %}`` for each chart and ``{% chart_scripts %}``
once (crm/core/templatetags/charts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["bar", "hbar", "pie", "line"]
# The palette of app.css (primary red, accent blue, then neutral hues that print well).
PALETTE = ("#b4232a", "#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#6b7280", "#ec4899", "#14b8a6")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]


@dataclass(frozen=True)
class Chart:
    """A chart and its table. ``key`` is unique on the page (the element ids derive from it)."""

    key: str
    title: str
    kind: Kind
    categories: Sequence[str]
    series: Sequence[Series]
    unit: str = ""  # shown in the table header and the tooltip, e.g. "件" or "%"
    category_label: str = "项目"
    height: int = 280
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def element_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def is_empty(self) -> bool:
        """Nothing to draw: no categories (all-zero values are still drawn: a zero is a figure)."""
        return not self.categories

    def option(self) -> dict[str, Any]:
        """The ECharts option object (plain JSON types only)."""
        option: dict[str, Any] = {
            "color": list(PALETTE),
            "tooltip": {"trigger": "item" if self.kind == "pie" else "axis"},
            "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
            "animation": False,
        }
        if len(self.series) > 1 or self.kind == "pie":
            option["legend"] = {"top": 0, "type": "scroll"}
        categories = [str(c) for c in self.categories]
        if self.kind == "pie":
            values = self.series[0].values if self.series else []
            option["series"] = [
                {
                    "type": "pie",
                    "name": self.series[0].name if self.series else self.title,
                    "radius": ["35%", "65%"],
                    "top": 24,
                    "data": [{"name": c, "value": v} for c, v in zip(categories, values, strict=True)],
                    "label": {"formatter": "{b}: {c}"},
                }
            ]
            return option | self.extra
        category_axis = {"type": "category", "data": categories, "axisLabel": {"interval": 0, "hideOverlap": True}}
        value_axis: dict[str, Any] = {"type": "value", "minInterval": 1}
        if self.unit == "%":
            value_axis |= {"max": 100, "axisLabel": {"formatter": "{value}%"}}
        if self.kind == "hbar":
            option["xAxis"], option["yAxis"] = value_axis, category_axis | {"inverse": True}
        else:
            option["xAxis"], option["yAxis"] = category_axis, value_axis
        option["series"] = [
            {
                "type": "line" if self.kind == "line" else "bar",
                "name": s.name,
                "data": list(s.values),
                "label": {"show": True, "position": "right" if self.kind == "hbar" else "top"},
            }
            for s in self.series
        ]
        return option | self.extra

    def table(self) -> dict[str, Any]:
        """The same numbers as a table: a header row and one row per category."""
        unit = f"（{self.unit}）" if self.unit else ""
        header = [self.category_label, *(f"{s.name}{unit}" for s in self.series)]
        rows = [
            [str(category), *(_cell(s.values[i]) for s in self.series)] for i, category in enumerate(self.categories)
        ]
        return {"header": header, "rows": rows}


def _cell(value: float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
