"""Two pollers reading the same mail at once (two runners, or a retry overlapping a slow
run) on PostgreSQL make one complaint: the unique message key decides."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.db import connection

from crm.complaints.mail_intake import MailboxConfig, intake_mail
from crm.complaints.models import Complaint, InboundMail
from crm.lib.dates import CHINA_TZ

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
RAW = (
    b"From: =?utf-8?b?5p2O5aWz5aOr?= <li@example.com>\r\nSubject: =?utf-8?b?5oqV6K+J?=\r\n"
    b"Message-ID: <race@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
)


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_of_one_mail_makes_one_complaint(duty, category, project):
    config = MailboxConfig("h", 1, "u", "p", actor=duty.username, project=project.code)
    errors: list[BaseException] = []
    results: list[InboundMail] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def poll() -> None:
        try:
            barrier.wait(timeout=30)
            record = intake_mail(RAW, actor=duty, config=config, now=NOW)
            with lock:
                results.append(record)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Complaint.objects.count() == 1
    assert InboundMail.objects.count() == 1
    assert {r.pk for r in results} == {InboundMail.objects.get().pk}
