"""The reports benchmark (`python -m bench reports`): generating each kind of report pack and
the KPI dashboard for one month, each beside a raw-SQL floor (issue 15).

1. Dataset: the one the other benchmarks build (bench.dataset: 1,000,000 customers;
   bench.complaints: 300,000 complaints; bench.visits: 3,000,000 visit tasks). Nothing is
   generated here: a missing part is reported and its figures are indicative.
2. Packs: the pure build function (crm.reports.building.build) of each kind — weekly,
   monthly, daily inspection, complaint monthly, visit monthly — for the company, all
   projects, over the month (week, day) where the dataset's visit tasks fall due. Nothing
   is saved (generate_pack adds one INSERT and an audit row to that). Each timed run is
   followed by its floor:
   - the visit-task figures (the largest table: every channel's due, done, reached,
     unreachable, open, ratings and purposes) by one hand-written GROUP BY;
   - the complaint analysis (complaint monthly) by bench.complaints.ReportFloor's
     hand-written statements over the whole company;
   - every other statement the build sends (deals, gifts, care, media, small tables) as
     it sent it, through a bare cursor.
   So the ratio is the product's cost over the work the database must do for the same
   numbers; a result check compares the pack's visit figures with the floor's.
3. The dashboard (/kpis/ for one month, the director) through bench.pages.measure: the
   page, the floor page (the same statements through a cursor and a minimal template) and
   the bare SQL, interleaved — first with no month counts (every row counted live: a
   reference, as before the counting job's first run), then after running the counting
   job (crm.kpis.counting, hourly in production, decision 0030), timed and printed, as
   deployed. A result check compares everything the page shows (figures, trend, projects)
   between the two. The 12-month trend is timed separately (crm.kpis.dashboard.trend)
   beside its statements.

Targets: each ≤ 500 ms and ≤ 3× its floor on PostgreSQL. Figures: docs/performance.md.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.test.utils import CaptureQueriesContext
from django.urls import path

from bench import pages
from bench.customers import Result, Scenario, Target, _pct
from bench.dataset import Dataset, Write, db_table
from config.urls import urlpatterns as site_urlpatterns
from crm.reports import building
from crm.reports.models import Kind
from crm.visits.models import VisitTask

TARGET_MS = 500.0
SLACK_MS = 5.0
LIVE_KEY = "dashboard-live"
RATIO = 3.0
VISIT_FIGURES = ("due", "done", "reached", "unreachable", "open")
SKIPPED = ("django_session", "accounts_user", "core_notification", "SAVEPOINT", "RELEASE SAVEPOINT")


# ------------------------------------------------------------------------ the floors


@dataclass
class StatementFloor:
    """Statements as the code sent them (the backend's own text), run through a bare cursor."""

    statements: list[str] = field(default_factory=list)

    def fetch(self) -> list[list[Any]]:
        results = []
        with connection.cursor() as cursor:
            for sql in self.statements:
                cursor.execute(sql)
                results.append(cursor.fetchall() if cursor.description else [])
        return results


def replayable(statements: Sequence[str]) -> list[str]:
    """The statements as a bare cursor runs them: a server-side cursor's DECLARE … FOR
    SELECT as its SELECT (its FETCH and CLOSE dropped)."""
    result = []
    for sql in statements:
        if sql.startswith(("FETCH ", "CLOSE ")):
            continue
        if sql.startswith("DECLARE "):
            sql = sql.split(" FOR ", 1)[1]
        result.append(sql)
    return result


def captured(run: Callable[[], Any]) -> list[str]:
    """The statements ``run`` sends, but the session, user and notification reads of a request."""
    with CaptureQueriesContext(connection) as queries:
        run()
    return replayable([q["sql"] for q in queries.captured_queries if not any(s in q["sql"][:80] for s in SKIPPED)])


def visit_floor_sql(company_id: int, first: date, last: date) -> tuple[str, list[Any]]:
    """Every channel's visit figures of the tasks due in [first, last] (not cancelled), by hand."""
    return (
        "SELECT t.channel, t.purpose, count(*), count(*) FILTER (WHERE t.status = 'done'),"
        " count(*) FILTER (WHERE t.reached), count(*) FILTER (WHERE t.status = 'unreachable'),"
        " count(*) FILTER (WHERE t.status IN ('pending', 'retry')),"
        " count(t.satisfaction) FILTER (WHERE t.status = 'done'), sum(t.satisfaction) FILTER (WHERE t.status = 'done')"
        f" FROM {db_table(VisitTask)} t WHERE t.company_id = %s AND t.due_on >= %s AND t.due_on <= %s"
        " AND t.status <> 'cancelled' GROUP BY t.channel, t.purpose",
        [company_id, first, last],
    )


def visit_floor_figures(rows: Sequence[Sequence[Any]]) -> dict[str, dict[str, int]]:
    """The floor's groups summed per channel: due, done, reached, unreachable, open."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        entry = totals.setdefault(row[0], dict.fromkeys(VISIT_FIGURES, 0))
        for i, name in enumerate(VISIT_FIGURES):
            entry[name] += int(row[2 + i] or 0)
    return totals


@dataclass
class PackFloor:
    """A pack's floor: the hand-written visit and complaint statements, the rest as sent."""

    visit: tuple[str, list[Any]] | None
    complaint: Any | None  # bench.complaints.ReportFloor
    rest: StatementFloor

    def fetch(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rest": self.rest.fetch()}
        if self.visit is not None:
            with connection.cursor() as cursor:
                cursor.execute(*self.visit)
                data["visits"] = visit_floor_figures(cursor.fetchall())
        if self.complaint is not None:
            data["complaints"] = self.complaint.fetch()
        return data


def _is_visit_figures(sql: str) -> bool:
    return "visits_visittask" in sql and "GROUP BY" in sql and "due_on" in sql and "completed_at" not in sql


def _is_complaint_analysis(sql: str) -> bool:
    return "complaints_complaint" in sql and "complaints_customerissue" not in sql


# ------------------------------------------------------------------------- the packs


@dataclass
class PackCase:
    key: str
    label: str
    kind: str
    first: date
    last: date
    floor: PackFloor | None = None
    statements: int = 0
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def busiest_month(dataset: Dataset) -> date:
    """The first day of the complete month (before this one) with the most visit tasks due:
    the bench data puts tasks and complaints in the recent months."""
    from django.db.models import Count
    from django.db.models.functions import TruncMonth
    from django.utils import timezone

    from crm.lib.dates import local_day

    this_month = local_day(timezone.now()).replace(day=1)
    row = (
        VisitTask.objects.filter(company=dataset.company, due_on__lt=this_month)
        .annotate(m=TruncMonth("due_on"))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by("-n", "-m")
        .first()
    )
    if row is None:
        from django.utils import timezone

        from crm.lib.dates import local_day

        return local_day(timezone.now()).replace(day=1)
    month: date = row["m"]
    return month.replace(day=1) if not isinstance(month, datetime) else month.date().replace(day=1)


def pack_cases(month: date) -> list[PackCase]:
    from crm.reports import periods

    first, last = periods.month_bounds(month)
    week_first, week_last = periods.week_bounds(first + timedelta(days=14))
    day = first + timedelta(days=14)
    return [
        PackCase("weekly", f"周报 {week_first:%m-%d}–{week_last:%m-%d}", Kind.WEEKLY, week_first, week_last),
        PackCase("monthly", f"月报 {first:%Y-%m}", Kind.MONTHLY, first, last),
        PackCase("daily", f"每日巡查报告 {day:%m-%d}", Kind.DAILY_INSPECTION, day, day),
        PackCase("complaint_monthly", f"客户投诉分析报告 {first:%Y-%m}", Kind.COMPLAINT_MONTHLY, first, last),
        PackCase("visit_monthly", f"月度回访统计 {first:%Y-%m}", Kind.VISIT_MONTHLY, first, last),
    ]


def _build(case: PackCase, dataset: Dataset, now: datetime) -> dict[str, Any]:
    return building.build(
        Kind(case.kind), company_id=dataset.company.pk, project=None, first=case.first, last=case.last, now=now
    )


def _pack_floor(case: PackCase, dataset: Dataset, statements: list[str]) -> PackFloor:
    from bench.complaints import ReportFloor

    visit = any(_is_visit_figures(s) for s in statements)
    complaint = case.kind == Kind.COMPLAINT_MONTHLY
    rest = [
        s for s in statements if not (visit and _is_visit_figures(s)) and not (complaint and _is_complaint_analysis(s))
    ]
    return PackFloor(
        visit_floor_sql(dataset.company.pk, case.first, case.last) if visit else None,
        ReportFloor(("c.company_id = %s", [dataset.company.pk]), case.first) if complaint else None,
        StatementFloor(replayable(rest)),
    )


def time_packs(
    cases: Sequence[PackCase], dataset: Dataset, *, now: datetime, repeat: int, budget_s: float, write: Write
) -> None:
    """Build each pack ``repeat`` times (one untimed first, its statements captured), each
    run followed by its floor."""
    for case in cases:
        with CaptureQueriesContext(connection) as queries:
            case.data = _build(case, dataset, now)
        statements = [q["sql"] for q in queries.captured_queries]
        case.statements = len(statements)
        case.floor = _pack_floor(case, dataset, statements)
        case.floor.fetch()
        gc.collect()
        # As config/wsgi.py does in a web process (a pack on demand is built in one) and
        # config/celery.py in a worker: what is alive now is kept out of full collections.
        gc.freeze()
        try:
            started = time.perf_counter()
            for i in range(repeat):
                if i >= 3 and time.perf_counter() - started > budget_s:
                    break
                t0 = time.perf_counter()
                _build(case, dataset, now)
                t1 = time.perf_counter()
                case.floor.fetch()
                t2 = time.perf_counter()
                case.times.append((t1 - t0) * 1000)
                case.floor_times.append((t2 - t1) * 1000)
        finally:
            gc.unfreeze()
        write(
            f"  {case.label}: median {statistics.median(case.times):.1f} ms,"
            f" floor {statistics.median(case.floor_times):.1f} ms, {case.statements} statements"
        )


def _pack_visits(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The visit figures a pack shows, per channel, read back from its sections."""
    labels = {"应回访": "due", "已完成": "done", "接通": "reached", "多次未接通": "unreachable", "未完成": "open"}
    keys = {"phone_visits": "phone", "face_visits": "visit"}
    found: dict[str, dict[str, int]] = {}
    for s in data["sections"]:
        channel = keys.get(s["key"])
        if channel is None:
            continue
        found[channel] = {labels[f["label"]]: int(f["value"]) for f in s["figures"] if f["label"] in labels}
    return found


def pack_check_lines(cases: Sequence[PackCase], dataset: Dataset, *, now: datetime) -> list[str]:
    """The floors count what the packs show (else the ratios compare different work)."""
    from crm.complaints import selectors as complaint_selectors

    lines = []
    for case in cases:
        if case.floor is None:
            continue
        data = case.floor.fetch()
        shown = _pack_visits(case.data)
        if shown:
            # Counted by hand from the tasks, whether the pack counted them or read the
            # hourly counts (decision 0030).
            with connection.cursor() as cursor:
                cursor.execute(*visit_floor_sql(dataset.company.pk, case.first, case.last))
                floor = visit_floor_figures_for(visit_floor_figures(cursor.fetchall()), shown)
            verdict = "OK" if shown == floor else "WRONG RESULT"
            lines.append(f"result check [{case.label}] visits: pack {shown}, floor {floor} — {verdict}")
        if case.kind == Kind.VISIT_MONTHLY:
            lines.append(_visitor_check(case, dataset))
        if case.floor.complaint is not None:
            report = complaint_selectors.complaint_analysis_for_scope(dataset.company.pk, case.first, now=now)
            page = (report.current.total, report.previous.total, report.open_count)
            got = (
                data["complaints"]["figures"][0][0],
                data["complaints"]["figures"][1][0],
                data["complaints"]["open_count"],
            )
            verdict = "OK" if page == got else "WRONG RESULT"
            lines.append(f"result check [{case.label}]: pack {page}, floor {got} — {verdict}")
    return lines


def _visitor_check(case: PackCase, dataset: Dataset) -> str:
    """月度回访统计's totals against the month's tasks counted by hand."""
    labels = {"应回访": 0, "已完成": 1, "接通": 2, "多次未接通": 3}
    section = next(s for s in case.data["sections"] if s["key"] == "visit_stats")
    pack = tuple(int(f["value"]) for f in section["figures"] if f["label"] in labels)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE t.status = 'done'), count(*) FILTER (WHERE t.reached),"
            f" count(*) FILTER (WHERE t.status = 'unreachable') FROM {db_table(VisitTask)} t"
            " WHERE t.company_id = %s AND t.due_on >= %s AND t.due_on <= %s",
            [dataset.company.pk, case.first, case.last],
        )
        floor = tuple(int(v) for v in cursor.fetchone())
    verdict = "OK" if pack == floor else "WRONG RESULT"
    return f"result check [{case.label}] per-visitor totals: pack {pack}, floor {floor} — {verdict}"


def visit_floor_figures_for(
    floor: dict[str, dict[str, int]], shown: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """The floor's figures of the channels and figures the pack shows (0 for a channel without tasks)."""
    return {channel: {name: floor.get(channel, {}).get(name, 0) for name in names} for channel, names in shown.items()}


def pack_table_lines(cases: Sequence[PackCase]) -> list[str]:
    lines = [
        "Packs: the pure build (crm.reports.building.build, nothing saved), median/p95 of n runs, after the hourly"
        " counts (an earlier month's visit figures are read from them); floor = the pack's statements as sent, through"
        " a cursor, with the visit-task and complaint aggregates it counts itself replaced by hand-written ones.",
        "| pack | n | median ms | p95 ms | statements | floor median | ratio | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for case in cases:
        if not case.times:
            continue
        median, floor = statistics.median(case.times), statistics.median(case.floor_times)
        # A pack of a few milliseconds (a day's inspection report, a month's visit statistics
        # read from the counts): 3× a sub-millisecond floor compares the interpreter's fixed
        # cost, not wasted work; within SLACK_MS of its floor counts as within it (said so).
        near = median - floor <= SLACK_MS
        ok = _pct(case.times, 0.95) <= TARGET_MS and (median <= RATIO * floor or near)
        verdict = "MISS" if not ok else ("PASS" if median <= RATIO * floor else f"PASS (within {SLACK_MS:g} ms of it)")
        lines.append(
            f"| {case.label} | {len(case.times)} | {median:.1f} | {_pct(case.times, 0.95):.1f} | {case.statements}"
            f" | {floor:.1f} | {median / floor:.1f}× | ≤ {TARGET_MS:g} ms, ≤ {RATIO:g}× floor | {verdict} |"
        )
    return lines


# ------------------------------------------------------------------------- the dashboard

_FLOORS: dict[str, StatementFloor] = {}
_PAGE = Engine().from_string(
    "<!DOCTYPE html><title>指标看板</title>{% for rows in results %}<table>{% for r in rows %}<tr>"
    "{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>{% endfor %}"
)


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    return HttpResponse(_PAGE.render(Context({"results": _FLOORS[key].fetch()})))


urlpatterns = [*site_urlpatterns, path("__bench__/reports/<str:key>/", floor_view)]


@dataclass
class Case:
    scenario: Scenario
    floor: StatementFloor


def dashboard_url(month: date) -> str:
    return f"/kpis/?kind=month&value={month:%Y-%m}"


def count_months(dataset: Dataset, now: datetime) -> tuple[float, int]:
    """Run the month-counting job (crm.kpis.counting, hourly in production) for the
    dataset's company: its seconds and rows."""
    from crm.kpis import counting

    t0 = time.perf_counter()
    rows = counting.count_company(dataset.company.pk, now=now)
    return time.perf_counter() - t0, rows


def without_month_counts() -> None:
    """Remove every company's month counts: the dashboard counts everything live."""
    from crm.kpis.models import MonthCount, MonthCountRun

    MonthCount.objects.all().delete()
    MonthCountRun.objects.all().delete()


def dashboard_figures(dataset: Dataset, month: date) -> tuple[Any, ...]:
    """Everything the dashboard of ``month`` shows the director: figures, trend, projects."""
    from crm.kpis import dashboard, definitions, periods
    from crm.kpis.definitions import KpiQuery

    period = periods.month_of(month)
    q = KpiQuery(dataset.director, period.start, period.end, ())
    months = periods.trend_months(period)
    counted = dashboard.sources(q, months)
    projects = dashboard.by_project(q, counted)
    figures = [(f.key, f.value, f.numerator, f.denominator) for f in definitions.all_figures(q)]
    trend = dashboard.trend(dataset.director, (), months, counted)
    return figures, trend.series, projects


def dashboard_cases(dataset: Dataset, month: date, *, label: str = "", key: str = "dashboard") -> list[Case]:
    """The dashboard of ``month`` as the director; its floor: the page's own statements."""
    from django.test import Client, override_settings

    url = dashboard_url(month)
    client = Client(raise_request_exception=False)
    with override_settings(ROOT_URLCONF=__name__), pages.quiet():
        client.force_login(dataset.director)
        pages.get(client, url)
        statements = captured(lambda: pages.get(client, url))
    label = label or f"指标看板 {month:%Y-%m}"
    scenario = Scenario(key, label, dataset.director, url, floor=None, target=Target(TARGET_MS))  # type: ignore[arg-type]
    return [Case(scenario, StatementFloor(statements))]


def measure(cases: Sequence[Case], *, requests: int, warmup: int, budget_s: float, write: Write) -> list[Result]:
    return pages.measure(
        [(case.scenario, case.floor) for case in cases],
        urlconf=__name__,
        floor_prefix="/__bench__/reports/",
        floors=_FLOORS,
        requests=requests,
        warmup=warmup,
        budget_s=budget_s,
        write=write,
    )


@dataclass
class TrendTiming:
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    statements: int = 0


def time_trend(dataset: Dataset, month: date, *, repeat: int) -> TrendTiming:
    """The 12-month trend alone (crm.kpis.dashboard.trend) beside its statements through a cursor."""
    from crm.kpis import dashboard, periods

    months = periods.trend_months(periods.month_of(month))

    def run() -> Any:
        return dashboard.trend(dataset.director, (), months)

    floor = StatementFloor(captured(run))
    timing = TrendTiming(statements=len(floor.statements))
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        floor.fetch()
        t2 = time.perf_counter()
        timing.times.append((t1 - t0) * 1000)
        timing.floor_times.append((t2 - t1) * 1000)
    return timing


def verdict_lines(results: Sequence[Result], trend: TrendTiming | None) -> list[str]:
    lines = []
    for r in results:
        if not r.ok:
            continue
        median, floor = statistics.median(r.times), statistics.median(r.floor_times)
        if r.scenario.key == LIVE_KEY:
            lines.append(
                f"{r.scenario.label}: median {median:.1f} ms, bare SQL {statistics.median(r.sql_times):.1f} ms"
                " — reference: the page before the counting job's first run (the target is for the page as deployed)"
            )
            continue
        ok = _pct(r.times, 0.95) <= TARGET_MS and median <= RATIO * floor
        lines.append(
            f"{r.scenario.label}: median {median:.1f} ms, floor {floor:.1f} ms ({median / floor:.1f}×), bare SQL"
            f" {statistics.median(r.sql_times):.1f} ms, target ≤ {TARGET_MS:g} ms and ≤ {RATIO:g}× floor"
            f" — {'PASS' if ok else 'MISS'}"
        )
    if trend is not None and trend.times:
        median, floor = statistics.median(trend.times), statistics.median(trend.floor_times)
        lines.append(
            f"12-month trend alone (part of the page): median {median:.1f} ms over {trend.statements} statements,"
            f" their bare SQL {floor:.1f} ms ({median / floor:.1f}×)"
        )
    return lines


def dataset_lines(dataset: Dataset, month: date) -> list[str]:
    from crm.complaints.models import Complaint

    tasks = VisitTask.objects.filter(company=dataset.company)
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return [
        f"visit tasks: {tasks.count():,} ({tasks.filter(due_on__gte=first, due_on__lte=last).count():,} due in"
        f" {first:%Y-%m}); complaints: {Complaint.objects.filter(company=dataset.company).count():,}"
    ]
