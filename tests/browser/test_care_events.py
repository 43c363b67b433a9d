"""An event notice in the browser: staff give the event's date, the preview shows the day it
goes (3 days before), and, needing no approval, it is queued at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.care.models import Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.customers.models import Stage
from crm.customers.services import create_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_event_notice_is_planned_from_the_events_date(page, sign_in, service, make_customer, make_unit, consultant):
    for name in ("林业主", "周业主"):
        owner = make_customer(name, stage=Stage.OWNER, consent_marketing=True)
        create_deal(actor=consultant, customer=owner, unit=make_unit(), subscribed_on=timezone.localdate())
    event_on = timezone.localdate() + timedelta(days=10)
    send_on = event_on - timedelta(days=3)
    sign_in(page, service)
    page.goto("/sms/broadcast/")
    page.select_option("select[name=trigger]", Trigger.EVENT)
    expect(page.locator("input[name=event_on]")).to_be_visible()
    expect(page.locator("input[name=send_on]")).to_be_hidden()
    page.get_by_role("button", name="预览收件人和短信").click()
    expect(page.locator("[data-field=event_on] .errorlist")).to_contain_text("请填写活动日期")
    page.fill("input[name=event_on]", event_on.isoformat())
    page.fill("input[name=val_活动]", "业主联谊会")
    page.fill("input[name=val_时间]", f"{event_on.month}月{event_on.day}日 14:00")
    page.get_by_role("button", name="预览收件人和短信").click()
    preview = page.locator("#preview")
    expect(preview.locator(".recipients")).to_contain_text("2 位客户将收到")
    expect(preview).to_contain_text(f"{send_on.month}月{send_on.day}日")
    expect(preview).to_contain_text("10:00–10:30")

    preview.get_by_role("button", name="确认发送").click()
    page.wait_for_url("**/sms/outbox/**")
    expect(page.locator(".msg.success")).to_contain_text("已排入发件箱")
    draft = Draft.objects.get()
    assert (draft.status, draft.event_on, draft.send_on) == (Draft.Status.APPROVED, event_on, send_on)
    assert OutboundMessage.objects.filter(draft=draft, status=OutboundMessage.Status.SCHEDULED).count() == 2
