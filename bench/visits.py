"""The visits benchmark (`python -m bench visits`): the day's visit-task generation beside
its raw-SQL floor, and the work queue (a consultant's open tasks) beside its floor.

1. Dataset: the customers benchmark's company (bench.dataset.ensure_dataset, reused when
   one of that size exists), the seed's visit plans on its projects, and ``tasks`` visit
   tasks bulk-inserted (``INSERT … SELECT`` over the customers, not through Python): tasks
   of every customer of the company by its consultant, mostly done, some open, due over
   the two months around today; exactly ``open_tasks`` of the benchmark consultant's are
   open (the rest of theirs done). A marker row (core.Counter) records the size; a table
   of that size is reused.
2. Generation (``generation_lines``): the state after yesterday's run (the job's own, on
   the day before), then the day's run — crm.visits.planning.generate_for_plan for every
   plan of the company — interleaved with its *floor*: the same rows inserted by one
   hand-written ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per plan (per plan and year
   for birthdays), the anchors' dates precomputed the same way and joined as arrays
   (PostgreSQL). Medians of ``repeat``; the rows each inserted must agree. Then the first
   run on an empty window (a new installation: the whole catch-up period) and a rerun
   with everything made (the job runs hourly: the figure paid all day). Targets (issue 12,
   PostgreSQL, 1,000,000 customers): the day under 2 s and within 3x its floor.
3. The work queue (``queue_cases`` / ``measure``): ``/visits/`` as the consultant opens it
   (their open tasks, due date order) at 25 and 100 rows, a deep page and the last page,
   each timed through django.test.Client interleaved with its floor (the same rows by
   hand-written SQL, rendered by a minimal view behind the same middleware) and the
   floor's bare SQL. Targets: p95 ≤ 20 ms, the same number of queries on every page; the
   raw query well under 1 ms with the partial index on open tasks
   (``visit_open_by_assignee``: assignee, due date, id where open).

Everything the generation writes is removed again; the queue's tasks stay for the next
run. Figures: docs/performance.md.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.urls import path

from bench import pages
from bench.customers import Result, Scenario, Target, _pct
from bench.dataset import Dataset, Write, db_table
from config.urls import urlpatterns as site_urlpatterns
from crm.accounts.models import User
from crm.core.calendar import work_calendar
from crm.core.models import Counter
from crm.customers.models import Customer, Deal
from crm.lib.workcalendar import WorkCalendar
from crm.projects.models import Project
from crm.visits import planning
from crm.visits.models import AssigneeRule, Occasion, VisitPlan, VisitTask
from crm.visits.services import ensure_default_plans

MARKER_KEY = "bench:visit-tasks:v2"
TARGET_DAY_S = 2.0
TARGET_RATIO = 3.0
QUEUE_TARGET = Target(20)
RAW_TARGET_MS = 1.0
DONE_SHARE = 90  # percent of the other tasks that are finished (done, cancelled, unreachable)


# ------------------------------------------------------------------------- the dataset


def ensure_plans(dataset: Dataset) -> list[VisitPlan]:
    for project in Project.objects.filter(pk__in=dataset.project_ids):
        ensure_default_plans(project)
    return list(VisitPlan.objects.filter(project_id__in=dataset.project_ids, is_active=True).order_by("pk"))


def _marker() -> int | None:
    value = Counter.objects.filter(key=MARKER_KEY).values_list("value", flat=True).first()
    return None if value is None else int(value)


def _series(count: int) -> str:
    """``count`` rows numbered k = 1…count."""
    if connection.vendor == "postgresql":
        return f"generate_series(1, {int(count)}) AS s(k)"
    return (
        f"(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {int(count)}) SELECT k FROM s) AS s"
    )


def _plus_days(days: str) -> str:
    """The date parameter plus ``days`` (an SQL integer expression)."""
    if connection.vendor == "postgresql":
        return f"(%s::date + CAST({days} AS integer))"
    return f"date(%s, ({days}) || ' days')"


def task_columns(given: dict[str, str]) -> tuple[str, str, list[Any]]:
    """(column list, select list, parameters) of an INSERT of VisitTask rows: ``given``
    column → SQL expression; every other column its model default (a parameter), the
    auto_now ones the current time."""
    from django.utils import timezone

    now = timezone.now()
    columns, exprs, params = [], [], []
    for f in VisitTask._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(str(f.column)))
        if f.column in given:
            exprs.append(given[f.column])
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
        else:
            value = f.get_default()
        exprs.append(f"CAST(%s AS {f.db_type(connection)})" if connection.vendor == "postgresql" else "%s")
        params.append(f.get_db_prep_save(value, connection))
    return ", ".join(columns), ", ".join(exprs), params


def ensure_queue_tasks(dataset: Dataset, total: int, open_tasks: int, *, day: date, write: Write) -> float | None:
    """``total`` visit tasks in the table, ``open_tasks`` of them the consultant's open ones;
    reused when the marker says this size. Returns the seconds it took, None when reused."""
    if _marker() == total:
        write(f"Reusing the {total:,} generated visit tasks.")
        return None
    write(f"Generating {total:,} visit tasks ({open_tasks:,} open for {dataset.consultant.username})…")
    started = time.perf_counter()
    VisitTask.objects.filter(company=dataset.company, plan__isnull=True, occasion__startswith="bench:").delete()
    customers = Customer.objects.filter(company=dataset.company).count()
    per_customer = -(-total // customers)
    table = db_table(VisitTask)
    spread = "((c.id * 7 + s.k * 13) %% 100)"
    status = (
        f"CASE WHEN c.owner_id = %s THEN 'done' WHEN {spread} < {DONE_SHARE - 6} THEN 'done'"
        f" WHEN {spread} < {DONE_SHARE - 2} THEN 'cancelled' WHEN {spread} < {DONE_SHARE} THEN 'unreachable'"
        f" WHEN {spread} < 97 THEN 'pending' ELSE 'retry' END"
    )
    given = {
        "company_id": "c.company_id",
        "customer_id": "c.id",
        "project_id": "c.project_id",
        "occasion": "'bench:' || s.k",
        "kind": "'campaign'",
        "occasion_on": _plus_days("((c.id + s.k) %% 60) - 45"),
        "purpose": "'压测回访'",
        "channel": "'phone'",
        "assignee_id": "c.owner_id",
        "status": status,
        "start_on": _plus_days("((c.id + s.k) %% 60) - 35"),
        "due_on": _plus_days("((c.id + s.k) %% 60) - 30"),
    }
    given_params: dict[str, list[Any]] = {
        "occasion_on": [day],
        "start_on": [day],
        "due_on": [day],
        "status": [dataset.consultant.pk],
    }
    columns, exprs, ordered = _ordered(given, given_params)
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {exprs} FROM {db_table(Customer)} c CROSS JOIN {_series(per_customer)}"
        f" WHERE c.company_id = %s LIMIT {int(total)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ordered, dataset.company.pk])
        bench_tasks = VisitTask.objects.filter(company=dataset.company, occasion__startswith="bench:")
        mine = list(
            bench_tasks.filter(assignee=dataset.consultant).order_by("pk").values_list("pk", flat=True)[:open_tasks]
        )
        VisitTask.objects.filter(pk__in=mine).update(status=VisitTask.Status.PENDING)
        if len(mine) < open_tasks:
            # Below 1,000,000 customers the consultant's own customers have fewer tasks: the
            # rest are other customers' tasks handed to them (visible as assigned to them).
            handed = list(
                bench_tasks.exclude(assignee=dataset.consultant)
                .order_by("pk")
                .values_list("pk", flat=True)[: open_tasks - len(mine)]
            )
            VisitTask.objects.filter(pk__in=handed).update(assignee=dataset.consultant, status=VisitTask.Status.PENDING)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
    Counter.objects.update_or_create(key=MARKER_KEY, defaults={"value": total})
    seconds = time.perf_counter() - started
    write(f"  {total:,} visit tasks in {seconds:.1f} s")
    return seconds


# ------------------------------------------------------------------------- generation


@dataclass
class GenTiming:
    label: str
    rows: int
    seconds: float
    floor_rows: int | None = None
    floor_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.floor_seconds if self.floor_seconds else None


def _generate(plans: Sequence[VisitPlan], day: date, calendar: WorkCalendar) -> int:
    return sum(planning.generate_for_plan(plan, today=day, calendar=calendar) for plan in plans)


def _floor_statements(plan: VisitPlan, day: date, calendar: WorkCalendar) -> list[tuple[str, list[Any]]]:
    """The hand-written INSERT … SELECT of one plan's tasks for ``day`` (PostgreSQL): the
    anchors' dates precomputed as the planner computes them, joined as arrays."""
    first, last = planning.window(plan, day)
    lo, hi = planning._anchor_range(plan, first, last)
    days = [lo + timedelta(days=n) for n in range((hi - lo).days + 1)]
    schedules = planning._schedules(plan, days, first, last, calendar)
    if not schedules:
        return []
    tasks, customers, deals = db_table(VisitTask), db_table(Customer), db_table(Deal)
    owner = "c.owner_id" if plan.assignee_rule == AssigneeRule.OWNER else "CAST(%s AS bigint)"
    owner_params = [] if plan.assignee_rule == AssigneeRule.OWNER else [plan.assignee_id]
    constants = {
        "company_id": f"CAST({int(plan.company_id)} AS bigint)",
        "project_id": f"CAST({int(plan.project_id)} AS bigint)",
        "plan_id": f"CAST({int(plan.pk)} AS bigint)",
        "purpose": "%s",
        "channel": "%s",
        "questions": "CAST(%s AS jsonb)",
        "max_attempts": f"{int(plan.max_attempts)}",
    }
    constant_params = [plan.purpose, plan.channel, json.dumps(plan.question_list, ensure_ascii=False)]
    statements = []
    if plan.occasion != Occasion.BIRTHDAY:
        field = planning.MILESTONE_FIELDS[Occasion(plan.occasion)]
        anchors = sorted(schedules)
        given = {
            "customer_id": "d.customer_id",
            "occasion": "'deal:' || d.id",
            "deal_id": "d.id",
            "occasion_on": f"d.{field}",
            "assignee_id": owner,
            "start_on": "v.start_on",
            "due_on": "v.due_on",
            "due_note": "v.note",
            **constants,
        }
        columns, select, params = _ordered(given, {"assignee_id": owner_params, **_const_params(constant_params)})
        sql = (
            f"INSERT INTO {tasks} ({columns}) SELECT {select} FROM {deals} d"
            " JOIN unnest(%s::date[], %s::date[], %s::date[], %s::text[]) AS v(anchor, start_on, due_on, note)"
            f" ON d.{field} = v.anchor JOIN {customers} c ON c.id = d.customer_id"
            " WHERE d.project_id = %s AND d.status = 'active' AND NOT c.is_archived"
            f" AND NOT EXISTS (SELECT 1 FROM {tasks} t WHERE t.customer_id = d.customer_id AND t.plan_id = %s"
            " AND t.occasion = 'deal:' || d.id) ON CONFLICT DO NOTHING"
        )
        arrays = [anchors, *([schedules[a][i] for a in anchors] for i in range(3))]
        return [(sql, [*params, *arrays, plan.project_id, plan.pk])]
    for year in sorted({lo.year, hi.year}):
        solar, lunar = planning.birthdays_of_year(year)
        solar_keys = sorted((k, d) for k, d in solar.items() if d in schedules)
        lunar_keys = sorted((k, d) for k, d in lunar.items() if d in schedules)
        for kind, keys in (("solar", solar_keys), ("lunar", lunar_keys)):
            if not keys:
                continue
            given = {
                "customer_id": "c.id",
                "occasion": f"'{year}'",
                "occasion_on": "v.anchor",
                "assignee_id": owner,
                "start_on": "v.start_on",
                "due_on": "v.due_on",
                "due_note": "v.note",
                **constants,
            }
            columns, select, params = _ordered(given, {"assignee_id": owner_params, **_const_params(constant_params)})
            when = [d for _, d in keys]
            dated = [when, *([schedules[d][i] for d in when] for i in range(3))]
            if kind == "solar":
                source = (
                    "unnest(%s::text[], %s::date[], %s::date[], %s::date[], %s::text[])"
                    " AS v(mmdd, anchor, start_on, due_on, note) ON c.birth_mmdd = v.mmdd AND NOT c.birthday_is_lunar"
                )
                arrays = [[k for k, _ in keys], *dated]
            else:
                source = (
                    "unnest(%s::int[], %s::int[], %s::bool[], %s::date[], %s::date[], %s::date[], %s::text[])"
                    " AS v(lm, ld, leap, anchor, start_on, due_on, note) ON c.birthday_is_lunar"
                    " AND c.lunar_month = v.lm AND c.lunar_day = v.ld AND c.lunar_is_leap = v.leap"
                )
                arrays = [[k[0] for k, _ in keys], [k[1] for k, _ in keys], [k[2] for k, _ in keys], *dated]
            sql = (
                f"INSERT INTO {tasks} ({columns}) SELECT {select} FROM {customers} c JOIN {source}"
                " WHERE c.project_id = %s AND c.stage = 'owner' AND NOT c.is_archived"
                f" AND NOT EXISTS (SELECT 1 FROM {tasks} t WHERE t.customer_id = c.id AND t.plan_id = %s"
                f" AND t.occasion = '{year}') ON CONFLICT DO NOTHING"
            )
            statements.append((sql, [*params, *arrays, plan.project_id, plan.pk]))
    return statements


