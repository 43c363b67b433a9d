"""What each person sees first every morning, composed from the cards each app contributes
(crm.core.cards). The workbench knows no app's models: an installed app with a
``workbench_cards`` provider in its AppConfig adds its cards, in INSTALLED_APPS order,
then sorted by each card's ``order``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.apps import apps
from django.utils.module_loading import import_string

from crm.core.cards import Action, Card, Provider

if TYPE_CHECKING:
    from crm.accounts.models import User


@dataclass(frozen=True)
class Workbench:
    today: date
    cards: list[Card]
    actions: list[Action]

    @property
    def card(self) -> dict[str, Card]:
        return {card.key: card for card in self.cards}

    @property
    def rows(self) -> list[tuple[bool, list[Card]]]:
        """The cards as rows: consecutive ``half`` cards share a two-column row."""
        rows: list[tuple[bool, list[Card]]] = []
        for card in self.cards:
            if card.half and rows and rows[-1][0]:
                rows[-1][1].append(card)
            else:
                rows.append((card.half, [card]))
        return rows

    @property
    def stats(self) -> dict[str, int]:
        """Every count on the page by its key."""
        return {stat.key: stat.value for card in self.cards for stat in card.stats}


def providers() -> list[Provider]:
    found: list[Provider] = []
    for config in apps.get_app_configs():
        dotted = getattr(config, "workbench_cards", None)
        if dotted:
            found.append(import_string(dotted))
    return found


def workbench_for(user: User, *, today: date) -> Workbench:
    cards: list[Card] = []
    actions: list[Action] = []
    for provider in providers():
        for part in provider(user, today=today):
            if isinstance(part, Card):
                cards.append(part)
            else:
                actions.append(part)
    cards.sort(key=lambda c: c.order)
    actions.sort(key=lambda a: a.order)
    return Workbench(today=today, cards=cards, actions=actions)
