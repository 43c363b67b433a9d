"""Lunar festivals and lunar birthdays on real dates."""

from datetime import date

import pytest

from crm.lib.lunar import (
    lantern_festival,
    lunar_birthday_in,
    lunar_to_solar,
    mid_autumn,
    new_years_eve,
    solar_to_lunar,
    spring_festival,
)


@pytest.mark.parametrize(
    ("func", "year", "expected"),
    [
        (mid_autumn, 2026, date(2026, 9, 25)),
        (mid_autumn, 2027, date(2027, 9, 15)),
        (spring_festival, 2026, date(2026, 2, 17)),
        (spring_festival, 2027, date(2027, 2, 6)),
        (lantern_festival, 2027, date(2027, 2, 20)),
        (new_years_eve, 2027, date(2027, 2, 5)),
    ],
)
def test_festivals(func, year, expected):
    assert func(year) == expected


def test_a_lunar_birthday_moves_between_solar_years():
    # Born 1980-09-23 = lunar 八月十五: in 2026 on 09-25, in 2027 on 09-15.
    assert solar_to_lunar(date(1980, 9, 23)) == (8, 15, False)
    assert lunar_birthday_in(2026, 8, 15) == date(2026, 9, 25)
    assert lunar_birthday_in(2027, 8, 15) == date(2027, 9, 15)


def test_a_date_in_a_leap_month_says_so():
    # 2023 had a leap second month (闰二月): 2023-04-01 was 闰二月十一, 2023-03-01 二月初十.
    assert solar_to_lunar(date(2023, 4, 1)) == (2, 11, True)
    assert solar_to_lunar(date(2023, 3, 1)) == (2, 10, False)


def test_a_lunar_birthday_in_the_twelfth_month_can_fall_in_the_next_solar_year():
    # 腊月二十 of lunar 2026 is 2027-01-27; the one inside solar 2026 is lunar 2025's (2026-02-07).
    assert lunar_birthday_in(2027, 12, 20) == date(2027, 1, 27)
    assert lunar_birthday_in(2026, 12, 20) == date(2026, 2, 7)


def test_a_thirtieth_the_month_lacks_falls_back_to_the_twenty_ninth():
    # 腊月 of lunar 2026 has 29 days: a 腊月三十 birthday is celebrated on 腊月廿九 (除夕 2027).
    assert lunar_to_solar(2026, 12, 30) == lunar_to_solar(2026, 12, 29) == date(2027, 2, 5)


def test_a_leap_month_birthday_uses_the_regular_month_in_a_year_without_that_leap():
    # Lunar 2025 has 闰六月; 2026 has no leap month.
    assert lunar_to_solar(2025, 6, 10, leap=True) != lunar_to_solar(2025, 6, 10)
    assert lunar_to_solar(2026, 6, 10, leap=True) == lunar_to_solar(2026, 6, 10)


def test_invalid_lunar_dates_are_refused():
    with pytest.raises(ValueError, match="invalid lunar date"):
        lunar_to_solar(2026, 13, 1)
