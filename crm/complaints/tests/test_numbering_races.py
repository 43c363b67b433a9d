"""200 concurrent registrations on PostgreSQL get 200 distinct numbers (threads, each with
its own connection, released together by a barrier)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from crm.complaints.models import Complaint

from .conftest import REGISTERED_AT

THREADS = 200
BATCH = 20


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_never_repeats_a_number(make_complaint):
    make_complaint()  # the day's counter row exists; the race is on its increments
    errors: list[BaseException] = []
    lock = threading.Lock()

    def register(i: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=30)
            make_complaint(complainant_name=f"并发{i}")
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    # 20 threads at a time, released together, keep within PostgreSQL's connection limit.
    for start in range(0, THREADS, BATCH):
        barrier = threading.Barrier(BATCH)
        batch = [threading.Thread(target=register, args=(i, barrier)) for i in range(start, start + BATCH)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
    assert errors == []
    numbers = list(Complaint.objects.values_list("number", flat=True))
    assert len(numbers) == THREADS + 1
    assert len(set(numbers)) == THREADS + 1
    day = REGISTERED_AT.strftime("%Y%m%d")
    assert sorted(numbers) == [f"TS{day}{n:04d}" for n in range(1, THREADS + 2)]
