"""The 360° timeline: every capability records what happened to a customer here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from crm.customers.models import Customer, TimelineEvent

if TYPE_CHECKING:
    from crm.accounts.models import User


@dataclass(frozen=True)
class Entry:
    """One event for ``record_many``: the arguments of ``record``."""

    customer: Customer | int
    kind: str
    summary: str
    actor: User | None = None
    at: datetime | None = None
    data: dict[str, Any] | None = None
    source: models.Model | None = None


def _event(entry: Entry) -> TimelineEvent:
    customer, actor, source = entry.customer, entry.actor, entry.source
    return TimelineEvent(
        customer_id=customer if isinstance(customer, int) else customer.pk,
        kind=entry.kind,
        summary=entry.summary[:300],
        actor=actor if actor is not None and actor.is_authenticated else None,
        occurred_at=entry.at or timezone.now(),
        data=entry.data or {},
        source_type=source._meta.label_lower if source is not None else "",
        source_id=source.pk if source is not None else None,
    )


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
    event = _event(Entry(customer, kind, summary, actor=actor, at=at, data=data, source=source))
    event.save(force_insert=True)
    return event


def record_many(entries: Iterable[Entry]) -> list[TimelineEvent]:
    """Record many events in one INSERT (e.g. a batch of messages the gateway accepted)."""
    return TimelineEvent.objects.bulk_create([_event(entry) for entry in entries])
