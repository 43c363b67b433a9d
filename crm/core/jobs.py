"""Core periodic jobs. Each takes ``now`` and returns how many rows it handled."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session

from crm.core import notifications


def clear_expired_sessions(*, now: datetime) -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted


def purge_read_notifications(*, now: datetime) -> int:
    """站内通知 read more than NOTIFICATION_RETENTION_DAYS ago are deleted; returns how many."""
    return notifications.purge_read(now=now)


# 等保 / DESIGN 3.7: audit logs are kept at least six months. A setting below this floor is
# raised to it, so no configuration can delete a younger row.
AUDIT_MIN_RETENTION_DAYS = 183


def audit_retention_days() -> int:
    """The configured retention of audit rows (AUDIT_RETENTION_DAYS), never under six months."""
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", 365)), AUDIT_MIN_RETENTION_DAYS)


def purge_old_audit_rows(*, now: datetime, limit: int = 5000) -> int:
    """Delete audit rows older than the retention (at least 183 days), oldest first, one
    batch per run, and leave a row saying how many went and up to when."""
    from crm.core.models import AuditLog

    cutoff = now - timedelta(days=audit_retention_days())
    ids = list(AuditLog.objects.filter(at__lt=cutoff).order_by("at", "id").values_list("id", flat=True)[:limit])
    if not ids:
        return 0
    deleted, _ = AuditLog.objects.filter(pk__in=ids, at__lt=cutoff).delete()
    AuditLog.objects.create(
        action=AuditLog.Action.DELETE,
        target_type="core.auditlog",
        target_label="审计日志",
        summary=f"按保留期限（{audit_retention_days()}天）清除 {cutoff:%Y-%m-%d} 之前的审计日志 {deleted} 条",
        changes={"count": deleted},
    )
    return deleted
