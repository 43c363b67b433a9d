"""投诉分析报告 in the browser: the director opens November's report on a desktop and on a
390px phone; every chart is drawn by ECharts (served by the app, a canvas appears) and the
table under each chart holds the same numbers. Nothing overflows the phone's width."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from crm.complaints import services
from crm.complaints.models import Category, Channel, Complaint
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


@pytest.fixture
def november(company, project, service):
    services.ensure_default_categories(company)
    quality = Category.objects.get(company=company, name="服务质量")
    contract = Category.objects.get(company=company, name="合同")
    for day, category, channel in (
        (2, quality, Channel.PHONE),
        (3, quality, Channel.WECHAT),
        (9, quality, Channel.PHONE),
        (30, contract, Channel.EMAIL),
    ):
        complaint = services.register_complaint(
            services.Intake(
                channel=channel,
                complainant_name="张三",
                complainant_mobile="13800001111",
                content="售楼处接待人员态度冷淡",
                project=project,
                category=category,
            ),
            actor=service,
            now=datetime(2026, 11, day, 10, 0, tzinfo=CHINA_TZ),
            calendar=WorkCalendar(),
        )
        if day == 2:
            Complaint.objects.filter(pk=complaint.pk).update(
                acknowledged_at=complaint.first_response_due_at, satisfaction=5
            )


def check_report(page: Page) -> None:
    page.goto("/complaints/reports/monthly/?month=2026-11")
    expect(page.locator("h1")).to_contain_text("2026年11月")
    expect(page.locator('[data-figure="total"]')).to_have_text("4")
    expect(page.locator('[data-figure="first_response_rate"]')).to_have_text("25.0%")
    figures = page.locator("figure.chart")
    expect(figures).to_have_count(6)
    # Drawn: charts.js marks each figure, and ECharts put a canvas in it.
    expect(page.locator("figure.chart.chart-drawn")).to_have_count(6)
    expect(page.locator("figure.chart .chart-canvas canvas")).to_have_count(6)
    assert page.evaluate("typeof window.echarts") == "object"
    # The table fallback holds the chart's numbers.
    category = page.locator('table[data-chart-table="category"] tbody tr')
    expect(category.nth(0)).to_have_text("服务质量30")
    expect(category.nth(1)).to_have_text("合同10")
    channel = page.locator('table[data-chart-table="channel"]')
    expect(channel.locator("tr", has_text="电话")).to_have_text("电话20")
    satisfaction = page.locator('table[data-chart-table="satisfaction"]')
    expect(satisfaction.locator("tr", has_text="5 分")).to_have_text("5 分10")


def test_the_director_reads_the_monthly_report_on_desktop_and_phone(page, phone_page, sign_in, november, director):
    sign_in(page, director)
    page.goto("/")
    page.get_by_role("link", name="投诉分析报告").first.click()
    expect(page.locator("h1")).to_contain_text("投诉分析报告")
    check_report(page)
    screenshot(page, "complaint-report-desktop")

    sign_in(phone_page, director)
    check_report(phone_page)
    assert fits_the_screen(phone_page)
    screenshot(phone_page, "complaint-report-phone")


def test_an_empty_month_in_the_browser(page, sign_in, director):
    sign_in(page, director)
    page.goto("/complaints/reports/monthly/?month=2025-01")
    expect(page.locator("#report-empty")).to_contain_text("2025年01月没有投诉记录")
    expect(page.locator("figure.chart")).to_have_count(0)
