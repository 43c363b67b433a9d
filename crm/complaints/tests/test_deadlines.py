"""Working-day deadlines (pure: the library calendar, real 2026 dates)."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.complaints import deadlines
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar

CAL = WorkCalendar()


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def test_registered_before_national_day_is_due_at_the_end_of_october_9th():
    # 09-30, 10-08, 10-09 are the three working days after Tuesday 09-29.
    assert deadlines.resolution_due(cst(2026, 9, 29, 17, 0), CAL) == cst(2026, 10, 10, 0, 0)


def test_a_working_saturday_counts():
    # Friday 10-09: Saturday 10-10 is a make-up working day, then 10-12 and 10-13.
    assert deadlines.resolution_due(cst(2026, 10, 9, 9, 30), CAL) == cst(2026, 10, 14, 0, 0)


def test_a_special_complaint_has_seven_working_days():
    # Monday 2026-11-02 → 11-03 … 11-11 (7 working days, skipping 11-07/08).
    assert deadlines.resolution_due(cst(2026, 11, 2, 10, 0), CAL, special=True) == cst(2026, 11, 12, 0, 0)


def test_registration_just_before_midnight_counts_from_that_day():
    assert deadlines.resolution_due(cst(2026, 11, 2, 23, 59), CAL) == cst(2026, 11, 6, 0, 0)


def test_first_response_is_hours_after_registration():
    assert deadlines.first_response_due(cst(2026, 9, 29, 17, 0), hours=48) == cst(2026, 10, 1, 17, 0)


def test_waiting_over_a_weekend_moves_the_deadline_by_the_working_time_only():
    due = cst(2026, 11, 6, 0, 0)  # end of Thursday 11-05
    # Waiting from Friday 11-06 12:00 to Monday 11-09 12:00: 12 h Friday + 12 h Monday.
    moved = deadlines.extend_for_pause(due, cst(2026, 11, 6, 12, 0), cst(2026, 11, 9, 12, 0), CAL)
    # 24 working hours after the end of Thursday: all of Friday (11-06) → end of Friday.
    assert moved == cst(2026, 11, 7, 0, 0)


def test_waiting_across_a_holiday_costs_nothing_for_the_holiday():
    paused = deadlines.working_time_between(cst(2026, 9, 30, 18, 0), cst(2026, 10, 8, 6, 0), CAL)
    assert paused == timedelta(hours=6 + 6)  # 09-30 18:00–24:00 and 10-08 00:00–06:00


def test_added_working_time_skips_rest_days():
    # From the end of Friday 2026-11-06, 30 hours: Saturday and Sunday skipped, Monday whole, 6 h Tuesday.
    assert deadlines.add_working_time(cst(2026, 11, 7, 0, 0), timedelta(hours=30), CAL) == cst(2026, 11, 10, 6, 0)


def test_countdown_counts_working_time_and_says_overdue():
    label, overdue = deadlines.countdown(cst(2026, 11, 10, 0, 0), cst(2026, 11, 6, 12, 0), CAL)
    # Friday 12 h + Monday 24 h = 1 day 12 h; the weekend does not count.
    assert (label, overdue) == ("剩余 1天12小时", False)
    label, overdue = deadlines.countdown(cst(2026, 11, 10, 0, 0), cst(2026, 11, 10, 5, 30), CAL)
    assert (label, overdue) == ("已超时 5小时30分", True)
