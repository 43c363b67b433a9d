"""顾问月度考核 (seed 001; issue 15 item 3): one row per consultant and month.

For the consultants whose figures the user may see (crm.accounts.access.staff_in_scope_q:
a consultant themself, a team leader the team, a director the projects' staff, managers
the company), read through the same selectors and conditions as the KPIs (docs/kpis.md):

- 按期回访: tasks assigned to the consultant due in the month, done on or before the due
  date ÷ due (visits' ``on_time``/``due``);
- 回访满意度: their visits due in the month, done and rated 4–5 ÷ rated, and the average;
- 被投诉: complaints registered in the month about the consultant's own customers
  (``customer.owner``; a complaint names no staff member, so this is the nearest fact);
- 客户描摹: portraits submitted in the month (crm.kpis.sources; 未启用 until crm.portraits
  offers its selector);
- 老带新: customers registered in the month, owned by the consultant, referred by another;
- 改进计划: the team leader's plan for the month (crm.visits' ImprovementPlan, the same
  plan as on the visits score page).

A grouped statement per source whatever the number of consultants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from crm.accounts.access import staff_in_scope_q
from crm.accounts.models import User
from crm.accounts.roles import Role, group_name
from crm.complaints import selectors as complaints
from crm.customers import selectors as customers
from crm.kpis import sources
from crm.kpis.definitions import ratio
from crm.kpis.periods import Period, month_of
from crm.visits import selectors as visits

if TYPE_CHECKING:
    from collections.abc import Iterable

VIEW = "kpis.view_scorecard"


@dataclass
class Scorecard:
    consultant: User
    month: Period
    due: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    average: Decimal | None = None
    complaints: int = 0
    portraits: int | None = None
    referrals: int = 0
    # The month's improvement plan (crm.visits' ImprovementPlan): its text, who wrote it, when.
    plan: str = ""
    plan_by: str = ""
    plan_at: datetime | None = None
    may_write_plan: bool = False
    links: dict[str, str] | None = None

    @property
    def on_time_rate(self) -> Decimal | None:
        return ratio(self.on_time, self.due)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return ratio(self.satisfied, self.rated)


def consultants_in_scope(user: User) -> QuerySet[User]:
    """The consultants (置业顾问) whose scorecards the user may read."""
    if not user.has_perm(VIEW):
        return User.objects.none()
    return (
        User.objects.filter(staff_in_scope_q(user), is_active=True, groups__name=group_name(Role.CONSULTANT))
        .distinct()
        .order_by("display_name", "username")
    )


def _links(user: User, consultant_id: int, month: Period) -> dict[str, str]:
    period: dict[str, str | int] = {"start": month.start.isoformat(), "end": month.end.isoformat()}
    links: dict[str, str] = {}
    if user.has_perm("visits.view_visittask"):
        base = reverse("visits:list")
        for measure in ("due", "on_time", "rated", "satisfied"):
            links[measure] = (
                f"{base}?{urlencode({'state': '', 'measure': measure, **period, 'assignee': consultant_id})}"
            )
    if user.has_perm("complaints.view_complaint"):
        query = urlencode({"measure": "registered", **period, "owner": consultant_id})
        links["complaints"] = f"{reverse('complaints:list')}?{query}"
    if user.has_perm("customers.view_customer"):
        query = urlencode({"measure": "referred", **period, "owner": consultant_id})
        links["referrals"] = f"{reverse('customers:list')}?{query}"
    return links


def scorecards(user: User, month: Period, *, consultants: Iterable[User] | None = None) -> list[Scorecard]:
    """The month's scorecards of the consultants in scope (or of ``consultants``, which
    must come from ``consultants_in_scope``)."""
    people = list(consultants if consultants is not None else consultants_in_scope(user))
    ids = [p.pk for p in people]
    if not ids:
        return []
    start, end = month.start, month.end
    v: dict[int, dict[str, Any]] = {
        r["assignee_id"]: dict(r)
        for r in visits.tasks_visible_to(user)
        .filter(visits.kpi_period_q(start, end), assignee_id__in=ids)
        .values("assignee_id")
        .annotate(
            **{m: Count("pk", filter=visits.kpi_condition_q(m)) for m in ("due", "on_time", "rated", "satisfied")},
            average=Avg("satisfaction", filter=visits.kpi_condition_q("rated")),
        )
        .order_by()
    }
    c = {
        r["customer__owner_id"]: r["n"]
        for r in complaints.kpi_base(user)
        .filter(complaints.kpi_q("registered", start=start, end=end), customer__owner_id__in=ids)
        .values("customer__owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    referred = {
        r["owner_id"]: r["n"]
        for r in customers.customers_visible_to(user)
        .filter(customers.kpi_q("referred", start=start, end=end), owner_id__in=ids)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    portraits = sources.portraits_submitted(user, start=start, end=end, consultant_ids=ids)
    plans = visits.improvement_plans(ids, start)
    writable = visits.improvement_plan_writable_ids(user, ids)
    result = []
    for person in people:
        row = v.get(person.pk, {})
        avg = row.get("average")
        plan = plans.get(person.pk)
        result.append(
            Scorecard(
                consultant=person,
                month=month,
                due=row.get("due", 0),
                on_time=row.get("on_time", 0),
                rated=row.get("rated", 0),
                satisfied=row.get("satisfied", 0),
                average=Decimal(str(avg)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                if avg is not None
                else None,
                complaints=c.get(person.pk, 0),
                portraits=None if portraits is None else portraits.get(person.pk, 0),
                referrals=referred.get(person.pk, 0),
                plan=plan.plan if plan else "",
                plan_by=str(plan.updated_by or "") if plan else "",
                plan_at=plan.updated_at if plan else None,
                may_write_plan=person.pk in writable,
                links=_links(user, person.pk, month),
            )
        )
    return result


def scorecard_for(user: User, consultant: User, month_first: date) -> Scorecard | None:
    """One consultant's scorecard, or None when the user may not see it."""
    if not consultants_in_scope(user).filter(pk=consultant.pk).exists():
        return None
    rows = scorecards(user, month_of(month_first), consultants=[consultant])
    return rows[0] if rows else None
