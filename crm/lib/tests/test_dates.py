from __future__ import annotations

from datetime import date

from crm.lib.dates import month_bounds, previous_month, quarter_bounds, quarter_of


def test_month_bounds_know_february_and_december():
    assert month_bounds(date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds(date(2028, 2, 29)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_bounds(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_previous_month_is_its_last_day_across_the_year():
    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 31)
    assert previous_month(date(2026, 3, 1)) == date(2026, 2, 28)


def test_quarters_of_days_and_their_bounds():
    assert quarter_of(date(2026, 3, 31)) == (2026, 1)
    assert quarter_of(date(2026, 10, 1)) == (2026, 4)
    assert quarter_bounds(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
