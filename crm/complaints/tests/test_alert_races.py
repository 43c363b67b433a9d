"""Two escalation runners at the same moment on PostgreSQL (a second beat, a redelivered
task): each complaint is raised once and each director notified once, and neither run
fails on the other's notification rows."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.db import connection, transaction

from crm.complaints import alerts, escalation
from crm.complaints.models import ComplaintEvent
from crm.core.models import Notification
from crm.core.notifications import notify
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar

THREADS = 4
RUN_AT = datetime(2026, 9, 30, 18, 0, tzinfo=CHINA_TZ)


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_escalation_runs_notify_each_director_once(make_complaint, duty, director, service):
    complaints = [make_complaint(actor=duty) for _ in range(5)]
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            result = f"ok:{escalation.escalate_breached(now=RUN_AT, calendar=WorkCalendar())}"
        except BaseException as exc:
            result = f"error:{exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(o.startswith("ok:") for o in outcomes), outcomes
    assert sum(int(o[3:]) for o in outcomes) == len(complaints)
    assert ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.ESCALATED).count() == len(complaints)
    for user in (director, service):
        rows = Notification.objects.filter(recipient=user, kind=alerts.KIND_ESCALATED)
        assert rows.count() == len(complaints)
        assert rows.values("dedupe_key").distinct().count() == len(complaints)


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_notified_from_two_transactions_at_once_is_written_once(director):
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                notify([director], kind="test", title="同一事件", key="complaint:1:event:1", now=RUN_AT)
            result = "ok"
        except BaseException as exc:
            result = f"error:{exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["ok"] * THREADS
    assert Notification.objects.filter(recipient=director).count() == 1
