"""Local dates and times of the business: China Standard Time (Asia/Shanghai).

The company works in one time zone (settings.TIME_ZONE), so "today", "midnight" and the
send windows are computed here once, for every app (pure; no Django).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def at(day: date, moment: time) -> datetime:
    """The aware datetime of ``moment`` on ``day``, local time."""
    return datetime.combine(day, moment, tzinfo=CHINA_TZ)


def local_midnight(day: date) -> datetime:
    """00:00 local time on ``day``: the start of a day in a date-range filter."""
    return at(day, time.min)


def local_day(moment: datetime) -> date:
    """The local calendar date of an aware datetime."""
    return moment.astimezone(CHINA_TZ).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (weeks run Monday–Sunday in the reports)."""
    return day - timedelta(days=day.weekday())


def month_bounds(day: date) -> tuple[date, date]:
    """The first and the last day of ``day``'s calendar month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_month(day: date) -> date:
    """The last day of the month before ``day``'s month."""
    return day.replace(day=1) - timedelta(days=1)


def quarter_of(day: date) -> tuple[int, int]:
    """``day``'s year and calendar quarter (1–4)."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """The first and the last day of a calendar quarter (1–4)."""
    first = date(year, 3 * quarter - 2, 1)
    return first, month_bounds(date(year, 3 * quarter, 1))[1]
