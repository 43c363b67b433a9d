"""China's work calendar: working days with statutory holidays and 调休 make-up days.

Data comes from ``chinese-calendar`` (State Council notices; its data ends with 2026
today) overridden and extended by days an administrator enters (``CalendarDay`` rows,
see crm.core.calendar). A date in a year nobody has entered raises CalendarUnknown: a
deadline computed on a guessed calendar would be wrong on exactly the days that matter.

Pure: no database; build a WorkCalendar with the overrides and pass it around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import chinese_calendar

_LIBRARY_YEARS = range(2004, 2027)  # chinese-calendar 1.11.0 raises NotImplementedError outside


class CalendarUnknown(Exception):
    """The calendar of ``year`` has not been published/entered; ``message`` is Chinese."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.message = f"{year} 年的法定节假日安排尚未录入，请系统管理员在“系统设置 › 工作日历”中录入"
        super().__init__(self.message)


class WorkCalendar:
    """Answers working-day questions for the years it knows.

    ``overrides`` maps a date to True (working, e.g. a 调休 Saturday) or False (a holiday)
    and wins over the library. ``entered_years`` are years whose holidays an administrator
    has entered completely: there, a day without an override follows the weekday rule.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None, entered_years: Iterable[int] = ()) -> None:
        self.overrides = dict(overrides or {})
        self.entered_years = frozenset(entered_years)
        # Answers already given: a list's countdowns ask about the same few weeks per row.
        self._answers: dict[date, bool] = {}

    def knows(self, year: int) -> bool:
        return year in self.entered_years or year in _LIBRARY_YEARS

    def is_working_day(self, day: date) -> bool:
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._is_working_day(day)
        return answer

    def _is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.entered_years:
            return day.weekday() < 5
        if day.year in _LIBRARY_YEARS:
            return bool(chinese_calendar.is_workday(day))
        raise CalendarUnknown(day.year)

    def is_holiday(self, day: date) -> bool:
        return not self.is_working_day(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (before it when negative).

        ``start`` itself does not count: 3 working days from Friday 2026-09-25 (中秋) skip the
        holiday and the weekend.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        current = start
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def next_working_day(self, day: date, *, inclusive: bool = False) -> date:
        current = day if inclusive else day + timedelta(days=1)
        while not self.is_working_day(current):
            current += timedelta(days=1)
        return current

    def previous_working_day(self, day: date, *, inclusive: bool = False) -> date:
        current = day if inclusive else day - timedelta(days=1)
        while not self.is_working_day(current):
            current -= timedelta(days=1)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days after ``start`` ``end`` is."""
        if end <= start:
            return 0
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=i)))

    def first_working_day_of_month(self, year: int, month: int) -> date:
        return self.next_working_day(date(year, month, 1), inclusive=True)

    def last_working_day_of_month(self, year: int, month: int) -> date:
        following = date(year + (month == 12), month % 12 + 1, 1)
        return self.previous_working_day(following)

    def nth_working_day_of_week(self, day: date, n: int) -> date | None:
        """The n-th (1-based) working day of the Monday–Sunday week containing ``day``;
        None when the week has fewer (Golden Week)."""
        monday = day - timedelta(days=day.weekday())
        working = [monday + timedelta(days=i) for i in range(7) if self.is_working_day(monday + timedelta(days=i))]
        return working[n - 1] if 0 < n <= len(working) else None

    def holiday_start(self, day: date) -> date:
        """The first day of the run of non-working days that contains ``day``."""
        if self.is_working_day(day):
            raise ValueError(f"{day} is a working day")
        current = day
        while not self.is_working_day(current - timedelta(days=1)):
            current -= timedelta(days=1)
        return current


# chinese-calendar names 清明, 端午 and 中秋 without 节; the notices say 清明节.
_FESTIVAL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def library_knows(year: int) -> bool:
    """Whether chinese-calendar has the State Council's arrangement for ``year``."""
    return year in _LIBRARY_YEARS


def library_day_name(day: date) -> str:
    """The festival a holiday or a make-up working day belongs to in chinese-calendar
    ("春节"), or "" for an ordinary day or a year the library lacks."""
    if day.year not in _LIBRARY_YEARS:
        return ""
    english = chinese_calendar.constants.holidays.get(day) or chinese_calendar.constants.workdays.get(day)
    if not english:
        return ""
    chinese = str(chinese_calendar.constants.Holiday(english).chinese)
    return _FESTIVAL_NAMES.get(chinese, chinese)
