"""客户活动's card on the workbench: the open events of the next two weeks (date, place,
invited and confirmed), each linking to its page; organisers also get 新建活动."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.urls import reverse

from crm.core.cards import Action, Card
from crm.events import selectors, services
from crm.events.models import Invitee

if TYPE_CHECKING:
    from crm.accounts.models import User

CARD_ROWS = 5


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    cards: list[Card | Action] = []
    if not user.has_perm(services.VIEW):
        return cards
    events = list(
        selectors.upcoming(user, today=today)
        .select_related("project")
        .annotate(
            n_invited=Count("invitees", filter=Q(invitees__invited_at__isnull=False)),
            n_yes=Count("invitees", filter=Q(invitees__rsvp=Invitee.Rsvp.YES)),
        )
        .order_by("starts_on", "starts_at_time", "id")[:CARD_ROWS]
    )
    if events:
        cards.append(
            Card(
                "events_upcoming",
                template="events/cards/upcoming.html",
                context={"events": events},
                order=48,
                half=True,
            )
        )
    if user.has_perm(services.ADD):
        cards.append(Action("新建活动", reverse("events:new"), order=60))
    return cards
