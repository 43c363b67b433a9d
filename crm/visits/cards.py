"""回访's cards on the workbench: the morning to-do list.

Whoever makes visits sees their own calls for today (listed, the script one tap away),
the overdue ones (warned) and those starting soon; whoever assigns visits (客服中心主任)
sees the overdue and unassigned tasks across their scope. Each count links to the list
with the same filter (crm.visits.selectors.state_q), so number and rows agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from crm.core.cards import Action, Card, Stat
from crm.visits import services
from crm.visits.selectors import state_q, tasks_visible_to

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.visits.models import VisitTask

TODAY_LIST = 8


def list_url(state: str, *, mine: bool = False) -> str:
    params = {"state": state, **({"who": "me"} if mine else {})}
    return f"{reverse('visits:list')}?{urlencode(params)}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.VIEW):
        return []
    items: list[Card | Action] = []
    visible = tasks_visible_to(user)
    if user.has_perm(services.RECORD):
        keys = [("today", "今日回访", False), ("overdue", "已逾期", True), ("upcoming", "即将开始", False)]
        counts = visible.filter(assignee=user).aggregate(
            **{key: Count("pk", filter=state_q(key, user=user, today=today)) for key, _, _ in keys}
        )
        stats = tuple(
            Stat(f"visits_{key}", label, counts[key], list_url(key, mine=True), warn=warn and counts[key] > 0)
            for key, label, warn in keys
        )
        # Whoever assigns visits (a director, a team leader) sees their own only when they
        # have some: three zeros above the card they do use are noise on their morning page.
        if any(counts.values()) or not user.has_perm(services.ASSIGN):
            items.append(_my_visits(user, visible, stats, counts, today=today))
    if user.has_perm(services.ASSIGN):
        keys = [("overdue", "逾期回访", True), ("unassigned", "待分派", True), ("today", "今日待回访", False)]
        counts = visible.aggregate(
            **{key: Count("pk", filter=state_q(key, user=user, today=today)) for key, _, _ in keys}
        )
        stats = tuple(
            Stat(f"visits_scope_{key}", label, counts[key], list_url(key), warn=warn and counts[key] > 0)
            for key, label, warn in keys
        )
        items.append(Card("visits_scope", title="回访督办", stats=stats, order=22))
    return items


def _my_visits(
    user: User, visible: QuerySet[VisitTask], stats: tuple[Stat, ...], counts: dict[str, int], *, today: date
) -> Card:
    """我的回访: the counts and today's calls, listed with the script one tap away."""
    todays = list(
        visible.filter(state_q("today", user=user, today=today) | state_q("overdue", user=user, today=today))
        .filter(assignee=user)
        .select_related("customer", "plan")
        .order_by("due_on", "id")[:TODAY_LIST]
    )
    return Card(
        "visits",
        title="我的回访",
        stats=stats,
        template="visits/cards/today.html",
        context={"tasks": todays, "today": today, "more": counts["today"] + counts["overdue"] > TODAY_LIST},
        order=20,
    )
