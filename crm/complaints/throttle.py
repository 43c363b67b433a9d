"""Rate limits of the public complaint pages and the integration API, kept in Django's
cache (Redis in production, so every process shares them).

A limit is "at most N within W seconds" counted in a fixed window: the first hit adds the
counter with the window as its timeout (``cache.add``), later hits ``incr`` it; both are
atomic in Redis. ``hit`` counts and says whether the caller is still within the limit;
``peek`` only reads (the status page counts failures, not lookups).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def _key(scope: str, who: str) -> str:
    return f"throttle:{scope}:{who}"


def hit(scope: str, who: str, limit: Limit) -> bool:
    """Count one more; True while the count is within the limit."""
    key = _key(scope, who)
    if cache.add(key, 1, timeout=limit.seconds):
        return limit.count >= 1
    try:
        value = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.seconds)
        value = 1
    return value <= limit.count


def exceeded(scope: str, who: str, limit: Limit) -> bool:
    """Whether the limit is already used up (without counting)."""
    value = cache.get(_key(scope, who)) or 0
    return int(value) >= limit.count


def reset(scope: str, who: str) -> None:
    cache.delete(_key(scope, who))
