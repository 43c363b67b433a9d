"""The complainant confirms by the survey link: staff resolve a complaint in the browser,
the link is read from the outbox row's text (what the SMS says), opened on a 390px phone
without logging in, a rating given; staff then see the complaint 客户已确认."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import services
from crm.complaints.models import Category, Channel, Complaint
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_staff_resolve_and_the_complainant_confirms_through_the_sms_link(
    page, phone_page, sign_in, live_server, settings, company, project, service, director
):
    settings.SITE_URL = live_server.url
    services.ensure_default_categories(company)
    category = Category.objects.get(company=company, name="服务质量")
    complaint = services.register_complaint(
        services.Intake(
            channel=Channel.PHONE,
            complainant_name="林先生",
            complainant_mobile="13600007777",  # not a customer: an unlinked contact
            content="样板间开放时间与公告不符",
            project=project,
            category=category,
            assignee=service,
        ),
        actor=service,
    )
    services.acknowledge_complaint(complaint, actor=service)
    services.start_investigation(complaint, actor=service)
    services.propose_plan(complaint, actor=service, plan="致歉并更正公告")
    services.approve_plan(complaint, actor=director)
    services.start_work(complaint, actor=service)

    staff = sign_in(page, service)
    staff.goto(f"/complaints/{complaint.pk}/")
    box = staff.locator("details.manage-box", has=staff.locator("summary", has_text="处理完成"))
    box.locator("summary").click()
    expect(box).to_contain_text("处理结果将以短信告知投诉人")
    box.locator("[name=note]").fill("公告已更正，已向客户致歉")
    box.locator("button.primary").click()
    expect(staff.locator(".messages")).to_contain_text("处理完成：已完成")
    expect(staff.locator("#notices")).to_contain_text("满意度回访")

    sms = OutboundMessage.objects.get(trigger=Trigger.COMPLAINT_SURVEY, customer__isnull=True)
    link = re.search(r"https?://\S+?/complaints/survey/[\w-]+/", sms.text)
    assert link, sms.text
    customer = phone_page  # another browser: no staff session
    customer.goto(link.group(0))
    expect(customer.locator(".survey-card")).to_contain_text(complaint.number)
    assert fits_the_screen(customer)
    customer.locator("button[type=submit]").click()  # no rating chosen
    expect(customer.locator(".msg.error")).to_contain_text("请选择评分")
    customer.locator("label.rating-choice", has_text="4 分").click()
    customer.fill("textarea[name=comment]", "处理及时，谢谢")
    customer.locator("button[type=submit]").click()
    expect(customer.locator("#survey-done")).to_contain_text("已确认处理完毕")
    screenshot(customer, "complaint-survey-phone")
    assert fits_the_screen(customer)
    customer.goto(link.group(0))  # once only
    expect(customer.locator("#survey-refused")).to_contain_text("只能使用一次")

    staff.reload()
    expect(staff.locator(".page-head .badge").first).to_contain_text("已确认")
    expect(staff.locator(".complaint-events")).to_contain_text("投诉人（短信评价链接）")
    expect(staff.locator(".complaint-events")).to_contain_text("短信评价 4 分：处理及时，谢谢")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.satisfaction) == (Complaint.Status.CONFIRMED, 4)
