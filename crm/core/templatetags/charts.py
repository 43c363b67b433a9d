"""``{% chart c %}`` draws a crm.core.charts.Chart with its table; ``{% chart_scripts %}``
loads ECharts (served by the app, no CDN) and static/js/charts.js once per page."""

from __future__ import annotations

from typing import Any

from django import template

from crm.core.charts import Chart

register = template.Library()


@register.inclusion_tag("core/chart.html")
def chart(c: Chart) -> dict[str, Any]:
    return {"chart": c, "option": c.option(), "option_id": f"{c.element_id}-option", "table": c.table()}


@register.inclusion_tag("core/chart_scripts.html")
def chart_scripts() -> dict[str, Any]:
    return {}
