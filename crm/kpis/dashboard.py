"""The dashboard's trends (the last twelve months) and breakdowns (by project, by category).

The same conditions as the KPIs (each app's ``kpi_condition_q``), grouped by the database:
one statement per source for all twelve months (``TruncMonth`` in China time), one per
source for the projects, one for the categories. The month of a row follows the KPI's
period rule (docs/kpis.md): complaints by registration, visits by due date, messages by
planned day, gifts by issue time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth

from crm.care import selectors as care
from crm.complaints import selectors as complaints
from crm.customers import selectors as customers
from crm.kpis import counting
from crm.kpis.definitions import COMPLAINT_MEASURES, KpiQuery, ratio
from crm.kpis.models import MonthCount
from crm.kpis.periods import Period
from crm.lib.dates import CHINA_TZ, local_midnight, month_bounds
from crm.projects.selectors import projects_visible_to
from crm.service import selectors as service
from crm.visits import selectors as visits

if TYPE_CHECKING:
    from crm.accounts.models import User


def _in_period(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


@dataclass
class Sources:
    """The page's counts, one grouped statement per source for the period and the trend's
    twelve months together: complaints and visit tasks grouped by (project, month, whether
    the row lies in the period); the customers by (project, month registered), whose running
    total is the base at each month's end, with the period's base, owners and retained
    owners as conditional counts of the same pass.

    The dashboard read the month's 1,250,000 visit tasks twice (the figures by project and
    the trend) and the director's 500,000 customers five times (the base, the trend's base
    before and during the twelve months, the owners, the retained); these are the same rows
    counted once (docs/performance.md, the KPI dashboard)."""

    months: list[Period]
    counted_at: datetime | None = None
    """When the job counted the months read from its counts (None: everything live)."""
    complaints: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)

    def in_period(self, source: str) -> dict[int, dict[str, int]]:
        """The period's counts per project."""
        return _totals((r for r in getattr(self, source) if r["in_period"]), lambda r: r["project_id"])

    def by_month(self, source: str) -> dict[date, dict[str, int]]:
        """The trend's counts per month (every project)."""
        rows = (r for r in getattr(self, source) if counting.month_key(r["kpi_month"]) is not None)
        return _totals(rows, lambda r: counting.month_key(r["kpi_month"]))

    def customers_by_project(self) -> dict[int, int]:
        """The customers registered by the period's end, per project (投诉率's base)."""
        result: dict[int, int] = {}
        for row in self.customers:
            result[row["project_id"]] = result.get(row["project_id"], 0) + (row["customers"] or 0)
        return result

    def registered_by(self, month: date) -> int:
        """The customers registered in ``month`` or before (every project)."""
        return sum(r["registered"] for r in self.customers if (counting.month_key(r["kpi_month"]) or month) <= month)


_KEYS = frozenset({"project_id", "kpi_month", "in_period", "due_on"})


def _totals(rows: Iterable[dict[str, Any]], key_of: Callable[[dict[str, Any]], Any]) -> dict[Any, dict[str, int]]:
    """The grouped rows' counts summed per ``key_of(row)`` (the grouping columns left out)."""
    result: dict[Any, dict[str, int]] = {}
    for row in rows:
        bucket = result.setdefault(key_of(row), {})
        for name, value in row.items():
            if name not in _KEYS:
                bucket[name] = bucket.get(name, 0) + (value or 0)
    return result


