"""The customers benchmark (`python -m bench customers`): the customer pages and the import timed.

1. The dataset is ``bench.dataset.ensure_dataset``'s: a company of N generated customers,
   kept between runs.
2. Each ``Scenario`` is a real page driven through ``django.test.Client`` (the whole
   middleware stack, sessions and all) and its *floor*: the same rows fetched by one
   hand-written SQL statement per table through a database cursor and rendered by a
   minimal view behind the same middleware. Both run interleaved in the same loop, so
   load from other processes on the machine affects them alike.
3. ``measure`` warms up, times and counts queries; ``check_results`` walks every page of
   each search and compares the customers listed with raw SQL; ``time_import`` times
   crm.customers.importing on 100,000 new customers and rolls them back. The command
   line (bench/cli.py) prints the table with the targets.

The URLconf of this module (the site's plus the floor view) is installed only while the
benchmark runs. Figures and analysis: docs/performance.md.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import os
import platform
import random
import re
import statistics
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.test import Client
from django.test.utils import override_settings
from django.urls import path
from django.utils import timezone

from bench import pages
from bench.dataset import (
    CHANNEL_LABELS,
    CUSTOMER_NOTES,
    MARKER_KEY,
    PROJECTS,
    SEED,
    STAGE_LABELS,
    TAG_NAMES,
    Dataset,
    Write,
    bench_name,
    db_table,
)
from config.urls import urlpatterns as site_urlpatterns
from crm.accounts.models import User
from crm.customers.models import (
    Channel,
    ConsentRecord,
    Customer,
    CustomerProfile,
    Deal,
    FamilyMember,
    Tag,
    TimelineEvent,
)
from crm.customers.views import CappedPaginator
from crm.demo.foundation import demo_mobile
from crm.lib.mobile import mask_mobile
from crm.projects.models import Building, Project, Unit

# ------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Target:
    p95_ms: float
    max_queries: int | None = None

    def __str__(self) -> str:
        text = f"p95 ≤ {self.p95_ms:g} ms"
        return f"{text}, ≤ {self.max_queries} queries" if self.max_queries is not None else text


@dataclass
class Floor:
    """The page's equivalent: hand-written SQL through a cursor, one statement per table.

    A list is one statement for the page of customers (one row more than the page, which
    tells whether there is a next page) and one for their tags; a 360° page one statement
    each for the customer, its tags, deals, family, timeline and archive.
    """

    kind: str  # "list", "count" (the list's total, fetched after its rows) or "detail"
    queries: list[tuple[str, list[Any]]]
    rows: int = 0  # a list's page size

    def fetch(self) -> dict[str, Any]:
        with connection.cursor() as cursor:
            if self.kind == "count":
                sql, params = self.queries[0]
                cursor.execute(sql, params)
                return {"count": cursor.fetchone()[0]}
            if self.kind == "list":
                sql, params = self.queries[0]
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                tags = _tags_of(cursor, [r[0] for r in rows[: self.rows]])
                return {"rows": rows, "tags": tags}
            results = []
            for sql, params in self.queries:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
            customer = results[0][0]
            return {
                "customer": customer,
                "tags": [r[0] for r in results[1]],
                "deals": results[2],
                "family": results[3],
                "events": results[4],
                "profile": results[5][0] if results[5] else None,
            }


def _tags_of(cursor: Any, ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    if ids:
        through = Customer.tags.through
        cursor.execute(
            f"SELECT ct.customer_id, t.name FROM {db_table(through)} ct JOIN {db_table(Tag)} t ON t.id = ct.tag_id"
            f" WHERE ct.customer_id IN ({_placeholders(ids)}) ORDER BY t.name",
            list(ids),
        )
        for pk, name in cursor.fetchall():
            tags[pk].append(name)
    return tags


@dataclass
class Scenario:
    key: str
    label: str
    user: User
    url: str
    floor: Floor
    target: Target | None = None
    # Raw SQL returning every customer id the (paginated) page must list, in any order.
    expected_ids_sql: tuple[str, list[Any]] | None = None


@dataclass
class Result:
    scenario: Scenario
    status: int = 0
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    floor_queries: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.times)

    @property
    def verdict(self) -> str:
        target = self.scenario.target
        if target is None or not self.ok:
            return ""
        met = _pct(self.times, 0.95) <= target.p95_ms and (
            target.max_queries is None or len(self.queries) <= target.max_queries
        )
        return "PASS" if met else "MISS"


def _pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _scope_sql(user: User, dataset: Dataset) -> tuple[str, list[Any]]:
    """crm.core.scope's rule as plain SQL for the two personas (OWN and PROJECT)."""
    if user.pk == dataset.director.pk:
        ids = dataset.director_project_ids
        return f"c.company_id = %s AND c.project_id IN ({_placeholders(ids)})", [dataset.company.pk, *ids]
    return "c.company_id = %s AND (c.owner_id = %s OR c.advisor_id = %s)", [dataset.company.pk, user.pk, user.pk]


