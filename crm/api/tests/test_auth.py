"""Token login, and django-axes counting API failures toward the lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone
from rest_framework.authtoken.models import Token

from conftest import PASSWORD

from .utils import has_chinese

TOKEN_URL = "/api/auth/token/"


def post_token(api, username, password):
    return api().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_token_for_valid_credentials_authenticates_later_requests(api, consultant, customer):
    response = post_token(api, "consultant", PASSWORD)

    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=consultant).key
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = client.get("/api/customers/")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [customer.pk]


def test_asking_twice_returns_the_same_token(api, consultant):
    first = post_token(api, "consultant", PASSWORD).json()["token"]
    second = post_token(api, "consultant", PASSWORD).json()["token"]
    assert first == second


def test_requests_without_a_token_are_401(api, customer):
    response = api().get("/api/customers/")
    assert response.status_code == 401
    assert has_chinese(response.json()["detail"])


def test_an_invalid_token_is_401(api, customer):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/customers/").status_code == 401


def test_wrong_password_is_400_with_a_chinese_message(api, consultant):
    response = post_token(api, "consultant", "wrong-password")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["用户名或密码错误，或账号已停用。"]}
    assert not Token.objects.filter(user=consultant).exists()


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(api, consultant):
    response = post_token(api, "nobody", PASSWORD)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["用户名或密码错误，或账号已停用。"]}


def test_missing_fields_are_field_errors(api, db):
    response = api().post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}
    assert has_chinese(response.json())


def test_inactive_staff_get_no_token(api, consultant):
    consultant.is_active = False
    consultant.save()
    assert post_token(api, "consultant", PASSWORD).status_code == 400


def test_non_json_body_is_400(api, db):
    response = api().post(TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert has_chinese(response.json()["detail"])


def test_five_failures_lock_the_username_even_for_the_right_password(api, consultant):
    for _ in range(4):
        assert post_token(api, "consultant", "wrong-password").status_code == 400

    fifth = post_token(api, "consultant", "wrong-password")
    assert fifth.status_code == 429
    assert "锁定" in fifth.json()["detail"]
    assert "30 分钟" in fifth.json()["detail"]

    with_right_password = post_token(api, "consultant", PASSWORD)
    assert with_right_password.status_code == 429
    assert "token" not in with_right_password.json()
    assert not Token.objects.filter(user=consultant).exists()
    # An attempt during the lockout counts too (axes restarts the cool-off from it).
    assert AccessAttempt.objects.get(username="consultant").failures_since_start == 6


def test_the_lock_lifts_thirty_minutes_after_the_last_attempt(api, consultant):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            post_token(api, "consultant", "wrong-password")

    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert post_token(api, "consultant", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=29 + 29), tick=False):
        assert post_token(api, "consultant", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=29 + 29 + 31), tick=False):
        assert post_token(api, "consultant", PASSWORD).status_code == 200


def test_api_failures_and_login_page_failures_add_up(api, client, consultant):
    for _ in range(4):
        response = client.post("/login/", {"username": "consultant", "password": "wrong-password"})
        assert response.status_code == 200  # the form again, with its error

    assert post_token(api, "consultant", "wrong-password").status_code == 429


def test_a_username_locked_through_the_api_cannot_use_the_login_page(api, client, consultant):
    for _ in range(5):
        post_token(api, "consultant", "wrong-password")

    response = client.post("/login/", {"username": "consultant", "password": PASSWORD})

    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_token_login_resets_the_failure_count(api, consultant):
    for _ in range(4):
        post_token(api, "consultant", "wrong-password")
    assert post_token(api, "consultant", PASSWORD).status_code == 200

    for _ in range(4):
        assert post_token(api, "consultant", "wrong-password").status_code == 400
    assert post_token(api, "consultant", PASSWORD).status_code == 200


def test_a_token_login_records_last_login(api, consultant):
    assert consultant.last_login is None
    post_token(api, "consultant", PASSWORD)
    consultant.refresh_from_db()
    assert consultant.last_login is not None


@pytest.mark.parametrize("other", ["teammate", "outsider"])
def test_one_users_lock_leaves_others_alone(api, consultant, teammate, outsider, other):
    for _ in range(5):
        post_token(api, "consultant", "wrong-password")
    assert post_token(api, other, PASSWORD).status_code == 200


def test_a_form_encoded_request_works_and_failures_never_store_the_password(api, consultant):
    client = api()
    failed = client.post(TOKEN_URL, {"username": "consultant", "password": "secret-guess-1"})
    assert failed.status_code == 400

    attempt = AccessAttempt.objects.get(username="consultant")
    assert "secret-guess-1" not in attempt.post_data
    assert client.post(TOKEN_URL, {"username": "consultant", "password": PASSWORD}).status_code == 200
