"""Trust in the browser: a search by full mobile stays out of the address bar; a large
export waits for the supervisor, who approves it from the workbench, and the consultant
downloads it once; the audit log reads in Chinese on a phone."""

import re

import pytest
from playwright.sync_api import expect

from crm.customers.models import CompanyPrivacy, ExportRequest
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_search_by_full_mobile_keeps_the_number_out_of_the_url(page, sign_in, consultant, customer):
    sign_in(page, consultant)
    page.locator(".global-search input[name=q]").fill("138-1234-5678")
    page.locator(".global-search input[name=q]").press("Enter")
    expect(page.locator("table.customers tbody tr")).to_have_count(1)
    assert "5678" not in page.url
    page.goto("/customers/")
    page.locator(".filters input[name=q]").fill("13812345678")
    page.locator(".filters input[name=q]").press("Enter")
    rows = page.locator("table.customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("张三")
    assert "qt=" in page.url
    assert "13812345678" not in page.url


def test_a_large_export_is_approved_by_the_supervisor_and_downloaded_once(
    page, browser, live_server, sign_in, consultant, supervisor, make_customer, company
):
    CompanyPrivacy.objects.create(company=company, export_approval_threshold=2)
    for i in range(3):
        make_customer(f"导出{i}")
    sign_in(page, consultant)
    page.goto("/customers/")
    page.get_by_role("link", name="导出Excel").click()
    expect(page.locator("h1")).to_contain_text("导出需主管审批")
    page.fill("textarea[name=purpose]", ".")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".error")).to_contain_text("请填写导出用途")
    expect(page.locator("textarea[name=purpose]")).to_have_value(".")
    page.fill("textarea[name=purpose]", "春节礼品发放名单")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/customers/exports/$"))
    expect(page.locator("table")).to_contain_text("待审批")

    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844})
    boss = context.new_page()
    sign_in(boss, supervisor)
    boss.goto("/")
    boss.get_by_role("link", name=re.compile("导出待审批")).click()
    expect(boss.locator("#queue")).to_contain_text("春节礼品发放名单")
    screenshot(boss, "export-approval-queue-phone")
    boss.locator("#queue").get_by_role("button", name="批准").click()
    expect(boss.locator(".msg.success")).to_contain_text("已批准")
    context.close()

    page.reload()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载（仅一次）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.goto("/customers/exports/")
    expect(page.locator("table")).to_contain_text("已下载")
    expect(page.get_by_role("button", name="下载（仅一次）")).to_have_count(0)
    assert ExportRequest.objects.get().status == "downloaded"


def test_the_audit_log_reads_in_chinese_on_a_phone(phone_page, sign_in, supervisor, customer, consultant):
    from crm.customers.services import update_customer

    update_customer(customer, actor=consultant, mobile="13911112222")
    sign_in(phone_page, supervisor)
    phone_page.goto("/audit/")
    table = phone_page.locator("table")
    expect(table).to_contain_text("手机号: 138****5678 → 139****2222")
    expect(table).to_contain_text(f"客户 张三（{customer.number}）")
    assert "13911112222" not in phone_page.content()
    assert "customers.customer#" not in phone_page.content()
    screenshot(phone_page, "audit-log-phone")
