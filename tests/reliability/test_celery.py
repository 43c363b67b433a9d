"""Celery beyond one machine: real workers on the Redis at REDIS_URL, the real Aliyun adapter
against its protocol fake. Two beats, a redelivered task and two workers sending at once
plan and send every message exactly once, because the database decides (crm/core/tasks.py)."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from config.celery import RUN_JOB
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.core.calendar import work_calendar
from crm.core.models import CalendarYear
from crm.customers.models import Channel, Customer, Stage
from crm.lib.dates import CHINA_TZ as SHANGHAI

from .harness import (
    DONE,
    Processes,
    assert_each_received_once,
    make_outbox,
    open_count,
    raw_connection,
    statuses,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.needs_redis, pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]
TEST_REDIS_DB = 15


def _test_redis_url() -> str:
    """REDIS_URL's server; its database unless that is 0, which tests never flush (then 15)."""
    import os

    url = os.environ["REDIS_URL"]
    parts = urlsplit(url)
    if parts.path.strip("/") in ("", "0"):
        parts = parts._replace(path=f"/{TEST_REDIS_DB}")
    return urlunsplit(parts)


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = _test_redis_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL is set but Redis at {url} does not answer ({exc}); these tests need it", pytrace=False)
    client.flushdb()  # this database only
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def sender(redis_url: str) -> Iterator[Celery]:
    """A client app on the same broker: what beat does, sending run_job by name."""
    app = Celery("reliability-sender", broker=redis_url, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"])
    yield app
    app.close()


@pytest.fixture
def start_worker(processes: Processes, redis_url: str) -> Callable[..., subprocess.Popen[bytes]]:
    def start(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        env = {
            **env,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            # A task whose worker died is handed on after 2 s (production: an hour).
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": "2",
            "CELERY_RESTORE_INTERVAL_SECONDS": "1",
        }
        args = ["-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", f"--hostname={name}@%h"]
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        return processes.start(name, args, env)

    return start


def wait_ready(processes: Processes, worker: subprocess.Popen[bytes]) -> None:
    wait_until(
        lambda: " ready." in processes.log_of(worker) or worker.poll() is not None,
        timeout=30,
        what="a Celery worker to start",
        interval=0.1,
    )
    assert worker.poll() is None, processes.log_of(worker)


def results(log: str, task_id: str | None = None) -> list[int]:
    """Return values of the run_job tasks a worker's log says succeeded."""
    pattern = rf"Task {re.escape(RUN_JOB)}\[{re.escape(task_id) if task_id else '[0-9a-f-]+'}\] succeeded in [0-9.e-]+s: (\d+)"
    return [int(n) for n in re.findall(pattern, log)]


def owners_born_today(company, project, consultant, count: int) -> list[int]:
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    if not work_calendar().knows(today.year):
        # Planning runs on the real clock; a year the library does not know yet must have been
        # entered by an administrator (here: as if it had no holidays), or planning stops.
        CalendarYear.objects.create(year=today.year, source="reliability test")
    born = date(1980, today.month, today.day)  # 1980 is a leap year: 29 February exists
    customers = Customer.objects.bulk_create(
        Customer(
            company=company,
            project=project,
            owner=consultant,
            number=f"BDAY{i:05d}",
            name=f"寿星{i}",
            mobile=f"136{i:08d}",
            source_channel=Channel.VISIT,
            stage=Stage.OWNER,
            consent_care=True,
            birthday_on=born,
            birth_mmdd=born.strftime("%m%d"),
        )
        for i in range(count)
    )
    return [c.pk for c in customers]


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def test_two_beats_and_a_redelivered_planning_task_plan_each_occasion_once(
    processes, start_worker, sender, start_fake, company, project, consultant
):
    owners = owners_born_today(company, project, consultant, 30)
    env = worker_env(start_fake())

    # Hold the outbox so the first worker is caught mid-task, then kill it there: the broker
    # must hand its unacknowledged task to another worker (acks_late).
    locker = raw_connection()
    try:
        locker.execute("LOCK TABLE care_outboundmessage IN EXCLUSIVE MODE")
        first = start_worker("first", env)
        wait_ready(processes, first)
        beat_1 = sender.send_task(RUN_JOB, args=["plan_care_messages"])
        wait_until(lambda: backends_waiting_for_a_lock() >= 1, timeout=20, what="the first worker to start planning")
        processes.kill(first, signal.SIGKILL)
        assert f"[{beat_1.id}] received" in processes.log_of(first)

        second = start_worker("second", env)
        wait_ready(processes, second)
        beat_2 = sender.send_task(RUN_JOB, args=["plan_care_messages"])
    finally:
        locker.rollback()
        locker.close()

    wait_until(
        lambda: results(processes.log_of(second), beat_1.id) and results(processes.log_of(second), beat_2.id),
        timeout=30,
        what="the second worker to run the second beat's task and the redelivered first one",
        interval=0.2,
    )
    planned = OutboundMessage.objects.filter(trigger=Trigger.BIRTHDAY)
    assert sorted(planned.values_list("customer_id", flat=True)) == sorted(owners)
    assert OutboundMessage.objects.count() == len(owners)


def test_two_workers_sending_at_once_send_each_message_once(
    processes, start_worker, sender, start_fake, company, project, consultant
):
    fake = start_fake()
    ids = make_outbox(company, project, consultant, 400)
    env = worker_env(fake)
    workers = [start_worker(name, env) for name in ("left", "right")]
    for worker in workers:
        wait_ready(processes, worker)
    jobs = ["send_due_messages"] * 4 + ["settle_submitting"] * 2
    sent = [sender.send_task(RUN_JOB, args=[job]).id for job in jobs]

    def done() -> bool:
        logs = "".join(processes.log_of(w) for w in workers)
        return open_count(ids) == 0 and all(results(logs, task_id) for task_id in sent)

    wait_until(done, timeout=60, what="the workers to send everything", interval=0.2)
    assert_each_received_once(fake, ids)
    assert fake.send_calls == len(ids)
    assert set(statuses(ids)) <= DONE
    # A send task runs longer than the 2 s visibility timeout here, so the broker also hands
    # it to the other worker while it runs: that run finds nothing left to claim.
    sent_by = [sum(results(processes.log_of(w))) for w in workers]
    assert sum(sent_by) == len(ids)
    assert all(sent_by), f"one worker sent everything ({sent_by}): they did not work at once"