def _staff_name(alias: str) -> str:
    return f"coalesce(nullif({alias}.display_name, ''), {alias}.username)"


def _list_floor(
    user: User, dataset: Dataset, match: str = "", match_params: Sequence[Any] = (), *, rows: int = 25
) -> Floor:
    scope, params = _scope_sql(user, dataset)
    sql = (
        "SELECT c.id, c.number, c.name, c.mobile, c.stage, c.grade, c.is_vip, c.source_channel, c.created_at,"
        f" {_staff_name('u')}, p.name FROM {db_table(Customer)} c"
        f" JOIN {db_table(User)} u ON u.id = c.owner_id JOIN {db_table(Project)} p ON p.id = c.project_id"
        f" WHERE {scope} AND c.is_archived = %s {match}"
        f" ORDER BY c.created_at DESC, c.id DESC LIMIT {rows + 1}"
    )
    return Floor("list", [(sql, [*params, False, *match_params])], rows)


def _count_floor(user: User, dataset: Dataset) -> Floor:
    """The list's capped total (crm.customers.views.CappedPaginator) as one hand-written statement."""
    scope, params = _scope_sql(user, dataset)
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {db_table(Customer)} c WHERE {scope} AND c.is_archived = %s"
        f" LIMIT {CappedPaginator.CAP + 1}) s"
    )
    return Floor("count", [(sql, [*params, False])])


def _ids_sql(user: User, dataset: Dataset, match: str, match_params: Sequence[Any]) -> tuple[str, list[Any]]:
    scope, params = _scope_sql(user, dataset)
    return (
        f"SELECT c.id FROM {db_table(Customer)} c WHERE {scope} AND c.is_archived = %s {match}",
        [*params, False, *match_params],
    )


