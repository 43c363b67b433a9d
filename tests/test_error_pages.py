"""Every error page is Chinese, for a logged-in user and for an anonymous visitor, with a way back;
under /api/ the same errors are Chinese JSON."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.test import Client, RequestFactory

from config import urls as root_urls
from crm.core import error_views

WAY_BACK = "返回工作台"


def _html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("logged_in", [True, False])
def test_404_is_chinese_with_a_way_back(client, consultant, logged_in):
    if logged_in:
        client.force_login(consultant)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = _html(response)
    assert "页面不存在" in html
    assert WAY_BACK in html
    assert "Not Found" not in html
    assert ("登录</a>" in html) is not logged_in


def test_403_is_chinese_for_a_logged_in_user(client, approver):
    client.force_login(approver)  # 综合组: no customer data
    response = client.get("/customers/")
    assert response.status_code == 403
    html = _html(response)
    assert "无权访问" in html
    assert WAY_BACK in html
    assert "Forbidden" not in html


def test_403_page_for_an_anonymous_visitor_offers_login():
    request = RequestFactory().get("/customers/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = error_views.permission_denied(request, PermissionError())
    assert response.status_code == 403
    html = _html(response)
    assert "无权访问" in html
    assert "登录" in html


@pytest.mark.parametrize("logged_in", [True, False])
def test_400_is_chinese(client, consultant, logged_in):
    if logged_in:
        client.force_login(consultant)
    # A host outside ALLOWED_HOSTS is Django's own 400 (DisallowedHost → handler400).
    response = client.get("/login/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    html = _html(response)
    assert "请求无效" in html
    assert WAY_BACK in html
    assert "Bad Request" not in html


def test_500_page_is_chinese_and_needs_no_database():
    assert root_urls.handler500 == "crm.core.error_views.server_error"
    request = RequestFactory().get("/customers/1/")
    response = error_views.server_error(request)
    assert response.status_code == 500
    html = _html(response)
    assert "系统出错" in html
    assert WAY_BACK in html
    assert "Traceback" not in html


def test_500_under_the_api_is_chinese_json():
    response = error_views.server_error(RequestFactory().get("/api/customers/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "服务器内部错误" in json.loads(response.content)["detail"]


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("connection already closed")])
@pytest.mark.parametrize("path", ["/customers/1/", "/api/customers/"])
def test_a_database_that_does_not_answer_gives_a_chinese_503_not_a_500(error, path):
    # handler500 runs while Django handles the exception: raised here the same way. The
    # real outage (PostgreSQL behind a cut proxy) is tests/reliability/test_outage.py.
    try:
        try:
            raise error
        except (DatabaseError, InterfaceError) as exc:  # Django wraps the driver's error; the cause stays chained
            raise RuntimeError("a view failed") from exc
    except RuntimeError:
        response = error_views.server_error(RequestFactory().get(path))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = json.loads(response.content)["detail"] if path.startswith("/api/") else _html(response)
    assert "数据库暂时无法连接" in text
    assert "Traceback" not in text


def test_other_errors_stay_a_500():
    try:
        raise IntegrityError("duplicate key")
    except IntegrityError:
        response = error_views.server_error(RequestFactory().get("/customers/1/"))
    assert response.status_code == 500


def test_an_unknown_api_url_is_chinese_json(client, consultant):
    client.force_login(consultant)
    response = client.get("/api/no-such-resource/")
    assert response.status_code == 404
    assert response.json() == {"detail": "不存在或无权查看。"}


@pytest.mark.parametrize("logged_in", [True, False])
def test_csrf_failure_page_is_chinese(consultant, logged_in):
    client = Client(enforce_csrf_checks=True)
    if logged_in:
        client.force_login(consultant)
        response = client.post("/logout/")
    else:
        response = client.post("/login/", {"username": "consultant", "password": "x"})
    assert response.status_code == 403
    html = _html(response)
    assert "页面已过期" in html
    assert WAY_BACK in html
    assert "CSRF verification failed" not in html


def test_csrf_failure_on_the_api_is_chinese_json(consultant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(consultant)  # session authentication: DRF checks CSRF itself
    response = client.post("/api/customers/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "页面已过期" in response.json()["detail"]


@pytest.mark.parametrize(
    "persona", ["consultant", "leader", "service", "director", "supervisor", "approver", "admin_user"]
)
def test_every_role_gets_the_chinese_404_with_a_way_back(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/customers/no-such-thing/")
    assert response.status_code == 404
    html = _html(response)
    assert "页面不存在" in html
    assert WAY_BACK in html
