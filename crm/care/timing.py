"""When care messages go: send dates, windows and quiet hours (pure; ``now`` passed in)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from crm.care.rules import Purpose, Trigger
from crm.lib.dates import CHINA_TZ as SHANGHAI
from crm.lib.dates import at
from crm.lib.lunar import lantern_festival, mid_autumn, spring_festival
from crm.lib.workcalendar import WorkCalendar

QUIET_START = time(20, 0)  # 工信部令第31号 / gateways: no promotional SMS 20:00–08:00
QUIET_END = time(8, 0)


def window(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    return at(day, start), at(day, end)


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
