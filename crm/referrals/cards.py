"""老带新's cards on the workbench.

Approvers (客服中心主任, 行政主管) see the rewards waiting for their approval and those
approved but not yet paid; everyone who records referrals sees the referrals of their
scope this month (a consultant: their own customers') and the new customers who
subscribed but whose referrer has no reward yet. Each count links to the list behind it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.http import urlencode

from crm.core.cards import Action, Card, Stat
from crm.lib.dates import local_midnight
from crm.referrals import selectors, services
from crm.referrals.models import ReferralStatus, Reward

if TYPE_CHECKING:
    from crm.accounts.models import User


def _url(name: str, **params: str) -> str:
    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    stats: list[Stat] = []
    if user.has_perm(services.APPROVE_REWARD):
        rewards = selectors.rewards_visible_to(user)
        n = rewards.filter(state=Reward.State.PENDING).count()
        stats.append(Stat("rewards_pending", "待审批奖励", n, _url("referrals:rewards", state="pending"), warn=n > 0))
        if user.has_perm(services.PAY_REWARD):
            n = rewards.filter(state=Reward.State.APPROVED).count()
            stats.append(Stat("rewards_approved", "待发放奖励", n, _url("referrals:rewards", state="approved")))
    if user.has_perm(services.ADD):
        first = today.replace(day=1)
        referrals = selectors.referrals_visible_to(user)
        n = referrals.filter(created_at__gte=local_midnight(first)).count()
        stats.append(Stat("referrals_month", "本月老带新", n, _url("referrals:list", start=first.isoformat())))
        if user.has_perm(services.PROPOSE_REWARD):
            n = (
                referrals.filter(
                    selectors.status_q(ReferralStatus.SUBSCRIBED) | selectors.status_q(ReferralStatus.SIGNED)
                )
                .filter(rewards__isnull=True)
                .count()
            )
            stats.append(
                Stat("referrals_unrewarded", "已认购未申请奖励", n, _url("referrals:list", status="subscribed"))
            )
    cards: list[Card | Action] = []
    if stats:
        cards.append(Card("referrals", title="老带新", stats=tuple(stats), order=34))
    if user.has_perm(services.ADD):
        cards.append(Action("登记老带新", reverse("referrals:new"), order=47))
    return cards
