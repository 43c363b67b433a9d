"""Run the periodic jobs (settings.JOB_SCHEDULE, config/schedule.py) in-process: the embedded default runner.

``--at`` runs every job as of another moment (acceptance tests, operations). The dispatch
job would then send through the configured SMS gateway on a fake clock: a real gateway
(anything but the console and the test backend) reaches real customers, so ``--at``
refuses one unless told ``--allow-real-gateway``.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from crm.core.schedule import ScheduledJob, load_schedule
from crm.lib.env import env_str

# Gateways that send nothing to anyone. core does not import crm.sms: the name is read from
# the same setting (or environment variable) crm.sms.conf reads.
SAFE_GATEWAYS = frozenset({"console", "locmem"})


def configured_gateway() -> str:
    """The SMS gateway's name as crm.sms.conf reads it: the Django setting, else SMS_GATEWAY."""
    value = getattr(settings, "SMS_GATEWAY", None)
    if value is None:
        value = env_str("SMS_GATEWAY", "console")
    return str(value).strip().lower()


def run_job(job: ScheduledJob, now: datetime) -> int:
    func = import_string(job.func)
    return int(func(now=now))


class Command(BaseCommand):
    help = "运行定时任务：循环运行（默认）、--once 运行一次，或 --at 按指定时间运行"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")
        parser.add_argument("--at", help="run every job as of this ISO datetime and exit")
        parser.add_argument(
            "--allow-real-gateway",
            action="store_true",
            help="with --at: send through a real SMS gateway (aliyun, tencent) on the given clock",
        )

    def handle(self, *args: Any, once: bool, at: str | None, allow_real_gateway: bool, **options: Any) -> None:
        if at:
            moment = parse_datetime(at)
            if moment is None:
                raise CommandError(f"无法解析时间：{at}（应为 ISO 格式，如 2026-11-23T10:00:00+08:00）")
            gateway = configured_gateway()
            if gateway not in SAFE_GATEWAYS and not allow_real_gateway:
                raise CommandError(
                    f"按指定时间运行（--at）会通过真实短信网关 {gateway} 向客户发出短信；"
                    "如确需发送，请加 --allow-real-gateway"
                )
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            self._run_all(moment)
            return
        if once:
            self._run_all(timezone.now())
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_run: dict[str, float] = {}
        schedule = load_schedule()
        self.stdout.write(f"定时任务已启动：{len(schedule)} 个任务")
        database_down = False
        while not stopping:
            for job in schedule:
                due = last_run.get(job.name, 0) + job.every.total_seconds()
                if time.monotonic() >= due:
                    close_old_connections()
                    try:
                        run_job(job, timezone.now())
                    except (OperationalError, InterfaceError):
                        # The database does not answer (restart, outage): nothing was done
                        # that is not in the database, so the jobs are tried again at the next
                        # poll, not a whole interval later (docs/reliability.md). One line per
                        # outage, not one per job and poll.
                        if not database_down:
                            self.stderr.write("数据库暂时无法连接，定时任务暂停，恢复后继续")
                            logging.getLogger("crm.jobs").warning("database unavailable; jobs wait (%s)", job.name)
                        database_down = True
                        close_old_connections()
                        break
                    except Exception:  # a failing job must not stop the others
                        self.stderr.write(f"任务 {job.name} 失败")
                        logging.getLogger("crm.jobs").exception("job %s failed", job.name)
                    if database_down:
                        self.stderr.write("数据库已恢复，定时任务继续")
                        logging.getLogger("crm.jobs").warning("database available again; jobs resume")
                        database_down = False
                    last_run[job.name] = time.monotonic()
            for _ in range(settings.JOBS_POLL_SECONDS):
                if stopping:
                    break
                time.sleep(1)

    def _run_all(self, now: datetime) -> None:
        for job in load_schedule():
            count = run_job(job, now)
            self.stdout.write(f"{job.name}: {count}")
