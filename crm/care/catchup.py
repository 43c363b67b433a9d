"""Catching up on messages whose window passed unsent (the server was down, the dispatcher
fell behind): never lost to timing, never sent twice.

A scheduled message whose window has closed goes once in the next allowed window (the next
day, or the next working day when the rule sends on working days only) while its rule's
catch-up period lasts, counted from the day it was planned for; past that it expires with
the reason. The row is moved, not copied: it still goes at most once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from crm.care import timing
from crm.care.models import CareRule, OutboundMessage
from crm.core.calendar import work_calendar
from crm.lib.dates import local_day
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar

log = logging.getLogger("crm.care.catchup")
Status = OutboundMessage.Status


def reschedule_overdue(*, now: datetime, due_only: bool = False) -> int:
    """Move each scheduled message whose window has closed into its next allowed window,
    or expire it past the catch-up period; returns how many were moved or expired.

    ``due_only``: only those whose next attempt is due (what the dispatcher would claim
    next; the ``message_due`` index answers it), for the send job's check before it claims.

    The rows are grouped by rule and planned start (a few groups however many rows), each
    group moved by one compare-and-set UPDATE on status and window: a row a worker claimed
    meanwhile is left to it. An event notice never goes on or after the event.
    """
    overdue = OutboundMessage.objects.filter(status=Status.SCHEDULED, window_ends_at__lt=now)
    if due_only:
        overdue = overdue.filter(next_attempt_at__lte=now)
    groups = list(overdue.order_by().values_list("rule_id", "scheduled_at", "draft__event_on").distinct())
    if not groups:
        return 0
    rules = CareRule.objects.in_bulk({rule_id for rule_id, _, _ in groups})
    cal: WorkCalendar | None = None
    handled = 0
    for rule_id, scheduled_at, event_on in groups:
        rule = rules[rule_id]
        if rule.working_days_only and cal is None:
            cal = work_calendar()
        try:
            slot = timing.send_slot(
                local_day(scheduled_at),
                rule.window_start,
                rule.window_end,
                now=now,
                catch_up_days=rule.catch_up_days,
                working_days_only=rule.working_days_only,
                cal=cal,
            )
        except CalendarUnknown as exc:
            # No guessing at working days: left as it is; the workbench asks for the calendar.
            log.error("message catch-up for rule %s skipped: %s", rule_id, exc.message)
            continue
        if slot is not None and event_on is not None and slot.day >= event_on:
            slot = None
        rows = overdue.filter(rule_id=rule_id, scheduled_at=scheduled_at)
        rows = rows.filter(draft__event_on=event_on) if event_on is not None else rows
        if slot is None:
            reason = timing.expired_reason(rule.catch_up_days, working_days_only=rule.working_days_only)
            handled += rows.update(status=Status.EXPIRED, error=reason, updated_at=now)
        else:
            handled += rows.update(
                next_attempt_at=slot.starts_at,
                window_ends_at=slot.ends_at,
                error=timing.late_note(slot),
                updated_at=now,
            )
    return handled


def next_slot(message: OutboundMessage, now: datetime, cal: WorkCalendar | None = None) -> timing.Slot | None:
    """The window ``message`` may still go in as of ``now`` (its own while open, else a
    later one within its rule's catch-up period, never on or after its event); None when
    it must expire. For the dispatcher, which finds a claimed row past its window: move
    it here instead of expiring it. Raises CalendarUnknown like ``send_slot``."""
    rule = message.rule
    if rule.working_days_only and cal is None:
        cal = work_calendar()
    slot = timing.send_slot(
        local_day(message.scheduled_at),
        rule.window_start,
        rule.window_end,
        now=now,
        catch_up_days=rule.catch_up_days,
        working_days_only=rule.working_days_only,
        cal=cal,
    )
    event_on = message.draft.event_on if message.draft_id is not None and message.draft else None
    if slot is not None and event_on is not None and slot.day >= event_on:
        return None
    return slot


__all__ = ["next_slot", "reschedule_overdue"]
