"""指标看板 in the browser: 管理层 opens October 2026 on a desktop and on a 390px phone;
every chart is drawn by ECharts (a canvas in each figure), the tiles show the figures, a
tile's numerator opens the list behind it, and nothing overflows the phone's width."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from playwright.sync_api import Page, expect

from crm.accounts.roles import Role
from crm.complaints import services
from crm.complaints.models import Category, Channel, Complaint
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.visits.models import VisitTask
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


@pytest.fixture
def manager(make_staff):
    return make_staff("manager", Role.MANAGEMENT, display_name="黄总")


@pytest.fixture
def october(company, project, service, make_customer, consultant):
    services.ensure_default_categories(company)
    quality = Category.objects.get(company=company, name="服务质量")
    contract = Category.objects.get(company=company, name="合同")
    customer = make_customer("业主甲", owner=consultant)
    for day, category in ((9, quality), (12, quality), (20, contract)):
        complaint = services.register_complaint(
            services.Intake(
                channel=Channel.PHONE,
                complainant_name="业主甲",
                complainant_mobile=customer.mobile,
                content="售楼处接待人员态度冷淡",
                project=project,
                category=category,
            ),
            actor=service,
            now=datetime(2026, 10, day, 10, 0, tzinfo=CHINA_TZ),
            calendar=WorkCalendar(),
        )
        if day == 9:
            Complaint.objects.filter(pk=complaint.pk).update(
                resolved_at=complaint.resolution_due_at, acknowledged_at=complaint.first_response_due_at, satisfaction=5
            )
    for i, (due, done) in enumerate(((date(2026, 10, 9), True), (date(2026, 10, 20), False))):
        VisitTask.objects.create(
            company=company,
            customer=customer,
            project=project,
            occasion=f"browser:{i}",
            occasion_on=due,
            purpose="签约回访",
            start_on=due,
            due_on=due,
            assignee=consultant,
            status=VisitTask.Status.DONE if done else VisitTask.Status.PENDING,
            completed_at=datetime(2026, 10, 9, 15, tzinfo=CHINA_TZ) if done else None,
            reached=True if done else None,
            satisfaction=4 if done else None,
        )


def check_dashboard(page: Page) -> None:
    page.goto("/kpis/?kind=month&value=2026-10")
    expect(page.locator("h1")).to_contain_text("2026年10月")
    expect(page.locator('[data-figure="resolution_timeliness"]')).to_have_text("33.3%")
    expect(page.locator('[data-figure="visit_completion"]')).to_have_text("50.0%")
    expect(page.locator('[data-figure="visit_satisfaction"]')).to_have_text("100.0%")
    expect(page.locator("figure.chart")).to_have_count(6)
    expect(page.locator("figure.chart.chart-drawn")).to_have_count(6)
    expect(page.locator("figure.chart .chart-canvas canvas")).to_have_count(6)
    # Chinese labels in the chart's table.
    expect(page.locator('table[data-chart-table="by-category"] tbody tr').first).to_have_text("服务质量2")


def test_management_reads_the_dashboard_on_desktop_and_phone(page, phone_page, sign_in, october, manager):
    sign_in(page, manager)
    page.goto("/")
    page.get_by_role("link", name="指标看板").first.click()
    expect(page.locator("h1")).to_contain_text("指标看板")
    check_dashboard(page)
    assert fits_the_screen(page)
    screenshot(page, "kpis-dashboard-desktop")
    # A figure's numerator opens the rows behind it.
    page.locator('[data-kpi="resolution_timeliness"] a[data-part="denominator"]').click()
    expect(page.locator("[data-kpi-filter]")).to_contain_text("登记投诉")
    expect(page.locator("table.complaints tbody tr")).to_have_count(3)

    sign_in(phone_page, manager)
    check_dashboard(phone_page)
    assert fits_the_screen(phone_page)
    screenshot(phone_page, "kpis-dashboard-phone")
