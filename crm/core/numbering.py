"""Unique business numbers from named counters, safe under concurrency on both databases."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from crm.core.models import Counter


def reserve(key: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive values of counter ``key``; return the first.

    The UPDATE ... SET value = value + n takes a row lock, so two concurrent callers
    can never be handed the same range.
    """
    with transaction.atomic():
        Counter.objects.get_or_create(key=key)
        Counter.objects.filter(key=key).update(value=F("value") + count)
        value = Counter.objects.values_list("value", flat=True).get(key=key)
    return value - count + 1