def _detail_floor(pk: int, user: User, dataset: Dataset) -> Floor:
    scope, params = _scope_sql(user, dataset)
    through = Customer.tags.through
    customer = (
        "SELECT c.id, c.number, c.name, c.gender, c.mobile, c.mobile2, c.stage, c.grade, c.is_vip, c.source_channel,"
        " c.birthday_on, c.notes, c.created_at, c.consent_care, c.consent_marketing, c.consent_at,"
        f" {_staff_name('u')}, {_staff_name('a')}, p.name"
        f" FROM {db_table(Customer)} c JOIN {db_table(User)} u ON u.id = c.owner_id"
        f" LEFT JOIN {db_table(User)} a ON a.id = c.advisor_id"
        f" JOIN {db_table(Project)} p ON p.id = c.project_id WHERE c.id = %s AND {scope}"
    )
    tags = (
        f"SELECT t.name FROM {db_table(through)} ct JOIN {db_table(Tag)} t ON t.id = ct.tag_id"
        " WHERE ct.customer_id = %s ORDER BY t.name"
    )
    deals = (
        f"SELECT d.id, p.name, b.name, un.number, un.layout, d.price, d.status, {_staff_name('u')},"
        " d.subscribed_on, d.contracted_on, d.full_payment_on, d.filed_on, d.delivered_on, d.moved_in_on"
        f" FROM {db_table(Deal)} d JOIN {db_table(Unit)} un ON un.id = d.unit_id"
        f" JOIN {db_table(Building)} b ON b.id = un.building_id JOIN {db_table(Project)} p ON p.id = d.project_id"
        f" JOIN {db_table(User)} u ON u.id = d.consultant_id"
        " WHERE d.customer_id = %s ORDER BY d.subscribed_on DESC, d.id DESC"
    )
    family = f"SELECT f.relation, f.name, f.birthday_on, f.mobile FROM {db_table(FamilyMember)} f WHERE f.customer_id = %s ORDER BY f.relation, f.id"
    events = (
        f"SELECT e.occurred_at, e.kind, e.summary, {_staff_name('a')}"
        f" FROM {db_table(TimelineEvent)} e LEFT JOIN {db_table(User)} a ON a.id = e.actor_id"
        " WHERE e.customer_id = %s ORDER BY e.occurred_at DESC, e.id DESC LIMIT 100"
    )
    profile = f"SELECT * FROM {db_table(CustomerProfile)} WHERE customer_id = %s"
    return Floor(
        "detail",
        [(customer, [pk, *params]), (tags, [pk]), (deals, [pk]), (family, [pk]), (events, [pk]), (profile, [pk])],
    )


