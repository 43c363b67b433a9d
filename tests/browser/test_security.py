"""The Content-Security-Policy in a real browser: pages, the select-all box and Swagger UI work
with no violation; a director turns on TOTP and logs in with it; the error pages on a phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.lib import totp
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch_csp(page):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def test_pages_work_under_the_policy_with_no_violation(page, sign_in, leader, make_customer):
    make_customer("张三", owner=leader)
    make_customer("李四", owner=leader)
    violations = _watch_csp(page)
    sign_in(page, leader)
    page.goto("/customers/")
    boxes = page.locator("input[name=ids]")
    assert boxes.count() == 2
    page.check("input[data-check-all]")  # static/js/app.js, no inline handler
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info")  # Swagger UI started from its script file
    assert "EstateCRM API" in page.locator(".swagger-ui .info").inner_text()
    assert violations == []


def test_a_director_turns_on_totp_and_logs_in_with_it(page, sign_in, director):
    sign_in(page, director)
    page.goto("/account/security/")
    page.click("text=开始设置")
    secret = page.locator("code.secret").inner_text()
    page.fill("input[name=code]", "12")
    page.click("button[value=enable_totp]")
    assert "请输入 6 位数字" in page.content()
    page.fill("input[name=code]", totp.totp(secret, at=datetime.now(tz=UTC)))
    page.click("button[value=enable_totp]")
    assert "已启用动态验证码" in page.locator(".messages").inner_text()
    screenshot(page, "account-security")
    page.click("button:has-text('退出')")

    page.goto("/login/")
    page.fill("input[name=username]", director.username)
    page.fill("input[name=password]", "test-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/login/totp/")
    # The code just used for enabling is refused (each code works once); wait for the next
    # step rather than sleep: the code of the following 30-second step is accepted early.
    page.fill(
        "input[name=code]", totp.totp(secret, at=datetime.fromtimestamp(datetime.now(tz=UTC).timestamp() + 30, tz=UTC))
    )
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("h1").first.inner_text() == "工作台"


def test_error_pages_fit_a_phone(phone_page, sign_in, approver):
    sign_in(phone_page, approver)
    response = phone_page.goto("/customers/")
    assert response.status == 403
    assert "无权访问" in phone_page.locator("h1").inner_text()
    phone_page.click("text=返回工作台")
    phone_page.wait_for_url("**/")
    phone_page.goto("/no-such-page/")
    assert "页面不存在" in phone_page.locator("h1").inner_text()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(phone_page, "error-404-phone")
