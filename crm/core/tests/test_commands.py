"""The job runner command and the core pages."""

from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.core.models import AuditLog


def test_runjobs_at_a_given_time_runs_every_job_as_of_then(db):
    store = SessionStore()
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + timezone.timedelta(days=1)
    )
    out = StringIO()
    call_command("runjobs", at=(timezone.now() + timezone.timedelta(days=2)).isoformat(), stdout=out)
    assert "clear_expired_sessions: 1" in out.getvalue()
    assert not Session.objects.exists()


def test_runjobs_rejects_a_malformed_time(db):
    with pytest.raises(CommandError, match="无法解析时间"):
        call_command("runjobs", at="next tuesday")


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_the_audit_log_is_for_supervisors_only(client, supervisor, consultant, customer):
    client.force_login(consultant)
    assert client.get("/audit/").status_code == 403
    client.force_login(supervisor)
    response = client.get("/audit/", {"customer": customer.number})
    assert response.status_code == 200
    assert "新建客户" in response.content.decode()
    assert AuditLog.objects.filter(customer_id=customer.pk).count() == 1
