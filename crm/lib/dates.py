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
