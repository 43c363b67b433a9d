"""Customers in the browser: register, find, open the 360° page, reveal; and the phone layout."""

import re

import pytest
from playwright.sync_api import expect

from crm.core.models import AuditLog
from crm.customers.models import Customer
from crm.customers.services import add_note, create_deal
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_consultant_registers_a_customer_finds_it_and_sees_the_timeline(page, sign_in, consultant, project):
    sign_in(page, consultant)
    page.goto("/customers/")
    page.get_by_role("link", name="新建客户").click()
    page.fill("input[name=name]", "赵敏")
    page.select_option("select[name=gender]", "F")
    page.fill("input[name=mobile]", "139 8765 4321")
    page.select_option("select[name=source_channel]", "visit")
    page.select_option("select[name=grade]", "A")
    page.fill("textarea[name=notes]", "关注学区，周末带家人来看房")
    page.get_by_role("button", name="保存客户").click()
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    expect(page.locator(".msg.success")).to_contain_text("已新建客户 赵敏")

    page.goto("/customers/")
    page.locator(".filters input[name=q]").fill("4321")
    page.locator(".filters input[name=q]").press("Enter")
    rows = page.locator("table.customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("赵敏")
    expect(rows.first).to_contain_text("139****4321")
    assert "13987654321" not in page.content()
    screenshot(page, "customers-list-search")

    rows.first.get_by_role("link", name="赵敏").click()
    expect(page.locator("h1")).to_contain_text("赵敏")
    timeline = page.locator("#timeline .timeline")
    expect(timeline).to_contain_text("新建客户")
    expect(timeline).to_contain_text("王顾问 录入客户（来访）")
    screenshot(page, "customer-360")


def test_a_bad_mobile_keeps_the_form_filled_in(page, sign_in, consultant, project):
    sign_in(page, consultant)
    page.goto("/customers/new/")
    page.fill("input[name=name]", "钱七")
    page.fill("input[name=mobile]", "01088886666")
    page.select_option("select[name=source_channel]", "phone")
    page.get_by_role("button", name="保存客户").click()
    expect(page.locator("[data-field=mobile] .errorlist")).to_contain_text("固定电话")
    expect(page.locator("input[name=name]")).to_have_value("钱七")
    expect(page.locator("input[name=mobile]")).to_have_value("01088886666")
    screenshot(page, "customer-form-error")
    assert not Customer.objects.filter(name="钱七").exists()


def test_revealing_a_number_asks_for_a_reason_and_swaps_it_in(page, sign_in, consultant, customer):
    sign_in(page, consultant)
    page.goto(f"/customers/{customer.pk}/")
    contact = page.locator("#reveal-mobile")
    expect(contact).to_contain_text("138****5678")
    contact.get_by_text("显示完整号码").click()
    contact.get_by_role("button", name="确认查看").click()
    expect(page.locator("#reveal-mobile .errorlist")).to_contain_text("请填写查看事由")
    page.locator("#reveal-mobile input[name=reason]").fill("客户来电核对身份")
    page.locator("#reveal-mobile").get_by_role("button", name="确认查看").click()
    expect(page.locator("#reveal-mobile")).to_contain_text("13812345678")
    assert page.url.endswith(f"/customers/{customer.pk}/")  # swapped in place by HTMX
    assert AuditLog.objects.filter(action=AuditLog.Action.REVEAL, reason="客户来电核对身份").count() == 1


def test_the_360_page_and_the_create_form_fit_a_phone(phone_page, sign_in, consultant, customer, unit):
    create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=customer.created_at.date())
    add_note(
        customer,
        actor=consultant,
        text="客户希望下周看交房标准，约周六上午十点在售楼处见面，同行的还有他的父母和两个孩子",
    )
    page = sign_in(phone_page, consultant)
    assert fits_the_screen(page)
    screenshot(page, "phone-workbench")

    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("h1")).to_contain_text("张三")
    expect(page.locator("#deals .milestones li.done")).to_have_count(1)
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-customer-360")

    page.goto("/customers/new/")
    expect(page.locator("input[name=mobile]")).to_be_visible()
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-customer-create")

    page.goto("/customers/")
    assert fits_the_screen(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone-customer-list")


def test_the_phone_menu_opens_from_the_hamburger(phone_page, sign_in, consultant):
    page = sign_in(phone_page, consultant)
    sidebar = page.locator(".sidebar")
    assert sidebar.bounding_box()["x"] < 0
    page.locator(".hamburger").click()
    # Not wait_for_function: its predicate is evaluated with eval, which the CSP forbids.
    expect(page.locator(".sidebar")).to_be_in_viewport()
    page.locator(".sidebar").get_by_role("link", name="客户", exact=True).click()
    page.wait_for_url("**/customers/")
    expect(page.locator("h1")).to_have_text("客户")


def test_the_owner_filter_and_bulk_reassign_load_their_staff_when_reached_for(
    page, sign_in, leader, consultant, teammate, make_customer
):
    make_customer("顾问的")
    make_customer("同组的", owner=teammate)
    sign_in(page, leader)
    page.goto("/customers/")
    owner = page.locator(".filters select[name=owner]")
    expect(owner.locator("option")).to_have_count(1)  # only 全部顾问 until reached for
    owner.hover()
    expect(owner.locator("option", has_text="李同组")).to_have_count(1)
    owner.select_option(label="李同组")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("同组的")
    expect(page.locator(".filters select[name=owner] option:checked")).to_have_text("李同组")

    page.goto("/customers/")
    page.get_by_label("选择 顾问的").check()
    page.get_by_text("变更置业顾问").click()
    new_owner = page.locator("select[name=new_owner]")
    expect(new_owner.locator("option", has_text="李同组")).to_have_count(1)
    new_owner.select_option(label="李同组")
    page.locator("input[name=reason]").fill("顾问休假")
    page.get_by_role("button", name="确认变更").click()
    expect(page.locator(".msg.success")).to_contain_text("已将 1 位客户转给 李同组")


def test_a_long_list_fills_in_its_total_and_page_count_after_the_rows(page, sign_in, consultant, make_customer):
    for i in range(30):
        make_customer(f"客户{i:02d}")
    sign_in(page, consultant)
    page.goto("/customers/")
    expect(page.locator("table.customers tbody tr")).to_have_count(25)
    # Fetched by the page itself once its rows are shown (hx-get on load), with the pager's count.
    expect(page.locator("#list-total")).to_have_text("共 30 位")
    expect(page.locator(".pager")).to_contain_text("第 1 / 2 页")
    page.locator(".pager").get_by_role("link", name="下一页").click()
    expect(page.locator("table.customers tbody tr")).to_have_count(5)
    expect(page.locator("#list-total")).to_have_text("共 30 位")
    expect(page.locator(".pager")).to_contain_text("第 2 / 2 页")
