"""The complaints benchmark (`python -m bench complaints`): the complaint list with its
deadline countdowns and the monthly analysis report, each beside its raw-SQL floor.

1. Dataset: the customers benchmark's company (bench.dataset.ensure_dataset, reused when
   one of that size exists) plus ``n`` complaints spread over the twelve months up to
   now, bulk-inserted: channels, categories and projects in uneven shares, 60% linked to
   a customer of their project, states by age (recent ones open at every step, older ones
   resolved, confirmed or archived, a small backlog still open), timestamps consistent
   with the deadlines (most acknowledged and resolved in time, some late), ratings,
   repeats and escalations. A marker row (core.Counter) records the size; a dataset of
   that size is reused.
2. Scenarios, as the director (客服中心主任, PROJECT scope over two of the four projects)
   sees them: the list (page 1 at 25 and 100 rows, a deep page, the open ones) and the
   monthly report of the last complete month. Each is timed through django.test.Client
   (the whole middleware stack) interleaved with its floor: the same rows fetched by
   hand-written SQL through a cursor and rendered by a minimal view behind the same
   middleware, so load from other processes affects both alike.
3. Query counts must not grow with the page size or the page (N+1 check).

Targets (issue 11, PostgreSQL, 300,000 complaints): list p95 ≤ 20 ms with a constant
number of queries; the report ≤ 200 ms and within 3x its floor. Figures:
docs/performance.md.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.urls import path
from django.utils import timezone

from bench import pages
from bench.customers import Result, Scenario, Target, _pct
from bench.dataset import Dataset, Write, db_table
from config.urls import urlpatterns as site_urlpatterns
from crm.accounts.models import User
from crm.complaints import analysis, services
from crm.complaints.models import Category, Channel, Complaint
from crm.core.models import Counter
from crm.customers.models import Customer
from crm.customers.views import CappedPaginator
from crm.lib.dates import CHINA_TZ, local_day
from crm.lib.mobile import mask_mobile
from crm.projects.models import Project

MARKER_KEY = "bench:complaints:v1"
SEED = 20261206
LIST_TARGET = Target(20)
REPORT_TARGET = Target(200)
REPORT_RATIO = 3.0
Status = Complaint.Status

# Uneven shares, as a real company's complaints are.
CHANNELS = (
    (Channel.PHONE, 38),
    (Channel.WALK_IN, 18),
    (Channel.WECHAT, 16),
    (Channel.WEBSITE, 9),
    (Channel.EMAIL, 6),
    (Channel.WRITTEN, 5),
    (Channel.TRANSFERRED, 5),
    (Channel.MEDIA, 3),
)
CATEGORY_WEIGHTS = (22, 14, 12, 10, 18, 12, 7, 5)  # the eight default categories, in their order
PROJECT_WEIGHTS = (35, 25, 25, 15)
OPEN_STEPS = (
    (Status.REGISTERED, 3),
    (Status.DISPATCHED, 10),
    (Status.ACKNOWLEDGED, 12),
    (Status.INVESTIGATING, 25),
    (Status.PLAN_PROPOSED, 10),
    (Status.PLAN_APPROVED, 5),
    (Status.IN_PROGRESS, 20),
    (Status.WAITING, 8),
    (Status.REOPENED, 2),
)
CONTENTS = (
    "售楼处接待人员态度冷淡，咨询问题无人回应",
    "宣传资料与实际户型面积不符",
    "合同补充条款与口头承诺不一致",
    "按揭放款进度长时间无人告知",
    "交房后卫生间渗水，报修三次未处理",
    "外墙瓷砖脱落，存在安全隐患",
    "置业顾问多次电话骚扰",
    "对车位价格有误解，要求说明",
)
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷")


def _marker() -> int | None:
    return Counter.objects.filter(key=MARKER_KEY).values_list("value", flat=True).first()


def _months_back(day: date, months: int) -> date:
    first = day.replace(day=1)
    for _ in range(months):
        first = analysis.previous_month(first)
    return first


def ensure_complaints(
    dataset: Dataset, n: int, *, now: datetime, regenerate: bool = False, write: Write
) -> float | None:
    """Reuse ``n`` benchmark complaints or (re)generate them; the seconds generating took, or None."""
    company = dataset.company
    existing = Complaint.objects.filter(company=company).count()
    if not regenerate and _marker() == n and existing == n:
        write(f"Reusing the {n:,} generated complaints (marker {MARKER_KEY}).")
        return None
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            own = f"SELECT id FROM {db_table(Complaint)} WHERE company_id = %s"
            cursor.execute(
                f"DELETE FROM {db_table(Complaint.events.rel.related_model)} WHERE complaint_id IN ({own})",
                [company.pk],
            )
            cursor.execute(f"DELETE FROM {db_table(Complaint)} WHERE company_id = %s", [company.pk])
        Counter.objects.filter(key=MARKER_KEY).delete()
        write(f"Generating {n:,} complaints ({connection.vendor})…")
        _generate(dataset, n, now=now, write=write)
        Counter.objects.create(key=MARKER_KEY, value=n)
    with connection.cursor() as cursor:
        verb = "ANALYZE" if connection.in_atomic_block or connection.vendor != "postgresql" else "VACUUM (ANALYZE)"
        cursor.execute(f"{verb} {db_table(Complaint)}" if connection.vendor == "postgresql" else "ANALYZE")
    elapsed = time.perf_counter() - started
    write(f"Generated {n:,} complaints in {elapsed:.1f} s.")
    return elapsed


def _generate(dataset: Dataset, n: int, *, now: datetime, write: Write) -> None:
    rng = random.Random(SEED)
    company = dataset.company
    services.ensure_default_categories(company)
    categories = list(
        Category.objects.filter(company=company).order_by("sort_order", "id").values_list("id", flat=True)
    )
    weights = list(CATEGORY_WEIGHTS[: len(categories)]) + [5] * max(0, len(categories) - len(CATEGORY_WEIGHTS))
    projects = dataset.project_ids
    staff = list(User.objects.filter(company=company, is_active=True).order_by("id").values_list("id", flat=True))
    customers: dict[int, list[int]] = {}
    for project_id in projects:
        customers[project_id] = list(
            Customer.objects.filter(company=company, project_id=project_id)
            .order_by("id")
            .values_list("id", flat=True)[:20_000]
        )
    start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first = datetime.combine(_months_back(start.date(), 11), datetime.min.time(), tzinfo=CHINA_TZ)
    span = (now - first).total_seconds()
    channels, channel_weights = zip(*CHANNELS, strict=True)
    open_steps, open_weights = zip(*OPEN_STEPS, strict=True)
    moments = sorted(first + timedelta(seconds=rng.random() * span) for _ in range(n))
    per_day: dict[date, int] = {}
    batch: list[Complaint] = []
    for i, registered in enumerate(moments):
        day = local_day(registered)
        per_day[day] = per_day.get(day, 0) + 1
        project = rng.choices(projects, PROJECT_WEIGHTS[: len(projects)])[0]
        pool = customers.get(project) or []
        customer = rng.choice(pool) if pool and rng.random() < 0.6 else None
        special = rng.random() < 0.05
        first_due = registered + timedelta(hours=24)
        resolution_due = datetime.combine(
            local_day(registered) + timedelta(days=9 if special else 5), datetime.min.time(), tzinfo=CHINA_TZ
        )
        age = (now - registered).total_seconds() / 86400
        backlog = rng.random() < 0.015
        fields: dict[str, Any] = {}
        if age < 12 or backlog:
            status = rng.choices(open_steps, open_weights)[0]
        else:
            status = rng.choices(
                (Status.ARCHIVED, Status.CONFIRMED, Status.RESOLVED, Status.CANCELLED), (55, 25, 17, 3)
            )[0]
        assignee = rng.choice(staff) if status != Status.REGISTERED else None
        if status not in (Status.REGISTERED, Status.DISPATCHED) and not (
            status == Status.CANCELLED and rng.random() < 0.5
        ):
            late = rng.random() < 0.12
            hours = rng.uniform(24.1, 60) if late else rng.uniform(0.2, 23.5)
            acknowledged = registered + timedelta(hours=hours)
            if acknowledged < now:
                fields["acknowledged_at"] = acknowledged
        if status in (Status.RESOLVED, Status.CONFIRMED, Status.ARCHIVED):
            late = rng.random() < 0.15
            resolved = (
                resolution_due + timedelta(hours=rng.uniform(1, 96))
                if late
                else registered + (resolution_due - registered) * rng.uniform(0.2, 0.98)
            )
            fields["resolved_at"] = min(resolved, now)
            if status != Status.RESOLVED:
                fields["confirmed_at"] = min(fields["resolved_at"] + timedelta(days=1), now)
                fields["satisfaction"] = rng.choices((1, 2, 3, 4, 5), (3, 5, 12, 35, 45))[0]
            if status == Status.ARCHIVED:
                fields["archived_at"] = min(fields["resolved_at"] + timedelta(days=3), now)
        if status == Status.CANCELLED:
            fields["cancelled_at"] = registered + timedelta(hours=rng.uniform(1, 48))
        if status == Status.WAITING:
            fields["paused_at"] = registered + timedelta(hours=rng.uniform(26, 60))
            fields["paused_from"] = Status.INVESTIGATING
        escalation = rng.choices((0, 1, 2), (87, 10, 3))[0]
        mobile = f"1{rng.choice((38, 39, 58, 86, 77))}{rng.randrange(10**8):08d}"
        batch.append(
            Complaint(
                company=company,
                number=f"TS{day:%Y%m%d}{per_day[day]:04d}",
                channel=rng.choices(channels, channel_weights)[0],
                status=status,
                complainant_name=rng.choice(NAMES),
                complainant_mobile=mobile,
                content=rng.choice(CONTENTS),
                project_id=project,
                customer_id=customer,
                category_id=rng.choices(categories, weights)[0],
                assignee_id=assignee,
                is_special=special,
                is_important=rng.random() < 0.02,
                is_repeat=rng.random() < 0.08,
                registered_at=registered,
                first_response_due_at=first_due,
                resolution_due_at=resolution_due,
                dispatched_at=registered + timedelta(minutes=5) if assignee else None,
                escalation_level=escalation,
                escalated_at=registered + timedelta(days=2) if escalation else None,
                **fields,
            )
        )
        if len(batch) == 5000:
            Complaint.objects.bulk_create(batch)
            batch = []
            if (i + 1) % 50_000 == 0:
                write(f"  {i + 1:,} complaints")
    Complaint.objects.bulk_create(batch)


# ------------------------------------------------------------------------ the floors


def _scope_sql(dataset: Dataset, *, assigned: bool = True) -> tuple[str, list[Any]]:
    """crm.accounts.access.scope_q for the director (PROJECT scope), as plain SQL: the
    complaint's project, a linked customer owned or advised by the director's team, or
    (``assigned``: the list, crm.complaints.selectors.complaint_scope_q) a complaint
    assigned to the director. The monthly report counts the scope alone
    (crm.complaints.analysis.report_scope_q)."""
    from crm.accounts.access import team_member_ids

    user = dataset.director
    team = team_member_ids(user)
    projects = dataset.director_project_ids
    marks = ", ".join(["%s"] * len(team))
    pmarks = ", ".join(["%s"] * len(projects))
    mine = " OR c.assignee_id = %s" if assigned else ""
    sql = (
        f"c.company_id = %s AND (c.project_id IN ({pmarks}) OR c.customer_id IN (SELECT id FROM {db_table(Customer)}"
        f" WHERE owner_id = %s OR advisor_id IN ({marks})){mine})"
    )
    return sql, [dataset.company.pk, *projects, user.pk, *team, *([user.pk] if assigned else [])]


def _dt(value: datetime) -> Any:
    """A datetime as the backend stores it (SQLite: naive UTC text; PostgreSQL: as is)."""
    return connection.ops.adapt_datetimefield_value(value)


@dataclass
class ListFloor:
    """The list by hand, as the page reads it: its rows (one more to know whether a next
    page exists) — or, for the total the page fetches afterwards (``count``), the capped
    count alone (CappedPaginator: at most CAP + 1 rows counted)."""

    scope: tuple[str, list[Any]]
    rows: int = 25
    offset: int = 0
    open_only: bool = False
    count: bool = False

    def fetch(self) -> dict[str, Any]:
        scope, params = self.scope
        status = ""
        if self.open_only:
            status = f" AND c.status IN ({', '.join(repr(str(s)) for s in sorted(Complaint.OPEN))})"
        with connection.cursor() as cursor:
            if self.count:
                cursor.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {db_table(Complaint)} c WHERE {scope}{status}"
                    f" LIMIT {CappedPaginator.CAP + 1}) s",
                    params,
                )
                return {"rows": [], "count": cursor.fetchone()[0]}
            cursor.execute(
                "SELECT c.id, c.number, c.registered_at, c.channel, c.complainant_name, c.complainant_mobile,"
                " c.status, c.escalation_level, c.resolution_due_at, c.first_response_due_at, c.acknowledged_at,"
                " c.is_repeat, c.is_special, p.name, k.name, coalesce(nullif(u.display_name, ''), u.username)"
                f" FROM {db_table(Complaint)} c JOIN {db_table(Project)} p ON p.id = c.project_id"
                f" JOIN {db_table(Category)} k ON k.id = c.category_id LEFT JOIN {db_table(User)} u ON u.id = c.assignee_id"
                f" WHERE {scope}{status} ORDER BY c.registered_at DESC, c.id DESC LIMIT {self.rows + 1} OFFSET {self.offset}",
                params,
            )
            rows = cursor.fetchall()
        return {"rows": rows[: self.rows], "count": ""}


@dataclass
class ReportFloor:
    """The monthly report's statements by hand: the figures of both months per (category,
    channel, project) in one GROUP BY, summed per dimension and per month as the page sums
    them; then the open items at the month's end (count and the first 200)."""

    scope: tuple[str, list[Any]]
    month: date

    def fetch(self) -> dict[str, Any]:
        scope, params = self.scope
        start, end = (_dt(v) for v in analysis.month_bounds(self.month))
        prev = _dt(analysis.month_bounds(analysis.previous_month(self.month))[0])
        table = db_table(Complaint)
        results: dict[str, Any] = {}

        def month_figures(since: str, until: str) -> str:
            m = f"c.registered_at >= {since} AND c.registered_at < {until}"
            a = f"{m} AND c.status <> 'cancelled'"
            return (
                f"count(*) FILTER (WHERE {m}), count(*) FILTER (WHERE {a}),"
                f" count(*) FILTER (WHERE {a} AND c.acknowledged_at <= c.first_response_due_at),"
                f" count(*) FILTER (WHERE {a} AND c.resolved_at IS NOT NULL),"
                f" count(*) FILTER (WHERE {a} AND c.resolved_at <= c.resolution_due_at),"
                f" count(c.satisfaction) FILTER (WHERE {m}), sum(c.satisfaction) FILTER (WHERE {m}),"
                + ", ".join(f"count(*) FILTER (WHERE {m} AND c.satisfaction = {k})" for k in analysis.RATINGS)
                + f", count(*) FILTER (WHERE {m} AND c.is_repeat), count(*) FILTER (WHERE {m} AND c.escalation_level >= 1)"
                f", count(*) FILTER (WHERE {m} AND c.escalation_level >= 2), count(*) FILTER (WHERE {m} AND c.status = 'cancelled')"
            )

        figures = month_figures("%s", "%s")
        per_month = figures.count("%s") // 2
        width = figures.count("FILTER")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT k.name, c.channel, p.name, {figures}, {figures} FROM {table} c"
                f" JOIN {db_table(Category)} k ON k.id = c.category_id JOIN {db_table(Project)} p ON p.id = c.project_id"
                f" WHERE {scope} AND c.registered_at >= %s AND c.registered_at < %s GROUP BY k.name, c.channel, p.name",
                [start, end] * per_month + [prev, start] * per_month + params + [prev, end],
            )
            groups = cursor.fetchall()
            this = [sum(g[3 + i] or 0 for g in groups) for i in range(width)]
            last = [sum(g[3 + width + i] or 0 for g in groups) for i in range(width)]
            results["figures"] = (this, last)
            for key, column in (("category", 0), ("channel", 1), ("project", 2)):
                totals: dict[str, list[int]] = {}
                for g in groups:
                    entry = totals.setdefault(g[column], [0, 0])
                    entry[0] += g[3]
                    entry[1] += g[3 + width]
                results[key] = sorted(((name, *t) for name, t in totals.items()), key=lambda r: -r[1])
            cutoff = _dt(min(analysis.month_bounds(self.month)[1], timezone.now()))
            open_where = (
                f"{scope} AND c.registered_at < %s AND ((c.resolved_at IS NULL AND c.cancelled_at IS NULL)"
                " OR c.resolved_at >= %s OR c.cancelled_at >= %s)"
                " AND (c.resolved_at IS NULL OR c.resolved_at >= %s) AND (c.cancelled_at IS NULL OR c.cancelled_at >= %s)"
            )
            cursor.execute(f"SELECT count(*) FROM {table} c WHERE {open_where}", [*params, *[cutoff] * 5])
            results["open_count"] = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT c.id, c.number, c.registered_at, c.status, c.resolution_due_at, p.name, k.name,"
                " coalesce(nullif(u.display_name, ''), u.username)"
                f" FROM {table} c JOIN {db_table(Project)} p ON p.id = c.project_id"
                f" JOIN {db_table(Category)} k ON k.id = c.category_id LEFT JOIN {db_table(User)} u ON u.id = c.assignee_id"
                f" WHERE {open_where} ORDER BY c.resolution_due_at, c.id LIMIT {analysis.OPEN_LIST_LIMIT}",
                [*params, *[cutoff] * 5],
            )
            results["open"] = cursor.fetchall()
        return results


