"""Report periods and when each is due: pure functions of dates, the work calendar and
``now`` (no database).

- a week runs Monday to Sunday (seed 001: 时间范围为本周一到本周日); it closes on the
  configured weekday (default Sunday: the week's 7th day) at the close hour;
- a month is the calendar month; it closes on its last working day (the work calendar with
  调休: February 2026 closes on Saturday the 28th, a make-up working day) at the close hour;
  when the calendar does not know the year yet, on the month's last day (the period's end
  is certain, a guessed working day is not);
- a day (每日巡查报告) closes at the close hour.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from crm.lib.dates import at, local_day, week_start
from crm.lib.dates import month_bounds as month_bounds
from crm.lib.dates import previous_month as previous_month
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar


def week_bounds(day: date) -> tuple[date, date]:
    first = week_start(day)
    return first, first + timedelta(days=6)


def month_close_day(day: date, calendar: WorkCalendar) -> date:
    """The day the month of ``day`` is reported: its last working day."""
    try:
        return calendar.last_working_day_of_month(day.year, day.month)
    except CalendarUnknown:
        return month_bounds(day)[1]


def week_close_day(day: date, close_weekday: int) -> date:
    return week_start(day) + timedelta(days=close_weekday)


def due_week(now: datetime, *, close_weekday: int, close_hour: int) -> tuple[date, date]:
    """The latest week whose close has passed at ``now``: this week once its close day's
    hour has come, else last week."""
    today = local_day(now)
    close = at(week_close_day(today, close_weekday), time(close_hour))
    return week_bounds(today if now >= close else today - timedelta(days=7))


def due_month(now: datetime, *, calendar: WorkCalendar, close_hour: int) -> tuple[date, date]:
    """The latest month whose close has passed at ``now``: this month from its last working
    day's hour, else last month."""
    today = local_day(now)
    close = at(month_close_day(today, calendar), time(close_hour))
    return month_bounds(today if now >= close else previous_month(today))


def due_day(now: datetime, *, close_hour: int) -> date:
    """The latest day whose close hour has passed at ``now``."""
    today = local_day(now)
    return today if now >= at(today, time(close_hour)) else today - timedelta(days=1)
