"""Writing the audit log: changes to customer data, sensitive reads, exports, imports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from crm.core.models import AuditLog

__all__ = ["AuditLog", "client_ip", "diff", "log", "snapshot"]

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log(
    action: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    customer_id: int | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditLog:
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditLog.objects.create(
        action=action,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        target_type=target_type,
        target_id=str(target_id),
        customer_id=customer_id,
        summary=summary[:300],
        changes=changes or {},
        reason=reason[:200],
        ip=ip,
    )


def diff(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed, JSON-friendly."""
    changes: dict[str, list[Any]] = {}
    for name in fields:
        old, new = before.get(name), getattr(instance, name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return str(value)
    return str(value)
