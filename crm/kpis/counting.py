"""往月指标计数: the closed months' counts the dashboard reads (decision 0030).

The dashboard's trend and figures count a year of complaints and visit tasks and every
customer in the viewer's scope: at 1,000,000 customers and 3,000,000 visit tasks, 2 s of
SQL on each view (bench reports). A month before the current one changes little, so
``count_months`` (a job, config/schedule.py) counts each of the company's last
``KPI_COUNTED_MONTHS`` closed months once per project and source, with the conditions the
dashboard counts with (each app's ``kpi_condition_q``), and the dashboard reads them:

- a viewer who sees the whole company: every project's counts;
- a viewer with a project scope: their projects' counts, and what they see outside their
  projects (their own and their team's customers' rows) counted live;
- anyone else (own or team scope): everything live — their rows are few.

The current month, a month not counted, and a month the period cuts through are counted
live; the customers' figures of a period come from the counts only when the period is one
counted month (owners and retention are of the period, not sums of months). The counts are
those of the last run, shown on the page; a change to an earlier month's rows is counted at
the next run, while the lists behind the figures are always live (docs/kpis.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from crm.accounts import access
from crm.accounts.models import Company
from crm.accounts.roles import Scope
from crm.complaints import selectors as complaints
from crm.customers import selectors as customers
from crm.kpis.models import MonthCount, MonthCountRun, VisitDayCount
from crm.lib.dates import CHINA_TZ, local_day, local_midnight, month_bounds, previous_month
from crm.visits import selectors as visits

if TYPE_CHECKING:
    from crm.accounts.models import User

Source = MonthCount.Source
DASHBOARD_SOURCES = (Source.COMPLAINTS, Source.VISITS, Source.CUSTOMERS)
COMPLAINT_MEASURES = tuple(complaints.KPI_MEASURES)
CUSTOMER_MEASURES = ("customers", "owners", "retained")


def complaint_measures() -> dict[str, Any]:
    return {m: Count("pk", filter=complaints.kpi_condition_q(m)) for m in COMPLAINT_MEASURES}


def visit_measures() -> dict[str, Any]:
    return {
        **{m: Count("pk", filter=visits.kpi_condition_q(m)) for m in visits.KPI_MEASURES},
        "rated_sum": Sum("satisfaction", filter=visits.kpi_condition_q("rated")),
    }


def customer_measures(start: date, end: date) -> dict[str, Any]:
    return {name: Count("pk", filter=customers.kpi_q(name, start=start, end=end)) for name in CUSTOMER_MEASURES}


def month_key(value: date | datetime | None) -> date | None:
    """The first day of the month of a date, or of a timestamp in China time (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA_TZ)
        return value.date().replace(day=1)
    return value.replace(day=1)


def next_month(month: date) -> date:
    return month_bounds(month)[1] + timedelta(days=1)


# ------------------------------------------------------------------------- counting


def count_months(*, now: datetime) -> int:
    """The job: count every company's closed months; the number of rows written."""
    return sum(count_company(pk, now=now) for pk in Company.objects.order_by("id").values_list("pk", flat=True))


