"""投诉 in the browser, on a phone-sized screen: the duty officer registers a complaint;
the service specialist acknowledges it, investigates and proposes a plan; the director
approves; the specialist carries it out, resolves it and records the customer's phone
confirmation. The list shows the countdown; nothing overflows 390px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm.accounts.roles import Role
from crm.complaints import services
from crm.complaints.models import Category, Complaint
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def act(page: Page, label: str, **fields: str) -> None:
    box = page.locator("details.manage-box", has=page.locator("summary", has_text=label))
    box.locator("summary").click()
    for name, value in fields.items():
        control = box.locator(f"[name={name}]")
        if name == "satisfaction":
            control.select_option(value)
        else:
            control.fill(value)
    box.locator("button.primary").click()
    expect(page.locator(".messages")).to_contain_text(f"{label}：已完成")


def test_a_complaint_from_intake_to_confirmation_on_a_phone(
    phone_page, sign_in, browser, live_server, make_staff, company, project, service, director
):
    services.ensure_default_categories(company)
    Category.objects.filter(company=company).update(owner=service)
    duty = make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班")
    page = sign_in(phone_page, duty)

    page.goto("/complaints/new/")
    page.select_option("select[name=channel]", "walk_in")
    page.fill("input[name=complainant_name]", "林先生")
    page.fill("input[name=complainant_mobile]", "12345")
    page.select_option("select[name=project]", str(project.pk))
    page.select_option("select[name=category]", label="服务质量")
    page.fill("textarea[name=content]", "样板间开放时间与公告不符")
    page.click("form button.primary")
    expect(page.locator(".errorlist")).to_be_visible()
    expect(page.locator("textarea[name=content]")).to_have_value("样板间开放时间与公告不符")
    page.fill("input[name=complainant_mobile]", "13600007777")
    page.click("form button.primary")
    complaint = Complaint.objects.get()
    expect(page.locator("h1")).to_contain_text(complaint.number)
    assert fits_the_screen(page)
    page.context.clear_cookies()

    page = sign_in(phone_page, service)
    page.goto("/complaints/")
    row = page.locator("tr", has_text=complaint.number)
    expect(row.locator("td.countdown")).to_contain_text("剩余")
    assert fits_the_screen(page)
    screenshot(page, "complaints-list-phone")
    row.locator("a").click()
    act(page, "确认接收", note="已联系客户")
    act(page, "开始调查")
    act(page, "提交处理方案", plan="向客户致歉，调整公告并加强核对")
    expect(page.locator(".badge").first).to_contain_text("方案待审批")
    assert fits_the_screen(page)
    page.context.clear_cookies()

    page = sign_in(phone_page, director)
    page.goto(f"/complaints/{complaint.pk}/")
    act(page, "批准方案", note="同意")
    page.context.clear_cookies()

    page = sign_in(phone_page, service)
    page.goto(f"/complaints/{complaint.pk}/")
    act(page, "开始实施")
    act(page, "处理完成", note="公告已更正，已向客户致歉")
    act(page, "登记客户确认", satisfaction="5", note="客户满意")
    expect(page.locator(".page-head .badge").first).to_contain_text("客户已确认")
    expect(page.locator(".complaint-events")).to_contain_text("满意度 5 分")
    screenshot(page, "complaints-detail-phone")
    assert fits_the_screen(page)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.satisfaction) == (Complaint.Status.CONFIRMED, 5)


def test_a_long_complaint_list_fills_in_its_total_and_loads_the_category_options_when_asked(
    page, sign_in, company, project, service
):
    services.ensure_default_categories(company)
    quality = Category.objects.get(company=company, name="服务质量")
    other = Category.objects.exclude(pk=quality.pk).filter(company=company).first()
    assert other is not None
    for i in range(30):
        intake = services.Intake(
            channel="phone",
            complainant_name=f"投诉人{i:02d}",
            complainant_mobile="13800001111",
            content="售楼处接待人员态度冷淡",
            project=project,
            category=quality if i < 3 else other,
        )
        services.register_complaint(intake, actor=service)
    sign_in(page, service)
    page.goto("/complaints/")
    expect(page.locator("table.complaints tbody tr")).to_have_count(25)
    # Fetched by the page itself once its rows are shown (hx-get on load), with the pager's count.
    expect(page.locator("#list-total")).to_have_text("共 30 条")
    expect(page.locator(".pager")).to_contain_text("第 1 / 2 页")

    category = page.locator("select[name=category]")
    expect(category.locator("option")).to_have_count(1)  # 全部类别, until the pointer reaches it
    category.hover()
    expect(category.locator("option", has_text="服务质量")).to_have_count(1)
    category.select_option(label="服务质量")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.complaints tbody tr")).to_have_count(3)
    expect(page.locator("#list-total")).to_have_text("共 3 条")
    expect(page.locator("select[name=category] option:checked")).to_have_text("服务质量")
