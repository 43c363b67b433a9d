"""The one measuring loop of the page benchmarks (customers, complaints, visits).

Each benchmark module serves its floors at ``/__bench__/<name>/<key>/`` from its own URLconf
(the site's URLs plus that view) and keeps them in a dict by scenario key; ``measure``
warms each page up, counts its queries and its floor's on the last warm-up request, then
times the page, the floor page and the floor's bare SQL in turn, interleaved, so that all
three see the same machine load.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import statistics
import time
import warnings
from collections.abc import Iterator, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from bench import BenchError
from bench.cli import Write

if TYPE_CHECKING:
    from bench.customers import Result, Scenario


class Floor(Protocol):
    def fetch(self) -> Any: ...


def get(client: Client, url: str) -> Any:
    # secure=True: under production settings (SECURE_SSL_REDIRECT) plain requests get a 301.
    return client.get(url, secure=True)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence axes' INFO lines on every force_login and whitenoise's missing STATIC_ROOT warning."""
    axes = logging.getLogger("axes")
    level = axes.level
    axes.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            yield
    finally:
        axes.setLevel(level)


def measure(
    cases: Sequence[tuple[Scenario, Floor]],
    *,
    urlconf: str,
    floor_prefix: str,
    floors: MutableMapping[str, Any],
    requests: int,
    warmup: int,
    budget_s: float,
    write: Write,
) -> list[Result]:
    """Time each (scenario, floor) pair: ``requests`` interleaved rounds of the page, its floor
    page (``floor_prefix`` + key) and the floor's bare SQL.

    A scenario stops early (with at least 20 samples) once it has run ``budget_s`` seconds,
    so a page taking seconds does not hold a shared machine for an hour. Returns one
    bench.customers.Result per scenario.
    """
    from bench.customers import Result

    clients: dict[int, Client] = {}
    results = []
    with override_settings(ROOT_URLCONF=urlconf), quiet():
        for scenario, floor in cases:
            floors[scenario.key] = floor
            if scenario.user.pk not in clients:
                clients[scenario.user.pk] = Client(raise_request_exception=False)
                clients[scenario.user.pk].force_login(scenario.user)
            client = clients[scenario.user.pk]
            floor_url = f"{floor_prefix}{scenario.key}/"
            result = Result(scenario)
            # Queries are counted on the last warm-up request; the timed ones run without
            # capture. At least two: the first also reads the session and permissions.
            started = time.perf_counter()
            for i in range(max(warmup, 2)):
                if i >= 2 and time.perf_counter() - started > budget_s / 4:
                    break
                with CaptureQueriesContext(connection) as page_queries:
                    response = get(client, scenario.url)
                with CaptureQueriesContext(connection) as floor_queries:
                    floor_response = get(client, floor_url)
                if floor_response.status_code != 200:
                    raise BenchError(f"The floor of {scenario.label} answered HTTP {floor_response.status_code}.")
                result.status = response.status_code
                if response.status_code != 200:
                    break
            result.queries = [q["sql"] for q in page_queries.captured_queries]
            result.floor_queries = len(floor_queries)
            if result.status != 200:
                result.note = f"HTTP {result.status}"
                write(f"  {scenario.label}: HTTP {result.status}, skipped")
                results.append(result)
                continue
            gc.collect()
            # As config/wsgi.py does in a web process: what is alive now lives for the whole
            # run, and full collections need not walk it again and again.
            gc.freeze()
            try:
                started = time.perf_counter()
                for i in range(requests):
                    if i >= 20 and time.perf_counter() - started > budget_s:
                        break
                    t0 = time.perf_counter()
                    get(client, scenario.url)
                    t1 = time.perf_counter()
                    get(client, floor_url)
                    t2 = time.perf_counter()
                    floor.fetch()
                    t3 = time.perf_counter()
                    result.times.append((t1 - t0) * 1000)
                    result.floor_times.append((t2 - t1) * 1000)
                    result.sql_times.append((t3 - t2) * 1000)
            finally:
                gc.unfreeze()
            write(
                f"  {scenario.label}: median {statistics.median(result.times):.1f} ms,"
                f" floor {statistics.median(result.floor_times):.1f} ms, raw SQL"
                f" {statistics.median(result.sql_times):.2f} ms, {len(result.queries)} queries"
            )
            results.append(result)
    return results