def count_company(company_id: int, *, now: datetime) -> int:
    """Count the company's last ``KPI_COUNTED_MONTHS`` closed months (and the customers
    registered in every month before the current one) and replace its counts in one
    transaction: a reader sees the previous run's counts or this one's, never a mix."""
    boundary = local_day(now).replace(day=1)  # the current month: counted live
    last = previous_month(boundary).replace(day=1)
    first = last
    for _ in range(max(1, int(settings.KPI_COUNTED_MONTHS)) - 1):
        first = previous_month(first).replace(day=1)
    days = (first, boundary - timedelta(days=1))
    rows: dict[tuple[str, int, date], dict[str, Any]] = {}

    def add(source: str, project_id: int, month: date | None, counts: dict[str, Any]) -> None:
        key = (source, project_id, month_key(month) or first)
        bucket = rows.setdefault(key, {})
        for name, value in counts.items():
            bucket[name] = bucket.get(name, 0) + int(value or 0)

    complaint_rows = (
        complaints.kpi_company_rows(company_id)
        .filter(complaints.kpi_period_q(*days))
        .annotate(kpi_month=TruncMonth(complaints.KPI_PERIOD_FIELD, tzinfo=CHINA_TZ))
        .values("project_id", "kpi_month")
        .annotate(**complaint_measures())
        .order_by()
    )
    for row in _dicts(complaint_rows):
        add(Source.COMPLAINTS, row.pop("project_id"), row.pop("kpi_month"), row)
    task_rows = (
        visits.kpi_company_tasks(company_id)
        .filter(visits.kpi_period_q(*days))
        .annotate(kpi_month=TruncMonth("due_on"))
        .values("project_id", "kpi_month")
        .annotate(**visit_measures())
        .order_by()
    )
    for row in _dicts(task_rows):
        add(Source.VISITS, row.pop("project_id"), row.pop("kpi_month"), row)
    # The customers registered before the current month, per month registered (投诉率's
    # base at each month's end), and each counted month's owners and retained owners (of
    # those customers: later ones are counted live) in one pass with a pair of conditional
    # counts per month.
    registered = customers.kpi_company_customers(company_id).filter(created_at__lt=local_midnight(boundary))
    for row in _dicts(
        registered.annotate(kpi_month=TruncMonth("created_at", tzinfo=CHINA_TZ))
        .values("project_id", "kpi_month")
        .annotate(registered=Count("pk"))
        .order_by()
    ):
        add(Source.CUSTOMERS, row["project_id"], row["kpi_month"], {"registered": row["registered"]})
    months = _months(first, last)
    per_month: dict[str, Any] = {}
    for month in months:
        start, end = month_bounds(month)
        per_month[f"owners_{month:%Y%m}"] = Count("pk", filter=customers.kpi_q("owners", start=start, end=end))
        per_month[f"retained_{month:%Y%m}"] = Count("pk", filter=customers.kpi_q("retained", start=start, end=end))
    for row in _dicts(registered.values("project_id").annotate(**per_month).order_by()):
        for month in months:
            add(
                Source.CUSTOMERS,
                row["project_id"],
                month,
                {"owners": row[f"owners_{month:%Y%m}"], "retained": row[f"retained_{month:%Y%m}"]},
            )
    # The monthly visit statistics' counts per visitor (月度回访统计 of a counted month reads these).
    for row in visits.visitor_counts_by_project_month(company_id, *days):
        key = (Source.VISITORS, row.pop("project_id"), month_key(row.pop("kpi_month")) or first)
        rows.setdefault(key, {"visitors": []})["visitors"].append(row)
    for (source, _, _), counts in rows.items():
        if source == Source.VISITORS:
            counts["visitors"].sort(key=lambda r: r["assignee_id"] or 0)
    # The report packs' visit groups per project and due day (a pack of counted days reads these).
    day_groups: dict[tuple[int, date], list[list[Any]]] = {}
    for project_id, day, *group in visits.visit_groups_by_project_day(company_id, *days):
        day_groups.setdefault((project_id, day), []).append(group)
    with transaction.atomic():
        MonthCountRun.objects.update_or_create(
            company_id=company_id, defaults={"first_month": first, "last_month": last, "counted_at": now}
        )
        MonthCount.objects.filter(company_id=company_id).delete()
        MonthCount.objects.bulk_create(
            MonthCount(
                company_id=company_id,
                source=source,
                project_id=project_id,
                month=month,
                counts=counts,
                counted_at=now,
            )
            for (source, project_id, month), counts in rows.items()
        )
        VisitDayCount.objects.filter(company_id=company_id).delete()
        VisitDayCount.objects.bulk_create(
            (
                VisitDayCount(
                    company_id=company_id,
                    project_id=project_id,
                    day=day,
                    groups=sorted(groups, key=repr),
                    counted_at=now,
                )
                for (project_id, day), groups in day_groups.items()
            ),
            batch_size=1000,
        )
    return len(rows) + len(day_groups)


