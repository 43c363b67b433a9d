"""Logging in and out in the browser."""

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consultant_logs_in_and_sees_the_workbench(page, sign_in, consultant):
    sign_in(page, consultant)
    assert page.locator("h1").first.inner_text() == "工作台"
    assert "王顾问" in page.locator(".me").inner_text()
    screenshot(page, "workbench")


def test_wrong_password_shows_a_chinese_error(page, consultant):
    page.goto("/login/")
    page.fill("input[name=username]", consultant.username)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".msg.error").inner_text()
    assert page.locator("input[name=username]").input_value() == consultant.username
