"""Core periodic jobs. Each takes ``now`` and returns how many rows it handled."""

from __future__ import annotations

from datetime import datetime

from django.contrib.sessions.models import Session

from crm.core import notifications


def clear_expired_sessions(*, now: datetime) -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted


def purge_read_notifications(*, now: datetime) -> int:
    """站内通知 read more than NOTIFICATION_RETENTION_DAYS ago are deleted; returns how many."""
    return notifications.purge_read(now=now)
