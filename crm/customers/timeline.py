"""The 360° timeline: every capability records what happened to a customer here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from crm.customers.models import Customer, TimelineEvent

if TYPE_CHECKING:
    from crm.accounts.models import User


def record(
    customer: Customer | int,
    kind: str,
    summary: str,
    *,
    actor: User | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    source: models.Model | None = None,
) -> TimelineEvent:
    customer_id = customer if isinstance(customer, int) else customer.pk
    return TimelineEvent.objects.create(
        customer_id=customer_id,
        kind=kind,
        summary=summary[:300],
        actor=actor if actor is not None and actor.is_authenticated else None,
        occurred_at=at or timezone.now(),
        data=data or {},
        source_type=source._meta.label_lower if source is not None else "",
        source_id=source.pk if source is not None else None,
    )
