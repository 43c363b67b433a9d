"""The workbench's card interface: what an app contributes to each person's home page.

The workbench (crm.workbench) knows no app's models. Each app that has something to show
names a provider in its AppConfig, ``workbench_cards = "crm.<app>.cards.workbench_cards"``,
a function ``(user, *, today) -> list[Card | Action]`` that returns the cards this user
should see (none when the role has no use for them). Every count links to the list behind
it and is computed with that list's own filter, so the number and the rows agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse


@dataclass(frozen=True)
class Stat:
    """One count on a card, linking to the list it counts."""

    key: str
    label: str
    value: int
    url: str
    warn: bool = False


@dataclass(frozen=True)
class Card:
    """A section of the workbench: a strip of counts, a partial template, or both.

    ``order`` places it (lower first): alerts 10, the person's own work 20–40, context 50+.
    ``half`` cards sit two to a row on a wide screen.
    """

    key: str
    title: str = ""
    stats: tuple[Stat, ...] = ()
    template: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    order: int = 100
    half: bool = False
    # Under the counts, e.g. how old cached counts may be (``wide_scope_counts``).
    note: str = ""


@dataclass(frozen=True)
class Action:
    """A quick action button at the top of the workbench (新建客户, 导入客户 …)."""

    label: str
    url: str
    primary: bool = False
    order: int = 100


Provider = Callable[..., list[Card | Action]]


def wide_scope_counts(key: str, compute: Callable[[], dict[str, Any]], *, wide: bool) -> tuple[dict[str, Any], str]:
    """A card's counts, and the note saying how old they may be.

    Over a wide scope (a director's or management's projects: at 1,000,000 customers each
    count is a pass over hundreds of thousands of rows — the visits' 督办 counts 0.8 s, the
    management card's month figures 1.1 s; docs/performance.md, the workbench) the counts
    are kept WORKBENCH_CACHE_SECONDS in the shared cache under ``key`` (which names the
    user and the day); a narrow scope (a consultant's own) is counted on every visit.
    """
    minutes = cached_minutes(wide=wide)
    if not minutes:
        return compute(), ""
    note = f"数字约每 {minutes} 分钟更新一次"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached), note
    counts = compute()
    cache.set(key, counts, settings.WORKBENCH_CACHE_SECONDS)
    return counts, note


def cached_minutes(*, wide: bool) -> int:
    """Minutes a wide scope's counts may lag (``wide_scope_counts``); 0: counted fresh."""
    ttl = getattr(settings, "WORKBENCH_CACHE_SECONDS", 300)
    return max(1, ttl // 60) if wide and ttl else 0


def workbench_cards(user: Any, *, today: date) -> list[Card | Action]:
    """core's own cards: 未读通知 while the user has unread notifications (the same count as
    the bell: one query per request); from 1 November, administrators are warned while next
    year's work calendar is missing (without it, working-day deadlines and festival
    messages stop)."""
    return _notification_cards(user) + _calendar_cards(user, today=today)


def _notification_cards(user: Any) -> list[Card | Action]:
    from crm.core.notifications import unread_count

    count = unread_count(user)
    if not count:
        return []
    url = reverse("notifications:inbox") + "?show=unread"
    return [
        Card("notifications", title="未读通知", stats=(Stat("unread", "未读通知", count, url, warn=True),), order=5)
    ]


def _calendar_cards(user: Any, *, today: date) -> list[Card | Action]:
    from crm.core.calendar import missing_next_year

    if not (user.is_staff and user.has_perm("core.add_calendaryear")):
        return []
    year = missing_next_year(today)
    if year is None:
        return []
    return [
        Card(
            "calendar_missing",
            template="core/cards/calendar_missing.html",
            context={"year": year, "url": reverse("core:calendar_year", args=[year])},
            order=10,
        )
    ]