_ENGINE = Engine()
_LIST = _ENGINE.from_string(
    "<!DOCTYPE html><title>投诉</title><p>共 {{ count }} 条</p><table>{% for r in rows %}<tr><td>{{ r.1 }}</td>"
    "<td>{{ r.2|date:'m-d H:i' }} {{ r.3 }} {{ r.4 }}</td><td>{{ r.5 }}</td><td>{{ r.13 }}</td><td>{{ r.14 }}</td>"
    "<td>{{ r.6 }} {{ r.7 }}</td><td>{{ r.16 }}</td><td>{{ r.15|default:'待分派' }}</td></tr>{% endfor %}</table>"
)
_REPORT = _ENGINE.from_string(
    "<!DOCTYPE html><title>投诉分析报告</title><p>{% for v in figures.0 %}{{ v }} {% endfor %}</p>"
    "<p>{% for v in figures.1 %}{{ v }} {% endfor %}</p>"
    "{% for t in tables %}<table>{% for r in t %}<tr><td>{{ r.0 }}</td><td>{{ r.1 }}</td><td>{{ r.2 }}</td></tr>{% endfor %}</table>{% endfor %}"
    "<p>{{ open_count }}</p><table>{% for r in open %}<tr><td>{{ r.1 }}</td><td>{{ r.2|date:'Y-m-d H:i' }}</td><td>{{ r.3 }}</td>"
    "<td>{{ r.4|date:'Y-m-d' }}</td><td>{{ r.5 }}</td><td>{{ r.6 }}</td><td>{{ r.7 }}</td></tr>{% endfor %}</table>"
)
_FLOORS: dict[str, ListFloor | ReportFloor] = {}


