"""Token expiry, revocation, throttling and hostile JSON bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from conftest import PASSWORD
from crm.api.parsers import json_depth

from .utils import has_chinese

ISSUED = datetime(2027, 3, 1, 9, tzinfo=UTC)


def _token_client(api, key):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_works_until_it_expires_after_30_days(api, consultant, customer, settings):
    assert settings.API_TOKEN_DAYS == 30
    with time_machine.travel(ISSUED, tick=False):
        key = (
            api()
            .post("/api/auth/token/", {"username": "consultant", "password": PASSWORD}, format="json")
            .json()["token"]
        )
    with time_machine.travel(ISSUED + timedelta(days=29, hours=23), tick=False):
        assert _token_client(api, key).get("/api/customers/").status_code == 200
    with time_machine.travel(ISSUED + timedelta(days=30), tick=False):
        response = _token_client(api, key).get("/api/customers/")
        assert response.status_code == 401
        assert response.json()["detail"] == "令牌已过期，请重新获取。"
        # Asking again issues a new token with a new key.
        fresh = api().post("/api/auth/token/", {"username": "consultant", "password": PASSWORD}, format="json")
        assert fresh.status_code == 200
        assert fresh.json()["token"] != key
        assert fresh.json()["expires_at"].startswith("2027-04-30")  # 30 days after the new one
        assert _token_client(api, fresh.json()["token"]).get("/api/customers/").status_code == 200


def test_the_token_answer_says_when_it_expires(api, consultant):
    with time_machine.travel(ISSUED, tick=False):
        body = api().post("/api/auth/token/", {"username": "consultant", "password": PASSWORD}, format="json").json()
    assert body["expires_at"].startswith("2027-03-31")


def test_a_revoked_token_is_refused_in_chinese(api, consultant):
    key = Token.objects.create(user=consultant).key
    Token.objects.filter(key=key).delete()
    response = _token_client(api, key).get("/api/customers/")
    assert response.status_code == 401
    assert "吊销" in response.json()["detail"]


def test_a_password_change_ends_api_access_with_the_old_token(api, consultant, customer):
    key = Token.objects.create(user=consultant).key
    assert _token_client(api, key).get("/api/customers/").status_code == 200
    consultant.set_password("a different passphrase")
    consultant.save()
    assert _token_client(api, key).get("/api/customers/").status_code == 401


def test_a_deactivated_user_loses_api_access(api, consultant, customer):
    key = Token.objects.create(user=consultant).key
    consultant.is_active = False
    consultant.save()
    assert _token_client(api, key).get("/api/customers/").status_code == 401


# ---------------------------------------------------------------- throttling


@pytest.fixture
def tight_rates(monkeypatch):
    # DRF reads the rates into the class when it is defined: set them there.
    rates = {"anon": "3/minute", "user": "5/minute"}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_the_api_throttles_a_user_in_chinese(api, consultant, tight_rates):
    client = api(consultant)
    statuses = [client.get("/api/projects/").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    response = client.get("/api/projects/")
    assert has_chinese(response.json())
    assert "Retry-After" in response


def test_the_api_throttles_anonymous_callers(api, db, tight_rates):
    client = api()
    statuses = [
        client.post("/api/auth/token/", {"username": "x", "password": "y"}, format="json").status_code for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]


def test_throttle_rates_are_settings(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rates) == {"anon", "user"}


# ---------------------------------------------------------------- hostile JSON


def test_a_5000_deep_json_body_is_a_chinese_400(api, consultant):
    body = "[" * 5000 + "]" * 5000
    response = api(consultant).post("/api/customers/", body, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套层数过多" in response.json()["detail"]


def test_a_deep_json_body_on_the_token_endpoint_is_a_chinese_400(api, db):
    body = '{"username": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套层数过多" in response.json()["detail"]


def test_brackets_inside_strings_do_not_count():
    assert json_depth(json.dumps({"name": "[[[[[[[[[[" * 100, "a": [1, {"b": 2}]})) == 3
    assert json_depth('"just a string"') == 0
    assert json_depth(json.dumps({"q": 'a \\" [[[['})) == 1


def test_ordinary_nesting_still_parses(api, consultant, project):
    body = {"name": "张三", "mobile": "13800001111", "project": project.pk, "tags": [[[]]]}
    response = api(consultant).post("/api/customers/", body, format="json")
    assert response.status_code in (201, 400)
    assert "嵌套" not in json.dumps(response.json(), ensure_ascii=False)


def test_a_body_over_the_size_limit_is_refused(api, consultant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"name": "张" * 2000})
    response = api(consultant).post("/api/customers/", body, content_type="application/json")
    assert response.status_code == 400
    assert has_chinese(response.json())
