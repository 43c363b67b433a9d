"""The configured work calendar: administrators extend it for years the library lacks."""

from datetime import date

import pytest

from crm.core.calendar import missing_next_year, work_calendar
from crm.core.models import CalendarDay, CalendarYear
from crm.lib.workcalendar import CalendarUnknown


def test_2027_is_unknown_until_an_administrator_enters_it(db):
    with pytest.raises(CalendarUnknown):
        work_calendar().is_working_day(date(2027, 2, 8))
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知")
    CalendarDay.objects.bulk_create(
        [CalendarDay(day=date(2027, 2, d), is_working_day=False, name="春节") for d in range(5, 13)]
    )
    CalendarDay.objects.create(day=date(2027, 2, 20), is_working_day=True, name="春节调休")
    cal = work_calendar()
    assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.is_working_day(date(2027, 2, 20))
    assert cal.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 15)


def test_an_override_corrects_a_library_day(db):
    CalendarDay.objects.create(day=date(2026, 12, 31), is_working_day=False, name="公司调整")
    assert not work_calendar().is_working_day(date(2026, 12, 31))


def test_administrators_are_warned_from_november_when_next_year_is_missing(db):
    assert missing_next_year(date(2026, 10, 31)) is None
    assert missing_next_year(date(2026, 11, 1)) == 2027
    CalendarYear.objects.create(year=2027)
    assert missing_next_year(date(2026, 11, 1)) is None
