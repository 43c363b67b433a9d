"""Quarters on real dates: the boundary days, the reminder day, parsing."""

from datetime import date

import pytest

from crm.portraits.quarters import Quarter, recent_quarters


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 1, 1), "2026Q1"),
        (date(2026, 3, 31), "2026Q1"),
        (date(2026, 4, 1), "2026Q2"),
        (date(2026, 9, 30), "2026Q3"),
        (date(2026, 10, 1), "2026Q4"),
        (date(2026, 12, 31), "2026Q4"),
    ],
)
def test_a_day_belongs_to_its_calendar_quarter(day, key):
    assert Quarter.of(day).key == key


def test_quarter_bounds_and_reminder_day_two_weeks_before_the_end():
    q3 = Quarter(2026, 3)
    assert (q3.first, q3.last) == (date(2026, 7, 1), date(2026, 9, 30))
    assert q3.reminder_on == date(2026, 9, 16)
    assert Quarter(2024, 1).last == date(2024, 3, 31)
    assert Quarter(2026, 4).last == date(2026, 12, 31)
    assert Quarter(2026, 4).reminder_on == date(2026, 12, 17)
    assert q3.label == "2026年第3季度"


def test_quarters_roll_over_the_year():
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert [q.key for q in recent_quarters(date(2026, 2, 1), count=3)] == ["2026Q1", "2025Q4", "2025Q3"]


@pytest.mark.parametrize(("text", "expected"), [("2026Q3", Quarter(2026, 3)), ("2026q4", Quarter(2026, 4))])
def test_parse_reads_a_quarter_key(text, expected):
    assert Quarter.parse(text) == expected


@pytest.mark.parametrize("text", ["", None, "2026Q5", "Q3", "2026-09"])
def test_parse_refuses_anything_else(text):
    assert Quarter.parse(text) is None
