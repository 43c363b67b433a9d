"""补发 in the browser: the service specialist's morning — the workbench says a message
failed, the count opens exactly those rows, the row says why, tick it and resend; the
broadcast composer keeps what was typed while the type changes; the outbox on a phone."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.care import dispatch, services
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.core.models import AuditLog
from crm.lib.dates import at
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.base import Outcome
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Status = OutboundMessage.Status


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.fixture
def failed_message(make_customer):
    """Today's birthday greeting the gateway refused: planned now, sent, failed."""
    customer = make_customer("林业主", consent_care=True)
    rule = services.rule_for(customer.project_id, Trigger.BIRTHDAY)
    # 10:00 today, inside the birthday window and outside quiet hours whenever the suite runs
    # (timezone.now() at 21:30 would be deferred to the morning, not sent).
    now = at(timezone.localdate(), time(10, 0))
    message = OutboundMessage.objects.create(
        customer=customer,
        project_id=customer.project_id,
        rule=rule,
        trigger=Trigger.BIRTHDAY,
        occasion=timezone.localdate().isoformat(),
        purpose=rule.purpose,
        text=services.preview(rule, customer),
        scheduled_at=now,
        window_ends_at=now + timedelta(minutes=30),
        next_attempt_at=now,
    )
    locmem.script(Outcome.FAILED)
    dispatch.send_due_messages(now=now, gateway=LocmemGateway())
    message.refresh_from_db()
    assert message.status == Status.FAILED
    return message


def test_service_staff_resend_a_failed_message_from_the_outbox(page, sign_in, service, failed_message):
    sign_in(page, service)
    failed = page.locator("a.stat[data-stat=outbox_failed]")
    expect(failed).to_contain_text("1")
    expect(failed).to_contain_text("今日发送失败")
    screenshot(page, "care-resend-workbench")
    failed.click()
    page.wait_for_url("**/sms/outbox/?status=failed_any**")

    row = page.locator("table.outbox tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("发送失败")
    expect(row.locator(".hint")).to_contain_text("可以补发")
    screenshot(page, "care-resend-outbox-failed")

    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="补发所选").click()
    expect(page.locator(".msg.success")).to_contain_text("已补发 1 条短信")
    expect(page.locator("table.outbox tbody")).to_contain_text("没有符合条件的短信")  # no longer failed
    screenshot(page, "care-resend-done")

    failed_message.refresh_from_db()
    assert failed_message.status == Status.SCHEDULED
    assert AuditLog.objects.get(target_type="care.outboundmessage").actor == service

    page.goto(f"/sms/outbox/{failed_message.pk}/")
    expect(page.locator(".badge.status-scheduled")).to_have_text("待发送")
    expect(page.locator("ul.history")).to_contain_text("补发短信 生日祝福（原状态：发送失败）")
    due = failed_message.scheduled_at + timedelta(seconds=1)  # today's window, or tomorrow's
    assert dispatch.send_due_messages(now=due, gateway=LocmemGateway()) == 1
    assert [m.reference for m in locmem.outbox] == [str(failed_message.pk)]


def test_the_outbox_with_a_failed_message_fits_a_phone(phone_page, sign_in, service, failed_message):
    page = sign_in(phone_page, service)
    page.goto("/sms/outbox/?status=attention")
    expect(page.locator("table.outbox tbody tr .reason")).to_be_visible()
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-care-resend-outbox")
    page.goto(f"/sms/outbox/{failed_message.pk}/")
    expect(page.get_by_role("button", name="补发这条短信")).to_be_visible()
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-care-resend-message")


def test_the_broadcast_composer_keeps_what_was_typed_while_the_type_changes(page, sign_in, service, project):
    sign_in(page, service)
    page.goto("/sms/broadcast/")
    page.fill("input[name=val_户型]", "A1")
    page.fill("input[name=val_面积]", "118")
    page.select_option("select[name=trigger]", Trigger.EVENT)
    expect(page.locator("input[name=val_活动]")).to_be_visible()
    expect(page.locator(".errorlist")).to_have_count(0)
    page.fill("input[name=val_活动]", "业主中秋游园会")
    page.select_option("select[name=trigger]", Trigger.SHOW_FLAT_CLOSE)
    expect(page.locator("input[name=val_户型]")).to_have_value("A1")
    expect(page.locator("input[name=val_面积]")).to_have_value("118")
    expect(page.locator(".errorlist")).to_have_count(0)
    page.select_option("select[name=trigger]", Trigger.EVENT)
    expect(page.locator("input[name=val_活动]")).to_have_value("业主中秋游园会")
    screenshot(page, "care-broadcast-keeps-typed")
