"""Writes of crm.core: the work calendar administrators maintain on the 工作日历 page.

Each function runs in one transaction and writes an ``AuditLog`` row (action
``calendar``): a wrong calendar silently moves every working-day deadline and festival
message, so who changed which day, and from which notice, must be traceable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction

from crm.core import audit
from crm.core.calendar import base_day, calendar_changed
from crm.core.errors import DomainError
from crm.core.models import AuditLog, CalendarDay, CalendarYear
from crm.lib.holiday_notice import Notice

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    Actor = AbstractBaseUser | AnonymousUser | None

__all__ = ["NoticeApplied", "apply_notice", "mark_year_complete", "set_day"]

_NAME_LENGTH = CalendarDay._meta.get_field("name").max_length or 30


@dataclass(frozen=True)
class NoticeApplied:
    """What saving a notice changed: CalendarDay rows created, changed and already right."""

    created: int
    updated: int
    unchanged: int


def set_day(day: date, *, working: bool, name: str = "", actor: Actor) -> CalendarDay | None:
    """Make ``day`` a working day or a rest day (the page's click).

    1. The day's base is what it is without an override: chinese-calendar for a year the
       library knows and nobody entered, otherwise Monday to Friday (crm.core.calendar).
    2. Set back to its base without a name, the day loses its CalendarDay row, so the
       table holds only real exceptions; otherwise the row is written.
    3. The change is audited with the day's state before and after.
    """
    name = name.strip()[:_NAME_LENGTH]
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(day=day).first()
        entered = CalendarYear.objects.filter(year=day.year).exists()
        base_working, base_name = base_day(day, entered=entered)
        before = [row.is_working_day, row.name] if row else [base_working, base_name]
        if working == base_working and not name:
            if row is not None:
                row.delete()
            row = None
            after = [base_working, base_name]
        else:
            row, _ = CalendarDay.objects.update_or_create(day=day, defaults={"is_working_day": working, "name": name})
            after = [working, name]
        audit.log(
            AuditLog.Action.CALENDAR,
            actor=actor,
            target_type="core.calendarday",
            target_id=day.isoformat(),
            summary=f"{day:%Y-%m-%d} 设为{'上班' if working else '休息'}{f'（{name}）' if name else ''}",
            changes={"is_working_day": [before[0], after[0]], "name": [before[1], after[1]]},
        )
    return row


def apply_notice(year: int, notice: Notice, *, actor: Actor, problems_acknowledged: bool = False) -> NoticeApplied:
    """Enter ``year``'s calendar from the State Council's notice (crm.lib.holiday_notice).

    1. The notice must be for ``year`` and name at least one holiday; lines it could not
       read must have been acknowledged by the administrator (they are not applied).
    2. Each day of each holiday range becomes a rest day named by its festival (春节),
       each make-up day a working day (春节调休); rows already right are left alone, so
       saving the same notice again changes nothing.
    3. Other override rows of the year (a company's own adjustments) are kept.
    4. The year is marked complete with the notice's title as its source: from then on
       ``work_calendar().knows(year)``.
    """
    if notice.year != year:
        raise DomainError(f"这是{notice.year}年的安排，不能录入{year}年")
    if not notice.holidays:
        raise DomainError("通知中没有识别到任何放假安排")
    if notice.problems and not problems_acknowledged:
        raise DomainError("通知中有未能识别的内容，请核对后勾选确认", field="problems_acknowledged")
    wanted = {day: (working, name[:_NAME_LENGTH]) for day, (working, name) in notice.overrides().items()}
    with transaction.atomic():
        existing = {row.day: row for row in CalendarDay.objects.select_for_update().filter(day__in=wanted)}
        created = [
            CalendarDay(day=day, is_working_day=working, name=name)
            for day, (working, name) in wanted.items()
            if day not in existing
        ]
        changed = []
        for day, row in existing.items():
            if (row.is_working_day, row.name) != wanted[day]:
                row.is_working_day, row.name = wanted[day]
                changed.append(row)
        CalendarDay.objects.bulk_create(created)
        CalendarDay.objects.bulk_update(changed, ["is_working_day", "name"])
        calendar_changed()  # bulk writes send no post_save
        result = NoticeApplied(len(created), len(changed), len(existing) - len(changed))
        audit.log(
            AuditLog.Action.CALENDAR,
            actor=actor,
            target_type="core.calendaryear",
            target_id=year,
            summary=(
                f"按《{notice.title}》录入{year}年工作日历：放假{len(notice.holidays)}项、"
                f"调休上班{len(notice.make_up_days)}天（新增{result.created}天，修改{result.updated}天）"
            ),
            changes={
                "holidays": [[h.name, h.start.isoformat(), h.end.isoformat()] for h in notice.holidays],
                "make_up_days": [[m.day.isoformat(), m.name] for m in notice.make_up_days],
                "created": result.created,
                "updated": result.updated,
            },
            reason=f"{len(notice.problems)}处未识别内容已确认" if notice.problems else "",
        )
        mark_year_complete(year, actor=actor, source=notice.title)
    return result


def mark_year_complete(year: int, *, actor: Actor, source: str) -> CalendarYear:
    """Declare ``year``'s holidays and make-up days entered in full.

    From then on a day of the year without an override row follows Monday to Friday, and
    deadlines and festival messages in the year are computed instead of refused. Marking
    again records the new source (a corrected notice) and who did it.
    """
    source = source.strip()[: CalendarYear._meta.get_field("source").max_length or 200]
    with transaction.atomic():
        entry, created = CalendarYear.objects.select_for_update().get_or_create(
            year=year, defaults={"source": source, "entered_by_id": actor.pk if actor else None}
        )
        if not created and entry.source != source:
            entry.source = source
            entry.entered_by_id = actor.pk if actor else None
            entry.save(update_fields=["source", "entered_by"])
        audit.log(
            AuditLog.Action.CALENDAR,
            actor=actor,
            target=entry,
            summary=f"{year}年工作日历标记为已录入完整（依据：{source or '未注明'}）",
        )
    return entry
