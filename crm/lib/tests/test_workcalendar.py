"""The work calendar on real dates: 2026 National Day, 中秋, Spring Festival, 调休 weekends."""

from datetime import date

import pytest

from crm.lib.workcalendar import CalendarUnknown, WorkCalendar, library_day_name, library_knows

cal = WorkCalendar()


@pytest.mark.parametrize("day", [date(2026, 9, 20), date(2026, 10, 10)])
def test_make_up_weekend_days_are_working_days(day):
    assert day.weekday() >= 5  # a Sunday and a Saturday
    assert cal.is_working_day(day)


@pytest.mark.parametrize("offset", range(7))
def test_national_day_week_is_a_holiday(offset):
    assert not cal.is_working_day(date(2026, 10, 1 + offset))


def test_an_ordinary_weekend_is_not_working():
    assert not cal.is_working_day(date(2026, 11, 21))  # Saturday
    assert cal.is_working_day(date(2026, 11, 23))  # Monday


def test_three_working_days_from_the_eve_of_national_day_skip_the_golden_week():
    # 2026-09-30 (Wed) + 3 working days: 10-01..10-07 off, 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, 调休).
    assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_working_days_can_be_counted_backwards():
    assert cal.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)


def test_previous_working_day_before_national_day():
    assert cal.previous_working_day(date(2026, 10, 1)) == date(2026, 9, 30)


def test_first_and_last_working_day_of_a_month():
    assert cal.first_working_day_of_month(2026, 10) == date(2026, 10, 8)
    assert cal.last_working_day_of_month(2026, 9) == date(2026, 9, 30)
    assert cal.last_working_day_of_month(2026, 12) == date(2026, 12, 31)


def test_the_nth_working_day_of_a_week():
    assert cal.nth_working_day_of_week(date(2026, 11, 25), 1) == date(2026, 11, 23)
    # The week of 2026-10-05: Mon–Wed are National Day holidays, Sat 10-10 is a make-up day.
    assert cal.nth_working_day_of_week(date(2026, 10, 5), 1) == date(2026, 10, 8)
    assert cal.nth_working_day_of_week(date(2026, 10, 5), 3) == date(2026, 10, 10)
    assert cal.nth_working_day_of_week(date(2026, 10, 5), 4) is None


def test_working_days_between_counts_the_end_but_not_the_start():
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_the_start_of_the_spring_festival_holiday_2026():
    assert cal.holiday_start(date(2026, 2, 17)) == date(2026, 2, 15)


def test_an_unknown_year_is_an_error_never_a_guess():
    with pytest.raises(CalendarUnknown) as exc:
        cal.is_working_day(date(2027, 3, 3))
    assert exc.value.year == 2027
    assert "2027 年的法定节假日安排尚未录入" in exc.value.message


def test_an_entered_year_follows_the_weekday_rule_and_its_overrides():
    spring_2027 = {date(2027, 2, d): False for d in range(5, 13)}
    cal_2027 = WorkCalendar(overrides={**spring_2027, date(2027, 2, 20): True}, entered_years=[2027])
    assert cal_2027.is_working_day(date(2027, 3, 3))
    assert not cal_2027.is_working_day(date(2027, 2, 8))  # a Monday inside the holiday
    assert cal_2027.is_working_day(date(2027, 2, 20))  # a make-up Saturday
    assert not cal_2027.is_working_day(date(2027, 2, 27))  # an ordinary Saturday


def test_overrides_win_over_the_library():
    patched = WorkCalendar(overrides={date(2026, 11, 23): False})
    assert not patched.is_working_day(date(2026, 11, 23))


def test_the_library_names_holidays_and_make_up_days_in_chinese():
    assert library_day_name(date(2026, 2, 17)) == "春节"
    assert library_day_name(date(2026, 2, 14)) == "春节"  # 调休上班
    assert library_day_name(date(2025, 10, 6)) == "中秋节"
    assert library_day_name(date(2026, 3, 3)) == ""
    assert library_day_name(date(2027, 2, 8)) == ""
    assert library_knows(2026)
    assert not library_knows(2027)
