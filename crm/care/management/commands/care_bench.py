"""`manage.py care_bench`: the care-message benchmark on its own (crm/care/bench.py).

Run against a scratch PostgreSQL database holding the dataset of ``manage.py bench``
(``--customers N`` generates or reuses it through crm.core.bench). Figures: docs/performance.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from crm.care import bench


class Command(BaseCommand):
    help = "温馨速递性能基准：一天的计划（对照手写 SQL 下限）与两进程发送吞吐"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, help="generate or reuse manage.py bench's dataset of this size")
        parser.add_argument("--day", help="plan this day (YYYY-MM-DD; default today in Asia/Shanghai)")
        parser.add_argument("--repeat", type=int, default=3, help="timed runs per planner (median reported)")
        parser.add_argument("--messages", type=int, default=4000, help="messages for the dispatch run (0 skips it)")
        parser.add_argument("--workers", type=int, default=2, help="dispatch worker processes")

    def handle(self, *args: Any, **options: Any) -> None:
        write = self.stdout.write
        if options["customers"]:
            from crm.core import bench as core_bench

            try:
                core_bench.ensure_dataset(options["customers"], write=write)
            except core_bench.BenchError as exc:
                raise CommandError(str(exc)) from exc
        day = parse_date(options["day"]) if options["day"] else None
        if options["day"] and day is None:
            raise CommandError(f"无法解析日期：{options['day']}")
        lines = bench.run(
            write=write, day=day, repeat=options["repeat"], messages=options["messages"], workers=options["workers"]
        )
        write("")
        for line in lines:
            write(line)
