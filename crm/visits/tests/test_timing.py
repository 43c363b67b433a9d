"""Start, due and retry times on the work calendar (pure: the library calendar, real dates)."""

from __future__ import annotations

from datetime import date

from crm.lib.workcalendar import WorkCalendar
from crm.visits import timing
from crm.visits.tests.conftest import cst

CAL = WorkCalendar()
CONTRACT = timing.Rule(window_days=7)
BIRTHDAY = timing.Rule(offset_days=-1, offset_in_working_days=True, window_days=0)


def test_signed_on_the_friday_before_national_day_is_due_after_the_holiday():
    # Friday 2026-09-25 + 7 days = Friday 10-02, inside the holiday → Thursday 10-08.
    start, due, note = timing.schedule(date(2026, 9, 25), CONTRACT, CAL)
    assert (start, due, note) == (date(2026, 9, 25), date(2026, 10, 8), "")


def test_a_window_in_working_days_skips_the_holiday():
    # 09-28, 09-29, 09-30, 10-08, 10-09 are the five working days after 09-25.
    rule = timing.Rule(window_days=5, window_in_working_days=True)
    assert timing.due_on(date(2026, 9, 25), rule, CAL) == date(2026, 10, 9)


def test_a_working_saturday_counts_in_a_working_day_window():
    rule = timing.Rule(window_days=1, window_in_working_days=True)
    assert timing.due_on(date(2026, 10, 9), rule, CAL) == date(2026, 10, 10)


def test_birthday_on_a_monday_after_a_make_up_sunday_is_called_on_that_sunday():
    # Sunday 2026-09-20 is a 调休 working day: the working day before Monday 09-21.
    start, due, _ = timing.schedule(date(2026, 9, 21), BIRTHDAY, CAL)
    assert start == due == date(2026, 9, 20)


def test_birthday_after_the_holiday_is_called_before_it():
    # Thursday 10-08 is the first working day after National Day: call on Wednesday 09-30.
    start, _, _ = timing.schedule(date(2026, 10, 8), BIRTHDAY, CAL)
    assert start == date(2026, 9, 30)


def test_one_month_before_delivery_keeps_to_the_end_of_a_shorter_month():
    rule = timing.Rule(offset_months=-1, window_days=5, window_in_working_days=True)
    assert timing.start_on(date(2026, 3, 31), rule, CAL) == date(2026, 2, 28)
    assert timing.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_a_year_without_a_calendar_is_estimated_and_says_so():
    start, due, note = timing.schedule(date(2027, 1, 4), CONTRACT, CAL)
    assert (start, due) == (date(2027, 1, 4), date(2027, 1, 11))
    assert "2027 年的法定节假日安排尚未录入" in note
    assert "估算" in note


def test_an_entered_year_is_used_as_entered():
    # The 2027 Spring Festival holiday (an administrator's entry): 02-06 .. 02-13 off.
    overrides = {date(2027, 2, d): False for d in range(6, 14)}
    cal = WorkCalendar(overrides, entered_years=[2027])
    start, due, note = timing.schedule(date(2027, 2, 1), CONTRACT, cal)
    assert (start, due, note) == (date(2027, 2, 1), date(2027, 2, 15), "")


def test_a_retry_is_on_the_next_working_day_at_another_time_of_day():
    # Wednesday 09-30 at 10:30 (morning) → Thursday 10-08 at 15:00, across National Day.
    assert timing.next_attempt(cst(2026, 9, 30, 10, 30), CAL) == cst(2026, 10, 8, 15, 0)
    assert timing.next_attempt(cst(2026, 10, 8, 15, 20), CAL) == cst(2026, 10, 9, 19, 0)
    assert timing.next_attempt(cst(2026, 10, 9, 19, 40), CAL) == cst(2026, 10, 10, 10, 0)
    # Before the first slot counts as the evening before: the next try is in the morning.
    assert timing.next_attempt(cst(2026, 10, 12, 8, 0), CAL) == cst(2026, 10, 13, 10, 0)
