"""客户活动 in the browser: the specialist creates an event, picks invitees by filter
(preview, then add), sends the invitations (an opted-out owner is shown with the reason),
and on the day checks an owner in on a phone-sized screen and registers one who was not
invited (现场登记) by mobile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.care.models import OutboundMessage
from crm.care.services import opt_out
from crm.events.models import Event, Invitee
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_an_event_from_creation_to_check_in(page, phone_page, sign_in, project, service, make_customer):
    vip = make_customer("钱VIP", is_vip=True, consent_marketing=True)
    out = make_customer("孙退订", is_vip=True, consent_marketing=True)
    walker = make_customer("李普通", consent_marketing=True)
    opt_out(out, actor=service, source="回复TD")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, service)

    page.goto("/events/new/")
    page.select_option("select[name=project]", str(project.pk))
    page.select_option("select[name=kind]", "vip")
    page.fill("input[name=title]", "VIP品鉴会")
    page.fill("input[name=place]", "锦华苑会所")
    page.fill("input[name=starts_on]", (timezone.localdate() + timedelta(days=3)).isoformat())
    page.fill("input[name=starts_at_time]", "15:00")
    page.click("form.card button.primary")
    expect(page.locator("h1")).to_contain_text("选择邀请客户：VIP品鉴会")

    page.check("input[name=vip]")
    page.click("button[name=preview]")
    expect(page.locator(".preview-count")).to_have_text("2")
    expect(page.locator(".invite-preview")).to_contain_text("1 人未同意接收营销短信或已退订")
    page.click(".invite-preview button.primary")
    expect(page.locator(".messages")).to_contain_text("已加入邀请名单 2 人")

    page.click("text=发送邀请")
    expect(page.locator(".messages")).to_contain_text("已排入发件箱邀请短信 1 条")
    expect(page.locator("table.invitees")).to_contain_text("客户已退订")
    screenshot(page, "event_detail")
    event = Event.objects.get()
    assert event.status == Event.Status.PUBLISHED
    assert OutboundMessage.objects.get(customer=vip).status == OutboundMessage.Status.SCHEDULED

    # The event is moved to today (the day of the event): the edit page allows it.
    page.click("text=修改")
    page.fill("input[name=starts_on]", timezone.localdate().isoformat())
    page.click("form.card button.primary")
    expect(page.locator(".messages")).to_contain_text("活动已保存")

    sign_in(phone_page, service)
    phone_page.goto(f"/events/{event.pk}/checkin/")
    phone_page.fill(".checkin-search input[name=q]", "钱")
    phone_page.click(".checkin-search button")
    expect(phone_page.locator(".checkin-list")).not_to_contain_text("孙退订")
    row = phone_page.locator(f"li[data-invitee='{Invitee.objects.get(customer=vip).pk}']")
    row.locator("button.checkin-button").click()
    expect(phone_page.locator(".messages")).to_contain_text("钱VIP 已签到")
    expect(phone_page.locator(".checkin-count")).to_have_text("1")
    expect(phone_page.locator(".checkin-search input[name=q]")).to_have_value("钱")
    assert fits_the_screen(phone_page)
    screenshot(phone_page, "event_checkin_390")
    assert Invitee.objects.get(customer=vip).attended_at is not None

    # 现场登记: an owner who was not invited, found by mobile.
    phone_page.click(".walk-in summary")
    phone_page.fill(".walk-in-form input[name=mobile]", walker.mobile)
    phone_page.click(".walk-in-form button.walk-in-button")
    expect(phone_page.locator(".messages")).to_contain_text("李普通 已签到（现场登记）")
    expect(phone_page.locator(".checkin-count")).to_have_text("2")
    assert fits_the_screen(phone_page)
    walk_in = Invitee.objects.get(customer=walker)
    assert walk_in.source == Invitee.Source.WALK_IN
    assert walk_in.attended_at is not None
