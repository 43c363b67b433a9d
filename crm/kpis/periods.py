"""The period a KPI is computed for (pure: ``today`` is an argument).

A period is a range of local days (China time), both ends included: a calendar month (the
default), an ISO week (Monday–Sunday, as the weekly report), a calendar quarter, or any
custom range of up to two years. ``trend_months`` gives the twelve calendar months that end
with the period's last month, for the trend charts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from crm.core.errors import DomainError
from crm.lib.dates import month_bounds, quarter_bounds, quarter_of

KINDS = {"month": "月", "week": "周", "quarter": "季度", "custom": "自定义"}
MAX_CUSTOM_DAYS = 731
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y年%m月}"
        if self.kind == "quarter":
            return "{}年第{}季度".format(*quarter_of(self.start))
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}年第{week}周（{self.start:%m-%d}至{self.end:%m-%d}）"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    @property
    def value(self) -> str:
        """The period as the selector's value (2026-10, 2026-W41, 2026-Q4, or empty)."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return "{}-Q{}".format(*quarter_of(self.start))
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_of(day: date) -> Period:
    return Period("month", *month_bounds(day))


def parse(kind: str, value: str = "", *, start: date | None = None, end: date | None = None, today: date) -> Period:
    """The period the dashboard's selector names; empty values default to the one that
    contains ``today``. A malformed value is a DomainError with a Chinese message."""
    kind = kind or "month"
    value = (value or "").strip()
    try:
        if kind == "month":
            if not value:
                return month_of(today)
            m = _MONTH.match(value)
            if not m:
                raise ValueError
            return month_of(date(int(m[1]), int(m[2]), 1))
        if kind == "week":
            if not value:
                monday = today - timedelta(days=today.weekday())
            else:
                m = _WEEK.match(value)
                if not m:
                    raise ValueError
                monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period("week", monday, monday + timedelta(days=6))
        if kind == "quarter":
            if not value:
                year, q = quarter_of(today)
            else:
                m = _QUARTER.match(value)
                if not m:
                    raise ValueError
                year, q = int(m[1]), int(m[2])
            return Period("quarter", *quarter_bounds(year, q))
    except ValueError as exc:
        raise DomainError(f"{KINDS[kind]}的格式不正确", field="value") from exc
    if kind == "custom":
        if start is None or end is None:
            raise DomainError("请填写自定义期间的开始和结束日期", field="start")
        if end < start:
            raise DomainError("结束日期不能早于开始日期", field="end")
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise DomainError("自定义期间最长两年", field="end")
        return Period("custom", start, end)
    raise DomainError("请选择期间类型：月、周、季度或自定义", field="kind")


def trend_months(period: Period, count: int = 12) -> list[Period]:
    """The ``count`` calendar months ending with the month of the period's last day, oldest first."""
    months = []
    first = period.end.replace(day=1)
    for _ in range(count):
        months.append(month_of(first))
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]
