"""The monthly complaint analysis (客户投诉分析报告, seed 002 §5.1): a selector.

For one calendar month (local time, Asia/Shanghai) and the complaints the user may see
(``report_scope_q``: the report permission, then the same scope rule as the list), with an
optional project: counts by category, channel and project; first-response and resolution
timeliness; satisfaction; repeat rate; escalations; the complaints open at the month's
end; and the previous month beside each figure.

Everything is counted by the database in a few aggregate statements over the month and the
month before it (conditional ``Count(filter=…)``), never by looping over the complaints in
Python:

1. the figures of both months per (category, channel, project): one GROUP BY whose few
   rows (at most categories × channels × projects) add up to every figure and breakdown;
2. how many were open at the month's end, 3. the first of them as a list.

Definitions (docs/complaints.md "Monthly analysis"):

- a complaint belongs to the month in which it was registered (``registered_at`` in
  [first day 00:00, first day of the next month 00:00) local time);
- the timeliness shares count the month's complaints that were not cancelled: first
  response in time = acknowledged no later than ``first_response_due_at``; resolved in
  time = resolved no later than ``resolution_due_at``;
- satisfaction is over the complaints with a rating (1–5);
- repeat rate = complaints flagged ``is_repeat`` / the month's complaints;
- escalated = the month's complaints with an escalation level of 1 or more;
- open at the month's end = registered before the end (any month) and neither resolved nor
  cancelled before it; for the current month, "the end" is now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet, Sum

from crm.accounts.access import NOTHING, project_q, scope_q
from crm.complaints.models import Channel, Complaint
from crm.customers.selectors import through_customer
from crm.lib.dates import local_midnight
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

REPORT = "complaints.view_complaint_report"
OPEN_LIST_LIMIT = 200
# The columns of an open item the report's readers use (the page, crm.api, crm.reports).
OPEN_ITEM_FIELDS = (
    "number",
    "status",
    "registered_at",
    "resolution_due_at",
    "project__name",
    "category__name",
    "assignee__display_name",
    "assignee__username",
)
RATINGS = (1, 2, 3, 4, 5)
CHANNEL_LABELS = {value: str(label) for value, label in Channel.choices}


def report_scope_q(user: User) -> Q:
    """The complaints the user's report counts: the list's scope rule (crm.accounts.access),
    granted by the report permission (市场专员 reads the report without the list)."""
    if not user.has_perm(REPORT):
        return NOTHING
    return scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )


def report_projects(user: User) -> QuerySet[Project]:
    """Projects the project filter offers: those the user works on (all for company-wide roles)."""
    return Project.objects.filter(project_q(user)).order_by("name")


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month of ``month``, local midnight to local midnight."""
    first = month.replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    )
    return local_midnight(first), local_midnight(following)


def previous_month(month: date) -> date:
    first = month.replace(day=1)
    return first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)


@dataclass(frozen=True)
class Figures:
    """One month's figures."""

    total: int
    active: int  # not cancelled: the timeliness denominator
    acknowledged_in_time: int
    resolved: int
    resolved_in_time: int
    rated: int
    satisfaction_avg: float | None
    ratings: dict[int, int]
    repeats: int
    escalated: int
    escalated_twice: int
    cancelled: int

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def first_response_rate(self) -> float | None:
        return self._share(self.acknowledged_in_time, self.active)

    @property
    def resolution_rate(self) -> float | None:
        return self._share(self.resolved_in_time, self.active)

    @property
    def repeat_rate(self) -> float | None:
        return self._share(self.repeats, self.total)

    @property
    def satisfied_rate(self) -> float | None:
        """Share of ratings of 4 or 5 (满意及以上)."""
        return self._share(self.ratings[4] + self.ratings[5], self.rated)


@dataclass(frozen=True)
class Breakdown:
    """Counts of one dimension (category, channel, project) in both months."""

    label: str
    current: int
    previous: int
    key: Any = None


@dataclass
class MonthlyReport:
    month: date
    start: datetime
    end: datetime
    cutoff: datetime  # the month's end, or now for the current month
    project: Project | None
    current: Figures
    previous: Figures
    by_category: list[Breakdown]
    by_channel: list[Breakdown]
    by_project: list[Breakdown]
    open_count: int
    open_items: list[Complaint] = field(default_factory=list)

    @property
    def previous_month(self) -> date:
        return previous_month(self.month)

    @property
    def is_empty(self) -> bool:
        return self.current.total == 0 and self.open_count == 0


def _figures(since: datetime, until: datetime) -> dict[str, Any]:
    """The aggregate expressions of one month, prefixed by ``p`` (named by the caller)."""
    in_month = Q(registered_at__gte=since, registered_at__lt=until)
    active = in_month & ~Q(status=Complaint.Status.CANCELLED)
    return {
        "total": Count("pk", filter=in_month),
        "active": Count("pk", filter=active),
        "ack_in_time": Count(
            "pk", filter=active & Q(acknowledged_at__isnull=False, acknowledged_at__lte=F("first_response_due_at"))
        ),
        "resolved": Count("pk", filter=active & Q(resolved_at__isnull=False)),
        "resolved_in_time": Count(
            "pk", filter=active & Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due_at"))
        ),
        "rated": Count("pk", filter=in_month & Q(satisfaction__isnull=False)),
        "sat_sum": Sum("satisfaction", filter=in_month),
        **{f"r{k}": Count("pk", filter=in_month & Q(satisfaction=k)) for k in RATINGS},
        "repeats": Count("pk", filter=in_month & Q(is_repeat=True)),
        "escalated": Count("pk", filter=in_month & Q(escalation_level__gte=1)),
        "escalated2": Count("pk", filter=in_month & Q(escalation_level__gte=2)),
        "cancelled": Count("pk", filter=in_month & Q(status=Complaint.Status.CANCELLED)),
    }


