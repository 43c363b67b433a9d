"""The work calendar as configured: the library's data plus the administrators' entries."""

from __future__ import annotations

from datetime import date

from crm.core.models import CalendarDay, CalendarYear
from crm.lib.workcalendar import WorkCalendar


def work_calendar() -> WorkCalendar:
    """A WorkCalendar with every override from the database (a few dozen rows per year)."""
    overrides = dict(CalendarDay.objects.values_list("day", "is_working_day"))
    years = CalendarYear.objects.values_list("year", flat=True)
    return WorkCalendar(overrides=overrides, entered_years=years)


def missing_next_year(today: date, calendar: WorkCalendar | None = None) -> int | None:
    """From 1 November, the coming year when its calendar is still unknown (workbench warning)."""
    if today.month < 11:
        return None
    calendar = calendar or work_calendar()
    next_year = today.year + 1
    return None if calendar.knows(next_year) else next_year
