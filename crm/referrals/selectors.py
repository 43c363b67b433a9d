"""Reads of 老带新, scoped to the user, and the figures the KPI app calls.

Scope: the one access rule (crm.accounts.access.scope_q) over the new customer *or* the
referrer: a consultant sees the referrals of the customers they look after on either side
(their owner brought someone in, or their new customer came through someone). Outside the
scope a referral is a 404. Referrals of merged duplicates are left out.

Status is derived in SQL (``with_status``) from the new customer's active deals and the
arrival registered on the referral: 已签约 (a contract date) > 已认购 (an active deal) >
已到访 (visited_on) > 已推荐. A cancelled deal (退房) no longer counts.

For the KPI app (crm.kpis, retention = repurchase or referral, seed 003 考核指标):
``referral_stats(start=, end=, project_ids=)`` and ``owners_who_referred(...)``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from crm.accounts.access import NOTHING
from crm.core.charts import Chart, Series
from crm.customers.models import Customer, Deal, Stage
from crm.customers.selectors import customer_scope_q
from crm.lib.dates import local_midnight
from crm.referrals import services
from crm.referrals.models import Referral, ReferralStatus, Reward

if TYPE_CHECKING:
    from crm.accounts.models import User

ST = ReferralStatus


def referral_scope_q(user: User, *, prefix: str = "") -> Q:
    if not user.has_perm(services.VIEW):
        return NOTHING
    return customer_scope_q(user, prefix=f"{prefix}referred__") | customer_scope_q(user, prefix=f"{prefix}referrer__")


def _deals(path: str = "referred_id") -> QuerySet[Deal]:
    return Deal.objects.filter(customer_id=OuterRef(path), status=Deal.Status.ACTIVE)


def with_status(rows: QuerySet[Referral]) -> QuerySet[Referral]:
    """Annotate ``status`` (a ReferralStatus value) derived from the new customer's deals."""
    return rows.annotate(
        status=Case(
            When(Exists(_deals().filter(contracted_on__isnull=False)), then=Value(ST.SIGNED)),
            When(Exists(_deals()), then=Value(ST.SUBSCRIBED)),
            When(visited_on__isnull=False, then=Value(ST.VISITED)),
            default=Value(ST.LEAD),
            output_field=CharField(),
        )
    )


def status_q(status: str) -> Q:
    """Referrals in one derived status (for filters and counts)."""
    signed = Exists(_deals().filter(contracted_on__isnull=False))
    subscribed = Exists(_deals())
    if status == ST.SIGNED:
        return Q(signed)
    if status == ST.SUBSCRIBED:
        return Q(subscribed) & ~Q(signed)
    if status == ST.VISITED:
        return ~Q(subscribed) & Q(visited_on__isnull=False)
    if status == ST.LEAD:
        return ~Q(subscribed) & Q(visited_on__isnull=True)
    return Q()


def status_of(referral: Referral) -> str:
    row: Any = with_status(Referral.objects.filter(pk=referral.pk)).get()
    return str(row.status)


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    return with_status(Referral.objects.filter(referral_scope_q(user), referred__merged_into__isnull=True))


