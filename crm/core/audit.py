"""Writing the audit log: changes to customer data, sensitive reads, exports, imports,
logins, permission changes and erasures.

Every row is written here, so three rules hold for all of them (PIPL, docs/privacy.md):

1. The row names the company whose data it concerns (``company_id``): readers see only
   their own company's rows (crm.customers.audit_views).
2. No full mobile or ID number is ever stored: the summary, the reason and every value of
   the changes are passed through ``redact`` (138****5678, 1101**********1233). The
   display runs ``redact`` again, for rows written before this rule.
3. The row carries a readable label of its object ("客户 张三（KH00002101）"), so the log
   reads in Chinese and stays readable after a rename, merge or erasure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models

from crm.core.models import AuditLog
from crm.lib.mobile import mask_numbers_in_text

__all__ = ["AuditLog", "client_ip", "diff", "log", "record_erasure", "redact", "snapshot"]

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest


def redact(value: Any) -> Any:
    """The value with every full mobile and ID number masked; dicts and lists recursively."""
    if isinstance(value, str):
        return mask_numbers_in_text(value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def label_of(obj: models.Model) -> str:
    """ "客户 张三（KH00002101）": the model's Chinese name and the object, masked."""
    # obj._meta, not type(obj): request.user is a lazy proxy whose type is not the model.
    return str(redact(f"{obj._meta.verbose_name} {obj}"))[:120]


def _customer_label(customer_id: int, target: models.Model | None) -> str:
    """The label of the customer a row concerns: from the target when it is the customer
    or points at it, else read (one query)."""
    customer_model = apps.get_model("customers", "Customer")
    if isinstance(target, customer_model) and target.pk == customer_id:
        return label_of(target)
    related = getattr(target, "customer", None) if target is not None else None
    if isinstance(related, customer_model) and related.pk == customer_id:
        return label_of(related)
    found = customer_model._default_manager.filter(pk=customer_id).first()
    return label_of(found) if found is not None else f"客户 #{customer_id}"


def _company_of(
    target: models.Model | None, actor: AbstractBaseUser | AnonymousUser | None, customer_id: int | None
) -> int | None:
    for source in (target, getattr(target, "customer", None) if target is not None else None):
        company = getattr(source, "company_id", None)
        if isinstance(company, int):
            return company
    if customer_id is not None:
        customer_model = apps.get_model("customers", "Customer")
        company = customer_model._default_manager.filter(pk=customer_id).values_list("company_id", flat=True).first()
        if company is not None:
            return int(company)
    company = getattr(actor, "company_id", None)
    return company if isinstance(company, int) else None


def log(
    action: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_label: str = "",
    customer_id: int | None = None,
    company_id: int | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditLog:
    """Write one audit row (masked, with its company and a readable label)."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    if not target_label:
        if customer_id is not None:
            target_label = _customer_label(customer_id, target)
        elif target is not None:
            target_label = label_of(target)
    if company_id is None:
        company_id = _company_of(target, actor, customer_id)
    return AuditLog.objects.create(
        action=action,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        target_type=target_type,
        target_id=str(target_id),
        target_label=redact(target_label)[:120],
        customer_id=customer_id,
        company_id=company_id,
        summary=redact(summary)[:300],
        changes=redact(changes or {}),
        reason=redact(reason)[:200],
        ip=ip,
    )


def record_erasure(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    company_id: int,
    target_type: str,
    target_id: str | int,
    target_label: str,
    customer_id: int | None = None,
    reason: str = "",
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """The audit row of an erasure or anonymisation (PIPL art. 47): who erased what and why.

    For callers that erase a customer or a record of one (data-subject requests, retention
    jobs): call it in the same transaction as the erasure, with the label the object had
    before (e.g. "客户 张三（KH00002101）"), which the row keeps (masked)."""
    return log(
        AuditLog.Action.ERASE,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label or f"{target_type}#{target_id}",
        customer_id=customer_id,
        company_id=company_id,
        summary=summary or "删除/匿名化个人信息",
        changes=changes,
        reason=reason,
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
