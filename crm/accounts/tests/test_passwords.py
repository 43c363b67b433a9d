"""Password policies: ASVS (default) and 等保, the shipped common-password lists, rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import get_password_validators, validate_password
from django.core.exceptions import ValidationError

from config import settings as config_settings
from conftest import PASSWORD


def _validators(policy: str):
    import importlib
    import os

    old = os.environ.get("PASSWORD_POLICY")
    os.environ["PASSWORD_POLICY"] = policy
    try:
        module = importlib.reload(config_settings)
        return get_password_validators(module.AUTH_PASSWORD_VALIDATORS), module.PASSWORD_MAX_AGE_DAYS
    finally:
        if old is None:
            os.environ.pop("PASSWORD_POLICY", None)
        else:
            os.environ["PASSWORD_POLICY"] = old
        importlib.reload(config_settings)


def _errors(password: str, policy: str) -> list[str]:
    validators, _ = _validators(policy)
    try:
        validate_password(password, password_validators=validators)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def test_asvs_is_the_default_policy():
    assert settings.PASSWORD_POLICY == "asvs"
    assert settings.PASSWORD_MAX_AGE_DAYS == 0


@pytest.mark.parametrize(
    "password",
    [
        "demo12345",  # the old demo password: 9 characters
        "Zs123456",  # accepted by Django's defaults
    ],
)
def test_asvs_refuses_short_passwords(password):
    errors = _errors(password, "asvs")
    assert any("12" in e for e in errors), errors


@pytest.mark.parametrize("password", ["1qaz2wsx3edc", "qwertyuiop123", "password1234"])
def test_asvs_refuses_common_passwords_of_any_length(password):
    assert _errors(password, "asvs"), password


def test_the_chinese_list_refuses_what_djangos_list_misses(db):
    from crm.accounts.passwords import ChineseCommonPasswordValidator

    with pytest.raises(ValidationError, match="太常见"):
        ChineseCommonPasswordValidator().validate("Woaini1314")
    with pytest.raises(ValidationError, match="太常见"):
        ChineseCommonPasswordValidator().validate("ZS123456")


@pytest.mark.parametrize(
    "password", ["correct horse battery", "楼盘客户关系与客服系统真好用", settings.DEMO_PASSWORD, PASSWORD]
)
def test_asvs_accepts_long_passphrases_without_composition_rules(password):
    assert _errors(password, "asvs") == []


def test_asvs_refuses_more_than_128_characters():
    assert any("128" in e for e in _errors("a-long-passphrase " * 8, "asvs"))


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefgh", False),  # one class
        ("abcd1234", False),  # two classes
        ("Qlmz7342", True),  # three classes, 8 characters
        ("abc1234!", True),
        ("Ab1!", False),  # too short
        ("Zs123456", False),  # three classes but on the Chinese common list
        (settings.DEMO_PASSWORD, True),
    ],
)
def test_dengbao_wants_three_of_four_classes_and_eight_characters(password, ok):
    assert (_errors(password, "dengbao") == []) is ok


def test_dengbao_rotates_every_90_days_by_default():
    _, days = _validators("dengbao")
    assert days == 90


def test_an_unknown_policy_refuses_to_start():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="PASSWORD_POLICY"):
        _validators("strong")


def test_the_password_change_page_enforces_the_policy_and_keeps_the_user_logged_in(client, consultant):
    client.force_login(consultant)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "Zs123456", "new_password2": "Zs123456"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "12" in html  # 该密码过短。它必须包含至少 12 个字符。
    consultant.refresh_from_db()
    assert consultant.check_password(PASSWORD)

    response = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    assert "原密码不正确" in response.content.decode()

    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a long new passphrase",
            "new_password2": "a long new passphrase",
        },
    )
    assert response.status_code == 302
    consultant.refresh_from_db()
    assert consultant.check_password("a long new passphrase")
    assert client.get("/").status_code == 200  # this session stays logged in


@time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False)
def test_dengbao_forces_a_change_at_login_after_90_days(client, consultant, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    type(consultant).objects.filter(pk=consultant.pk).update(
        password_changed_at=datetime(2027, 3, 1, 9, tzinfo=UTC) - timedelta(days=91)
    )
    response = client.post("/login/", {"username": "consultant", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"] == "/account/password/"
    page = client.get("/account/password/")
    assert "密码已到期" in page.content.decode()
    client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "Xin-Mima-2027", "new_password2": "Xin-Mima-2027"},
    )
    assert client.get("/customers/").status_code == 200


@time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False)
def test_dengbao_does_not_force_a_change_before_90_days(client, consultant, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    type(consultant).objects.filter(pk=consultant.pk).update(
        password_changed_at=datetime(2027, 3, 1, 9, tzinfo=UTC) - timedelta(days=89)
    )
    client.force_login(consultant)
    assert client.get("/customers/").status_code == 200


def test_new_staff_have_their_password_date_recorded(consultant):
    consultant.refresh_from_db()
    assert consultant.password_changed_at is not None
