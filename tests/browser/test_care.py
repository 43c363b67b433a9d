"""温馨速递 in the browser: the approver's morning (workbench → inbox → fill {进度} → approve),
the broadcast composer's preview-then-submit flow, the rule preview, and the phone layout."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.care import services
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.customers.models import Stage
from crm.customers.services import create_deal
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.fixture
def owners(make_customer, make_unit, consultant):
    """Two subscribed owners who have not moved in: construction progress goes to them."""
    result = []
    for name in ("林业主", "周业主"):
        customer = make_customer(name, consent_care=True)
        create_deal(actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 1, 5))
        result.append(customer)
    return result


@pytest.fixture
def construction_draft(owners, project):
    rule = services.rule_for(project.pk, Trigger.CONSTRUCTION)
    send_on = timezone.localdate() + timedelta(days=2)
    return services.create_draft(rule, occasion=send_on.isoformat(), send_on=send_on)


def test_the_approver_fills_the_progress_and_approves_from_the_workbench(page, sign_in, approver, construction_draft):
    sign_in(page, approver)
    pending = page.locator("a.stat[data-stat=pending_drafts]")
    expect(pending).to_contain_text("1")
    expect(pending).to_contain_text("待审批短信")
    screenshot(page, "care-approver-workbench")
    pending.click()
    page.wait_for_url("**/sms/approvals/")

    card = page.locator(f"#draft-{construction_draft.pk}")
    expect(card).to_contain_text("工程进度")
    expect(card.locator(".msg.blanks")).to_contain_text("{进度}")
    expect(card.locator(".count")).to_have_text("2")
    screenshot(page, "care-approvals-pending")

    card.get_by_role("button", name="批准并排入发件箱").click()
    expect(page.locator(f"#draft-{construction_draft.pk} [data-field=fill_进度] .errorlist")).to_contain_text(
        "请填写进度"
    )
    assert not OutboundMessage.objects.exists()
    screenshot(page, "care-approvals-blank-refused")

    card = page.locator(f"#draft-{construction_draft.pk}")
    card.get_by_label("进度").fill("完成主体结构封顶")
    card.get_by_role("button", name="批准并排入发件箱").click()
    expect(page.locator(".msg.success")).to_contain_text("已排入发件箱 2 条")
    expect(page.locator("#decided tbody tr").first).to_contain_text("已排入发件箱 2 条")
    expect(page.locator("main")).to_contain_text("没有待审批的短信")
    screenshot(page, "care-approvals-approved")

    assert Draft.objects.get().status == Draft.Status.APPROVED
    texts = set(OutboundMessage.objects.values_list("text", flat=True))
    assert texts == {"温馨速递 亲爱的客户您好！您的房屋已完成主体结构封顶，请您持续关注。测试置业敬上。"}


def test_the_approval_inbox_and_the_outbox_fit_a_phone(
    phone_page, sign_in, approver, service, owners, construction_draft
):
    page = sign_in(phone_page, approver)
    page.goto("/sms/approvals/")
    expect(page.locator(f"#draft-{construction_draft.pk} input[name$=fill_进度]")).to_be_visible()
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-care-approvals")

    page.context.clear_cookies()
    filled = construction_draft.text.replace("{进度}", "完成主体结构封顶")
    services.approve_draft(services.edit_draft(construction_draft, actor=approver, text=filled), actor=approver)
    page = sign_in(phone_page, service)
    expect(page.locator("a.stat[data-stat=outbox_planned]")).to_be_visible()
    page.goto("/sms/outbox/")
    expect(page.locator("table.outbox tbody tr")).to_have_count(2)
    expect(page.locator("table.outbox")).to_contain_text("工程进度")
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-care-outbox")

    services.opt_out(owners[0], actor=service, source="客户来电要求")
    page.goto("/sms/optouts/")
    expect(page.locator("table.optouts tbody tr")).to_have_count(1)
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-care-optouts")

    # The decided drafts: one row per draft stacked on the phone, nothing cut off at the card's right edge.
    page.goto("/sms/approvals/")
    decided = page.locator("#decided")
    expect(decided.locator("tbody tr").first).to_contain_text("已排入发件箱 2 条")
    assert decided.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), decided.evaluate("e => e.scrollWidth")
    screenshot(page, "phone-care-approvals-decided")


def test_service_staff_preview_a_broadcast_before_submitting_it(page, sign_in, service, make_customer, project):
    make_customer("意向甲", stage=Stage.INTERESTED, consent_marketing=True)
    make_customer("意向乙", stage=Stage.INTERESTED, consent_marketing=True)
    # Show flats need no approval by default (seed 001); here an administrator asked for it.
    services.ensure_rules(project)
    CareRule.objects.filter(project=project, trigger=Trigger.SHOW_FLAT_OPEN).update(needs_approval=True)
    sign_in(page, service)
    page.goto("/sms/broadcast/")
    page.select_option("select[name=trigger]", Trigger.EVENT)
    expect(page.locator("input[name=val_活动]")).to_be_visible()  # swapped in for the chosen type
    page.select_option("select[name=trigger]", Trigger.SHOW_FLAT_OPEN)
    page.fill("input[name=val_户型]", "A1")
    page.fill("input[name=val_面积]", "118")
    page.get_by_role("button", name="预览收件人和短信").click()
    expect(page.locator("[data-field=val_日期] .errorlist")).to_contain_text("请填写日期")
    expect(page.locator("input[name=val_户型]")).to_have_value("A1")
    page.fill("input[name=val_日期]", "5月1日")
    page.get_by_role("button", name="预览收件人和短信").click()
    preview = page.locator("#preview")
    expect(preview.locator(".recipients")).to_contain_text("2 位客户将收到")
    expect(preview).to_contain_text("锦华苑A1户型样板间（118平米）定于5月1日起开放")
    expect(preview.locator("mark.optout")).to_have_text("拒收请回复R")
    assert not Draft.objects.exists()
    screenshot(page, "care-broadcast-preview")

    preview.get_by_role("button", name="确认提交综合组审批").click()
    page.wait_for_url("**/sms/approvals/**")
    expect(page.locator(".msg.success")).to_contain_text("已提交综合组审批")
    assert Draft.objects.get().status == Draft.Status.PENDING
    assert not OutboundMessage.objects.exists()


def test_the_rule_preview_follows_the_template_as_it_is_typed(page, sign_in, admin_user, project):
    rule = services.rule_for(project.pk, Trigger.BIRTHDAY)
    sign_in(page, admin_user)
    page.goto("/sms/rules/")
    expect(page.locator("table.rules tbody tr")).to_have_count(len(Trigger))
    screenshot(page, "care-rules")
    page.goto(f"/sms/rules/{rule.pk}/")
    textarea = page.locator("textarea[name=template]")
    textarea.fill("温馨速递 祝您生日快乐！{公司}敬上。")
    expect(page.locator("#rule-preview .sms-text")).to_contain_text("祝您生日快乐！测试置业敬上。拒收请回复R")
    textarea.fill("温馨速递 您的{楼层}层")
    expect(page.locator("#rule-preview .msg.error")).to_contain_text("{楼层}")
    screenshot(page, "care-rule-edit")
