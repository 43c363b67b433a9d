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


@dataclass(frozen=True)
class Action:
    """A quick action button at the top of the workbench (新建客户, 导入客户 …)."""

    label: str
    url: str
    primary: bool = False
    order: int = 100


Provider = Callable[..., list[Card | Action]]


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