def _one(sql: str, params: Sequence[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


IMPORT_TARGET_S = 10.0
LIST_TARGET = Target(15, 8)
SEARCH_TARGET = Target(20)
SHORT_SEARCH_TARGET = Target(50)
DETAIL_TARGET = Target(25, 12)


def build_scenarios(dataset: Dataset, *, page_size_param: str = "per_page") -> list[Scenario]:
    """The pages of the issue with their floors and targets (the targets hold at 1M on PostgreSQL)."""
    consultant, director = dataset.consultant, dataset.director
    table = db_table(Customer)
    d_scope, d_params = _scope_sql(director, dataset)
    o_scope, o_params = _scope_sql(consultant, dataset)
    # Search inputs come from the data, so they find real customers.
    mobile = _one(
        f"SELECT c.mobile FROM {table} c WHERE {d_scope} AND c.is_archived = %s ORDER BY c.id"
        f" LIMIT 1 OFFSET {dataset.customers // 4}",
        [*d_params, False],
    )
    fragment = (mobile or "13800005678")[-4:]
    full_name = _one(
        f"SELECT c.name FROM {table} c WHERE {d_scope} AND c.is_archived = %s AND length(c.name) = 3 ORDER BY c.id"
        f" LIMIT 1 OFFSET {dataset.customers // 5}",
        [*d_params, False],
    ) or _one(f"SELECT c.name FROM {table} c WHERE c.company_id = %s AND length(c.name) = 3", [dataset.company.pk])
    # The 360° page of the consultant's customer with the longest timeline.
    busiest = _one(
        f"SELECT e.customer_id FROM {db_table(TimelineEvent)} e JOIN {table} c ON c.id = e.customer_id"
        f" WHERE {o_scope} AND c.is_archived = %s GROUP BY e.customer_id ORDER BY count(*) DESC, e.customer_id LIMIT 1",
        [*o_params, False],
    ) or _one(f"SELECT c.id FROM {table} c WHERE {o_scope} ORDER BY c.id LIMIT 1", o_params)
    mobile_match = "AND (c.mobile LIKE %s OR (c.mobile2 LIKE %s AND c.mobile2 <> ''))"
    name_match = "AND c.name LIKE %s"
    scenarios = [
        Scenario(
            "list_own",
            "list p1 · consultant (OWN)",
            consultant,
            "/customers/",
            _list_floor(consultant, dataset),
            LIST_TARGET,
        ),
        Scenario(
            "list_total_own",
            "list total (hx-get after the rows) · consultant",
            consultant,
            "/customers/count/",
            _count_floor(consultant, dataset),
        ),
        Scenario(
            "list_project",
            "list p1 · director (PROJECT)",
            director,
            "/customers/",
            _list_floor(director, dataset),
            LIST_TARGET,
        ),
        Scenario(
            "list_project_100",
            "list p1 · director · 100 rows",
            director,
            f"/customers/?{page_size_param}=100",
            _list_floor(director, dataset, rows=100),
        ),
        Scenario(
            "search_mobile",
            f"search mobile '{fragment}' · director",
            director,
            f"/customers/?q={fragment}",
            _list_floor(director, dataset, mobile_match, [f"%{fragment}%"] * 2),
            SEARCH_TARGET,
            _ids_sql(director, dataset, mobile_match, [f"%{fragment}%"] * 2),
        ),
        Scenario(
            "search_name",
            f"search name '{full_name}' · director",
            director,
            f"/customers/?q={full_name}",
            _list_floor(director, dataset, name_match, [f"%{full_name}%"]),
            SEARCH_TARGET,
            _ids_sql(director, dataset, name_match, [f"%{full_name}%"]),
        ),
    ]
    for surname in ("王", "欧阳"):
        scenarios.append(
            Scenario(
                f"search_surname_{len(surname)}",
                f"search surname '{surname}' · consultant",
                consultant,
                f"/customers/?q={surname}",
                _list_floor(consultant, dataset, name_match, [f"%{surname}%"]),
                SHORT_SEARCH_TARGET,
                _ids_sql(consultant, dataset, name_match, [f"%{surname}%"]),
            )
        )
    scenarios.append(
        Scenario(
            "detail",
            "360° page · consultant",
            consultant,
            f"/customers/{busiest}/",
            _detail_floor(busiest, consultant, dataset),
            DETAIL_TARGET,
        )
    )
    return scenarios


# ---------------------------------------------------------------------- floor view

_ENGINE = Engine(autoescape=True)
_TEMPLATES = {
    "list": _ENGINE.from_string(
        "<!DOCTYPE html><title>客户</title><table>{% for r in rows %}<tr>"
        '<td><a href="/customers/{{ r.id }}/">{{ r.name }}</a>{% if r.vip %} VIP{% endif %}</td><td>{{ r.number }}</td>'
        "<td>{{ r.mobile }}</td><td>{{ r.stage }}</td><td>{{ r.grade }}</td><td>{{ r.project }}</td><td>{{ r.owner }}</td>"
        "<td>{{ r.channel }}</td><td>{% for t in r.tags %}<span>{{ t }}</span>{% endfor %}</td>"
        '<td>{{ r.created|date:"Y-m-d H:i" }}</td></tr>{% endfor %}</table>'
        '{% if has_next %}<a href="?page=2">下一页</a>{% endif %}'
    ),
    "count": _ENGINE.from_string(
        '<span id="total">共 {% if count > cap %}{{ cap }}+{% else %}{{ count }}{% endif %} 位</span>'
    ),
    "detail": _ENGINE.from_string(
        "<!DOCTYPE html><title>{{ c.2 }}</title><h1>{{ c.2 }} {{ c.1 }} {{ stage }} {{ c.7 }}</h1>"
        "{% for t in tags %}<span>{{ t }}</span>{% endfor %}"
        "<p>{{ mobile }} {{ c.16 }} {{ c.17|default:'' }} {{ c.18 }} {{ channel }} {{ c.10|date:'Y-m-d' }}"
        " {{ c.12|date:'Y-m-d H:i' }} {{ c.11 }} {{ c.13 }} {{ c.14 }}</p>"
        "{% for d in deals %}<div>{{ d.1 }} {{ d.2 }}-{{ d.3 }} {{ d.4 }} {{ d.5|floatformat:0 }} {{ d.7 }}"
        "{% for on in d.8|slice:'6' %} {{ on|date:'Y-m-d' }}{% endfor %}</div>{% endfor %}"
        "<ul>{% for e in events %}<li>{{ e.1 }} · {{ e.3|default:'系统' }} · {{ e.0|date:'Y-m-d H:i' }} {{ e.2 }}</li>{% endfor %}</ul>"
        "<ul>{% for f in family %}<li>{{ f.1 }} {{ f.0 }}</li>{% endfor %}</ul><p>{{ filled }}</p>"
    ),
}
_FLOORS: dict[str, Floor] = {}


def _local(value: datetime) -> datetime:
    # A raw SQLite cursor returns naive UTC datetimes; PostgreSQL aware ones.
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return timezone.localtime(value)


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    floor = _FLOORS[key]
    data = floor.fetch()
    if floor.kind == "count":
        context = {"count": data["count"], "cap": CappedPaginator.CAP}
    elif floor.kind == "list":
        rows = data["rows"]
        context = {
            "rows": [
                {
                    "id": r[0],
                    "number": r[1],
                    "name": r[2],
                    "mobile": mask_mobile(r[3]),
                    "stage": STAGE_LABELS.get(r[4], r[4]),
                    "grade": r[5],
                    "vip": r[6],
                    "channel": CHANNEL_LABELS.get(r[7], r[7]),
                    "created": _local(r[8]),
                    "owner": r[9],
                    "project": r[10],
                    "tags": data["tags"][r[0]],
                }
                for r in rows[: floor.rows]
            ],
            "has_next": len(rows) > floor.rows,
        }
    else:
        c = data["customer"]
        profile = data["profile"] or ()
        context = {
            "c": c,
            "stage": STAGE_LABELS.get(c[6], c[6]),
            "channel": CHANNEL_LABELS.get(c[9], c[9]),
            "mobile": mask_mobile(c[4]),
            "tags": data["tags"],
            "deals": [(*d[:8], d[8:]) for d in data["deals"]],
            "family": data["family"],
            "events": [(_local(e[0]), *e[1:]) for e in data["events"]],
            "filled": sum(1 for v in profile if v not in ("", None)),
        }
    return HttpResponse(_TEMPLATES[floor.kind].render(Context(context)))


urlpatterns = [*site_urlpatterns, path("__bench__/floor/<str:key>/", floor_view)]


# ------------------------------------------------------------------------ measuring

_DETAIL_LINK = re.compile(r'href="/customers/(\d+)/"')


_get = pages.get
_quiet = pages.quiet


def measure(
    scenarios: Sequence[Scenario], *, requests: int, warmup: int, budget_s: float = 120, write: Write
) -> list[Result]:
    """Each scenario beside its floor (bench.pages.measure)."""
    return pages.measure(
        [(scenario, scenario.floor) for scenario in scenarios],
        urlconf=__name__,
        floor_prefix="/__bench__/floor/",
        floors=_FLOORS,
        requests=requests,
        warmup=warmup,
        budget_s=budget_s,
        write=write,
    )


_NEXT_PAGE = r"(?<![\w]){}(?!\d)"


def check_results(scenarios: Sequence[Scenario], *, page_size_param: str = "per_page", write: Write) -> list[str]:
    """Walk every page of each search and compare the customers listed with the raw-SQL set."""
    lines = []
    with override_settings(ROOT_URLCONF=__name__), _quiet():
        for scenario in scenarios:
            if scenario.expected_ids_sql is None:
                continue
            sql, params = scenario.expected_ids_sql
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                expected = {row[0] for row in cursor.fetchall()}
            client = Client(raise_request_exception=False)
            client.force_login(scenario.user)
            shown: set[int] = set()
            status = 200
            for page in range(1, 10_001):
                response = _get(client, f"{scenario.url}&{page_size_param}=100&page={page}")
                status = response.status_code
                if status != 200:
                    break
                content = response.content.decode()
                ids = {int(pk) for pk in _DETAIL_LINK.findall(content)}
                if not ids - shown:
                    break
                shown |= ids
                if not re.search(_NEXT_PAGE.format(f"page={page + 1}"), content):
                    break
            if status != 200:
                line = f"result check [{scenario.label}]: SKIPPED (HTTP {status})"
            elif shown == expected:
                line = f"result check [{scenario.label}]: OK ({len(expected):,} customers, identical to raw SQL)"
            else:
                line = (
                    f"result check [{scenario.label}]: WRONG RESULT — the page lists {len(shown):,},"
                    f" raw SQL finds {len(expected):,}; missing {sorted(expected - shown)[:5]},"
                    f" unexpected {sorted(shown - expected)[:5]}"
                )
            write(line)
            lines.append(line)
    return lines


IMPORT_FORMATS = ("xlsx", "csv")


def time_import(dataset: Dataset, rows: int, *, write: Write, formats: Sequence[str] = IMPORT_FORMATS) -> list[str]:
    """Time crm.customers.importing on a file of ``rows`` new customers, then roll it back:
    an .xlsx in the template's columns and a GB18030 CSV as another system exports it.

    Per file: validating it (what the upload does) and import_file, which checks the rows
    against the database again and writes every row in one transaction, then the peak
    memory of the process meanwhile (and of the child process that reads a workbook). The
    rollback keeps the dataset at its marked size; a VACUUM then clears the dead rows.
    """
    if importlib.util.find_spec("crm.customers.importing") is None:
        return ["import: SKIPPED — crm/customers/importing.py does not exist yet"]
    builders = {"xlsx": _import_workbook, "csv": _import_csv}
    return [_time_import_file(dataset, builders[fmt](dataset, rows, write=write), rows, write=write) for fmt in formats]


def _time_import_file(dataset: Dataset, path: Path, rows: int, *, write: Write) -> str:
    import uuid

    from crm.customers import importing

    user = dataset.consultant
    kind = ".xlsx" if path.suffix == ".xlsx" else ".csv, GB18030"
    with _quiet(), PeakMemory() as memory:
        t0 = time.perf_counter()
        validation = importing.validate_file(path, importing.CUSTOMERS, user=user, filename=path.name)
        validated = time.perf_counter() - t0
        report = validation.report
        # The confirm page hands the upload's validation back when the importer accepts it.
        reuse = "prevalidated" in inspect.signature(importing.import_file).parameters
        extra: dict[str, Any] = {"prevalidated": validation} if reuse else {}
        t0 = time.perf_counter()
        with transaction.atomic():
            result = importing.import_file(
                path, importing.CUSTOMERS, user=user, filename=path.name, batch=uuid.uuid4().hex, **extra
            )
            imported = time.perf_counter() - t0
            # The foreign keys are DEFERRABLE INITIALLY DEFERRED: a committed import checks
            # them at COMMIT (about a million checks for 100,000 rows). Run them here, timed,
            # before the rollback that keeps the dataset at its size.
            t0 = time.perf_counter()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            checked = time.perf_counter() - t0
            transaction.set_rollback(True)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            # Every table the import wrote to: with autovacuum off (as on the machine these
            # figures come from) the rolled-back rows would otherwise stay in their indexes.
            written = (Customer, CustomerProfile, Customer.tags.through, ConsentRecord, TimelineEvent)
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(db_table(m) for m in written)}")
    total = validated + imported + checked
    verdict = f"; whole import {total:.1f} s, target ≤ {IMPORT_TARGET_S:g} s per 100,000 rows" + (
        f": {'PASS' if total <= IMPORT_TARGET_S else 'MISS'}" if rows == 100_000 else ""
    )
    line = (
        f"import {rows:,} rows ({kind}): validate_file {validated:.1f} s"
        f" ({report.valid:,} valid, {report.invalid:,} invalid);"
        f" import_file ({'write, reusing that validation' if reuse else 'read + validate + write'}) {imported:.1f} s"
        f" + deferred foreign-key checks {checked:.1f} s (run at COMMIT) = {result.imported / (imported + checked):,.0f}"
        f" rows/s (rolled back){verdict}; {memory.summary()}"
    )
    write(f"  {line}")
    return line


class PeakMemory:
    """The resident memory of this process while in the block: sampled every 10 ms by a
    thread, reported as the peak and its rise over the start. ru_maxrss would give the
    whole run's high-water mark (the page scenarios, the other import), not this one's.
    A workbook is read by a child process (crm.lib.sheets): its peak is reported too."""

    INTERVAL_S = 0.01

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = _rss_bytes()
        self._children_before = _children_peak_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())
        self.children = _children_peak_bytes()

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL_S):
            self.peak = max(self.peak, _rss_bytes())

    def summary(self) -> str:
        mb = 1024 * 1024
        text = f"peak memory {self.peak / mb:,.0f} MB (+{(self.peak - self.start) / mb:,.0f} MB during the import)"
        if self.children > self._children_before:
            text += f", workbook reader process {self.children / mb:,.0f} MB"
        return text


