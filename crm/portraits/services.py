"""Writes of 客户描摹: submitting and editing a portrait.

Seed 001: every consultant hands in three portraits a quarter; the quota page and the
reminder job (crm.portraits.jobs) count them by the quarter of the submission day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.lib.dates import local_day
from crm.portraits import selectors
from crm.portraits.models import CHOICE_FIELDS, FREE_TEXT_FIELDS, Portrait
from crm.portraits.quarters import Quarter

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.customers.models import Customer

ADD = "portraits.add_portrait"
CHANGE = "portraits.change_portrait"
VIEW = selectors.VIEW
ANALYSE = "portraits.analyse_portraits"
EXPORT = "portraits.export_portraits"
FIELDS = tuple(name for name, _label, _choices in CHOICE_FIELDS) + FREE_TEXT_FIELDS


def _clean(values: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"not portrait fields: {sorted(unknown)}")
    cleaned: dict[str, str] = {}
    for name, label, choices in CHOICE_FIELDS:
        value = str(values.get(name) or "")
        if value not in choices.values:
            raise DomainError(f"请选择{label}", field=name)
        cleaned[name] = value
    for name in FREE_TEXT_FIELDS:
        cleaned[name] = str(values.get(name) or "").strip()
    return cleaned


def submit_portrait(customer: Customer, *, actor: User, now: datetime | None = None, **values: Any) -> Portrait:
    """提交客户描摹:

    1. The consultant needs 提交客户描摹; the customer is one they may see (the caller read
       it through ``customers_visible_to``) and of their company.
    2. Every structured field is chosen; free text is trimmed.
    3. One portrait per consultant, customer and quarter: a second one of the same customer
       in the quarter is refused (the quota asks for three customers).
    4. The portrait counts in the quarter of the submission day (China time); the customer's
       timeline gets a 跟进记录 event naming the quarter (not the portrait's text).
    """
    now = now or timezone.now()
    if not actor.has_perm(ADD):
        raise NotAllowed("您没有提交客户描摹的权限")
    if customer.company_id != actor.company_id:
        raise DomainError("客户不存在", field="customer")
    fields = _clean(values)
    day = local_day(now)
    quarter = Quarter.of(day)
    with transaction.atomic():
        if selectors.has_portrait(actor, customer.pk, quarter):
            raise DomainError(f"您{quarter.label}已提交过该客户的描摹，请选择其他客户", field="customer")
        portrait = Portrait.objects.create(
            company_id=customer.company_id,
            project_id=customer.project_id,
            customer=customer,
            consultant=actor,
            quarter=quarter.key,
            submitted_on=day,
            submitted_at=now,
            updated_at=now,
            **fields,
        )
        timeline.record(
            customer,
            TimelineEvent.Kind.PORTRAIT,
            f"{actor}提交了客户描摹（{quarter.label}）",
            actor=actor,
            at=now,
            data={"portrait": portrait.pk, "quarter": quarter.key},
            source=portrait,
        )
        audit.log(
            audit.AuditLog.Action.CREATE,
            actor=actor,
            target=portrait,
            customer_id=customer.pk,
            summary=f"提交客户描摹（{quarter.label}）",
        )
    return portrait


def update_portrait(portrait: Portrait, *, actor: User, now: datetime | None = None, **values: Any) -> Portrait:
    """修改客户描摹: the portrait keeps its quarter and customer; the caller read it through
    ``get_portrait_for_user`` (in scope), the actor needs 修改客户描摹."""
    now = now or timezone.now()
    if not actor.has_perm(CHANGE):
        raise NotAllowed("您没有修改客户描摹的权限")
    fields = _clean(values)
    with transaction.atomic():
        changed = [name for name, value in fields.items() if getattr(portrait, name) != value]
        for name, value in fields.items():
            setattr(portrait, name, value)
        portrait.updated_at = now
        portrait.save(update_fields=[*fields, "updated_at"])
        if changed:
            audit.log(
                audit.AuditLog.Action.UPDATE,
                actor=actor,
                target=portrait,
                customer_id=portrait.customer_id,
                summary=f"修改客户描摹（{Quarter.parse(portrait.quarter) or portrait.quarter}）",
            )
    return portrait
