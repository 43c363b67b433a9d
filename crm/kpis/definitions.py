"""The KPIs (考核指标, seeds 000 §5, 002 §5, 003 §6): one function each, as docs/kpis.md defines them.

Every KPI is computed for a ``KpiQuery``: the user (whose data scope decides which rows
count: crm.accounts.access through each app's ``*_visible_to`` selector, so another
company's rows never count and a consultant counts only their own customers'), the chosen
projects (none: every project in scope) and a period of local days. Each returns a
``Figure``: the value, its numerator and denominator, and the links to the lists behind
both (the list's own filter with the same condition, from the owning app's selectors:
``kpi_q``), so a figure and its rows always agree.

The counting is done by the database: one aggregate statement per source (complaints,
visit tasks, customers, outbox, opt-outs, gifts) with conditional ``Count(filter=…)``,
shared by the KPIs of that source through the query's cache — never a loop over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, QuerySet, Sum
from django.urls import reverse
from django.utils.http import urlencode

from crm.care import selectors as care
from crm.complaints import selectors as complaints
from crm.customers import selectors as customers
from crm.service import selectors as service
from crm.visits import selectors as visits

if TYPE_CHECKING:
    from crm.accounts.models import User

PERCENT = "%"
PER_HUNDRED = "件/百户"


@dataclass
class KpiQuery:
    """What a KPI is computed for; caches each source's aggregate (one query per source)."""

    user: User
    start: date
    end: date
    project_ids: tuple[int, ...] = ()
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def in_projects(self, rows: QuerySet[Any], path: str = "project") -> QuerySet[Any]:
        return rows.filter(**{f"{path}_id__in": list(self.project_ids)}) if self.project_ids else rows

    def once(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def prime(self, key: str, value: dict[str, Any]) -> None:
        """Give ``once`` a source's aggregate already computed another way (the dashboard's
        per-project groups summed), unless it has one."""
        self._cache.setdefault(key, value)

    def params(self, **extra: Any) -> str:
        """The list link's query string: the period, the one chosen project, and ``extra``."""
        values: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat()} | extra
        if len(self.project_ids) == 1:
            values["project"] = self.project_ids[0]
        return urlencode({k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: Decimal | None  # None: nothing to divide by
    numerator: int
    denominator: int | None  # None: a plain count
    unit: str
    numerator_label: str
    denominator_label: str = ""
    numerator_url: str = ""
    denominator_url: str = ""
    higher_is_better: bool = True
    note: str = ""

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        return f"{self.value}{'%' if self.unit == PERCENT else ''}"


def ratio(numerator: int, denominator: int, *, scale: int = 100, places: str = "0.1") -> Decimal | None:
    """numerator × scale ÷ denominator, rounded half up; None when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _link(user: User, perm: str, url_name: str, query: str) -> str:
    """The list's link, or "" when the user may not open that list."""
    return f"{reverse(url_name)}?{query}" if user.has_perm(perm) else ""


# ---------------------------------------------------------------- sources (one query each)

COMPLAINT_MEASURES = tuple(complaints.KPI_MEASURES)
VISIT_MEASURES = tuple(visits.KPI_MEASURES)


def complaint_counts(q: KpiQuery) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        rows = q.in_projects(complaints.kpi_base(q.user)).filter(complaints.kpi_period_q(q.start, q.end))
        return rows.aggregate(**{m: Count("pk", filter=complaints.kpi_condition_q(m)) for m in COMPLAINT_MEASURES})

    return q.once("complaints", compute)


def visit_counts(q: KpiQuery) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        rows = q.in_projects(visits.tasks_visible_to(q.user)).filter(visits.kpi_period_q(q.start, q.end))
        measures = {m: Count("pk", filter=visits.kpi_condition_q(m)) for m in VISIT_MEASURES}
        return rows.aggregate(**measures, average=Avg("satisfaction", filter=visits.kpi_condition_q("rated")))

    return q.once("visits", compute)


def customer_counts(q: KpiQuery, *measures: str) -> dict[str, Any]:
    """投诉率's base alone, or the owners and those retained: separate statements, so the
    workbench card's 投诉率 does not pay for retention's EXISTS over every customer."""

    def compute() -> dict[str, Any]:
        rows = q.in_projects(customers.customers_visible_to(q.user))
        return rows.aggregate(**{m: Count("pk", filter=customers.kpi_q(m, start=q.start, end=q.end)) for m in measures})

    return q.once("customers:" + ",".join(measures), compute)


def message_counts(q: KpiQuery) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        rows = q.in_projects(care.messages_visible_to(q.user)).filter(care.day_range_q(q.start, q.end))
        return rows.aggregate(
            **{m: Count("pk", filter=care.kpi_q(m, start=q.start, end=q.end)) for m in care.KPI_MEASURES}
        )

    return q.once("messages", compute)


def opt_out_count(q: KpiQuery) -> dict[str, Any]:
    return q.once(
        "opt_outs", lambda: {"n": q.in_projects(care.kpi_opted_out(q.user, start=q.start, end=q.end)).count()}
    )


def gift_counts(q: KpiQuery) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        rows = q.in_projects(service.kpi_gift_issues(q.user, start=q.start, end=q.end))
        return rows.aggregate(n=Count("pk"), quantity=Sum("quantity"))

    return q.once("gifts", compute)


# ---------------------------------------------------------------- the KPIs

COMPLAINTS_LIST = ("complaints.view_complaint", "complaints:list")
VISITS_LIST = ("visits.view_visittask", "visits:list")
CUSTOMERS_LIST = ("customers.view_customer", "customers:list")


def _complaint_link(q: KpiQuery, measure: str) -> str:
    return _link(q.user, *COMPLAINTS_LIST, q.params(measure=measure))


def _visit_link(q: KpiQuery, measure: str) -> str:
    return _link(q.user, *VISITS_LIST, q.params(state="", measure=measure))


def _share(
    q: KpiQuery,
    key: str,
    label: str,
    counts: dict[str, Any],
    num: str,
    den: str,
    link: Callable[[KpiQuery, str], str],
    labels: dict[str, str],
    *,
    higher_is_better: bool = True,
    note: str = "",
) -> Figure:
    return Figure(
        key,
        label,
        ratio(counts[num], counts[den]),
        counts[num],
        counts[den],
        PERCENT,
        labels[num],
        labels[den],
        link(q, num),
        link(q, den),
        higher_is_better,
        note,
    )


def visit_satisfaction(q: KpiQuery) -> Figure:
    """回访满意度: visits due in the period, done and rated 4–5 ÷ done and rated (1–5)."""
    counts = visit_counts(q)
    avg = counts["average"]
    note = f"平均 {Decimal(str(avg)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} 分" if avg is not None else ""
    return _share(
        q, "visit_satisfaction", "回访满意度", counts, "satisfied", "rated", _visit_link, visits.KPI_MEASURES, note=note
    )


def complaint_satisfaction(q: KpiQuery) -> Figure:
    """投诉处理满意度: complaints rated 4–5 at the customer's confirmation ÷ complaints rated."""
    return _share(
        q,
        "complaint_satisfaction",
        "投诉处理满意度",
        complaint_counts(q),
        "satisfied",
        "rated",
        _complaint_link,
        complaints.KPI_MEASURES,
    )


def complaint_rate(q: KpiQuery) -> Figure:
    """投诉率: complaints registered in the period per 100 customers on its last day."""
    registered = complaint_counts(q)["registered"]
    base = customer_counts(q, "customers")["customers"]
    return Figure(
        "complaint_rate",
        "投诉率",
        ratio(registered, base, places="0.01"),
        registered,
        base,
        PER_HUNDRED,
        complaints.KPI_MEASURES["registered"],
        customers.KPI_MEASURES["customers"],
        _complaint_link(q, "registered"),
        _link(q.user, *CUSTOMERS_LIST, q.params(measure="customers")),
        higher_is_better=False,
    )


def first_response_timeliness(q: KpiQuery) -> Figure:
    """首次响应及时率: acknowledged no later than the first-response deadline ÷ registered."""
    return _share(
        q,
        "first_response_timeliness",
        "首次响应及时率",
        complaint_counts(q),
        "first_response_on_time",
        "registered",
        _complaint_link,
        complaints.KPI_MEASURES,
    )


def resolution_timeliness(q: KpiQuery) -> Figure:
    """按时处理率: resolved no later than the resolution deadline (working days) ÷ registered."""
    return _share(
        q,
        "resolution_timeliness",
        "按时处理率",
        complaint_counts(q),
        "resolved_on_time",
        "registered",
        _complaint_link,
        complaints.KPI_MEASURES,
    )


def repeat_complaint_rate(q: KpiQuery) -> Figure:
    """重复投诉率: complaints flagged as a repeat ÷ registered."""
    return _share(
        q,
        "repeat_complaint_rate",
        "重复投诉率",
        complaint_counts(q),
        "repeat",
        "registered",
        _complaint_link,
        complaints.KPI_MEASURES,
        higher_is_better=False,
    )


def retention(q: KpiQuery) -> Figure:
    """客户留存率: owners who repurchased or referred in the period ÷ owners at its end."""
    return _share(
        q,
        "retention",
        "客户留存率（复购或推荐）",
        customer_counts(q, "owners", "retained"),
        "retained",
        "owners",
        lambda q, m: _link(q.user, *CUSTOMERS_LIST, q.params(measure=m)),
        customers.KPI_MEASURES,
    )


def visit_completion(q: KpiQuery) -> Figure:
    """回访完成率: tasks due in the period that were done ÷ tasks due (not cancelled)."""
    return _share(q, "visit_completion", "回访完成率", visit_counts(q), "done", "due", _visit_link, visits.KPI_MEASURES)


def visit_on_time(q: KpiQuery) -> Figure:
    """回访按期完成率: done on or before the due date (a working day) ÷ tasks due."""
    return _share(
        q, "visit_on_time", "回访按期完成率", visit_counts(q), "on_time", "due", _visit_link, visits.KPI_MEASURES
    )


def visit_reach(q: KpiQuery) -> Figure:
    """回访接通率: calls that reached the customer ÷ calls that ended (reached or unreachable)."""
    return _share(q, "visit_reach", "回访接通率", visit_counts(q), "reached", "ended", _visit_link, visits.KPI_MEASURES)


def _count(
    key: str, label: str, n: int, what: str, url: str, *, higher_is_better: bool = True, note: str = ""
) -> Figure:
    return Figure(key, label, Decimal(n), n, None, "", what, "", url, "", higher_is_better, note)


def care_sent(q: KpiQuery) -> Figure:
    """关怀短信发出: messages planned in the period and handed to the gateway (sent or delivered)."""
    n = message_counts(q)["sent"]
    url = _link(
        q.user,
        "customers.view_customer",
        "care:outbox",
        urlencode(_outbox_params(q, "sent_any")),
    )
    return _count("care_sent", "关怀短信发出", n, "已发出（含已送达）", url)


def care_failed(q: KpiQuery) -> Figure:
    """关怀短信失败: messages planned in the period that failed or were not delivered."""
    n = message_counts(q)["failed"]
    url = _link(q.user, "customers.view_customer", "care:outbox", urlencode(_outbox_params(q, "failed_any")))
    return _count("care_failed", "关怀短信失败", n, "发送失败或未送达", url, higher_is_better=False)


def _outbox_params(q: KpiQuery, status: str) -> dict[str, Any]:
    params: dict[str, Any] = {"status": status, "date_from": q.start.isoformat(), "date_to": q.end.isoformat()}
    if len(q.project_ids) == 1:
        params["project"] = q.project_ids[0]
    return params


def care_opted_out(q: KpiQuery) -> Figure:
    """短信退订: customers who opted out in the period."""
    n = opt_out_count(q)["n"]
    url = _link(q.user, "customers.view_customer", "care:optouts", q.params())
    return _count("care_opted_out", "短信退订", n, "退订客户", url, higher_is_better=False)


def gifts_issued(q: KpiQuery) -> Figure:
    """礼品发放: gift issues recorded in the period (the note gives the pieces)."""
    counts = gift_counts(q)
    url = _link(q.user, "service.view_giftissue", "service:issue_list", q.params())
    return _count("gifts_issued", "礼品发放", counts["n"], "发放记录", url, note=f"共 {counts['quantity'] or 0} 件")


# The dashboard's order: satisfaction, complaints, retention, visits, care, gifts.
KPIS: tuple[Callable[[KpiQuery], Figure], ...] = (
    visit_satisfaction,
    complaint_satisfaction,
    complaint_rate,
    first_response_timeliness,
    resolution_timeliness,
    repeat_complaint_rate,
    retention,
    visit_completion,
    visit_on_time,
    visit_reach,
    care_sent,
    care_failed,
    care_opted_out,
    gifts_issued,
)


def all_figures(q: KpiQuery) -> list[Figure]:
    return [kpi(q) for kpi in KPIS]


def by_key(q: KpiQuery) -> dict[str, Figure]:
    return {f.key: f for f in all_figures(q)}
