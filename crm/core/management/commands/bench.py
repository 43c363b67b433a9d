"""`manage.py bench`: generate N customers and time the customer pages against their floors.

See docs/performance.md for what is measured and the figures; the work is in crm.core.bench.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crm.core import bench


class Command(BaseCommand):
    help = "性能基准：生成 N 位客户（已生成同样规模时复用），测量客户列表、搜索与360°页面的服务端耗时"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=100_000, help="customers to generate (default 100000)")
        parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario (default 200)")
        parser.add_argument("--warmup", type=int, default=20, help="untimed requests first (default 20)")
        parser.add_argument(
            "--budget", type=float, default=120, help="seconds of timed requests per scenario at most (default 120)"
        )
        parser.add_argument("--force", action="store_true", help="run even if the database holds other data")
        parser.add_argument(
            "--regenerate", action="store_true", help="regenerate even if a dataset of this size exists"
        )
        parser.add_argument("--page-size-param", default="per_page", help="query parameter of the list's page size")
        parser.add_argument("--care", action="store_true", help="also run the care-message benchmark (crm.care.bench)")
        parser.add_argument("--import-only", action="store_true", help="time only the import (no page scenarios)")
        parser.add_argument("--import-rows", type=int, default=100_000, help="rows for the import timing (0 skips it)")

    def handle(self, *args: Any, **options: Any) -> None:
        write = self.stdout.write
        if options["customers"] < 50:
            raise CommandError("--customers must be at least 50")
        if settings.DEBUG:
            write(self.style.WARNING("DEBUG is on: every query is kept in memory and times are inflated."))
        try:
            dataset = bench.ensure_dataset(
                options["customers"], force=options["force"], regenerate=options["regenerate"], write=write
            )
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from exc
        if options["import_only"]:
            facts = [*bench.machine_lines(), bench.load_line("before the import"), *bench.dataset_lines(dataset)]
            for line in [*bench.time_import(dataset, options["import_rows"], write=write), "", *facts]:
                write(line)
            return
        scenarios = bench.build_scenarios(dataset, page_size_param=options["page_size_param"])
        load_before = bench.load_line("before measuring")
        write(f"Measuring {len(scenarios)} scenarios ({options['warmup']} warm-up + {options['requests']} timed each)…")
        try:
            results = bench.measure(
                scenarios,
                requests=options["requests"],
                warmup=options["warmup"],
                budget_s=options["budget"],
                write=write,
            )
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from exc
        load_after = bench.load_line("after measuring")
        checks = bench.check_results(scenarios, page_size_param=options["page_size_param"], write=write)
        facts = [*bench.machine_lines(), load_before, load_after, *bench.dataset_lines(dataset)]
        import_lines = (
            bench.time_import(dataset, options["import_rows"], write=write)
            if options["import_rows"]
            else ["import: SKIPPED (--import-rows 0)"]
        )
        write("")
        for line in facts:
            write(line)
        if dataset.generated_in_s is not None:
            write(f"generation: {dataset.generated_in_s:.1f} s")
        write("")
        for line in [*bench.table_lines(results, requests=options["requests"]), ""]:
            write(line)
        for line in [bench.n_plus_one_line(results), *checks, *import_lines]:
            write(line)
        if options["care"]:
            from crm.care import bench as care_bench

            write("")
            for line in care_bench.run(write=write):
                write(line)
        if options["verbosity"] >= 2:
            write("")
            for line in bench.query_lines(results):
                write(line)
        if dataset.customers != 1_000_000 or connection.vendor != "postgresql":
            write(
                "Targets are set for 1,000,000 customers on PostgreSQL; at this size or database they are indicative."
            )
        if any("WRONG RESULT" in line for line in checks):
            raise CommandError("A search listed different customers than the raw SQL: see the result checks above.")