def _rss_bytes() -> int:
    """The process's resident set now (Linux /proc), or its high-water mark elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _children_peak_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def _import_rows(dataset: Dataset, rows: int) -> Iterator[list[Any]]:
    """The rows of the import files: ``rows`` new customers (same data in every format)."""
    project = Project.objects.filter(pk__in=dataset.project_ids, staff=dataset.consultant).first()
    project_name = project.name if project else PROJECTS[0][0]
    rng = random.Random(SEED + 1)
    channels = [str(label) for _, label in Channel.choices]
    for i in range(1, rows + 1):
        male = rng.random() < 0.5
        yield [
            bench_name(rng, male=male),
            demo_mobile(dataset.customers + i),  # past the generated ones: new, valid, distinct
            "男" if male else "女",
            rng.choice("ABC"),
            project_name,
            rng.choice(channels),
            date(1960, 1, 1) + timedelta(days=rng.randrange(14600)),
            rng.choice(TAG_NAMES) if rng.random() < 0.3 else "",
            rng.choice(CUSTOMER_NOTES) if rng.random() < 0.2 else "",
            "是" if rng.random() < 0.7 else "否",
        ]


def _import_path(dataset: Dataset, rows: int, suffix: str) -> Path:
    directory = Path(settings.VAR_DIR) / "bench"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"import-{MARKER_KEY.rsplit(':', 1)[1]}-{dataset.customers}-{rows}{suffix}"


def _import_workbook(dataset: Dataset, rows: int, *, write: Write) -> Path:
    """An .xlsx of ``rows`` new customers in the import template's columns, kept for reruns."""
    from openpyxl import Workbook

    path = _import_path(dataset, rows, ".xlsx")
    if path.exists():
        return path
    t0 = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["姓名", "手机号", "性别", "客户等级", "意向楼盘", "来源渠道", "生日", "标签", "备注", "同意关怀短信"])
    for row in _import_rows(dataset, rows):
        sheet.append(row)
    partial = path.with_suffix(".partial")
    workbook.save(partial)
    partial.rename(path)
    write(f"  import: wrote {path} in {time.perf_counter() - t0:.1f} s")
    return path


