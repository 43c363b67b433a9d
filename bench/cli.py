"""The command line of ``python -m bench`` (bench/__main__.py): two benchmarks.

- ``customers``: generate N customers (or reuse a dataset of that size) and time the customer
  pages against their floors, then the import of an .xlsx and of a GB18030 CSV with the
  process's peak memory (bench/customers.py);
- ``care``: one day's care planning against its floors and dispatch throughput through the
  Aliyun protocol fake (bench/care.py), on the dataset ``customers`` generates;
- ``complaints``: N complaints on that dataset; the complaint list with its countdowns and
  the monthly analysis report, each beside its raw-SQL floor (bench/complaints.py);
- ``visits``: the day's visit-task generation beside its raw-SQL floor, and a consultant's
  work queue among N visit tasks beside its floor (bench/visits.py);
- ``reports``: generating each kind of report pack and the KPI dashboard for one month on
  the datasets the others built, each beside its raw-SQL floor (bench/reports.py).

``parser`` needs no Django; ``run`` needs it set up. Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from datetime import date

from bench import BenchError

Write = Callable[[str], None]

# Progress lines show as they happen, also when the output goes to a pipe or `tee`.
write: Write = functools.partial(print, flush=True)


def _customer_count(value: str) -> int:
    count = int(value)
    if count < 50:
        raise argparse.ArgumentTypeError("must be at least 50")
    return count


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"无法解析日期：{value}") from None


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="性能基准（docs/performance.md）")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="{customers,care,complaints,visits,reports}")

    customers = benches.add_parser(
        "customers",
        help="customer list, searches, 360° page and import",
        description="性能基准：生成 N 位客户（已生成同样规模时复用），测量客户列表、搜索与360°页面的服务端耗时",
    )
    customers.add_argument(
        "--customers", type=_customer_count, default=100_000, help="customers to generate (default 100000)"
    )
    customers.add_argument("--requests", type=int, default=200, help="timed requests per scenario (default 200)")
    customers.add_argument("--warmup", type=int, default=20, help="untimed requests first (default 20)")
    customers.add_argument(
        "--budget", type=float, default=120, help="seconds of timed requests per scenario at most (default 120)"
    )
    customers.add_argument("--force", action="store_true", help="run even if the database holds other data")
    customers.add_argument("--regenerate", action="store_true", help="regenerate even if a dataset of this size exists")
    customers.add_argument("--page-size-param", default="per_page", help="query parameter of the list's page size")
    customers.add_argument("--care", action="store_true", help="also run the care-message benchmark (bench.care)")
    customers.add_argument("--import-only", action="store_true", help="time only the import (no page scenarios)")
    customers.add_argument("--import-rows", type=int, default=100_000, help="rows for the import timing (0 skips it)")
    customers.add_argument(
        "--import-format",
        choices=("both", "xlsx", "csv"),
        default="both",
        help="time the import of an .xlsx, a GB18030 .csv, or both (default)",
    )
    customers.add_argument(
        "-v", "--verbosity", type=int, choices=range(4), default=1, help="2 or more: print every query of each page"
    )

    care = benches.add_parser(
        "care",
        help="care planning and dispatch throughput",
        description="温馨速递性能基准：一天的计划（对照手写 SQL 下限）与两进程发送吞吐",
    )
    care.add_argument("--customers", type=int, help="generate or reuse the customers benchmark's dataset of this size")
    care.add_argument("--day", type=_day, help="plan this day (YYYY-MM-DD; default today in Asia/Shanghai)")
    care.add_argument("--repeat", type=int, default=3, help="timed runs per planner (median reported)")
    care.add_argument("--messages", type=int, default=4000, help="messages for the dispatch run (0 skips it)")
    care.add_argument("--workers", type=int, default=2, help="dispatch worker processes")

    complaints = benches.add_parser(
        "complaints",
        help="complaint list with countdowns and the monthly analysis report",
        description="投诉性能基准：生成 N 条投诉（同规模时复用），测量投诉列表（倒计时）与月度分析报告，并对照手写 SQL 下限",
    )
    complaints.add_argument(
        "--complaints", type=_customer_count, default=300_000, help="complaints to generate (default 300000)"
    )
    complaints.add_argument(
        "--customers",
        type=_customer_count,
        default=1_000_000,
        help="size of the customers dataset underneath (default 1000000)",
    )
    complaints.add_argument("--requests", type=int, default=100, help="timed requests per scenario (default 100)")
    complaints.add_argument("--warmup", type=int, default=10, help="untimed requests first (default 10)")
    complaints.add_argument("--budget", type=float, default=60, help="seconds of timed requests per scenario at most")
    complaints.add_argument("--force", action="store_true", help="run even if the database holds other data")
    complaints.add_argument("--regenerate", action="store_true", help="regenerate the complaints even if they exist")

    visits = benches.add_parser(
        "visits",
        help="visit-task generation and the work queue",
        description="回访性能基准：一天的回访任务生成（对照手写 SQL 下限）与顾问的待办队列（N 条回访任务中）",
    )
    visits.add_argument(
        "--customers", type=_customer_count, default=1_000_000, help="size of the customers dataset (default 1000000)"
    )
    visits.add_argument("--tasks", type=int, default=3_000_000, help="visit tasks in the table (default 3000000)")
    visits.add_argument(
        "--open-tasks", type=int, default=5000, help="open tasks of the benchmark consultant (default 5000)"
    )
    visits.add_argument("--day", type=_day, help="generate for this day (YYYY-MM-DD; default today in Asia/Shanghai)")
    visits.add_argument("--repeat", type=int, default=3, help="timed generation runs (median reported)")
    visits.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    visits.add_argument("--warmup", type=int, default=20, help="untimed requests first (default 20)")
    visits.add_argument("--budget", type=float, default=60, help="seconds of timed requests per page at most")
    visits.add_argument("--force", action="store_true", help="run even if the database holds other data")

    reports = benches.add_parser(
        "reports",
        help="report packs and the KPI dashboard for one month",
        description="报告与指标看板性能基准：各类报告包的生成与一个月的指标看板，对照手写 SQL 下限（使用其他基准生成的数据）",
    )
    reports.add_argument(
        "--customers", type=_customer_count, default=1_000_000, help="size of the customers dataset (default 1000000)"
    )
    reports.add_argument(
        "--month", type=_day, help="any day of the month to report (default: the month with most visits due)"
    )
    reports.add_argument("--repeat", type=int, default=10, help="timed builds per pack (default 10)")
    reports.add_argument("--requests", type=int, default=30, help="timed dashboard requests (default 30)")
    reports.add_argument("--warmup", type=int, default=3, help="untimed dashboard requests first (default 3)")
    reports.add_argument("--budget", type=float, default=60, help="seconds of timed runs per scenario at most")
    reports.add_argument("--force", action="store_true", help="run even if the database holds other data")
    return parser


def run(args: argparse.Namespace, *, write: Write = write) -> None:
    """Run the benchmark ``args`` name; a BenchError says why it cannot run or what it found wrong."""
    if args.bench == "customers":
        run_customers(args, write=write)
    elif args.bench == "complaints":
        run_complaints(args, write=write)
    elif args.bench == "visits":
        run_visits(args, write=write)
    elif args.bench == "reports":
        run_reports(args, write=write)
    else:
        run_care(args, write=write)


def run_customers(args: argparse.Namespace, *, write: Write) -> None:
    from django.conf import settings
    from django.db import connection

    from bench import care, customers
    from bench.dataset import ensure_dataset

    if settings.DEBUG:
        write("DEBUG is on: every query is kept in memory and times are inflated.")
    dataset = ensure_dataset(args.customers, force=args.force, regenerate=args.regenerate, write=write)
    if args.import_only:
        facts = [
            *customers.machine_lines(),
            customers.load_line("before the import"),
            *customers.dataset_lines(dataset),
        ]
        lines = (
            customers.time_import(dataset, args.import_rows, write=write, formats=_import_formats(args))
            if args.import_rows
            else ["import: SKIPPED (--import-rows 0: the dataset only)"]
        )
        for line in [*lines, "", *facts]:
            write(line)
        return
    scenarios = customers.build_scenarios(dataset, page_size_param=args.page_size_param)
    load_before = customers.load_line("before measuring")
    write(f"Measuring {len(scenarios)} scenarios ({args.warmup} warm-up + {args.requests} timed each)…")
    results = customers.measure(
        scenarios, requests=args.requests, warmup=args.warmup, budget_s=args.budget, write=write
    )
    load_after = customers.load_line("after measuring")
    checks = customers.check_results(scenarios, page_size_param=args.page_size_param, write=write)
    facts = [*customers.machine_lines(), load_before, load_after, *customers.dataset_lines(dataset)]
    import_lines = (
        customers.time_import(dataset, args.import_rows, write=write, formats=_import_formats(args))
        if args.import_rows
        else ["import: SKIPPED (--import-rows 0)"]
    )
    write("")
    for line in facts:
        write(line)
    if dataset.generated_in_s is not None:
        write(f"generation: {dataset.generated_in_s:.1f} s")
    write("")
    for line in [*customers.table_lines(results, requests=args.requests), ""]:
        write(line)
    for line in [customers.n_plus_one_line(results), *checks, *import_lines]:
        write(line)
    if args.care:
        write("")
        for line in care.run(write=write):
            write(line)
    if args.verbosity >= 2:
        write("")
        for line in customers.query_lines(results):
            write(line)
    if dataset.customers != 1_000_000 or connection.vendor != "postgresql":
        write("Targets are set for 1,000,000 customers on PostgreSQL; at this size or database they are indicative.")
    if any("WRONG RESULT" in line for line in checks):
        raise BenchError("A search listed different customers than the raw SQL: see the result checks above.")


def _import_formats(args: argparse.Namespace) -> tuple[str, ...]:
    return ("xlsx", "csv") if args.import_format == "both" else (args.import_format,)


def run_care(args: argparse.Namespace, *, write: Write) -> None:
    from bench import care
    from bench.dataset import ensure_dataset

    if args.customers:
        ensure_dataset(args.customers, write=write)
    lines = care.run(write=write, day=args.day, repeat=args.repeat, messages=args.messages, workers=args.workers)
    write("")
    for line in lines:
        write(line)


def run_complaints(args: argparse.Namespace, *, write: Write) -> None:
    from django.utils import timezone

    from bench import complaints, customers
    from bench.dataset import ensure_dataset

    dataset = ensure_dataset(args.customers, force=args.force, write=write)
    now = timezone.now()
    generated = complaints.ensure_complaints(dataset, args.complaints, now=now, regenerate=args.regenerate, write=write)
    cases = complaints.build_cases(dataset, now=now)
    load_before = customers.load_line("before measuring")
    write(f"Measuring {len(cases)} scenarios ({args.warmup} warm-up + {args.requests} timed each)…")
    results = complaints.measure(cases, requests=args.requests, warmup=args.warmup, budget_s=args.budget, write=write)
    load_after = customers.load_line("after measuring")
    write("")
    for line in [*customers.machine_lines(), load_before, load_after, *complaints.dataset_lines(dataset)]:
        write(line)
    if generated is not None:
        write(f"generation: {generated:.1f} s")
    write("")
    checks = complaints.check_lines(cases, now=now)
    for line in [
        *customers.table_lines(results, requests=args.requests),
        "",
        *complaints.verdict_lines(results),
        *checks,
    ]:
        write(line)
    from django.db import connection

    if args.complaints != 300_000 or connection.vendor != "postgresql":
        write("Targets are set for 300,000 complaints on PostgreSQL; at this size or database they are indicative.")
    if any("WRONG RESULT" in line for line in checks):
        raise BenchError("A floor counted differently from its page: see the result checks above.")


def run_visits(args: argparse.Namespace, *, write: Write) -> None:
    from django.db import connection
    from django.utils import timezone

    from bench import customers, visits
    from bench.dataset import ensure_dataset
    from crm.lib.dates import local_day

    dataset = ensure_dataset(args.customers, force=args.force, write=write)
    day = args.day or local_day(timezone.now())
    generated = visits.ensure_queue_tasks(dataset, args.tasks, args.open_tasks, day=day, write=write)
    load_before = customers.load_line("before measuring")
    generation = visits.generation_lines(dataset, day, repeat=args.repeat, write=write)
    cases = visits.queue_cases(dataset)
    write(f"Measuring {len(cases)} pages ({args.warmup} warm-up + {args.requests} timed each)…")
    results = visits.measure(cases, requests=args.requests, warmup=args.warmup, budget_s=args.budget, write=write)
    load_after = customers.load_line("after measuring")
    checks = visits.check_lines(cases)
    write("")
    for line in [*customers.machine_lines(), load_before, load_after, *visits.dataset_lines(dataset)]:
        write(line)
    if generated is not None:
        write(f"task generation (dataset): {generated:.1f} s")
    write("")
    for line in [
        *generation,
        "",
        *customers.table_lines(results, requests=args.requests),
        "",
        *visits.verdict_lines(results),
        *checks,
    ]:
        write(line)
    if args.customers != 1_000_000 or args.tasks != 3_000_000 or connection.vendor != "postgresql":
        write(
            "Targets are set for 1,000,000 customers and 3,000,000 visit tasks on PostgreSQL;"
            " at this size or database they are indicative."
        )
    if any("WRONG" in line for line in [*checks, *generation]):
        raise BenchError("A floor did different work from the code it is compared with: see the checks above.")


def run_reports(args: argparse.Namespace, *, write: Write) -> None:
    from django.db import connection
    from django.utils import timezone

    from bench import customers, reports
    from bench.dataset import ensure_dataset

    dataset = ensure_dataset(args.customers, force=args.force, write=write)
    month = args.month.replace(day=1) if args.month else reports.busiest_month(dataset)
    now = timezone.now()
    cases = reports.pack_cases(month)
    load_before = customers.load_line("before measuring")
    # The dashboard as deployed reads the closed months from the hourly counting job
    # (decision 0030); first without any counts, as before the job's first run.
    reports.without_month_counts()
    live_figures = reports.dashboard_figures(dataset, month)
    live = reports.dashboard_cases(dataset, month, label=f"指标看板 {month:%Y-%m}（未统计往月）", key=reports.LIVE_KEY)
    write(f"Measuring the dashboard without month counts ({args.warmup} warm-up + {args.requests} timed)…")
    results = reports.measure(live, requests=args.requests, warmup=args.warmup, budget_s=args.budget, write=write)
    counting_s, counted_rows = reports.count_months(dataset, now)
    write(f"  month counts (job count_kpi_months): {counted_rows} rows in {counting_s:.1f} s")
    counted_figures = reports.dashboard_figures(dataset, month)
    # The packs of an earlier month read their visit figures from the same counts.
    write(f"Building {len(cases)} packs ({args.repeat} timed runs each)…")
    reports.time_packs(cases, dataset, now=now, repeat=args.repeat, budget_s=args.budget, write=write)
    trend = reports.time_trend(dataset, month, repeat=max(3, args.repeat // 2))
    pages = reports.dashboard_cases(dataset, month)
    write(f"Measuring the dashboard ({args.warmup} warm-up + {args.requests} timed)…")
    results += reports.measure(pages, requests=args.requests, warmup=args.warmup, budget_s=args.budget, write=write)
    load_after = customers.load_line("after measuring")
    checks = reports.pack_check_lines(cases, dataset, now=now)
    checks.append(
        f"result check [指标看板 {month:%Y-%m}] figures, trend and projects from the month counts vs counted live:"
        f" {'OK' if counted_figures == live_figures else 'WRONG RESULT'}"
    )
    checks.append(f"month counts: {counted_rows} rows counted in {counting_s:.1f} s (hourly job, not in the page)")
    write("")
    for line in [*customers.machine_lines(), load_before, load_after, *reports.dataset_lines(dataset, month)]:
        write(line)
    write("")
    for line in [
        *reports.pack_table_lines(cases),
        "",
        *customers.table_lines(results, requests=args.requests),
        "",
        *reports.verdict_lines(results, trend),
        *checks,
    ]:
        write(line)
    if args.customers != 1_000_000 or connection.vendor != "postgresql":
        write("Targets are set for 1,000,000 customers on PostgreSQL; at this size or database they are indicative.")
    if any("WRONG RESULT" in line for line in checks):
        raise BenchError("A floor counted differently from its pack: see the result checks above.")