def _const_params(values: list[Any]) -> dict[str, list[Any]]:
    return {"purpose": [values[0]], "channel": [values[1]], "questions": [values[2]]}


def _ordered(given: dict[str, str], given_params: dict[str, list[Any]]) -> tuple[str, str, list[Any]]:
    """task_columns with the given expressions' parameters in select-list order."""
    columns, select, defaults = task_columns(given)
    params: list[Any] = []
    fixed = iter(defaults)
    for f in VisitTask._meta.concrete_fields:
        if f.primary_key:
            continue
        params.extend(given_params.get(f.column, []) if f.column in given else [next(fixed)])
    return columns, select, params


def _run_floor(statements: list[tuple[str, list[Any]]]) -> int:
    rows = 0
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            rows += cursor.rowcount
    return rows


def _last_task() -> int:
    return VisitTask.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@contextmanager
def _scratch() -> Iterator[Callable[[int], None]]:
    """Yields ``reset(mark)``: removes the tasks made after task ``mark``; at the end, every
    task made since the start."""
    start = _last_task()

    def reset(mark: int) -> None:
        VisitTask.objects.filter(pk__gt=mark).delete()

    try:
        yield reset
    finally:
        reset(start)


def _timed(func: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    rows = func()
    return rows, time.perf_counter() - started


def generation_timings(
    plans: Sequence[VisitPlan], day: date, *, repeat: int = 3, write: Write = print
) -> tuple[GenTiming, GenTiming, GenTiming]:
    """(the day after yesterday's run beside its floor, the first run on an empty window
    beside its floor, a rerun with everything made)."""
    calendar = work_calendar()
    floors = connection.vendor == "postgresql"
    with _scratch() as reset:
        empty = _last_task()

        def floor_run() -> int:
            return _run_floor([s for plan in plans for s in _floor_statements(plan, day, calendar)])

        def mine() -> int:
            return _generate(plans, day, calendar)

        first_floor = _timed(floor_run) if floors else None
        reset(empty)
        first = _timed(mine)
        again = _timed(mine)
        reset(empty)
        before = _generate(plans, day - timedelta(days=1), calendar)  # yesterday's run
        mark = _last_task()
        write(f"  yesterday's run made {before:,} tasks")
        hand: list[tuple[int, float]] = []
        ours: list[tuple[int, float]] = []
        for _ in range(repeat):
            if floors:
                hand.append(_timed(floor_run))
                reset(mark)
            ours.append(_timed(mine))
            reset(mark)
    day_timing = GenTiming(
        "the day (after yesterday's run)",
        ours[0][0],
        statistics.median(t for _, t in ours),
        hand[0][0] if hand else None,
        statistics.median(t for _, t in hand) if hand else None,
    )
    first_timing = GenTiming(
        "first run (empty window)",
        first[0],
        first[1],
        first_floor[0] if first_floor else None,
        first_floor[1] if first_floor else None,
    )
    return day_timing, first_timing, GenTiming("again (all made)", again[0], again[1])


def generation_lines(dataset: Dataset, day: date, *, repeat: int = 3, write: Write = print) -> list[str]:
    plans = ensure_plans(dataset)
    write(f"Visit-task generation for {day} ({len(plans)} plans, median of {repeat})…")
    timings = generation_timings(plans, day, repeat=repeat, write=write)
    lines = [
        f"Visit-task generation, {day}: {Customer.objects.filter(company=dataset.company).count():,} customers,"
        f" {len(plans)} plans, {connection.vendor}, median of {repeat}",
        f"{'run':<34} {'rows':>7} {'ms':>9} {'floor ms':>9} {'ratio':>6}  target <{TARGET_DAY_S:g} s, ≤{TARGET_RATIO:g}x",
    ]
    for t in timings:
        if t.floor_seconds is None:
            floor, ratio = "—", "—"
            verdict = "ok" if t.seconds < TARGET_DAY_S else "MISS"
        else:
            floor, ratio = f"{t.floor_seconds * 1000:.1f}", f"{t.ratio:.1f}x"
            verdict = "ok" if t.seconds < TARGET_DAY_S and (t.ratio or 0) <= TARGET_RATIO else "MISS"
            if t.floor_rows != t.rows:
                verdict += f" (floor inserted {t.floor_rows} rows: WRONG FLOOR)"
        lines.append(f"{t.label:<34} {t.rows:>7} {t.seconds * 1000:>9.1f} {floor:>9} {ratio:>6}  {verdict}")
    return lines


# ------------------------------------------------------------------------- the work queue


@dataclass
class QueueFloor:
    """The consultant's open tasks by hand, as the page reads them: the page (due date, id;
    one row more to know whether a next page exists; from the 200th row the ids first, as
    CappedPaginator does) with customer, project, plan and assignee names — or, for the
    total the page fetches afterwards (``count``), the capped count alone."""

    user_id: int
    company_id: int
    rows: int = 25
    offset: int = 0
    count: bool = False

    def fetch(self) -> dict[str, Any]:
        tasks = db_table(VisitTask)
        where = "t.company_id = %s AND t.assignee_id = %s AND t.status IN ('pending', 'retry')"
        params = [self.company_id, self.user_id]
        with connection.cursor() as cursor:
            if self.count:
                cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {tasks} t WHERE {where} LIMIT 1001) s", params)
                return {"rows": [], "count": cursor.fetchone()[0]}
            order = "ORDER BY t.due_on, t.id"
            window = f"LIMIT {self.rows + 1} OFFSET {self.offset}"
            if self.offset >= 200:
                page = f"t.id IN (SELECT t.id FROM {tasks} t WHERE {where} {order} {window}) {order}"
            else:
                page = f"{where} {order} {window}"
            cursor.execute(
                "SELECT t.id, t.status, t.due_on, t.attempts, t.next_attempt_at, t.purpose, t.channel, c.name, p.name,"
                " pl.name, coalesce(nullif(u.display_name, ''), u.username)"
                f" FROM {tasks} t JOIN {db_table(Customer)} c ON c.id = t.customer_id"
                f" JOIN {db_table(Project)} p ON p.id = t.project_id LEFT JOIN {db_table(VisitPlan)} pl ON pl.id = t.plan_id"
                f" LEFT JOIN {db_table(User)} u ON u.id = t.assignee_id WHERE {page}",
                params,
            )
            rows = cursor.fetchall()
        return {"rows": rows[: self.rows], "count": ""}


