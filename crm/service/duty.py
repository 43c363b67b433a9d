"""Pure rules of the duty roster and the handover (no database).

- A holiday shift (节假日) needs a mid-level manager (seed 004 值班管理规定 7). A day is a
  holiday when the work calendar says it is not a working day and it is not an ordinary
  weekend: a weekday off, or a day inside a run of more than two days off (the weekend days
  of 国庆 or 春节 are holidays too; an ordinary Saturday and Sunday are not).
- 四不接 (seed 004 交接班管理规定 6): the four reasons an incoming officer may not accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crm.lib.dates import local_day
from crm.lib.workcalendar import WorkCalendar

# A shift is at most a day long (24-hour cover is two or three shifts a day).
MAX_SHIFT = timedelta(hours=24)


def is_holiday(day: date, calendar: WorkCalendar) -> bool:
    """Whether ``day`` is a statutory holiday (raises CalendarUnknown for a year nobody
    entered: a roster is never planned on a guess)."""
    if calendar.is_working_day(day):
        return False
    if day.weekday() < 5:
        return True
    start = calendar.holiday_start(day)
    end = day
    while not calendar.is_working_day(end + timedelta(days=1)):
        end += timedelta(days=1)
    return (end - start).days + 1 > 2


def shift_days(starts_at: datetime, ends_at: datetime) -> list[date]:
    """The local days a shift touches (a night shift ending at 08:00 touches two)."""
    first, last = local_day(starts_at), local_day(ends_at - timedelta(microseconds=1))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def touches_holiday(starts_at: datetime, ends_at: datetime, calendar: WorkCalendar) -> bool:
    return any(is_holiday(day, calendar) for day in shift_days(starts_at, ends_at))


@dataclass(frozen=True)
class ItemCheck:
    name: str
    state: str  # HandoverItem.State value
    explanation: str


class Refusal:
    LOG = "记录不清"
    UNCLEAN = "卫生不洁"
    MISSING = "公物缺失"
    REPAIR = "重大维修未完"


def refusals(
    *,
    log_summary: str,
    log_clear: bool,
    area_clean: bool,
    items: Iterable[ItemCheck],
    major_repair_open: bool,
) -> list[str]:
    """The reasons (四不接) the handover may not be accepted, each a Chinese sentence; an
    empty list means it may. Each holds on its own:

    1. 记录不清不接: the outgoing log summary is empty, or the incoming officer does not
       confirm the log is clear and complete;
    2. 卫生不洁不接: the incoming officer does not confirm the area is clean;
    3. 公物缺失不接: an item is damaged or missing without the outgoing side's explanation;
    4. 重大维修未完不接: a major repair is still open.
    """
    reasons = []
    if not log_summary.strip() or not log_clear:
        reasons.append(f"{Refusal.LOG}不接：值班记录须填写完整，并由接班人确认清楚")
    if not area_clean:
        reasons.append(f"{Refusal.UNCLEAN}不接：接班人须确认桌面、座椅等卫生整洁")
    unexplained = [i.name for i in items if i.state != "ok" and not i.explanation.strip()]
    if unexplained:
        reasons.append(f"{Refusal.MISSING}不接：{'、'.join(unexplained)} 损坏或缺失，交班人须说明原因")
    if major_repair_open:
        reasons.append(f"{Refusal.REPAIR}不接：重大维修尚未完成")
    return reasons


def cover_gaps(
    start: datetime, end: datetime, shifts: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) no shift covers (客户服务中心实行24小时值班制度): the
    director sees them on the roster before they happen."""
    gaps = []
    cursor = start
    for s, e in sorted(shifts):
        if e <= cursor:
            continue
        if s > cursor:
            gaps.append((cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return [(s, e) for s, e in gaps if e > s]
