"""``python -m bench.load.run`` (``make loadtest``): gunicorn on 127.0.0.1, locust headless against it.

1. ``DATABASE_URL`` must be PostgreSQL (default: a database ``estatecrm_load`` on the local
   server, created if missing). An empty database is migrated and given the demo data
   (``seed_demo``); a database that already holds data (the bench dataset) is used as is.
2. gunicorn serves ``config.wsgi`` as production does (``--workers`` 4, DEBUG off, static
   files through WhiteNoise, the cache in Redis at ``CACHE_URL``: default
   redis://127.0.0.1:6379/2), with the installation's own keys under ``VAR_DIR``
   (``INSTANCE_SECRETS``, as ``make run``): the keys that encrypted the demo data.
3. locust runs bench/load/locustfile.py headless: ``--users`` (50) spawned at ``--spawn-rate``
   (5 a second) for ``--duration`` (5m); then p50/p95/p99 per request type and the errors are
   printed, and the process exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dj_database_url
import psycopg
import psycopg.conninfo

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/estatecrm_load"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load.run", description="负载测试：gunicorn + locust")
    p.add_argument("--users", type=int, default=int(os.environ.get("USERS", 50)))
    p.add_argument("--spawn-rate", type=float, default=float(os.environ.get("SPAWN_RATE", 5)))
    p.add_argument("--duration", default=os.environ.get("DURATION", "5m"), help="locust --run-time (5m, 120s)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 4)), help="gunicorn workers")
    p.add_argument("--port", type=int, default=int(os.environ.get("LOAD_PORT", 8765)))
    p.add_argument("--customers", type=int, default=3000, help="demo customers for an empty database")
    return p


def ensure_database(url: str) -> None:
    db = dj_database_url.parse(url)
    if "postgresql" not in db["ENGINE"]:
        sys.exit("负载测试需要 PostgreSQL：DATABASE_URL=postgres://…")
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        host=db["HOST"] or "127.0.0.1",
        port=str(db["PORT"] or 5432),
        user=db["USER"] or "postgres",
        **({"password": db["PASSWORD"]} if db.get("PASSWORD") else {}),
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db["NAME"],)).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"服务未在 {timeout:g} 秒内启动：{url}")


def summary(stats_csv: Path) -> tuple[list[str], int]:
    lines = [f"{'request':<28}{'count':>8}{'fail':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    failures = 0
    with stats_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = "all" if row["Name"] == "Aggregated" else row["Name"]
            failures += int(row["Failure Count"]) if row["Name"] == "Aggregated" else 0
            lines.append(
                f"{name:<28}{row['Request Count']:>8}{row['Failure Count']:>6}{row['50%']:>9}{row['95%']:>9}"
                f"{row['99%']:>9}{float(row['Max Response Time']):>9.0f}"
            )
    return lines, failures


BROWSING_P95_MS = 300


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95: the value 95 % of the requests did not exceed)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def browsing_line(path: Path) -> str:
    """Every request but the login, as one distribution (the target: p95 < 300 ms)."""
    if not path.exists():
        return "browsing: no request times recorded"
    values = [float(v) for v in path.read_text(encoding="utf-8").split()]
    if not values:
        return "browsing: no request times recorded"
    p95 = percentile(values, 0.95)
    verdict = "PASS" if p95 < BROWSING_P95_MS else "MISS"
    return (
        f"browsing (every request but the login): n={len(values)} p50 {percentile(values, 0.5):.0f} ms,"
        f" p95 {p95:.0f} ms, p99 {percentile(values, 0.99):.0f} ms; target p95 < {BROWSING_P95_MS} ms: {verdict}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    var = Path(os.environ.get("LOAD_VAR_DIR", BASE_DIR / "var" / "loadtest"))
    var.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "INSTANCE_SECRETS": "1",
        "VAR_DIR": str(var),
        "SECURE_SSL": "0",
        "LOG_LEVEL": "WARNING",
        # As production runs (docs/operations.md): the cache and the sessions' reads in Redis,
        # shared by the workers (crm/core/cache.py).
        "CACHE_URL": os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/2"),
        # 50 users share 8 demo accounts: the per-user API throttle is for one person.
        "API_THROTTLE_USER": os.environ.get("API_THROTTLE_USER", "6000/minute"),
    }
    python = sys.executable
    manage = [python, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=BASE_DIR)
    subprocess.run([*manage, "seed_demo", "--customers", str(args.customers)], env=env, check=True, cwd=BASE_DIR)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, check=True, cwd=BASE_DIR)
    host = f"http://127.0.0.1:{args.port}"
    gunicorn = subprocess.Popen(
        [
            *(python, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{args.port}"),
            *("--workers", str(args.workers), "--timeout", "60", "--log-level", "warning"),
        ],
        env=env,
        cwd=BASE_DIR,
    )
    try:
        wait_for(f"{host}/healthz", 60)
        load = os.popen("cat /proc/loadavg").read().split()[:3]
        print(f"gunicorn {args.workers} workers on {host}; {args.users} users for {args.duration}; load {load}")
        prefix = var / "locust"
        times = var / "browsing_ms.txt"
        times.unlink(missing_ok=True)
        subprocess.run(
            [
                *(python, "-m", "locust", "-f", str(BASE_DIR / "bench" / "load" / "locustfile.py"), "--headless"),
                *("-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.duration, "--host", host),
                *("--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"),
            ],
            env={**os.environ, "PYTHONWARNINGS": "ignore", "LOAD_TIMES_FILE": str(times)},
            cwd=BASE_DIR,
            check=True,
        )
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    lines, failures = summary(Path(f"{prefix}_stats.csv"))
    print("\n".join(lines))
    browsing = browsing_line(var / "browsing_ms.txt")
    print(browsing)
    print(f"load average after: {' '.join(os.popen('cat /proc/loadavg').read().split()[:3])}")
    failed = Path(f"{prefix}_failures.csv").read_text(encoding="utf-8").strip().splitlines()[1:]
    for line in failed[:20]:
        print(f"failure: {line}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