def get_referral_for_user(user: User, pk: int) -> Referral:
    referral = (
        referrals_visible_to(user)
        .select_related("referrer", "referred", "referred__owner", "referred__project", "recorded_by")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise Http404("老带新记录不存在或无权查看")
    return referral


def referral_of_customer(user: User, customer: Customer) -> Referral | None:
    return referrals_visible_to(user).filter(referred=customer).first()


def rewards_visible_to(user: User) -> QuerySet[Reward]:
    if not user.has_perm(services.VIEW_REWARD):
        return Reward.objects.none()
    return Reward.objects.filter(
        referral_scope_q(user, prefix="referral__"), referral__referred__merged_into__isnull=True
    )


def get_reward_for_user(user: User, pk: int) -> Reward:
    reward = rewards_visible_to(user).select_related("referral").filter(pk=pk).first()
    if reward is None:
        raise Http404("奖励不存在或无权查看")
    return reward


# ---------------------------------------------------------------- chains


@dataclass
class ChainNode:
    """One customer in a referral chain; ``name`` is empty when the user may not see them."""

    customer_id: int
    number: str
    name: str
    visible: bool
    depth: int
    children: list[ChainNode] = field(default_factory=list)


def chain_for(user: User, customer: Customer, *, max_depth: int = 5) -> tuple[list[ChainNode], list[ChainNode]]:
    """Who brought this customer in (upwards, nearest first) and whom they brought in
    (downwards, as a flat list in tree order with depths), up to ``max_depth`` levels.
    Customers outside the user's scope are shown by number only."""
    visible = Customer.objects.filter(customer_scope_q(user))
    up_ids = services.upline_ids(customer.pk, limit=max_depth)
    down: list[tuple[int, int]] = []
    seen = {customer.pk, *up_ids}
    frontier = [customer.pk]
    children: dict[int, list[int]] = defaultdict(list)
    for _depth in range(1, max_depth + 1):
        if not frontier:
            break
        pairs = list(
            Referral.objects.filter(referrer_id__in=frontier, referred__merged_into__isnull=True)
            .order_by("created_at", "id")
            .values_list("referrer_id", "referred_id")
        )
        frontier = []
        for parent, child in pairs:
            if child in seen:
                continue
            seen.add(child)
            children[parent].append(child)
            frontier.append(child)
    all_ids = set(up_ids) | {c for kids in children.values() for c in kids}
    rows = {c.pk: c for c in Customer.objects.filter(pk__in=all_ids).only("id", "number", "name")}
    shown = set(visible.filter(pk__in=all_ids).values_list("pk", flat=True))

    def node(pk: int, depth: int) -> ChainNode:
        c = rows[pk]
        return ChainNode(pk, c.number, c.name if pk in shown else "", pk in shown, depth)

    upwards = [node(pk, i + 1) for i, pk in enumerate(up_ids) if pk in rows]

    def walk(pk: int, depth: int) -> None:
        for child in children.get(pk, []):
            down.append((child, depth))
            walk(child, depth + 1)

    walk(customer.pk, 1)
    downwards = [node(pk, depth) for pk, depth in down]
    return upwards, downwards


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class StatsRow:
    """Referrals recorded in a period for one project or consultant, and how many of those
    new customers have subscribed / signed (as of now; a cancelled deal does not count)."""

    key: int
    label: str
    referrals: int
    visited: int
    subscribed: int
    signed: int

    @property
    def subscribe_rate(self) -> float | None:
        return self.subscribed / self.referrals if self.referrals else None

    @property
    def sign_rate(self) -> float | None:
        return self.signed / self.referrals if self.referrals else None


@dataclass(frozen=True)
class ReferralStats:
    by_project: list[StatsRow]
    by_consultant: list[StatsRow]
    total: StatsRow


@dataclass(frozen=True)
class OwnersRow:
    """Owners (成交客户) of a project and how many of them referred someone in the period."""

    project_id: int
    project: str
    owners: int
    referring: int

    @property
    def rate(self) -> float | None:
        return self.referring / self.owners if self.owners else None


def _period(rows: QuerySet[Referral], start: date, end: date) -> QuerySet[Referral]:
    return rows.filter(created_at__gte=local_midnight(start), created_at__lt=local_midnight(end + timedelta(days=1)))


def _counts(rows: QuerySet[Referral], *group: str) -> list[dict[str, object]]:
    signed = Exists(_deals().filter(contracted_on__isnull=False))
    subscribed = Exists(_deals())
    return list(
        rows.values(*group)
        .annotate(
            referrals=Count("id"),
            visited=Count("id", filter=Q(visited_on__isnull=False) | Q(subscribed)),
            subscribed=Count("id", filter=Q(subscribed)),
            signed=Count("id", filter=Q(signed)),
        )
        .order_by(*group)
    )


def _row(key: int, label: str, d: dict[str, object]) -> StatsRow:
    return StatsRow(
        key, label, int(str(d["referrals"])), int(str(d["visited"])), int(str(d["subscribed"])), int(str(d["signed"]))
    )


def referral_stats(
    *,
    start: date,
    end: date,
    project_ids: list[int] | None = None,
    company_id: int | None = None,
    rows: QuerySet[Referral] | None = None,
) -> ReferralStats:
    """Referrals recorded in [start, end] (local dates), per project and per consultant
    of the new customer, with how many of them arrived, subscribed and signed.

    ``project_ids``: only these projects (of the new customer); ``company_id``: only this
    company; ``rows``: a starting queryset (the pages pass the user's scope).
    """
    base = Referral.objects.filter(referred__merged_into__isnull=True) if rows is None else rows
    base = _period(base, start, end)
    if project_ids is not None:
        base = base.filter(referred__project_id__in=project_ids)
    if company_id is not None:
        base = base.filter(company_id=company_id)
    by_project = [
        _row(int(str(d["referred__project_id"])), str(d["referred__project__name"]), d)
        for d in _counts(base, "referred__project_id", "referred__project__name")
    ]
    by_consultant = [
        _row(
            int(str(d["referred__owner_id"])),
            str(d["referred__owner__display_name"] or d["referred__owner__username"]),
            d,
        )
        for d in _counts(base, "referred__owner_id", "referred__owner__display_name", "referred__owner__username")
    ]
    totals = _counts(base.annotate(one=Value(1)), "one")
    total = _row(0, "合计", totals[0]) if totals else StatsRow(0, "合计", 0, 0, 0, 0)
    return ReferralStats(by_project, by_consultant, total)


def owners_who_referred(
    *, start: date, end: date, project_ids: list[int] | None = None, company_id: int | None = None
) -> list[OwnersRow]:
    """Per project: the current owners (成交客户, not archived) and how many of them
    referred at least one new customer recorded in [start, end] — the referral half of
    the retention KPI (seed 003: 客户留存率 = 复购或推荐比例)."""
    owners = Customer.objects.filter(stage=Stage.OWNER, is_archived=False)
    if project_ids is not None:
        owners = owners.filter(project_id__in=project_ids)
    if company_id is not None:
        owners = owners.filter(company_id=company_id)
    referred_in_period = _period(Referral.objects.filter(referrer=OuterRef("pk")), start, end)
    rows = (
        owners.annotate(has_referred=Exists(referred_in_period))
        .values("project_id", "project__name")
        .annotate(owners=Count("id"), referring=Count("id", filter=Q(has_referred=True)))
        .order_by("project_id")
    )
    return [OwnersRow(r["project_id"], r["project__name"], r["owners"], r["referring"]) for r in rows]


# ---------------------------------------------------------------- for the pages


def customer_visible(user: User, customer_id: int) -> bool:
    return Customer.objects.filter(customer_scope_q(user), pk=customer_id).exists()


def stats_for(user: User, *, start: date, end: date) -> ReferralStats:
    """The statistics page: ``referral_stats`` over the referrals the user may see."""
    if not user.has_perm(services.STATS):
        return referral_stats(start=start, end=end, rows=Referral.objects.none())
    return referral_stats(start=start, end=end, rows=Referral.objects.filter(referral_scope_q(user)))


def owners_for(user: User, *, start: date, end: date) -> list[OwnersRow]:
    """``owners_who_referred`` over the projects the user's scope covers (the company's for
    company-wide roles, else the user's projects)."""
    from crm.accounts.access import sees_company

    if not user.has_perm(services.STATS) or not user.company_id:
        return []
    project_ids = None if sees_company(user) else list(user.project_ids)
    return owners_who_referred(start=start, end=end, project_ids=project_ids, company_id=user.company_id)


def stats_chart(stats: ReferralStats) -> Chart:
    rows = stats.by_project
    return Chart(
        key="referrals-by-project",
        title="各楼盘老带新",
        kind="bar",
        categories=[r.label for r in rows],
        series=[
            Series("推荐", [r.referrals for r in rows]),
            Series("认购", [r.subscribed for r in rows]),
            Series("签约", [r.signed for r in rows]),
        ],
        unit="人",
        category_label="楼盘",
    )
