"""When a visit starts, when it is due, and when an unreached customer is called again
(pure: the calendar, the dates and ``now`` are arguments).

- Start: the occasion's date moved by whole months (交房前1个月: −1; 入住后3个月: +3;
  the 31st of a shorter month is its last day), then by days — working days when the plan
  says so: the birthday call is on the working day before (a birthday on Monday
  2026-09-21 is called on Sunday 09-20, a 调休 working day).
- Due: ``window`` working days after the start, or ``window`` calendar days moved off a
  rest day onto the next working day (签约后7日内: signed on Friday 2026-09-25 → 10-02 is
  National Day → due Thursday 10-08).
- Retry: an unreached customer is called again on the next working day in the next slot
  of the day (morning → afternoon → evening → morning), so each attempt is at a different
  time of day (issue 12, item 3).
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from crm.lib.dates import CHINA_TZ, at, local_day
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar

# The times of day a retry is made at (local time).
SLOTS = (time(10, 0), time(15, 0), time(19, 0))
ESTIMATE_NOTE = "；期限暂按周一至周五估算"


@dataclass(frozen=True)
class Rule:
    """The timing part of a plan (crm.visits.models.VisitPlan)."""

    offset_months: int = 0
    offset_days: int = 0
    offset_in_working_days: bool = False
    window_days: int = 7
    window_in_working_days: bool = False


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = month_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def start_on(occasion_on: date, rule: Rule, calendar: WorkCalendar) -> date:
    day = add_months(occasion_on, rule.offset_months)
    if rule.offset_in_working_days and rule.offset_days:
        return calendar.add_working_days(day, rule.offset_days)
    return day + timedelta(days=rule.offset_days)


def due_on(start: date, rule: Rule, calendar: WorkCalendar) -> date:
    if rule.window_in_working_days:
        return calendar.add_working_days(start, rule.window_days)
    return calendar.next_working_day(start + timedelta(days=rule.window_days), inclusive=True)


def lenient(calendar: WorkCalendar) -> WorkCalendar:
    """The same calendar with the years nobody entered following Monday–Friday: a visit for
    next January is still planned in December (its due date then says it is an estimate)."""
    unknown = {year for year in range(2000, 2200) if not calendar.knows(year)}
    return WorkCalendar(calendar.overrides, entered_years=calendar.entered_years | unknown)


def schedule(occasion_on: date, rule: Rule, calendar: WorkCalendar) -> tuple[date, date, str]:
    """(start, due, note): the note says when the dates are an estimate because the year's
    work calendar has not been entered."""
    try:
        start = start_on(occasion_on, rule, calendar)
        return start, due_on(start, rule, calendar), ""
    except CalendarUnknown as exc:
        loose = lenient(calendar)
        start = start_on(occasion_on, rule, loose)
        return start, due_on(start, rule, loose), exc.message + ESTIMATE_NOTE


def next_attempt(now: datetime, calendar: WorkCalendar) -> datetime:
    """The next working day, in the slot after the one ``now`` falls in."""
    local = now.astimezone(CHINA_TZ).time()
    current = max((i for i, slot in enumerate(SLOTS) if local >= slot), default=len(SLOTS) - 1)
    slot = SLOTS[(current + 1) % len(SLOTS)]
    try:
        day = calendar.next_working_day(local_day(now))
    except CalendarUnknown:
        day = lenient(calendar).next_working_day(local_day(now))
    return at(day, slot)
