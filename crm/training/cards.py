"""培训's card on the workbench: my sessions still to come and the summaries I owe, each
linking to the list or session behind it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from crm.core.cards import Action, Card, Stat
from crm.training import selectors, services

if TYPE_CHECKING:
    from crm.accounts.models import User


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.VIEW):
        return []
    now = timezone.now()
    upcoming = selectors.upcoming_for(user, now=now).count()
    due = selectors.summaries_due_for(user, now=now).count()
    cards: list[Card | Action] = []
    if upcoming or due:
        stats = (
            Stat("training_upcoming", "我的待参加培训", upcoming, reverse("training:session_list") + "?when=upcoming"),
            Stat("training_summaries", "待写培训总结", due, reverse("training:my_record"), warn=due > 0),
        )
        cards.append(Card("training", title="培训", stats=stats, order=55))
    if user.has_perm(services.PLAN):
        cards.append(Action("安排培训", reverse("training:session_new"), order=70))
    return cards
