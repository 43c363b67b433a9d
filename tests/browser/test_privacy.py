"""个人信息申请 in the browser: the director registers an erasure request from the
customer's page (a missing identity check is refused in Chinese and the choices are kept),
downloads nothing, ticks the confirmation and erases; the customer's page then shows
已注销客户 and the list search finds nothing. The request pages fit a 390px screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm.customers.models import Customer
from crm.privacy.models import DataSubjectRequest, ErasureRecord
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_an_erasure_request_from_the_customer_page_to_the_ledger(phone_page, sign_in, director, customer):
    page = sign_in(phone_page, director)
    page.goto(f"/customers/{customer.pk}/")
    page.click(f'.actions a[href="/privacy/new/{customer.pk}/"]')
    page.select_option("select[name=kind]", "erase")
    page.select_option("select[name=received_via]", "visit")
    page.click("form button.primary")
    expect(page.locator(".errorlist").first).to_contain_text("必填")
    expect(page.locator("select[name=kind]")).to_have_value("erase")
    assert fits_the_screen(page)
    page.fill("input[name=identity_check]", "到访出示身份证原件，核对无误")
    page.click("form button.primary")
    page.wait_for_load_state()
    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    expect(page.locator("h1")).to_contain_text("删除申请")
    request = DataSubjectRequest.objects.get()
    expect(page.locator("h1")).to_contain_text(request.number)
    expect(page.locator(".messages")).to_contain_text("答复期限")
    assert fits_the_screen(page)
    screenshot(page, "privacy-request-phone")

    page.click("button.danger")  # without the tick: the browser's required check stops it
    assert DataSubjectRequest.objects.get().status == "received"
    page.check("input[name=confirm]")
    page.click("button.danger")
    expect(page.locator(".messages")).to_contain_text("客户申请删除")
    record = ErasureRecord.objects.get()
    assert record.customer_number == customer.number

    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("h1")).to_contain_text("已注销客户")
    page.goto("/customers/?q=%E5%BC%A0%E4%B8%89")  # 张三
    expect(page.locator("body")).not_to_contain_text(customer.number)
    assert Customer.objects.get(pk=customer.pk).name == "已注销客户"