def sources(q: KpiQuery, months: list[Period]) -> Sources:
    """Count the page's rows: a statement per source (complaints, visit tasks, customers)
    over the days counted live, the months the job counted read from its counts
    (crm.kpis.counting), and for a project-scoped viewer a statement per source for what
    they see outside their projects in those months."""
    first, last = min(months[0].start, q.start), max(months[-1].end, q.end)
    result = Sources(months)
    cov = counting.coverage(q.user, first=first, last=last, period=(q.start, q.end), chosen=q.project_ids)
    counted = cov.months if cov is not None else frozenset()

    def complaint_groups(rows: QuerySet[Any]) -> list[dict[str, Any]]:
        return list(
            rows.annotate(
                kpi_month=TruncMonth(complaints.KPI_PERIOD_FIELD, tzinfo=CHINA_TZ),
                in_period=_in_period(complaints.kpi_period_q(q.start, q.end)),
            )
            .values("project_id", "kpi_month", "in_period")
            .annotate(**counting.complaint_measures())
            .order_by()
        )

    def visit_groups(rows: QuerySet[Any]) -> list[dict[str, Any]]:
        # Grouped by the due date itself (a few hundred days × projects): the month and
        # whether the day lies in the period are worked out per group here, not per task.
        return [
            {**row, "kpi_month": row["due_on"].replace(day=1), "in_period": q.start <= row["due_on"] <= q.end}
            for row in rows.values("project_id", "due_on").annotate(**counting.visit_measures()).order_by()
        ]

    result.complaints = complaint_groups(
        q.in_projects(complaints.kpi_base(q.user)).filter(
            counting.live_days_q(complaints.kpi_period_q, first, last, counted)
        )
    )
    result.visits = visit_groups(
        q.in_projects(visits.tasks_visible_to(q.user)).filter(
            counting.live_days_q(visits.kpi_period_q, first, last, counted)
        )
    )
    if cov is not None and counted:
        result.counted_at = cov.run.counted_at
        result.complaints += _counted_rows(cov, q, MonthCount.Source.COMPLAINTS, counted)
        result.visits += _counted_rows(cov, q, MonthCount.Source.VISITS, counted)
        if cov.beyond:
            for part in complaints.kpi_people_parts(q.user):
                result.complaints += complaint_groups(
                    q.in_projects(part)
                    .exclude(project_id__in=cov.project_ids)
                    .filter(counting.counted_days_q(complaints.kpi_period_q, counted))
                )
            for tasks in visits.kpi_people_parts(q.user):
                result.visits += visit_groups(
                    q.in_projects(tasks)
                    .exclude(project_id__in=cov.project_ids)
                    .filter(counting.counted_days_q(visits.kpi_period_q, counted))
                )
    result.customers = _customer_sources(q, cov)
    q.prime("complaints", _summed(result.in_period("complaints"), COMPLAINT_MEASURES))
    visit_totals = _summed(result.in_period("visits"), (*visits.KPI_MEASURES, "rated_sum"))
    rated_sum = visit_totals.pop("rated_sum")
    visit_totals["average"] = Decimal(rated_sum) / Decimal(visit_totals["rated"]) if visit_totals["rated"] else None
    q.prime("visits", visit_totals)
    totals = {name: sum(r[name] or 0 for r in result.customers) for name in CUSTOMER_MEASURES}
    q.prime("customers:customers", {"customers": totals["customers"]})
    q.prime("customers:owners,retained", {"owners": totals["owners"], "retained": totals["retained"]})
    return result


def _counted_rows(cov: counting.Coverage, q: KpiQuery, source: str, months: Iterable[date]) -> list[dict[str, Any]]:
    """The job's counts of ``months`` as the page's grouped rows."""
    return [
        {"project_id": r.project_id, "kpi_month": r.month, "in_period": q.start <= r.month <= q.end, **r.counts}
        for r in cov.counts(source, months)
    ]


