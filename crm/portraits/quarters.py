"""Calendar quarters (季度) for the portrait quota: pure date arithmetic, no database.

Seed 001 (客户描摹): each consultant hands in three portraits per quarter; the reminder goes
out two weeks before the quarter ends. A portrait belongs to the quarter of the day it was
submitted (China time), so 2026-09-30 counts for 2026Q3 and 2026-10-01 for 2026Q4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from crm.lib.dates import quarter_bounds, quarter_of

QUOTA = 3
# "Two weeks before quarter end": from the 14th day before the last day, reminders may go.
REMINDER_LEAD = timedelta(days=14)
_KEY = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(*quarter_of(day))

    @classmethod
    def parse(cls, text: str | None) -> Quarter | None:
        """``2026Q3`` → Quarter(2026, 3); anything else → None."""
        match = _KEY.match((text or "").strip().upper())
        if not match:
            return None
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}季度"

    @property
    def first(self) -> date:
        return quarter_bounds(self.year, self.number)[0]

    @property
    def last(self) -> date:
        return quarter_bounds(self.year, self.number)[1]

    @property
    def reminder_on(self) -> date:
        """The first day the quota reminder may go out: two weeks before the last day."""
        return self.last - REMINDER_LEAD

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return self.label


def recent_quarters(today: date, *, count: int = 8) -> list[Quarter]:
    """The current quarter and the ones before it, newest first (the quarter pickers)."""
    quarters = [Quarter.of(today)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters
