"""Fixtures of the reliability tests (PostgreSQL; see tests/reliability/harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crm.sms.fakes.aliyun import FakeAliyunSms

from .harness import Processes


@pytest.fixture
def start_fake() -> Iterator[Callable[..., FakeAliyunSms]]:
    """Start the Aliyun protocol fake (a real HTTP server on a free port) with options."""
    fakes: list[FakeAliyunSms] = []

    def start(**options: Any) -> FakeAliyunSms:
        fake = FakeAliyunSms(**options).start()
        fakes.append(fake)
        return fake

    yield start
    for fake in fakes:
        fake.stop()


@pytest.fixture
def processes(transactional_db: None, tmp_path: Any) -> Iterator[Processes]:
    """Worker processes, all killed before the test database is flushed."""
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()
    _end_their_sessions()


def _end_their_sessions() -> None:
    """On PostgreSQL, end the sessions the killed workers left: a backend whose client was
    SIGKILLed mid-query lives until its query ends, and a session still open on the test
    database makes pytest-django's teardown fail to drop it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
