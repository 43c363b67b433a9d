"""Complaint deadlines on the work calendar (pure: the calendar and the times are arguments).

- First response: ``hours`` after registration (settings.COMPLAINT_FIRST_RESPONSE_HOURS,
  24 by default; seed 003 says 48 — the company chooses).
- Resolution: by the end of the 3rd working day after the day of registration, the 7th
  for a complaint marked special. Registered on Tuesday 2026-09-29 → the end of
  2026-10-09 (09-30, 10-08, 10-09; 10-01..07 is the National Day holiday).
- Waiting for the customer stops the resolution clock: on resuming, the deadline moves
  by the working time that passed while waiting (days count whole, as the deadline is the
  end of a working day).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.lib.dates import local_day, local_midnight
from crm.lib.workcalendar import WorkCalendar

RESOLUTION_WORKING_DAYS = 3
SPECIAL_RESOLUTION_WORKING_DAYS = 7
DAY = timedelta(days=1)


def lenient(calendar: WorkCalendar) -> WorkCalendar:
    """The same calendar, with a year nobody has entered yet following the Monday–Friday
    rule: a complaint must be registered even in the last days of December before next
    year's holidays are published (the deadline is then an estimate, and says so)."""
    unknown = {year for year in range(2000, 2200) if not calendar.knows(year)}
    return WorkCalendar(calendar.overrides, entered_years=calendar.entered_years | unknown)


def first_response_due(registered_at: datetime, *, hours: int) -> datetime:
    return registered_at + timedelta(hours=hours)


def resolution_due(registered_at: datetime, calendar: WorkCalendar, *, special: bool = False) -> datetime:
    """The end (next midnight, local time) of the n-th working day after the day of
    registration."""
    days = SPECIAL_RESOLUTION_WORKING_DAYS if special else RESOLUTION_WORKING_DAYS
    last_day = calendar.add_working_days(local_day(registered_at), days)
    return local_midnight(last_day + DAY)


def working_time_between(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """How much of [start, end) falls on working days (whole calendar days count)."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    day = local_day(start)
    day_start = local_midnight(day)
    while day_start < end:
        day_end = local_midnight(day + DAY)
        if calendar.is_working_day(day):
            total += min(end, day_end) - max(start, day_start)
        day, day_start = day + DAY, day_end
    return total


def add_working_time(moment: datetime, amount: timedelta, calendar: WorkCalendar) -> datetime:
    """``moment`` moved forward by ``amount`` of working-day time, skipping rest days."""
    remaining = amount
    current = moment
    while remaining > timedelta(0):
        day = local_day(current)
        day_end = local_midnight(day + DAY)
        if not calendar.is_working_day(day):
            current = day_end
            continue
        step = min(remaining, day_end - current)
        current += step
        remaining -= step
    return current


def extend_for_pause(due: datetime, paused_at: datetime, resumed_at: datetime, calendar: WorkCalendar) -> datetime:
    """The resolution deadline after waiting for the customer from ``paused_at`` to
    ``resumed_at``: moved by the working time that passed while waiting."""
    return add_working_time(due, working_time_between(paused_at, resumed_at, calendar), calendar)


def countdown(due: datetime, now: datetime, calendar: WorkCalendar) -> tuple[str, bool]:
    """The countdown as the lists show it, and whether it is overdue: 剩余 1天3小时 counts
    working time only (a weekend does not eat into it); 已超时 5小时 counts wall time."""
    if now >= due:
        return f"已超时 {_duration(now - due)}", True
    return f"剩余 {_duration(working_time_between(now, due, calendar))}", False


def _duration(amount: timedelta) -> str:
    days, seconds = amount.days, amount.seconds
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟"