_ENGINE = Engine()
_LIST = _ENGINE.from_string(
    "<!DOCTYPE html><title>回访</title><p>共 {{ count }} 条</p><table>{% for r in rows %}<tr><td>{{ r.7 }}"
    "<small>{{ r.9|default:r.5|truncatechars:24 }} · {{ r.6 }}</small></td><td>{{ r.8 }}</td><td>{{ r.9|default:'—' }}</td>"
    "<td>{{ r.1 }} {{ r.3 }} {{ r.4|date:'m-d H:i' }}</td><td>{{ r.2|date:'Y-m-d' }}</td><td>{{ r.10 }}</td></tr>{% endfor %}</table>"
)
_FLOORS: dict[str, QueueFloor] = {}


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    data = _FLOORS[key].fetch()
    return HttpResponse(_LIST.render(Context(data)))


urlpatterns = [*site_urlpatterns, path("__bench__/visits/<str:key>/", floor_view)]


@dataclass
class Case:
    scenario: Scenario
    floor: QueueFloor


def queue_cases(dataset: Dataset) -> list[Case]:
    user = dataset.consultant
    open_count = VisitTask.objects.filter(assignee=user, status__in=list(VisitTask.OPEN)).count()
    last = max(1, -(-open_count // 25))
    deep = max(1, min(last, 100))

    def case(key: str, label: str, url: str, floor: QueueFloor) -> Case:
        return Case(Scenario(key, label, user, url, floor=None, target=QUEUE_TARGET), floor)  # type: ignore[arg-type]

    floor: dict[str, Any] = {"user_id": user.pk, "company_id": dataset.company.pk}
    return [
        case("queue_25", "我的未完成 25 条/页", "/visits/?state=mine&per_page=25", QueueFloor(**floor)),
        case("queue_100", "我的未完成 100 条/页", "/visits/?state=mine&per_page=100", QueueFloor(**floor, rows=100)),
        case(
            "queue_deep",
            f"我的未完成 第 {deep} 页",
            f"/visits/?state=mine&per_page=25&page={deep}",
            QueueFloor(**floor, offset=25 * (deep - 1)),
        ),
        case(
            "queue_last",
            f"我的未完成 末页（第 {last} 页）",
            f"/visits/?state=mine&per_page=25&page={last}",
            QueueFloor(**floor, offset=25 * (last - 1)),
        ),
        case(
            "queue_count", "我的未完成 总数（随后取回）", "/visits/count/?state=mine", QueueFloor(**floor, count=True)
        ),
    ]


def measure(cases: Sequence[Case], *, requests: int, warmup: int, budget_s: float, write: Write) -> list[Result]:
    """Each page beside its floor and the floor's bare SQL, interleaved (bench.pages.measure)."""
    return pages.measure(
        [(case.scenario, case.floor) for case in cases],
        urlconf=__name__,
        floor_prefix="/__bench__/visits/",
        floors=_FLOORS,
        requests=requests,
        warmup=warmup,
        budget_s=budget_s,
        write=write,
    )


def verdict_lines(results: Sequence[Result]) -> list[str]:
    """The query count across pages, and the raw queries' p95 against their target: the
    first page's and the total's (what the partial index on open tasks is for); a deep
    page's ids walk that index further and are shown beside it."""
    measured = [r for r in results if r.ok]
    pages = [r for r in measured if r.scenario.key != "queue_count"]
    if not pages:
        return []
    counts = [len(r.queries) for r in pages]
    same = "PASS" if len(set(counts)) == 1 else "MISS"
    first = [r for r in measured if r.scenario.key in ("queue_25", "queue_count")]
    raw = max(_pct(r.sql_times, 0.95) for r in first) if first else float("nan")
    deep = max(_pct(r.sql_times, 0.95) for r in pages)
    return [
        f"N+1 check (25 vs 100 rows vs deep vs last page): {' / '.join(map(str, counts))} queries — {same}",
        f"raw query (first page, total; bare SQL): p95 {raw:.2f} ms at worst, target < {RAW_TARGET_MS:g} ms —"
        f" {'PASS' if raw < RAW_TARGET_MS else 'MISS'}; every page: p95 {deep:.2f} ms at worst",
    ]


def check_lines(cases: Sequence[Case]) -> list[str]:
    """The floor lists what the page lists, and counts what the total counts (else the
    ratios compare different work)."""
    from django.utils import timezone

    from crm.customers.views import CappedPaginator
    from crm.lib.dates import local_day
    from crm.visits.forms import VisitFilterForm

    today = local_day(timezone.now())
    lines = []
    by_key = {case.scenario.key: case for case in cases}
    for key in ("queue_25", "queue_last"):
        case = by_key[key]
        form = VisitFilterForm({"state": "mine"}, user=case.scenario.user)
        offset = case.floor.offset
        page = list(form.queryset(today=today).values_list("pk", flat=True)[offset : offset + case.floor.rows])
        got = [r[0] for r in case.floor.fetch()["rows"]]
        verdict = "OK" if page == got else "WRONG RESULT"
        lines.append(f"result check [{case.scenario.label}]: page ids {len(page)}, floor {len(got)} — {verdict}")
    case = by_key["queue_count"]
    form = VisitFilterForm({"state": "mine"}, user=case.scenario.user)
    count = CappedPaginator(form.queryset(today=today), 25).count
    floor = case.floor.fetch()["count"]
    verdict = "OK" if count == floor else "WRONG RESULT"
    lines.append(f"result check [{case.scenario.label}]: total {count} (capped), floor {floor} — {verdict}")
    return lines


def dataset_lines(dataset: Dataset) -> list[str]:
    rows = VisitTask.objects.filter(company=dataset.company)
    mine = rows.filter(assignee=dataset.consultant)
    lines = [
        f"visit tasks: {rows.count():,} ({rows.filter(status__in=list(VisitTask.OPEN)).count():,} open);"
        f" the consultant ({dataset.consultant.username}) has {mine.count():,},"
        f" {mine.filter(status__in=list(VisitTask.OPEN)).count():,} open"
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [VisitTask._meta.db_table])
            lines.append(f"size (with indexes): visit tasks {cursor.fetchone()[0]}")
    return lines
