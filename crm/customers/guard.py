"""Limits against scraping: a user who opens too many customers, reveals too many full
numbers or tests too many mobiles against other colleagues' customers in an hour is
stopped (a Chinese page) and their supervisors alerted (an AccessAlert, on the workbench).

The limits are the company's privacy settings (CompanyPrivacy; defaults in the settings).
The window is the last hour, rolling: the user can go on once older accesses leave it, and
re-opening a customer already opened in the hour is always allowed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from crm.accounts.access import company_of
from crm.core import audit
from crm.core.errors import DomainError
from crm.customers.models import AccessAlert, AccessEvent, CompanyPrivacy

if TYPE_CHECKING:
    from crm.accounts.models import User

WINDOW = timedelta(hours=1)
# What a registration hears about a mobile held by a customer outside the user's scope:
# that it exists, nothing about whose it is (decision 0008, docs/privacy.md).
HIDDEN_DUPLICATE = "已存在，请联系主管"


class AccessStopped(DomainError):
    """The user went over an hourly limit; ``kind`` says which (AccessAlert.Kind)."""

    def __init__(self, kind: str, limit: int) -> None:
        messages: dict[str, str] = {
            AccessAlert.Kind.OPENS: f"您在一小时内查看的客户已超过 {limit} 位，系统已暂停您查看更多客户并通知主管。",
            AccessAlert.Kind.REVEALS: f"您在一小时内查看完整号码已超过 {limit} 次，系统已暂停此操作并通知主管。",
            AccessAlert.Kind.DUPLICATES: "重复号码提示过于频繁，系统已暂停登记查重并通知主管，请稍后再试。",
        }
        super().__init__(messages[kind])
        self.kind = kind
        self.limit = limit


def privacy_of(company_id: int | None) -> CompanyPrivacy:
    """The company's privacy settings; the configured defaults when it has none saved."""
    found = CompanyPrivacy.objects.filter(company_id=company_id).first() if company_id else None
    if found is not None:
        return found
    return CompanyPrivacy(
        company_id=company_id or 0,
        archive_sensitive_fields=bool(getattr(settings, "ARCHIVE_SENSITIVE_FIELDS", False)),
        export_approval_threshold=int(getattr(settings, "EXPORT_APPROVAL_THRESHOLD", 50)),
        open_limit_per_hour=int(getattr(settings, "OPEN_LIMIT_PER_HOUR", 200)),
        reveal_limit_per_hour=int(getattr(settings, "REVEAL_LIMIT_PER_HOUR", 20)),
        duplicate_limit_per_hour=int(getattr(settings, "DUPLICATE_LIMIT_PER_HOUR", 10)),
    )


def raise_alert(user: User, *, kind: str, count: int, limit: int, now: datetime) -> AccessAlert:
    """One open alert per user and kind per hour (repeated refusals do not flood the card);
    each new alert is audited."""
    existing = AccessAlert.objects.filter(
        user=user, kind=kind, resolved_at__isnull=True, raised_at__gte=now - WINDOW
    ).first()
    if existing is not None:
        return existing
    alert = AccessAlert.objects.create(
        company_id=company_of(user), user=user, kind=kind, count=count, limit=limit, raised_at=now
    )
    audit.log(
        audit.AuditLog.Action.ALERT,
        actor=user,
        target=alert,
        target_label=f"员工 {user}",
        company_id=user.company_id,
        summary=f"{AccessAlert.Kind(kind).label}：一小时内 {count} 次，上限 {limit}",
    )
    return alert


def check_open(user: User, customer_id: int, *, now: datetime) -> None:
    """Count an opening of the customer's page, or stop the user (AccessStopped) when it
    would be a new customer beyond the hourly limit."""
    since = now - WINDOW
    recent = AccessEvent.objects.filter(user=user, kind=AccessEvent.Kind.OPEN, at__gte=since)
    if recent.filter(customer_id=customer_id).exists():
        return
    limit = privacy_of(user.company_id).open_limit_per_hour
    opened = recent.values("customer_id").distinct().count()
    if opened >= limit:
        raise_alert(user, kind=AccessAlert.Kind.OPENS, count=opened + 1, limit=limit, now=now)
        raise AccessStopped(AccessAlert.Kind.OPENS, limit)
    AccessEvent.objects.create(user=user, kind=AccessEvent.Kind.OPEN, customer_id=customer_id, at=now)


def check_reveal(user: User, *, now: datetime) -> None:
    """Stop a reveal of a full mobile beyond the hourly limit (the reveals are the audit
    rows, so nothing else is counted). ID numbers count too: they are as sensitive."""
    limit = privacy_of(user.company_id).reveal_limit_per_hour
    revealed = audit.AuditLog.objects.filter(
        actor=user, action=audit.AuditLog.Action.REVEAL, at__gte=now - WINDOW
    ).count()
    if revealed >= limit:
        raise_alert(user, kind=AccessAlert.Kind.REVEALS, count=revealed + 1, limit=limit, now=now)
        raise AccessStopped(AccessAlert.Kind.REVEALS, limit)


def check_duplicate_probe(user: User, *, customer_id: int, now: datetime) -> None:
    """Count a registration that hit the mobile of a customer the user cannot see; beyond
    the hourly limit stop the user (the answer would let them test numbers)."""
    since = now - WINDOW
    limit = privacy_of(user.company_id).duplicate_limit_per_hour
    hits = AccessEvent.objects.filter(user=user, kind=AccessEvent.Kind.DUPLICATE, at__gte=since).count()
    if hits >= limit:
        raise_alert(user, kind=AccessAlert.Kind.DUPLICATES, count=hits + 1, limit=limit, now=now)
        raise AccessStopped(AccessAlert.Kind.DUPLICATES, limit)
    AccessEvent.objects.create(user=user, kind=AccessEvent.Kind.DUPLICATE, customer_id=customer_id, at=now)


def note_hidden_duplicates(user: User, *, count: int, now: datetime) -> None:
    """An import's problem list named ``count`` numbers held by customers the user cannot
    see: above the hourly limit the supervisors are alerted (the list itself says only
    "已存在，请联系主管")."""
    limit = privacy_of(user.company_id).duplicate_limit_per_hour
    if count > limit:
        raise_alert(user, kind=AccessAlert.Kind.DUPLICATES, count=count, limit=limit, now=now)


@transaction.atomic
def resolve_alert(alert: AccessAlert, *, actor: User, note: str, now: datetime) -> AccessAlert:
    """A supervisor has looked at the alert (note required); audited."""
    note = (note or "").strip()
    if not note:
        raise DomainError("请填写处理说明", field="note")
    if alert.resolved_at is not None:
        raise DomainError("该告警已处理")
    alert.resolved_by = actor
    alert.resolved_at = now
    alert.resolution = note[:200]
    alert.save(update_fields=["resolved_by", "resolved_at", "resolution"])
    audit.log(
        audit.AuditLog.Action.ALERT,
        actor=actor,
        target=alert,
        target_label=f"员工 {alert.user}",
        summary=f"处理告警：{alert.get_kind_display()}",
        reason=note,
    )
    return alert


def hidden_duplicate_message(user: User, *, customer_id: int, now: datetime) -> str:
    """The message for a mobile held by a customer the user cannot see: "已存在，请联系主管",
    or, beyond the hourly limit, the stop message (and the supervisors are alerted)."""
    try:
        check_duplicate_probe(user, customer_id=customer_id, now=now)
    except AccessStopped as exc:
        return exc.message
    return HIDDEN_DUPLICATE
