"""客户描摹 in the browser, on a phone-sized screen: the consultant sees 0 of 3 on the quota
page, writes a portrait of their customer (a missing choice is refused in Chinese, the input
kept), submits it and sees the quota go up to 1 of 3."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm.portraits.models import Portrait
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_consultant_submits_a_portrait_and_the_quota_goes_up(phone_page, sign_in, consultant, customer):
    page = sign_in(phone_page, consultant)
    page.goto("/portraits/quota/")
    row = page.locator("#quota tr[data-consultant='consultant']")
    expect(row.locator("[data-figure=submitted]")).to_have_text("0")
    expect(row).to_contain_text("还差 3 份")

    page.goto("/portraits/new/")
    page.fill("input[name=customer_number]", customer.number)
    page.select_option("select[name=industry]", "finance")
    page.fill("input[name=occupation]", "银行客户经理")
    page.select_option("select[name=family_structure]", "one_child")
    page.select_option("select[name=hobby]", "travel")
    page.fill("textarea[name=interests]", "周末喜欢带孩子露营")
    page.select_option("select[name=living_situation]", "renting")
    page.select_option("select[name=purchase_motive]", "school")
    page.click("#portrait-form button.primary")
    expect(page.locator("[data-field=decision_maker] .errorlist")).to_contain_text("请选择购房决策人")
    expect(page.locator("textarea[name=interests]")).to_have_value("周末喜欢带孩子露营")
    assert fits_the_screen(page)
    page.select_option("select[name=decision_maker]", "couple")
    page.click("#portrait-form button.primary")
    expect(page.locator(".messages")).to_contain_text("客户描摹已提交（本季度 1/3）")
    expect(page.locator("#portrait-facts")).to_contain_text("周末喜欢带孩子露营")
    screenshot(page, "portrait_390")

    page.goto("/portraits/quota/")
    expect(row.locator("[data-figure=submitted]")).to_have_text("1")
    expect(row).to_contain_text("还差 2 份")
    assert fits_the_screen(page)
    assert Portrait.objects.get().customer == customer
