"""报告's card on the workbench: the weekly and monthly packs waiting for my summary."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.http import urlencode

from crm.core.cards import Card, Stat
from crm.reports import selectors, services

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.core.cards import Action


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.WRITE):
        return []
    n = selectors.awaiting_summary(user).count()
    url = f"{reverse('reports:pack_list')}?{urlencode({'status': 'draft'})}"
    return [
        Card(
            "reports_awaiting",
            title="报告",
            stats=(Stat("reports_awaiting", "待填写总结的周报、月报", n, url, warn=n > 0),),
            order=60,
        )
    ]
