"""Issue 11's whole journey in the browser: a member of the public files a complaint on the
public page (phone, no login); the director dispatches it with a category; the specialist
acknowledges, investigates and proposes a plan; the director approves it; the specialist
carries it out and resolves it; the complainant confirms through the one-time survey link
from the SMS; staff see it confirmed, every step in the record with who did it."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import services
from crm.complaints.models import Channel, Complaint
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def act(page: Page, label: str, **fields: str) -> None:
    """Open the action box ``label`` on the complaint page, fill it and submit."""
    box = page.locator("#actions details.manage-box", has=page.locator("summary", has_text=label))
    box.locator("summary").click()
    for name, value in fields.items():
        field = box.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    box.locator("button.primary").click()
    expect(page.locator(".messages")).to_contain_text(label)


def test_public_complaint_to_confirmation_through_the_survey_link(
    page, phone_page, browser, live_server, sign_in, settings, company, project, service, director
):
    cache.clear()
    settings.SITE_URL = live_server.url
    services.ensure_default_categories(company)

    # 1. The public page, on a phone, without logging in.
    public = phone_page
    public.goto("/tousu/")
    public.fill("input[name=complainant_name]", "郑女士")
    public.fill("input[name=complainant_mobile]", "13955550123")
    public.select_option("select[name=project]", label=project.name)
    public.fill("textarea[name=content]", "交房时发现阳台漏水，报修一周无人上门")
    public.fill("input[name=captcha_answer]", "7")  # config/settings_test.py draws 3 + 4
    public.click("button.primary")
    number = public.locator(".complaint-number").inner_text().strip()
    complaint = Complaint.objects.get(number=number)
    assert (complaint.channel, complaint.status) == (Channel.WEBSITE, Complaint.Status.REGISTERED)
    accepted = OutboundMessage.objects.get(trigger=Trigger.COMPLAINT_ACCEPTED, contact_mobile="13955550123")
    assert number in accepted.text

    # 2. The director dispatches it, choosing the category and the specialist.
    desk = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 860})
    boss = sign_in(desk.new_page(), director)
    boss.goto(f"/complaints/{complaint.pk}/")
    act(boss, "分派", category="售后", assignee=str(service))

    # 3. The specialist acknowledges, investigates and proposes a plan.
    staff = sign_in(page, service)
    staff.goto(f"/complaints/{complaint.pk}/")
    act(staff, "确认接收")
    act(staff, "开始调查", note="已联系客户约定上门时间")
    act(staff, "提交处理方案", plan="工程部两日内上门检修阳台防水，完工后客服回访")

    # 4. The director approves; the specialist carries it out and resolves it.
    boss.reload()
    act(boss, "批准方案")
    staff.reload()
    act(staff, "开始实施")
    act(staff, "处理完成", note="阳台防水已重做，蓄水试验无渗漏")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RESOLVED

    # 5. The complainant rates it through the one-time link the SMS carries.
    sms = OutboundMessage.objects.get(trigger=Trigger.COMPLAINT_SURVEY, contact_mobile="13955550123")
    link = re.search(r"https?://\S+?/complaints/survey/[\w-]+/", sms.text)
    assert link, sms.text
    public.goto(link.group(0))
    expect(public.locator(".survey-card")).to_contain_text(number)
    public.locator("label.rating-choice", has_text="5 分").click()
    public.fill("textarea[name=comment]", "上门及时，问题已解决")
    public.locator("button[type=submit]").click()
    expect(public.locator("#survey-done")).to_contain_text("已确认处理完毕")
    screenshot(public, "complaint-journey-survey-390")

    # 6. Staff see it confirmed, and the record says who did each step.
    staff.reload()
    expect(staff.locator(".page-head .badge").first).to_contain_text("已确认")
    events = staff.locator(".complaint-events")
    for text in (
        "已登记 → 已分派",
        "已分派 → 已接收",
        "已接收 → 调查中",
        "方案待审批 → 方案已批准",
        "处理中 → 已处理待确认",
        "已处理待确认 → 客户已确认",
        "投诉人（短信评价链接）",
        "工程部两日内上门检修阳台防水",
    ):
        expect(events).to_contain_text(text)
    expect(events).to_contain_text(str(director))
    complaint.refresh_from_db()
    assert (complaint.status, complaint.satisfaction) == (Complaint.Status.CONFIRMED, 5)
    assert complaint.category is not None
    assert complaint.category.name == "售后"
    moves = list(complaint.events.exclude(to_status="").values_list("to_status", flat=True))
    assert moves == [
        "registered",
        "dispatched",
        "acknowledged",
        "investigating",
        "plan_proposed",
        "plan_approved",
        "in_progress",
        "resolved",
        "confirmed",
    ]
    desk.close()