def _dicts(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


def _months(first: date, last: date) -> list[date]:
    result = []
    month = first
    while month <= last:
        result.append(month)
        month = next_month(month)
    return result


# -------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Coverage:
    """Which of a dashboard's months are read from the counts, for which projects, and
    the counts of those projects (read with the run, in one statement)."""

    run: MonthCountRun
    months: frozenset[date]
    project_ids: tuple[int, ...] | None
    """The projects read from the counts; None: every project of the company."""
    rows: list[MonthCount]

    @property
    def boundary(self) -> date:
        """The first month after the counted ones: customers registered from it are live."""
        return next_month(self.run.last_month)

    @property
    def beyond(self) -> bool:
        """Whether the viewer also sees rows outside the counted projects (a project scope)."""
        return self.project_ids is not None

    def projects_q(self) -> Q:
        """The counted projects (the rows of a project-scoped viewer's projects)."""
        return Q() if self.project_ids is None else Q(project_id__in=self.project_ids)

    def counts(self, source: str, months: Iterable[date] | None = None) -> list[MonthCount]:
        wanted = None if months is None else set(months)
        return [r for r in self.rows if r.source == source and (wanted is None or r.month in wanted)]


def coverage(
    user: User, *, first: date, last: date, period: tuple[date, date], chosen: Iterable[int] = ()
) -> Coverage | None:
    """The counted months the dashboard of [first, last] (its period: ``period``; the
    projects chosen on the page: ``chosen``, none is all) may read, or None when the
    viewer's rows are all counted live (own or team scope, or no run yet)."""
    if access.sees_company(user):
        project_ids: tuple[int, ...] | None = None
    elif Scope.PROJECT in access.scopes_of(user):
        project_ids = tuple(user.project_ids)
    else:
        return None
    chosen = tuple(chosen)

    def counts(run: MonthCountRun) -> QuerySet[MonthCount]:
        # The dashboard's sources only: not the per-visitor lists the report packs read.
        rows = MonthCount.objects.filter(company_id=run.company_id, source__in=DASHBOARD_SOURCES).order_by()
        if chosen:
            rows = rows.filter(project_id__in=chosen)
        if project_ids is not None:
            rows = rows.filter(project_id__in=project_ids)
        return rows

    found = of_last_run(access.company_of(user), counts)
    if found is None:
        return None
    run, loaded = found
    return Coverage(run, _counted_months(run, first, last, period), project_ids, loaded)


def of_last_run(
    company_id: int, rows: Callable[[MonthCountRun], QuerySet[Any] | None]
) -> tuple[MonthCountRun, list[Any]] | None:
    """The company's last run and the counts ``rows(run)`` selects (None from ``rows``: the
    run does not cover what is asked), read so that they belong together: a run that
    replaced the counts between the two reads makes it read again, once; then None (the
    caller counts live)."""
    for _ in range(2):
        run = MonthCountRun.objects.filter(company_id=company_id).first()
        if run is None:
            return None
        wanted = rows(run)
        if wanted is None:
            return None
        loaded = list(wanted)
        if all(r.counted_at == run.counted_at for r in loaded):
            return run, loaded
    return None


def _counted_months(run: MonthCountRun, first: date, last: date, period: tuple[date, date]) -> frozenset[date]:
    """The run's months within [first, last] that the period holds whole or not at all."""
    start, end = period
    months = set()
    for month in _months(max(run.first_month, first.replace(day=1)), run.last_month):
        m_start, m_end = month_bounds(month)
        inside = first <= m_start and m_end <= last
        whole_or_none = m_end < start or end < m_start or (start <= m_start and m_end <= end)
        if inside and whole_or_none:
            months.add(month)
    return frozenset(months)


def live_days_q(field_q: Any, first: date, last: date, counted: Iterable[date]) -> Q:
    """``field_q(start, end)`` over the days of [first, last] outside the counted months,
    as few ranges as there are gaps (NOTHING when every day is counted)."""
    ranges: list[tuple[date, date]] = []
    day = first
    for month in sorted(counted):
        m_start, m_end = month_bounds(month)
        if day < m_start:
            ranges.append((day, m_start - timedelta(days=1)))
        day = max(day, m_end + timedelta(days=1))
    if day <= last:
        ranges.append((day, last))
    q = access.NOTHING
    for a, b in ranges:
        q = _or(q, field_q(a, b))
    return q


def counted_days_q(field_q: Any, counted: Iterable[date]) -> Q:
    """``field_q(start, end)`` over the counted months, one range per run of consecutive months."""
    q = access.NOTHING
    run: list[date] = []
    for month in sorted(counted):
        if run and next_month(run[-1]) != month:
            q = _or(q, field_q(run[0], month_bounds(run[-1])[1]))
            run = []
        run.append(month)
    if run:
        q = _or(q, field_q(run[0], month_bounds(run[-1])[1]))
    return q


def _or(q: Q, other: Q) -> Q:
    return other if q is access.NOTHING else q | other
