"""投诉's card on the workbench: the complaint queue with its deadlines.

Whoever reads complaints sees the open ones in their scope, those due today, the breached
ones (warned) and, for the director, complaints filed from outside without a category
(待分类: only the director can dispatch them) and plans waiting for approval; each count links to the
list with the same filter (crm.complaints.selectors.state_q), so number and rows agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from crm.complaints import services
from crm.complaints.selectors import complaints_visible_to, state_q
from crm.core.cards import Action, Card, Stat

if TYPE_CHECKING:
    from crm.accounts.models import User


def list_url(state: str) -> str:
    return f"{reverse('complaints:list')}?{urlencode({'state': state})}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.VIEW):
        return []
    now = timezone.now()
    keys = [("open", "未结投诉", False), ("due_today", "今天到期", False), ("breached", "已超时", True)]
    if user.has_perm(services.HANDLE):
        keys.insert(1, ("mine", "我负责的", False))
    if user.has_perm(services.MANAGE):
        keys.append(("unsorted", "待分类", True))
    if user.has_perm(services.APPROVE):
        keys.append(("plan_pending", "方案待审批", True))
        keys.append(("escalated", "已升级", True))
    counts = complaints_visible_to(user).aggregate(
        **{key: Count("pk", filter=state_q(key, user=user, now=now)) for key, _, _ in keys}
    )
    stats = tuple(
        Stat(f"complaints_{key}", label, counts[key], list_url(key), warn=warn and counts[key] > 0)
        for key, label, warn in keys
    )
    items: list[Card | Action] = [Card("complaints", title="投诉", stats=stats, order=25)]
    if user.has_perm(services.ADD):
        items.append(Action("登记投诉", reverse("complaints:new"), order=40))
    return items