def _to_figures(groups: list[dict[str, Any]], prefix: str) -> Figures:
    """A month's figures: the sums of its counts over the (category, channel, project) groups."""

    def get(key: str) -> int:
        return sum(g[f"{prefix}{key}"] or 0 for g in groups)

    rated = get("rated")
    avg = get("sat_sum") / rated if rated else None
    return Figures(
        total=get("total"),
        active=get("active"),
        acknowledged_in_time=get("ack_in_time"),
        resolved=get("resolved"),
        resolved_in_time=get("resolved_in_time"),
        rated=rated,
        satisfaction_avg=round(avg, 2) if avg is not None else None,
        ratings={k: get(f"r{k}") for k in RATINGS},
        repeats=get("repeats"),
        escalated=get("escalated"),
        escalated_twice=get("escalated2"),
        cancelled=get("cancelled"),
    )


def _open_at_q(cutoff: datetime) -> Q:
    """Registered before ``cutoff`` and neither resolved nor cancelled before it.

    Written as three ranges the indexes answer (still open now: the partial index
    complaint_still_open; resolved or cancelled at or after the cutoff: complaint_resolved_at,
    complaint_cancelled_at), then the exact rule on those few rows; a plain NOT over the
    timestamps would read every complaint registered before the cutoff.
    """
    candidates = (
        Q(resolved_at__isnull=True, cancelled_at__isnull=True)
        | Q(resolved_at__gte=cutoff)
        | Q(cancelled_at__gte=cutoff)
    )
    not_resolved = Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff)
    not_cancelled = Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=cutoff)
    return Q(registered_at__lt=cutoff) & candidates & not_resolved & not_cancelled


def _scoped(user: User, project: Project | None) -> QuerySet[Complaint]:
    scoped = Complaint.objects.filter(report_scope_q(user))
    return scoped.filter(project=project) if project is not None else scoped


def open_at(user: User, cutoff: datetime, *, project: Project | None = None) -> QuerySet[Complaint]:
    """The complaints open at ``cutoff`` (the month's end), the longest overdue first."""
    return (
        _scoped(user, project)
        .filter(_open_at_q(cutoff))
        .select_related("project", "category", "assignee")
        .order_by("resolution_due_at", "id")
    )


def monthly_report(user: User, month: date, *, now: datetime, project: Project | None = None) -> MonthlyReport:
    return monthly_report_of(_scoped(user, project), month, now=now, project=project)


def monthly_report_for_company(
    company_id: int, month: date, *, now: datetime, project: Project | None = None
) -> MonthlyReport:
    """The same report over every complaint of a company (or one project), with no user:
    the monthly report pack (crm.reports) decides who sees it."""
    scoped = Complaint.objects.filter(company_id=company_id)
    return monthly_report_of(
        scoped.filter(project=project) if project is not None else scoped, month, now=now, project=project
    )


def monthly_report_of(
    scoped: QuerySet[Complaint], month: date, *, now: datetime, project: Project | None = None
) -> MonthlyReport:
    """The report over ``scoped`` (already limited to the user's scope and the project)."""
    start, end = month_bounds(month)
    previous_start, _ = month_bounds(previous_month(month))
    cutoff = min(end, now)
    two_months = scoped.filter(registered_at__gte=previous_start, registered_at__lt=end)

    # One GROUP BY over both months: every figure and every breakdown is a sum of these
    # groups (at most categories × channels × projects rows), so the month is read once.
    current = {f"c_{k}": v for k, v in _figures(start, end).items()}
    prior = {f"p_{k}": v for k, v in _figures(previous_start, start).items()}
    rows = (
        two_months.values("category_id", "category__name", "channel", "project_id", "project__name")
        .annotate(**current, **prior)
        .order_by()
    )
    groups: list[dict[str, Any]] = [dict(g) for g in rows]

    def breakdown(key: str, label: Callable[[dict[str, Any]], str]) -> list[Breakdown]:
        totals: dict[Any, list[Any]] = {}
        for g in groups:
            entry = totals.setdefault(g[key], [label(g), 0, 0])
            entry[1] += g["c_total"]
            entry[2] += g["p_total"]
        rows = [Breakdown(name, cur, prev, k) for k, (name, cur, prev) in totals.items()]
        return sorted(rows, key=lambda b: (-b.current, -b.previous, b.label))

    by_category = breakdown("category_id", lambda g: g["category__name"])
    by_channel = breakdown("channel", lambda g: CHANNEL_LABELS.get(g["channel"], g["channel"]))
    by_project = breakdown("project_id", lambda g: g["project__name"])

    open_count = scoped.filter(_open_at_q(cutoff)).count()
    open_items = (
        list(
            scoped.filter(_open_at_q(cutoff))
            .select_related("project", "category", "assignee")
            # What the page, the API and the pack show of each: not the texts (the list is
            # up to OPEN_LIST_LIMIT rows of every column of four tables otherwise).
            .only(*OPEN_ITEM_FIELDS)
            .order_by("resolution_due_at", "id")[:OPEN_LIST_LIMIT]
        )
        if open_count
        else []
    )
    return MonthlyReport(
        month=month.replace(day=1),
        start=start,
        end=end,
        cutoff=cutoff,
        project=project,
        current=_to_figures(groups, "c_"),
        previous=_to_figures(groups, "p_"),
        by_category=by_category,
        by_channel=by_channel,
        by_project=by_project,
        open_count=open_count,
        open_items=open_items,
    )
