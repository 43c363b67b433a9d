"""TOTP for administrators and directors, the 账号安全 page, and what revokes an API token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from conftest import PASSWORD
from crm.accounts import security
from crm.lib import crypto, totp

NOW = datetime(2027, 3, 1, 9, 0, 15, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _enable(user, at=NOW):
    security.enable_totp(user, actor=user, secret=SECRET, code=totp.totp(SECRET, at=at), now=at)


# ---------------------------------------------------------------- enabling


def test_a_director_enables_totp_with_a_code_from_the_app(director):
    _enable(director)
    director.refresh_from_db()
    assert director.has_totp
    assert director.totp_secret != SECRET  # encrypted at rest
    assert crypto.decrypt(director.totp_secret) == SECRET


def test_a_wrong_code_does_not_enable_totp(director):
    with pytest.raises(security.TotpError, match="验证码不正确"):
        security.enable_totp(director, actor=director, secret=SECRET, code="000000", now=NOW)
    director.refresh_from_db()
    assert not director.has_totp


def test_a_consultant_may_not_enable_totp(consultant):
    with pytest.raises(security.TotpError, match="系统管理员和客服中心主任"):
        _enable(consultant)


@time_machine.travel(NOW, tick=False)
def test_the_security_page_walks_a_director_through_setup(client, director):
    client.force_login(director)
    page = client.get("/account/security/?totp=setup").content.decode()
    assert "开始设置" not in page
    secret = client.session["totp_setup_secret"]
    assert secret in page
    assert "otpauth://totp/" in page
    wrong = client.post("/account/security/", {"action": "enable_totp", "code": "12345"})
    assert "请输入 6 位数字" in wrong.content.decode()
    response = client.post("/account/security/", {"action": "enable_totp", "code": totp.totp(secret, at=NOW)})
    assert response.status_code == 302
    director.refresh_from_db()
    assert director.has_totp


def test_the_security_page_offers_no_totp_to_a_consultant(client, consultant):
    client.force_login(consultant)
    page = client.get("/account/security/?totp=setup").content.decode()
    assert "动态验证码" not in page
    assert "totp_setup_secret" not in client.session


# ---------------------------------------------------------------- logging in


@time_machine.travel(NOW, tick=False)
def test_login_with_totp_needs_the_code_after_the_password(client, director):
    _enable(director, at=NOW - timedelta(minutes=5))
    response = client.post("/login/", {"username": "director", "password": PASSWORD})
    assert response["Location"] == "/login/totp/"
    assert client.get("/").status_code == 302  # not logged in yet
    page = client.get("/login/totp/")
    assert "动态验证码" in page.content.decode()
    response = client.post("/login/totp/", {"code": totp.totp(SECRET, at=NOW)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_used_code_does_not_log_in_twice(client, director):
    _enable(director, at=NOW - timedelta(minutes=5))
    code = totp.totp(SECRET, at=NOW)
    client.post("/login/", {"username": "director", "password": PASSWORD})
    client.post("/login/totp/", {"code": code})
    client.post("/logout/")
    client.post("/login/", {"username": "director", "password": PASSWORD})
    response = client.post("/login/totp/", {"code": code})
    assert response.status_code == 200
    assert "已使用过" in response.content.decode()
    assert client.get("/").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_wrong_codes_count_as_login_failures_and_end_the_attempt(client, director):
    _enable(director, at=NOW - timedelta(minutes=5))
    client.post("/login/", {"username": "director", "password": PASSWORD})
    for _ in range(4):
        response = client.post("/login/totp/", {"code": "000001"})
        assert "验证码不正确" in response.content.decode()
    assert AccessAttempt.objects.get(username="director").failures_since_start == 4
    # The fifth wrong code is the fifth failure: django-axes locks the username.
    response = client.post("/login/totp/", {"code": "000001"})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert client.get("/login/totp/")["Location"] == "/login/"  # the half-login is gone
    response = client.post("/login/", {"username": "director", "password": PASSWORD})
    assert response.status_code == 429


def test_the_totp_step_expires_after_five_minutes(client, director):
    _enable(director)
    with time_machine.travel(NOW, tick=False):
        client.post("/login/", {"username": "director", "password": PASSWORD})
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        response = client.post("/login/totp/", {"code": totp.totp(SECRET, at=NOW + timedelta(minutes=6))})
    assert response["Location"] == "/login/"


def test_the_totp_page_without_a_password_first_goes_back_to_login(client, db):
    assert client.get("/login/totp/")["Location"] == "/login/"


@time_machine.travel(NOW, tick=False)
def test_the_token_endpoint_asks_totp_users_for_the_code(director):
    from rest_framework.test import APIClient

    _enable(director, at=NOW - timedelta(minutes=5))
    api = APIClient()
    refused = api.post("/api/auth/token/", {"username": "director", "password": PASSWORD}, format="json")
    assert refused.status_code == 400
    assert "动态验证码" in refused.json()["otp"][0]
    ok = api.post(
        "/api/auth/token/",
        {"username": "director", "password": PASSWORD, "otp": totp.totp(SECRET, at=NOW)},
        format="json",
    )
    assert ok.status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_director_disables_totp_with_a_code_and_an_admin_for_a_lost_phone(director, admin_user):
    _enable(director, at=NOW - timedelta(minutes=5))
    with pytest.raises(security.TotpError):
        security.disable_totp(director, actor=director, code="000001", now=NOW)
    security.disable_totp(director, actor=director, code=totp.totp(SECRET, at=NOW), now=NOW)
    assert not director.has_totp
    _enable(director, at=NOW + timedelta(minutes=1))
    security.disable_totp(director, actor=admin_user, now=NOW + timedelta(minutes=2))
    director.refresh_from_db()
    assert not director.has_totp


def test_only_an_admin_disables_someone_elses_totp(director, supervisor):
    _enable(director)
    with pytest.raises(security.TotpError, match="只有系统管理员"):
        security.disable_totp(director, actor=supervisor, now=NOW)


# ---------------------------------------------------------------- tokens


def test_a_password_change_revokes_the_token(consultant):
    Token.objects.create(user=consultant)
    consultant.set_password("a brand new passphrase")
    consultant.save()
    assert not Token.objects.filter(user=consultant).exists()


def test_changepassword_command_revokes_the_token(consultant, monkeypatch):
    Token.objects.create(user=consultant)
    answers = iter(["another new passphrase", "another new passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("changepassword", "consultant", stdout=None)
    assert not Token.objects.filter(user=consultant).exists()


def test_deactivation_revokes_the_token(consultant):
    Token.objects.create(user=consultant)
    consultant.is_active = False
    consultant.save()
    assert not Token.objects.filter(user=consultant).exists()


def test_saving_other_fields_keeps_the_token(consultant):
    token = Token.objects.create(user=consultant)
    consultant.display_name = "王顾问（新）"
    consultant.save()
    consultant.refresh_from_db()  # no pending password
    consultant.save(update_fields=["last_login"])
    assert Token.objects.filter(key=token.key).exists()


def test_a_rehash_of_the_same_password_keeps_the_token(consultant):
    token = Token.objects.create(user=consultant)
    consultant.set_password(PASSWORD)  # what check_password does when the hasher is upgraded
    consultant.save(update_fields=["password"])
    assert Token.objects.filter(key=token.key).exists()


def test_the_user_revokes_their_token_on_the_security_page(client, consultant):
    Token.objects.create(user=consultant)
    client.force_login(consultant)
    page = client.get("/account/security/").content.decode()
    assert "吊销令牌" in page
    response = client.post("/account/security/", {"action": "revoke_token"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=consultant).exists()
    assert "当前没有有效的接口令牌" in client.get("/account/security/").content.decode()


def test_an_admin_revokes_a_token_in_the_admin(client, consultant, admin_user):
    token = Token.objects.create(user=consultant)
    client.force_login(admin_user)
    page = client.get("/admin/authtoken/tokenproxy/")
    assert page.status_code == 200
    response = client.post(f"/admin/authtoken/tokenproxy/{consultant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(key=token.key).exists()


def test_an_admin_turns_off_a_lost_phones_totp_and_revokes_tokens_in_the_admin(client, director, admin_user):
    _enable(director)
    Token.objects.create(user=director)
    client.force_login(admin_user)
    for action in ("turn_off_totp", "revoke_api_tokens"):
        response = client.post(
            "/admin/accounts/user/", {"action": action, "_selected_action": [director.pk]}, follow=True
        )
        assert response.status_code == 200
    director.refresh_from_db()
    assert not director.has_totp
    assert not Token.objects.filter(user=director).exists()


def test_the_admin_login_form_cannot_skip_the_totp_step(client, admin_user):
    _enable(admin_user)
    response = client.post("/admin/login/?next=/admin/", {"username": admin_user.username, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302  # not logged in
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"
