"""客户描摹's card on the workbench: a consultant's portraits this quarter against the
quota of three (warned from two weeks before the quarter ends while short), linking to the
quota page of the same quarter."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.http import urlencode

from crm.core.cards import Action, Card, Stat
from crm.portraits import selectors, services
from crm.portraits.quarters import QUOTA, Quarter

if TYPE_CHECKING:
    from crm.accounts.models import User


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.ADD):
        return []
    quarter = Quarter.of(today)
    done = selectors.submitted_count(user, quarter)
    url = f"{reverse('portraits:quota')}?{urlencode({'quarter': quarter.key})}"
    stat = Stat(
        "portraits_quarter",
        f"本季度客户描摹（{done}/{QUOTA}）",
        done,
        url,
        warn=done < QUOTA and today >= quarter.reminder_on,
    )
    return [
        Card("portraits", title=f"客户描摹 · {quarter.label}", stats=(stat,), order=45),
        Action("写客户描摹", reverse("portraits:new"), order=60),
    ]
