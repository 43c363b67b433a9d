"""Demo data, the job runner command and the core pages."""

from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core import demo
from crm.core.models import AuditLog
from crm.customers.models import Customer, Deal
from crm.lib.mobile import normalize_mobile


@pytest.fixture
def demo_world(db, settings):
    settings.DEMO_PASSWORD = "demo-pass-1"
    return demo.seed(customers=200)


def test_demo_has_a_user_of_every_role_who_can_log_in(demo_world, client):
    for role in Role:
        assert User.objects.filter(groups__name=str(role.label)).exists(), role
    for username in ("admin", "consultant1", "consultant2", "service1", "director1", "approver1"):
        response = client.post("/login/", {"username": username, "password": "demo-pass-1"})
        assert response.status_code == 302, username


def test_demo_consultants_one_and_two_are_in_different_teams(demo_world):
    one, two = User.objects.get(username="consultant1"), User.objects.get(username="consultant2")
    assert one.team_id != two.team_id


def test_demo_customers_have_valid_unique_mobiles_and_deals_at_every_milestone(demo_world):
    mobiles = list(Customer.objects.values_list("mobile", flat=True))
    assert len(mobiles) == 200
    assert len(set(mobiles)) == 200
    assert all(normalize_mobile(m) == m for m in mobiles)
    deals = Deal.objects.all()
    assert deals.filter(contracted_on__isnull=True).exists()
    assert deals.filter(contracted_on__isnull=False, delivered_on__isnull=True).exists()
    assert deals.filter(moved_in_on__isnull=False).exists()
    assert all(d.customer.stage == "owner" for d in deals.select_related("customer"))


def test_seed_demo_command_does_not_run_twice(demo_world):
    out = StringIO()
    call_command("seed_demo", customers=10, stdout=out)
    assert "跳过" in out.getvalue()
    assert Customer.objects.count() == 200


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
    response = client.get("/audit/", {"customer": customer.pk})
    assert response.status_code == 200
    assert "新建客户" in response.content.decode()
    assert AuditLog.objects.filter(customer_id=customer.pk).count() == 1


def test_the_workbench_counts_only_what_the_user_may_see(client, consultant, outsider, make_customer, project_b):
    make_customer("甲", grade="A")
    make_customer("乙", owner=outsider, project=project_b, grade="A")
    client.force_login(consultant)
    stats = client.get("/").context["stats"]
    assert stats["customers"] == 1
    assert stats["grade_a"] == 1


def test_the_menu_shows_only_what_the_role_uses(client, approver, supervisor):
    client.force_login(approver)
    labels = [item["label"] for item in client.get("/").context["menu"]]
    assert "客户" not in labels
    assert "审计日志" not in labels
    client.force_login(supervisor)
    labels = [item["label"] for item in client.get("/").context["menu"]]
    assert "客户" in labels
    assert "审计日志" in labels


def test_demo_customers_were_registered_over_two_years(demo_world):
    from django.db.models import Max, Min

    span = Customer.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (span["last"] - span["first"]).days > 300


def test_demo_deals_come_after_the_customers_registration(demo_world):
    for deal in Deal.objects.select_related("customer"):
        assert deal.subscribed_on >= timezone.localtime(deal.customer.created_at).date()


def test_a_directors_workbench_counts_are_cached_and_a_consultants_are_fresh(
    client, director, consultant, make_customer, settings
):
    settings.WORKBENCH_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    make_customer("甲")
    client.force_login(director)
    assert client.get("/").context["stats"]["customers"] == 1
    make_customer("乙")
    assert client.get("/").context["stats"]["customers"] == 1  # cached for the wide scope
    client.force_login(consultant)
    assert client.get("/").context["stats"]["customers"] == 2  # own scope: always fresh
    cache.clear()


def test_the_workbench_lists_the_latest_events_of_the_scope_only(
    client, consultant, outsider, make_customer, project_b
):
    mine = make_customer("自己的")
    make_customer("外组的", owner=outsider, project=project_b)
    client.force_login(consultant)
    events = client.get("/").context["recent_events"]
    assert {e.customer_id for e in events} == {mine.pk}