def _customer_sources(q: KpiQuery, cov: counting.Coverage | None) -> list[dict[str, Any]]:
    """投诉率's base at the end of the period and of each month (a customer registered
    before it: the running total of the customers registered per month), and retention's
    owners: the customers in scope grouped by project and month registered. From the
    job's counts when the period is one counted month (owners and retention are of the
    period): those of the customers registered before the counted months' end, the later
    ones and (project scope) those outside the viewer's projects counted live."""
    measures = counting.customer_measures(q.start, q.end)

    def groups(rows: QuerySet[Any]) -> list[dict[str, Any]]:
        return list(
            rows.annotate(kpi_month=TruncMonth("created_at", tzinfo=CHINA_TZ))
            .values("project_id", "kpi_month")
            .annotate(registered=Count("pk"), **measures)
            .order_by()
        )

    base = q.in_projects(customers.customers_visible_to(q.user))
    month = q.start
    if cov is None or month not in cov.months or q.end != month_bounds(month)[1]:
        return groups(base)
    rows = groups(base.filter(cov.projects_q(), created_at__gte=local_midnight(cov.boundary)))
    for r in cov.counts(MonthCount.Source.CUSTOMERS):
        registered = r.counts.get("registered", 0)
        rows.append(
            {
                "project_id": r.project_id,
                "kpi_month": r.month,
                "registered": registered,
                "customers": registered if r.month <= month else 0,
                "owners": r.counts.get("owners", 0) if r.month == month else 0,
                "retained": r.counts.get("retained", 0) if r.month == month else 0,
            }
        )
    if cov.beyond:
        for part in customers.kpi_people_parts(q.user):
            rows += groups(q.in_projects(part).exclude(project_id__in=cov.project_ids))
    return rows


CUSTOMER_MEASURES = counting.CUSTOMER_MEASURES


@dataclass
class Trend:
    months: list[Period]
    series: dict[str, list[Decimal | int | None]] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [f"{m.start:%Y-%m}" for m in self.months]


def _grouped(
    rows: QuerySet[Any], month_field: str, measures: dict[str, Any], *, tz: bool
) -> dict[date, dict[str, int]]:
    trunc = TruncMonth(month_field, tzinfo=CHINA_TZ) if tz else TruncMonth(month_field)
    result: dict[date, dict[str, int]] = {}
    for row in rows.annotate(kpi_month=trunc).values("kpi_month").annotate(**measures).order_by():
        key = counting.month_key(row.pop("kpi_month"))
        if key is not None:
            bucket = result.setdefault(key, {})
            for name, value in row.items():
                bucket[name] = bucket.get(name, 0) + (value or 0)
    return result


def trend(user: User, project_ids: tuple[int, ...], months: list[Period], counted: Sources | None = None) -> Trend:
    """Twelve months of the KPIs that have a monthly trend (retention has none: it needs a
    statement per month, see docs/kpis.md). ``counted``: the page's Sources, whose months
    these are; without it the three sources are counted here for the twelve months."""
    first, last = months[0].start, months[-1].end
    q = KpiQuery(user, first, last, project_ids)
    if counted is None:
        counted = sources(q, months)
    keys = [m.start for m in months]
    result = Trend(months)
    c = counted.by_month("complaints")
    v_due = counted.by_month("visits")
    msgs = _grouped(
        q.in_projects(care.messages_visible_to(user)).filter(care.day_range_q(first, last)),
        "scheduled_at",
        {m: Count("pk", filter=care.status_q(group)) for m, group in care.KPI_MEASURES.items()},
        tz=True,
    )
    gifts = _grouped(
        q.in_projects(service.kpi_gift_issues(user, start=first, end=last)), "issued_at", {"n": Count("pk")}, tz=True
    )
    # 投诉率's base: customers registered before each month's end (in that month or earlier).
    base = {m.start: counted.registered_by(m.start) for m in months}

    def get(source: dict[date, dict[str, int]], key: date, name: str) -> int:
        return source.get(key, {}).get(name, 0)

    result.series = {
        "visit_satisfaction": [ratio(get(v_due, k, "satisfied"), get(v_due, k, "rated")) for k in keys],
        "complaint_satisfaction": [ratio(get(c, k, "satisfied"), get(c, k, "rated")) for k in keys],
        "complaints": [get(c, k, "registered") for k in keys],
        "complaint_rate": [ratio(get(c, k, "registered"), base[k], places="0.01") for k in keys],
        "first_response_timeliness": [
            ratio(get(c, k, "first_response_on_time"), get(c, k, "registered")) for k in keys
        ],
        "resolution_timeliness": [ratio(get(c, k, "resolved_on_time"), get(c, k, "registered")) for k in keys],
        "repeat_complaint_rate": [ratio(get(c, k, "repeat"), get(c, k, "registered")) for k in keys],
        "visit_completion": [ratio(get(v_due, k, "done"), get(v_due, k, "due")) for k in keys],
        "visit_on_time": [ratio(get(v_due, k, "on_time"), get(v_due, k, "due")) for k in keys],
        "visit_reach": [ratio(get(v_due, k, "reached"), get(v_due, k, "ended")) for k in keys],
        "care_sent": [get(msgs, k, "sent") for k in keys],
        "care_failed": [get(msgs, k, "failed") for k in keys],
        "gifts_issued": [get(gifts, k, "n") for k in keys],
    }
    return result


