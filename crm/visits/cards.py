"""回访's cards on the workbench: the morning to-do list.

Whoever makes visits sees their own calls for today (listed, the script one tap away),
the overdue ones (warned) and those starting soon; whoever assigns visits (客服中心主任)
sees the overdue and unassigned tasks across their scope. Each count links to the list
with the same filter (crm.visits.selectors.state_q), so number and rows agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from crm.accounts.access import widest_scope
from crm.accounts.models import Team
from crm.accounts.roles import Role, Scope
from crm.core.cards import Action, Card, Stat, wide_scope_counts
from crm.visits import repairs, selectors, services, supervision
from crm.visits.models import IssueReminder, ReviewFlag
from crm.visits.selectors import state_q, tasks_visible_to

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.visits.models import VisitTask

TODAY_LIST = 8


def list_url(state: str, *, mine: bool = False) -> str:
    params = {"state": state, **({"who": "me"} if mine else {})}
    return f"{reverse('visits:list')}?{urlencode(params)}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    items: list[Card | Action] = _issue_cards(user, today=today) + _flag_cards(user)
    if not user.has_perm(services.VIEW):
        return items
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
        # Escalated overdue tasks (crm.visits.escalation): a team leader's level 1, the
        # director's level 2.
        if Team.objects.filter(leader=user).exists():
            keys.append(("escalated_leader", "组长督办", True))
        if user.has_role(Role.DIRECTOR, Role.ADMIN):
            keys.append(("escalated_director", "升级至主任", True))
        counts, note = wide_scope_counts(
            f"workbench:visits_scope:{user.pk}:{today.isoformat()}",
            lambda: visible.aggregate(
                **{key: Count("pk", filter=state_q(key, user=user, today=today)) for key, _, _ in keys}
            ),
            wide=widest_scope(user) >= Scope.PROJECT,
        )
        stats = tuple(
            Stat(f"visits_scope_{key}", label, counts[key], list_url(key), warn=warn and counts[key] > 0)
            for key, label, warn in keys
        )
        items.append(Card("visits_scope", title="回访督办", stats=stats, order=22, note=note))
    sample = selectors.samples_visible_to(user).first()
    if sample is not None:
        progress = repairs.sample_progress(sample)
        items.append(
            Card(
                "visits_recheck",
                title=f"{sample.quarter} 报修回访抽查",
                stats=(
                    Stat("visits_recheck_done", "已抽查", progress.done, reverse("visits:samples")),
                    Stat(
                        "visits_recheck_open",
                        "待抽查",
                        progress.open,
                        f"{reverse('visits:list')}?kind=recheck&state=open",
                        warn=progress.open > 0,
                    ),
                ),
                order=23,
            )
        )
    return items


def _flag_cards(user: User) -> list[Card | Action]:
    """督查待答复 for a visitor with flags to answer (listed, each one tap from the answer
    form); 回访督查 for a supervisor: flags waiting for the visitor, answers to confirm."""
    items: list[Card | Action] = []
    waiting = list(
        selectors.open_flags_for_visitor(user)
        .select_related("task", "task__customer")
        .order_by("flagged_at", "id")[: TODAY_LIST + 1]
    )
    if waiting:
        items.append(
            Card(
                "visit_flags_answer",
                title="督查待答复",
                template="visits/cards/flags_answer.html",
                context={"flags": waiting[:TODAY_LIST], "more": len(waiting) > TODAY_LIST},
                order=19,
            )
        )
    if user.has_perm(supervision.REVIEW):
        counts = selectors.flags_visible_to(user).aggregate(
            open=Count("pk", filter=Q(status=ReviewFlag.Status.OPEN)),
            answered=Count("pk", filter=Q(status=ReviewFlag.Status.ANSWERED)),
        )
        base = reverse("visits:review")
        items.append(
            Card(
                "visit_review",
                title="回访督查",
                stats=(
                    Stat("visit_flags_open", "待回访人答复", counts["open"], f"{base}?flagged=open"),
                    Stat(
                        "visit_flags_answered",
                        "已答复待确认",
                        counts["answered"],
                        f"{base}?flagged=answered",
                        warn=counts["answered"] > 0,
                    ),
                ),
                order=25,
            )
        )
    return items


def _issue_cards(user: User, *, today: date) -> list[Card | Action]:
    """本部门回访问题 for the members of a department with issues to work (today's
    reminders listed), and 待告知客户 for a visitor whose issues were resolved."""
    items: list[Card | Action] = []
    if user.department_id is not None:
        queue = selectors.department_issues(user)
        counts = queue.aggregate(
            working=Count("pk", filter=selectors.issue_state_q("working", today=today)),
            late=Count("pk", filter=selectors.issue_state_q("late", today=today)),
        )
        if counts["working"] or counts["late"]:
            base = reverse("visits:department_issues")
            reminders = list(
                IssueReminder.objects.filter(
                    on=today,
                    department_id=user.department_id,
                    issue__status__in=selectors.WORKING_ISSUE,
                )
                .select_related("issue", "issue__customer", "issue__category")
                .order_by("issue__promised_on", "id")[:TODAY_LIST]
            )
            items.append(
                Card(
                    "visit_issues_department",
                    title="本部门回访问题",
                    stats=(
                        Stat("visit_issues_working", "待处理", counts["working"], f"{base}?state=working"),
                        Stat(
                            "visit_issues_late",
                            "超过承诺日期",
                            counts["late"],
                            f"{base}?state=late",
                            warn=counts["late"] > 0,
                        ),
                    ),
                    template="visits/cards/issues_department.html",
                    context={"reminders": reminders},
                    order=24,
                )
            )
    if user.has_perm(services.RECORD):
        waiting = list(
            selectors.to_inform(user)
            .select_related("customer", "category", "department")
            .order_by("resolved_at", "id")[: TODAY_LIST + 1]
        )
        if waiting:
            items.append(
                Card(
                    "visit_issues_inform",
                    title="待告知客户",
                    template="visits/cards/issues_inform.html",
                    context={"issues": waiting[:TODAY_LIST], "more": len(waiting) > TODAY_LIST},
                    order=21,
                )
            )
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
