"""Lunar (农历) dates: festivals per year and lunar birthdays in a given solar year.

Rules for dates a year lacks (stated, since families differ and staff will ask):
- Born in a leap month (闰月): celebrated in that year's leap month when it has one,
  otherwise in the regular month of the same number.
- Born on the 30th: in a year whose month has only 29 days, celebrated on the 29th
  (the month's last day), the common custom.
"""

from __future__ import annotations

from datetime import date

from lunar_python import Lunar, LunarMonth, LunarYear, Solar


def lunar_to_solar(year: int, month: int, day: int, *, leap: bool = False) -> date:
    """The solar date of lunar ``year``-``month``-``day`` with the fallbacks above."""
    if not 1 <= month <= 12 or not 1 <= day <= 30:
        raise ValueError(f"invalid lunar date {month}-{day}")
    use_leap = leap and LunarYear.fromYear(year).getLeapMonth() == month
    signed = -month if use_leap else month
    days_in_month = LunarMonth.fromYm(year, signed).getDayCount()
    solar = Lunar.fromYmd(year, signed, min(day, days_in_month)).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def solar_to_lunar(day: date) -> tuple[int, int, bool]:
    """(lunar month, lunar day, is leap month) of a solar date."""
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    return abs(lunar.getMonth()), lunar.getDay(), lunar.getMonth() < 0


def lunar_birthday_in(solar_year: int, month: int, day: int, *, leap: bool = False) -> date:
    """The solar date of a lunar birthday within ``solar_year``.

    A lunar date of lunar year Y falls in solar year Y, except early months (正月 near
    New Year, or 腊月) which can spill over; check lunar years Y-1 and Y and take the one
    landing in ``solar_year``.
    """
    for lunar_year in (solar_year, solar_year - 1, solar_year + 1):
        candidate = lunar_to_solar(lunar_year, month, day, leap=leap)
        if candidate.year == solar_year:
            return candidate
    raise ValueError(f"lunar {month}-{day} does not fall in {solar_year}")  # pragma: no cover - impossible


def spring_festival(year: int) -> date:
    """春节 (正月初一) of the lunar year starting in solar ``year``."""
    return lunar_to_solar(year, 1, 1)


def lantern_festival(year: int) -> date:
    """元宵 (正月十五)."""
    return lunar_to_solar(year, 1, 15)


def mid_autumn(year: int) -> date:
    """中秋 (八月十五)."""
    return lunar_to_solar(year, 8, 15)


def new_years_eve(year: int) -> date:
    """除夕: the day before 春节 of solar ``year`` (29th or 30th of 腊月)."""
    from datetime import timedelta

    return spring_festival(year) - timedelta(days=1)


def lunar_date_of(day: date) -> tuple[int, int, int, bool]:
    """(lunar year, month, day, is leap month) of a solar date."""
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    return lunar.getYear(), abs(lunar.getMonth()), lunar.getDay(), lunar.getMonth() < 0


def leap_month(lunar_year: int) -> int:
    """The leap month of a lunar year (0 when it has none)."""
    return int(LunarYear.fromYear(lunar_year).getLeapMonth())