# ---------------------------------------------------------------- breakdowns


@dataclass(frozen=True)
class ProjectRow:
    project_id: int
    name: str
    complaints: int
    customers: int
    complaint_rate: Decimal | None
    resolution_timeliness: Decimal | None
    visit_satisfaction: Decimal | None
    visit_completion: Decimal | None
    complaints_url: str = ""


@dataclass(frozen=True)
class CategoryRow:
    category_id: int
    name: str
    complaints: int
    resolved_on_time: int
    repeats: int
    share: Decimal | None
    complaints_url: str = ""


def _summed(rows: dict[Any, dict[str, Any]], names: Any) -> dict[str, Any]:
    return {name: sum(r.get(name) or 0 for r in rows.values()) for name in names}


def by_project(q: KpiQuery, counted: Sources | None = None) -> list[ProjectRow]:
    """The period's figures per project in scope, from the page's grouped statements
    (``counted``; counted here for the period alone when not given). Counting also hands
    the period's totals to ``q`` (KpiQuery.prime), so the figures do not count the same
    rows again."""
    if counted is None:
        counted = sources(q, [Period("month", q.start, q.end)])
    c = counted.in_period("complaints")
    v = counted.in_period("visits")
    base = counted.customers_by_project()
    projects = projects_visible_to(q.user)
    if q.project_ids:
        projects = projects.filter(pk__in=q.project_ids)
    link_ok = q.user.has_perm("complaints.view_complaint")
    from django.urls import reverse

    rows = []
    for p in projects.order_by("name"):
        cr, vr, n = c.get(p.pk, {}), v.get(p.pk, {}), base.get(p.pk, 0)
        if not cr and not vr and not n:
            continue
        one = KpiQuery(q.user, q.start, q.end, (p.pk,))
        rows.append(
            ProjectRow(
                p.pk,
                p.name,
                cr.get("registered", 0),
                n,
                ratio(cr.get("registered", 0), n, places="0.01"),
                ratio(cr.get("resolved_on_time", 0), cr.get("registered", 0)),
                ratio(vr.get("satisfied", 0), vr.get("rated", 0)),
                ratio(vr.get("done", 0), vr.get("due", 0)),
                f"{reverse('complaints:list')}?{one.params(measure='registered')}" if link_ok else "",
            )
        )
    return rows


def by_category(q: KpiQuery) -> list[CategoryRow]:
    """The period's complaints per category (one grouped statement)."""
    from django.urls import reverse

    rows = (
        q.in_projects(complaints.kpi_base(q.user))
        .filter(complaints.kpi_q("registered", start=q.start, end=q.end))
        .values("category_id", "category__name")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=complaints.kpi_condition_q("resolved_on_time")),
            repeats=Count("pk", filter=complaints.kpi_condition_q("repeat")),
        )
        .order_by("-n", "category__name")
    )
    listed = list(rows)
    total = sum(r["n"] for r in listed)
    link_ok = q.user.has_perm("complaints.view_complaint")
    return [
        CategoryRow(
            r["category_id"],
            r["category__name"],
            r["n"],
            r["on_time"],
            r["repeats"],
            ratio(r["n"], total),
            f"{reverse('complaints:list')}?{q.params(measure='registered', category=r['category_id'])}"
            if link_ok
            else "",
        )
        for r in listed
    ]
