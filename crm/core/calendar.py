"""The work calendar as configured: the library's data plus the administrators' entries.

``work_calendar()`` is what deadlines and care messages use, kept in Django's cache under
a stamp that ``calendar_changed()`` replaces on every write of the calendar's rows;
``year_days()`` is the same answer for every day of one year, with the festival names,
for the 工作日历 page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, DateField, IntegerField, Value

from crm.core.models import CalendarDay, CalendarYear
from crm.lib.holiday_notice import WEEKDAYS
from crm.lib.workcalendar import WorkCalendar, library_day_name, library_knows

_STAMP_KEY = "work-calendar:stamp"
# A process whose cache is its own (no CACHE_URL: the runjobs loop beside the web server)
# never sees another process's new stamp; it reads the calendar again after this long.
_CACHE_SECONDS = 60


def work_calendar() -> WorkCalendar:
    """The work calendar, from the cache while no calendar row has changed.

    Every page showing a deadline reads it (the complaint list, the visit queue): a query
    and a few dozen rows turned into a WorkCalendar, about a twentieth of such a page's
    Python (docs/performance.md). The entry sits under the current stamp, so a change
    (``calendar_changed``) is seen by the next read in every process sharing the cache.
    """
    stamp = cache.get(_STAMP_KEY)
    if stamp is None:
        cache.add(_STAMP_KEY, secrets.token_hex(8), None)
        stamp = cache.get(_STAMP_KEY)
    key = f"work-calendar:{stamp}"
    calendar: WorkCalendar | None = cache.get(key)
    if calendar is None:
        calendar = read_work_calendar()
        cache.set(key, calendar, _CACHE_SECONDS)
    return calendar


def calendar_changed() -> None:
    """Give the cached calendar a new stamp: at once (this transaction's own later reads)
    and again on commit (a read in another process between the two saw the rows before
    the change and cached them under the first stamp). The post_save and post_delete
    signals of CalendarDay and CalendarYear call it (crm.core.apps); bulk writes, which
    send none, call it themselves (crm.core.services.apply_notice)."""
    cache.set(_STAMP_KEY, secrets.token_hex(8), None)
    transaction.on_commit(lambda: cache.set(_STAMP_KEY, secrets.token_hex(8), None))


def read_work_calendar() -> WorkCalendar:
    """A WorkCalendar with every override from the database (a few dozen rows per year).

    The override days and the entered years in one ``UNION ALL`` (one round trip: every
    page showing a deadline reads it, docs/performance.md); a row is a day
    ``(day, is_working_day, NULL)`` or a year ``(NULL, NULL, year)``.
    """
    days = CalendarDay.objects.order_by().values_list("day", "is_working_day", Value(None, output_field=IntegerField()))
    years = CalendarYear.objects.order_by().values_list(
        Value(None, output_field=DateField()), Value(None, output_field=BooleanField()), "year"
    )
    overrides: dict[date, bool] = {}
    entered: list[int] = []
    for day, working, year in days.union(years, all=True):
        if year is None:
            overrides[day] = working
        else:
            entered.append(year)
    return WorkCalendar(overrides=overrides, entered_years=entered)


def missing_next_year(today: date, calendar: WorkCalendar | None = None) -> int | None:
    """From 1 November, the coming year when its calendar is still unknown (workbench warning)."""
    if today.month < 11:
        return None
    calendar = calendar or work_calendar()
    next_year = today.year + 1
    return None if calendar.knows(next_year) else next_year


def base_day(day: date, *, entered: bool) -> tuple[bool, str]:
    """(is working day, festival) of ``day`` without an override row.

    chinese-calendar's answer for a year it knows and nobody entered; otherwise Monday to
    Friday work and weekends rest, as WorkCalendar does for an entered year. A year neither
    knows is shown the same way on the page, until its notice is applied.
    """
    if not entered and library_knows(day.year):
        return WorkCalendar().is_working_day(day), library_day_name(day)
    return day.weekday() < 5, ""


@dataclass(frozen=True)
class CalendarCell:
    """One day on the 工作日历 page."""

    day: date
    is_working_day: bool
    name: str
    is_override: bool  # a CalendarDay row decides it

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def label(self) -> str:
        """The festival as the small cell shows it: 春节 (the 班 mark already says 调休)."""
        return self.name.removesuffix("调休") or self.name

    @property
    def description(self) -> str:
        """What the cell says to a screen reader and in its tooltip."""
        state = "上班，点击改为休息" if self.is_working_day else "休息，点击改为上班"
        name = f" {self.name}" if self.name else ""
        return f"{self.day.month}月{self.day.day}日 {WEEKDAYS[self.day.weekday()]}{name}：{state}"

    @property
    def kind(self) -> str:
        """``work`` · ``rest`` (an ordinary weekend) · ``holiday`` · ``makeup`` (调休上班)."""
        if self.is_working_day:
            return "makeup" if self.is_weekend else "work"
        return "holiday" if self.name or not self.is_weekend else "rest"


def day_cell(day: date) -> CalendarCell:
    """The page's answer for one day (after a toggle)."""
    row = CalendarDay.objects.filter(day=day).values_list("is_working_day", "name").first()
    if row is not None:
        return CalendarCell(day, row[0], row[1], True)
    working, name = base_day(day, entered=CalendarYear.objects.filter(year=day.year).exists())
    return CalendarCell(day, working, name, False)


def year_days(year: int) -> list[CalendarCell]:
    """Every day of ``year`` as work_calendar() answers it, with the festival names."""
    rows = {
        day: (working, name)
        for day, working, name in CalendarDay.objects.filter(day__year=year).values_list(
            "day", "is_working_day", "name"
        )
    }
    entered = CalendarYear.objects.filter(year=year).exists()
    first = date(year, 1, 1)
    cells = []
    for offset in range((date(year + 1, 1, 1) - first).days):
        day = first + timedelta(days=offset)
        if day in rows:
            cells.append(CalendarCell(day, *rows[day], True))
        else:
            cells.append(CalendarCell(day, *base_day(day, entered=entered), False))
    return cells


@dataclass(frozen=True)
class MonthGrid:
    """A month as weeks of Monday–Sunday; days of the neighbouring months are None."""

    month: int
    weeks: list[list[CalendarCell | None]]


def month_grids(cells: list[CalendarCell]) -> list[MonthGrid]:
    grids: list[MonthGrid] = []
    for cell in cells:
        if not grids or grids[-1].month != cell.day.month:
            grids.append(MonthGrid(cell.day.month, [[None] * cell.day.weekday()]))
        weeks = grids[-1].weeks
        if len(weeks[-1]) == 7:
            weeks.append([])
        weeks[-1].append(cell)
    for grid in grids:
        grid.weeks[-1].extend([None] * (7 - len(grid.weeks[-1])))
    return grids
