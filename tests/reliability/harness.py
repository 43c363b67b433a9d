"""Helpers for the reliability tests: worker processes, their environment, and the outbox.

The processes are real (``manage.py dispatch``, ``manage.py runjobs``, ``celery worker``)
and work on the test database, so the data they need is committed (transactional tests)
and they are all stopped before the test database is flushed. On SQLite the test database
lives in memory, where no other process can reach it: ``SharedDatabase`` copies it to a
file for the workers and back when they are done.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from bench.outbox import make_due_notifications
from crm.accounts.models import Company, User
from crm.care.models import OutboundMessage
from crm.projects.models import Project
from crm.sms.fakes.aliyun import FakeAliyunSms

Status = OutboundMessage.Status
DONE = {Status.SENT, Status.DELIVERED}
BASE_DIR = Path(settings.BASE_DIR)


def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def database_url() -> str:
    """The test database as a URL, for the worker processes."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def raw_connection() -> psycopg.Connection[Any]:
    """A connection of its own to the test database, outside Django (e.g. to hold a lock)."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


class SharedDatabase:
    """The test database as worker processes reach it.

    PostgreSQL: the test database itself. SQLite: pytest-django's test database is in
    memory, so ``publish`` copies it to a file (SQLite's online backup) before the workers
    start, and ``collect`` copies the file back once they have stopped, so that the test
    reads what they wrote through the ORM as usual.
    """

    def __init__(self, directory: Path) -> None:
        self.file = directory / "shared.sqlite3"

    @property
    def is_sqlite(self) -> bool:
        return connection.vendor == "sqlite"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.file}" if self.is_sqlite else database_url()

    def publish(self) -> None:
        if self.is_sqlite:
            connection.ensure_connection()
            with contextlib.closing(sqlite3.connect(self.file)) as target:
                connection.connection.backup(target)

    def collect(self) -> None:
        if self.is_sqlite:
            with contextlib.closing(sqlite3.connect(self.file)) as source:
                source.backup(connection.connection)


def worker_env(fake: FakeAliyunSms | None, *, database: str | None = None, **overrides: object) -> dict[str, str]:
    """The environment of a worker process: the test database (or ``database``, a URL), the
    real Aliyun adapter pointed at the fake (the console without one), and dispatch timings
    short enough for a test."""
    gateway = (
        {
            "SMS_GATEWAY": "aliyun",
            "ALIYUN_SMS_ACCESS_KEY_ID": fake.access_key_id,
            "ALIYUN_SMS_ACCESS_KEY_SECRET": fake.access_key_secret,
            "ALIYUN_SMS_ENDPOINT": fake.endpoint,
        }
        if fake is not None
        else {"SMS_GATEWAY": "console", "SMS_CONSOLE_FILE": ""}
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database or database_url(),
        "DB_CONN_MAX_AGE": "0",
        **gateway,
        # Lease > one gateway call (connect + read); grace > lease (crm/care/dispatch.py).
        "SMS_TIMEOUT_SECONDS": "1",
        "SMS_CONNECT_TIMEOUT_SECONDS": "0.5",
        "CARE_LEASE_SECONDS": "2",
        "CARE_SETTLE_GRACE_SECONDS": "3",
        "JOBS_POLL_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class Processes:
    """Worker processes of one test, each in its own process group, logging to a file."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, *args],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append((proc, log))
        return proc

    def manage(self, name: str, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.start(name, ["manage.py", *args], env)

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        for candidate, log in self.running:
            if candidate is proc:
                return log.read_text(errors="replace")
        raise KeyError(proc.pid)

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL, timeout: float = 10) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)

    def finish(self, proc: subprocess.Popen[bytes], timeout: float) -> int:
        """Wait for a process to exit by itself; kill it and fail if it takes too long."""
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(proc)
            log = self.log_of(proc)[-3000:]
            raise AssertionError(f"process {proc.args!r} did not finish in {timeout:g} s:\n{log}") from None

    def stop_all(self) -> None:
        for proc, _ in self.running:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        for proc, _ in self.running:
            proc.wait(timeout=10)


def make_outbox(company: Company, project: Project, owner: User, count: int) -> list[int]:
    """``count`` customers with one service notification each, due now, window open an hour."""
    return make_due_notifications(
        company,
        project,
        owner,
        count,
        number_prefix="REL",
        name_prefix="可靠",
        mobile_prefix="137",
        occasion_prefix="reliability-",
        text="【测试置业】您的购房款已全额到账。",
        window=timedelta(hours=1),
    )


def received(fake: FakeAliyunSms) -> collections.Counter[str]:
    """How many times the fake gateway accepted each outbox id (its OutId)."""
    with fake.lock:
        return collections.Counter(message.out_id for message in fake.messages)


def statuses(ids: list[int]) -> collections.Counter[str]:
    return collections.Counter(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))


def open_count(ids: list[int]) -> int:
    return OutboundMessage.objects.filter(pk__in=ids, status__in=OutboundMessage.OPEN).count()


def assert_each_received_once(fake: FakeAliyunSms, ids: list[int]) -> None:
    counts = received(fake)
    twice = {ref: n for ref, n in counts.items() if n > 1}
    assert not twice, f"the gateway received {len(twice)} messages more than once: {sorted(twice.items())[:10]}"
    missing = {str(pk) for pk in ids} - set(counts)
    assert not missing, f"{len(missing)} messages never reached the gateway: {sorted(missing)[:10]}"
    assert len(counts) == len(ids)


def iter_log_lines(text: str, needle: str) -> Iterator[str]:
    return (line for line in text.splitlines() if needle in line)
