"""首问责任制 in the browser, on a phone-sized screen: a service specialist registers a
consultation she cannot answer on the spot (she becomes its first responder), hands it
off to 财务部, records the department's answer, calls the customer back and the issue
closes, with her still the owner. Nothing overflows 390px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm.accounts.models import Department
from crm.complaints import consultations
from crm.complaints.models import CustomerIssue
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_consultation_followed_up_to_the_callback_on_a_phone(
    phone_page, sign_in, company, project, service, customer
):
    consultations.ensure_default_topics(company)
    Department.objects.create(company=company, name="财务部")
    page = sign_in(phone_page, service)

    page.goto("/complaints/consultations/new/")
    page.select_option("select[name=channel]", "walk_in")
    page.fill("input[name=contact_name]", "张三")
    page.fill("input[name=contact_mobile]", customer.mobile)
    page.select_option("select[name=project]", str(project.pk))
    page.select_option("select[name=topic]", label="付款与按揭")
    page.fill("textarea[name=question]", "定金退款什么时候到账？")
    page.click("form button.primary")
    # No answer and no follow-up: refused in Chinese, the question kept.
    expect(page.locator(".errorlist")).to_contain_text("请填写答复内容")
    expect(page.locator("textarea[name=question]")).to_have_value("定金退款什么时候到账？")
    assert fits_the_screen(page)
    page.check("input[name=needs_follow_up]")
    page.click("form button.primary")

    issue = CustomerIssue.objects.get()
    expect(page.locator("h1")).to_contain_text(issue.number)
    expect(page.locator(".first-responder")).to_have_text("刘客服")
    assert fits_the_screen(page)

    box = page.locator("details.manage-box", has=page.locator("summary", has_text="转交部门"))
    box.locator("summary").click()
    box.locator("select[name=department]").select_option(label="财务部")
    box.locator("textarea[name=asked]").fill("请确认退款到账时间")
    box.locator("button.primary").click()
    expect(page.locator(".messages")).to_contain_text("已转交财务部，您仍是首问责任人")
    expect(page.locator("#issue-status")).to_have_text("已转部门")

    answer = page.locator("details.manage-box", has=page.locator("summary", has_text="登记部门答复"))
    answer.locator("summary").click()
    answer.locator("textarea[name=answer]").fill("已提交银行，3 个工作日内到账")
    answer.locator("button.primary").click()
    expect(page.locator("#issue-status")).to_have_text("待回复客户")
    assert fits_the_screen(page)

    callback = page.locator("#callback details.manage-box").first
    expect(callback).to_have_attribute("open", "")
    callback.locator("textarea[name=result]").fill("已电话告知客户到账时间，客户满意")
    callback.locator("button.primary").click()
    expect(page.locator(".messages")).to_contain_text("已回复客户，事项已结案")
    expect(page.locator("#issue-status")).to_have_text("已回复结案")
    expect(page.locator(".first-responder")).to_have_text("刘客服")
    expect(page.locator(".callbacks")).to_contain_text("已联系上")
    screenshot(page, "first-responder-closed-phone")
    assert fits_the_screen(page)

    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.CLOSED
    assert issue.first_responder == service
    assert issue.customer == customer


def test_the_weekly_media_review_and_the_quarterly_summary_fit_a_phone(
    phone_page, sign_in, make_staff, company, project, director
):
    from crm.accounts.roles import Role
    from crm.complaints.models import MediaCheck, Medium

    analyst = make_staff("analyst", Role.ANALYST, display_name="马市场")
    page = sign_in(phone_page, analyst)
    page.goto("/complaints/media/")
    expect(page.locator("#review-state")).to_contain_text("未浏览 7 个")
    row = page.locator("tr", has_text="业主论坛")
    row.locator("input[name=note]").fill("无新帖")
    row.locator("button.primary").click()
    expect(page.locator(".messages")).to_contain_text("业主论坛：本周已浏览")
    expect(page.locator("#review-state")).to_contain_text("未浏览 6 个")
    assert fits_the_screen(page)
    screenshot(page, "media-review-phone")
    assert MediaCheck.objects.get().medium == Medium.objects.get(name="业主论坛")
    page.context.clear_cookies()

    consultations.ensure_default_topics(company)
    page = sign_in(phone_page, director)
    page.goto("/complaints/consultations/summary/")
    expect(page.locator("h1")).to_contain_text("季度咨询汇总")
    assert fits_the_screen(page)
