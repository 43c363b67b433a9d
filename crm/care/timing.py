"""When care messages go: send dates, windows and quiet hours (pure; ``now`` passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from crm.care.rules import Purpose, Trigger
from crm.lib.dates import CHINA_TZ as SHANGHAI
from crm.lib.dates import at, local_day
from crm.lib.lunar import lantern_festival, mid_autumn, spring_festival
from crm.lib.workcalendar import WorkCalendar

QUIET_START = time(20, 0)  # 工信部令第31号 / gateways: no promotional SMS 20:00–08:00
QUIET_END = time(8, 0)


def window(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    return at(day, start), at(day, end)


@dataclass(frozen=True)
class Slot:
    """The window a message goes out in."""

    starts_at: datetime
    ends_at: datetime
    is_late: bool = False  # a later day's window: the due day's had closed

    @property
    def day(self) -> date:
        return local_day(self.starts_at)


def catch_up_until(due_on: date, catch_up_days: int, *, working_days_only: bool, cal: WorkCalendar | None) -> date:
    """The last day a message due on ``due_on`` may still go out: ``catch_up_days`` days
    later, counted in working days for a rule that sends on working days only."""
    if working_days_only:
        return _calendar(cal).add_working_days(due_on, catch_up_days)
    return due_on + timedelta(days=catch_up_days)


def send_slot(
    due_on: date,
    start: time,
    end: time,
    *,
    now: datetime,
    catch_up_days: int = 0,
    working_days_only: bool = False,
    cal: WorkCalendar | None = None,
) -> Slot | None:
    """The window a message due on ``due_on`` goes out in, as of ``now``.

    1. The due day's own window while it is still open (a window already begun counts).
    2. Once it has closed (a milestone entered in the afternoon, a server that was down),
       the window of the next day, or of the next working day when the rule sends on
       working days only, as long as that day is within the catch-up period.
    3. None past the catch-up period: the message expires.

    Raises CalendarUnknown when a working day must be found in a year nobody entered.
    """
    last = catch_up_until(due_on, catch_up_days, working_days_only=working_days_only, cal=cal)
    day = max(due_on, local_day(now))
    while day <= last:
        if not working_days_only or _calendar(cal).is_working_day(day):
            starts_at, ends_at = window(day, start, end)
            if ends_at > now:
                return Slot(starts_at, ends_at, is_late=day > due_on)
        day += timedelta(days=1)
    return None


def late_note(slot: Slot) -> str:
    """Said (in the outbox's reason) of a message that goes in a later day's window."""
    start, end = slot.starts_at.astimezone(SHANGHAI), slot.ends_at.astimezone(SHANGHAI)
    return f"已过原定发送时段，顺延至 {start.month}月{start.day}日 {start:%H:%M}–{end:%H:%M} 补发"


def expired_reason(catch_up_days: int, *, working_days_only: bool = False) -> str:
    """Why a message that missed its window is not sent."""
    if catch_up_days == 0:
        return "已过发送时段，该类短信不补发"
    unit = "个工作日" if working_days_only else "天"
    return f"已过发送时段，且超过补发期限（{catch_up_days}{unit}），不再发送"


def _calendar(cal: WorkCalendar | None) -> WorkCalendar:
    if cal is None:
        raise ValueError("a rule that sends on working days only needs the work calendar")
    return cal


def in_quiet_hours(now: datetime, purpose: str) -> bool:
    """Care and marketing messages never go out 20:00–08:00 local time."""
    if purpose == Purpose.NOTIFICATION:
        return False
    local = now.astimezone(SHANGHAI).time()
    return local >= QUIET_START or local < QUIET_END


def quiet_hours_end(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return at(day, QUIET_END)


def subscription_range(send_day: date, cal: WorkCalendar) -> tuple[date, date] | None:
    """Subscriptions congratulated on ``send_day``: those since the previous working day.

    Seed 001: "签署认购书第二天10:00-10:30…完成上一工作日成功认购客户祝贺短信" — sent on working
    days, so on a Monday it covers Friday to Sunday, and after National Day the whole
    holiday. Returns None when ``send_day`` is not a working day.
    """
    if not cal.is_working_day(send_day):
        return None
    return cal.previous_working_day(send_day), send_day - timedelta(days=1)


def is_construction_day(day: date) -> bool:
    """Construction progress goes every two weeks on the odd-ISO-week Thursday (单周周四)."""
    return day.weekday() == 3 and day.isocalendar().week % 2 == 1


def next_construction_day(after: date) -> date:
    day = after + timedelta(days=1)
    while not is_construction_day(day):
        day += timedelta(days=1)
    return day


def festival_day(trigger: str, year: int, cal: WorkCalendar) -> date | None:
    """The day a festival greeting goes out in ``year``.

    春节 goes on the last working day before the company's Spring Festival holiday starts
    (seed 001: 春节公司放假前一天); the others on the festival itself.
    """
    if trigger == Trigger.SPRING_FESTIVAL:
        festival = spring_festival(year)
        start = cal.holiday_start(festival) if not cal.is_working_day(festival) else festival
        return cal.previous_working_day(start)
    fixed = {
        Trigger.LANTERN_FESTIVAL: lambda: lantern_festival(year),
        Trigger.LABOUR_DAY: lambda: date(year, 5, 1),
        Trigger.MID_AUTUMN: lambda: mid_autumn(year),
        Trigger.NATIONAL_DAY: lambda: date(year, 10, 1),
        Trigger.CHRISTMAS: lambda: date(year, 12, 25),
        Trigger.NEW_YEAR: lambda: date(year, 1, 1),
    }
    return fixed[trigger]() if trigger in fixed else None  # type: ignore[index]
