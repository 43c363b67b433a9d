"""Scheduled complaint work (config/schedule.py)."""

from __future__ import annotations

from datetime import datetime

from crm.complaints import escalation, mail_intake, retention


def escalate_breached(*, now: datetime) -> int:
    """Breached complaints go to the director's queue (level 1), and to level 2 when still
    breached one working day later. Idempotent: returns how many levels were raised."""
    return escalation.escalate_breached(now=now)


def poll_complaint_mailbox(*, now: datetime) -> int:
    """New mails of the complaint mailbox become complaints (channel 邮件), each exactly once;
    unreadable ones are held for the director, auto-replies skipped; a mailbox that is down
    records the error and is tried again next run. Returns how many mails were handled."""
    return mail_intake.poll_mailbox(now=now)


def purge_expired_complaints(*, now: datetime) -> int:
    """Archived complaints past their retention (one year after archiving, not marked
    important) are purged, each leaving a PurgeRecord. Returns how many were purged."""
    return retention.purge_expired(now=now)