def _import_csv(dataset: Dataset, rows: int, *, write: Write) -> Path:
    """The same customers as a GB18030 CSV as another system exports it: its own headers
    (matched by the importer's synonyms), dates as text, CRLF lines."""
    import csv

    path = _import_path(dataset, rows, ".csv")
    if path.exists():
        return path
    t0 = time.perf_counter()
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(
            ["客户姓名", "手机", "性别", "等级", "项目", "渠道", "出生日期", "客户标签", "备注", "关怀短信"]
        )
        for row in _import_rows(dataset, rows):
            birthday = row[6]
            row[6] = f"{birthday.year}/{birthday.month}/{birthday.day}"
            writer.writerow(row)
    partial.rename(path)
    write(f"  import: wrote {path} in {time.perf_counter() - t0:.1f} s")
    return path


# ------------------------------------------------------------------------- reporting


def machine_lines() -> list[str]:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
            memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    lines = [f"machine: {cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"]
    lines.append(f"code: {_code_state()}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            shown = []
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit"):
                cursor.execute(f"SHOW {name}")
                shown.append(f"{name}={cursor.fetchone()[0]}")
        lines.append(f"database: PostgreSQL {version} ({', '.join(shown)})")
    else:
        lines.append(f"database: {connection.vendor}")
    return lines


def _code_state() -> str:
    """The commit measured, and whether the working tree differed from it."""
    import subprocess

    try:
        rev = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{rev} ({len(changed)} tracked files modified)" if changed else rev


def load_line(label: str) -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"load {label}: unknown"
    return f"load {label}: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def dataset_lines(dataset: Dataset) -> list[str]:
    company = dataset.company.pk
    counts = {
        "customers": Customer.objects.filter(company=company).count(),
        "deals": Deal.objects.filter(company=company).count(),
        "timeline events": TimelineEvent.objects.filter(customer__company=company).count(),
    }
    own = Customer.objects.filter(
        models.Q(owner=dataset.consultant) | models.Q(advisor=dataset.consultant), company=company
    ).count()
    director = Customer.objects.filter(company=company, project_id__in=dataset.director_project_ids).count()
    lines = [
        "dataset: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
        f"personas: consultant {dataset.consultant.username} sees {own:,} customers (OWN);"
        f" director {dataset.director.username} sees {director:,} ({len(dataset.director_project_ids)} projects)",
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size(%s)), pg_size_pretty(pg_total_relation_size(%s))",
                [Customer._meta.db_table, TimelineEvent._meta.db_table],
            )
            customers_size, events_size = cursor.fetchone()
        lines.append(f"sizes (with indexes): customers {customers_size}, timeline {events_size}")
    return lines


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table_lines(results: Iterable[Result], *, requests: int) -> list[str]:
    header = (
        "scenario",
        "n",
        "median ms",
        "p95 ms",
        "queries",
        "floor median",
        "floor p95",
        "ratio",
        "sql ms",
        "target",
        "",
    )
    rows: list[tuple[str, ...]] = []
    for r in results:
        label, target = r.scenario.label, str(r.scenario.target or "")
        if not r.ok:
            rows.append((label, "", r.note or "—", "", "", "", "", "", "", target, ""))
            continue
        median, floor_median = statistics.median(r.times), statistics.median(r.floor_times)
        rows.append(
            (
                label,
                str(len(r.times)),
                f"{median:.1f}",
                f"{_pct(r.times, 0.95):.1f}",
                str(len(r.queries)),
                f"{floor_median:.1f}",
                f"{_pct(r.floor_times, 0.95):.1f}",
                f"{median / floor_median:.1f}×",
                f"{statistics.median(r.sql_times):.1f}",
                target,
                r.verdict,
            )
        )
    widths = [max(_width(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            pad = " " * (width - _width(cell))
            cells.append(pad + cell if 1 <= i <= 8 else cell + pad)
        return "| " + " | ".join(cells) + " |"

    return [
        f"Server time of up to {requests} requests per scenario (n) after warm-up. floor = hand-written SQL + minimal view behind"
        " the same middleware; sql ms = the floor's SQL alone; ratio = median / floor median.",
        fmt(header),
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        *(fmt(row) for row in rows),
    ]


def n_plus_one_line(results: Sequence[Result]) -> str:
    by_key = {r.scenario.key: r for r in results}
    small, large = by_key.get("list_project"), by_key.get("list_project_100")
    if small is None or large is None or not (small.ok and large.ok):
        return "N+1 check (page size 25 vs 100): SKIPPED — the list page is not available"
    verdict = "PASS" if len(small.queries) == len(large.queries) else "MISS"
    return f"N+1 check (page size 25 vs 100): {len(small.queries)} vs {len(large.queries)} queries — {verdict}"


def query_lines(results: Iterable[Result]) -> list[str]:
    """Every query of each page (on -v 2), to see where the count comes from."""
    lines = []
    for r in results:
        lines.append(f"{r.scenario.label} — {len(r.queries)} queries:")
        lines.extend(f"    {sql[:400]}" for sql in r.queries)
    return lines
