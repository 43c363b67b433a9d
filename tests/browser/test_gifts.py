"""礼品发放 in the browser, on a phone-sized screen: the consultant opens the gift to hand
over for a new subscription, asks for more than the stock (refused with the balance, the
input kept), corrects the quantity and issues it; the task is done and stock goes down."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from playwright.sync_api import Page, expect

from crm.lib.dates import CHINA_TZ
from crm.service import jobs, services
from crm.service.models import Gift, GiftStock, GiftTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_consultant_hands_over_a_subscription_gift_on_a_phone(
    phone_page, sign_in, company, project, consultant, director, make_customer, make_unit
):
    from crm.customers.services import create_deal

    gift = Gift.objects.create(company=company, name="定制保温杯", unit="个")
    services.stock_in(gift, actor=director, project=project, quantity=3)
    deal = create_deal(
        actor=consultant, customer=make_customer("刘业主"), unit=make_unit(), subscribed_on=date(2026, 10, 20)
    )
    jobs.create_gift_tasks(now=datetime(2026, 10, 21, 9, 0, tzinfo=CHINA_TZ))

    page = sign_in(phone_page, consultant)
    page.goto("/service/gifts/tasks/?state=mine")
    expect(page.locator("table.gift-tasks")).to_contain_text("刘业主")
    page.click("table.gift-tasks a.button")
    expect(page.locator("input[name=customer_number]")).to_have_value(deal.customer.number)
    page.select_option("select[name=gift]", str(gift.pk))
    page.fill("input[name=quantity]", "5")
    page.click("form button.primary")
    expect(page.locator(".errorlist")).to_contain_text("只剩 3个")
    expect(page.locator("input[name=customer_number]")).to_have_value(deal.customer.number)
    assert fits_the_screen(page)
    page.fill("input[name=quantity]", "1")
    page.click("form button.primary")
    expect(page.locator(".messages")).to_contain_text("已发放：定制保温杯 ×1（刘业主）")
    assert fits_the_screen(page)
    assert GiftTask.objects.get().status == GiftTask.Status.DONE
    assert GiftStock.objects.get().quantity == 2