def _countdown(due: datetime, now: datetime) -> str:
    """A plain countdown (calendar hours; the page counts working time with the calendar)."""
    if timezone.is_naive(due):  # a raw SQLite cursor returns naive UTC
        due = timezone.make_aware(due, UTC)
    hours = int((due - now).total_seconds() // 3600)
    return f"剩余 {hours} 小时" if hours >= 0 else f"已超时 {-hours} 小时"


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    floor = _FLOORS[key]
    data = floor.fetch()
    if isinstance(floor, ListFloor):
        now = timezone.now()
        rows = [(*r[:5], mask_mobile(r[5]) if r[5] else "", *r[6:], _countdown(r[8], now)) for r in data["rows"]]
        return HttpResponse(_LIST.render(Context({"rows": rows, "count": data["count"]})))
    return HttpResponse(
        _REPORT.render(
            Context(
                {
                    "figures": data["figures"],
                    "tables": [data["category"], data["channel"], data["project"]],
                    "open_count": data["open_count"],
                    "open": data["open"],
                }
            )
        )
    )


urlpatterns = [*site_urlpatterns, path("__bench__/complaints/<str:key>/", floor_view)]


# ------------------------------------------------------------------------- measuring


@dataclass
class Case:
    scenario: Scenario
    floor: ListFloor | ReportFloor


def build_cases(dataset: Dataset, *, now: datetime) -> list[Case]:
    scope = _scope_sql(dataset)
    director = dataset.director
    report_month = analysis.previous_month(local_day(now))

    def case(key: str, label: str, url: str, floor: ListFloor | ReportFloor, target: Target) -> Case:
        return Case(Scenario(key, label, director, url, floor=None, target=target), floor)  # type: ignore[arg-type]

    return [
        case("list_25", "投诉列表 25 条/页", "/complaints/?per_page=25", ListFloor(scope, 25), LIST_TARGET),
        case("list_100", "投诉列表 100 条/页", "/complaints/?per_page=100", ListFloor(scope, 100), LIST_TARGET),
        case(
            "list_deep",
            "投诉列表 第 40 页",
            "/complaints/?per_page=25&page=40",
            ListFloor(scope, 25, 25 * 39),
            LIST_TARGET,
        ),
        case(
            "list_open",
            "未结投诉（倒计时）",
            "/complaints/?state=open&per_page=25",
            ListFloor(scope, 25, open_only=True),
            LIST_TARGET,
        ),
        case(
            "list_count", "投诉列表 总数（随后取回）", "/complaints/count/", ListFloor(scope, count=True), LIST_TARGET
        ),
        case(
            "report",
            f"月度分析报告 {report_month:%Y-%m}",
            f"/complaints/reports/monthly/?month={report_month:%Y-%m}",
            ReportFloor(_scope_sql(dataset, assigned=False), report_month),
            REPORT_TARGET,
        ),
    ]


def measure(cases: Sequence[Case], *, requests: int, warmup: int, budget_s: float, write: Write) -> list[Result]:
    """Each page beside its floor and the floor's bare SQL, interleaved (bench.pages.measure)."""
    return pages.measure(
        [(case.scenario, case.floor) for case in cases],
        urlconf=__name__,
        floor_prefix="/__bench__/complaints/",
        floors=_FLOORS,
        requests=requests,
        warmup=warmup,
        budget_s=budget_s,
        write=write,
    )


def verdict_lines(results: Sequence[Result]) -> list[str]:
    """The N+1 check over the list pages and the report's ratio to its floor."""
    by_key = {r.scenario.key: r for r in results}
    lines = []
    lists = [by_key[k] for k in ("list_25", "list_100", "list_deep", "list_open") if k in by_key and by_key[k].ok]
    counts = [len(r.queries) for r in lists]
    if counts:
        same = "PASS" if len(set(counts)) == 1 else "MISS"
        lines.append(f"N+1 check (25 vs 100 rows vs page 40 vs open): {' / '.join(map(str, counts))} queries — {same}")
    report = by_key.get("report")
    if report is not None and report.ok:
        median, floor = statistics.median(report.times), statistics.median(report.floor_times)
        ok = _pct(report.times, 0.95) <= REPORT_TARGET.p95_ms and median <= REPORT_RATIO * floor
        lines.append(
            f"report: median {median:.1f} ms, floor {floor:.1f} ms ({median / floor:.1f}×), target ≤ {REPORT_TARGET.p95_ms:g} ms"
            f" and ≤ {REPORT_RATIO:g}× floor — {'PASS' if ok else 'MISS'}"
        )
    return lines


def dataset_lines(dataset: Dataset) -> list[str]:
    rows = Complaint.objects.filter(company=dataset.company)
    total = rows.count()
    open_count = rows.filter(status__in=list(Complaint.OPEN)).count()
    director = rows.filter(analysis.report_scope_q(dataset.director)).count()
    lines = [
        f"complaints: {total:,} ({open_count:,} open); the director ({dataset.director.username}, PROJECT scope,"
        f" {len(dataset.director_project_ids)} of {len(dataset.project_ids)} projects) sees {director:,}"
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [Complaint._meta.db_table])
            lines.append(f"size (with indexes): complaints {cursor.fetchone()[0]}")
    return lines


def _shown(values: tuple[int, ...]) -> str:
    return f"{len(values)} ids" if len(values) > 3 else str(values)


def check_lines(cases: Sequence[Case], *, now: datetime) -> list[str]:
    """The floors count what the pages count (else the ratios compare different work)."""
    from crm.complaints.selectors import complaints_visible_to

    lines = []
    page: tuple[int, ...]
    got: tuple[int, ...]
    for case in cases:
        floor, user = case.floor, case.scenario.user
        if isinstance(floor, ListFloor) and floor.count:
            page = (complaints_visible_to(user).order_by()[: CappedPaginator.CAP + 1].count(),)
            got = (floor.fetch()["count"],)
        elif isinstance(floor, ListFloor) and not floor.open_only and not floor.offset and floor.rows == 25:
            page = tuple(
                complaints_visible_to(user).order_by("-registered_at", "-id").values_list("pk", flat=True)[:25]
            )
            got = tuple(r[0] for r in floor.fetch()["rows"])
        elif isinstance(floor, ReportFloor):
            report = analysis.monthly_report(user, floor.month, now=now)
            data = floor.fetch()
            page = (report.current.total, report.previous.total, report.open_count)
            got = (data["figures"][0][0], data["figures"][1][0], data["open_count"])
        else:
            continue
        verdict = "OK" if page == got else "WRONG RESULT"
        lines.append(f"result check [{case.scenario.label}]: page {_shown(page)}, floor {_shown(got)} — {verdict}")
    return lines
