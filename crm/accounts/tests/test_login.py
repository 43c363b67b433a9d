"""Login in Chinese, throttling after repeated failures, idle timeout, role groups."""

import time

import pytest
from django.contrib.auth.models import Group

from conftest import PASSWORD
from crm.accounts.access import scopes_of, widest_scope
from crm.accounts.roles import ROLE_SPECS, Role, Scope, group_name


def test_login_page_is_in_chinese(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_anonymous_users_are_sent_to_login(client, db):
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_consultant_logs_in_with_the_right_password(client, consultant):
    response = client.post("/login/", {"username": "consultant", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_five_failures_lock_the_account_even_for_the_right_password(client, consultant):
    for _ in range(5):
        response = client.post("/login/", {"username": "consultant", "password": "wrong"})
    assert response.status_code in (200, 429)
    response = client.post("/login/", {"username": "consultant", "password": PASSWORD})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_four_failures_do_not_lock(client, consultant):
    for _ in range(4):
        client.post("/login/", {"username": "consultant", "password": "wrong"})
    response = client.post("/login/", {"username": "consultant", "password": PASSWORD})
    assert response.status_code == 302


def test_an_idle_session_is_logged_out(client, consultant, settings):
    client.force_login(consultant)
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 5
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_every_role_has_its_group_with_its_permissions(db):
    for role, spec in ROLE_SPECS.items():
        group = Group.objects.get(name=group_name(role))
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(spec.permissions), role


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.CONSULTANT, Scope.OWN),
        (Role.TEAM_LEADER, Scope.TEAM),
        (Role.SERVICE, Scope.PROJECT),
        (Role.SUPERVISOR, Scope.COMPANY),
    ],
)
def test_each_role_grants_its_scope(make_staff, role, scope):
    assert scopes_of(make_staff(f"u_{role}", role)) == {scope}


def test_a_user_with_two_roles_has_both_scopes(make_staff):
    user = make_staff("both", Role.CONSULTANT, Role.DIRECTOR)
    assert scopes_of(user) == {Scope.OWN, Scope.PROJECT}
    assert widest_scope(user) == Scope.PROJECT


def test_a_login_is_audited_with_the_address(client, consultant):
    from crm.core.models import AuditLog

    client.post("/login/", {"username": "consultant", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    log = AuditLog.objects.get(action="login")
    assert log.actor == consultant
    assert log.ip == "10.1.2.3"
