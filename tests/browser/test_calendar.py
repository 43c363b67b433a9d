"""工作日历 in the browser: an administrator enters next year's calendar from the State
Council's notice in one step (paste, review, save) and corrects a day with a click; the
year fits a phone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.core.calendar import work_calendar
from crm.core.models import CalendarDay
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE_2027 = (Path(__file__).resolve().parents[2] / "crm/lib/tests/notices/2027-example.txt").read_text(
    encoding="utf-8"
)


def test_an_administrator_enters_2027_from_the_notice_and_corrects_a_day(page, sign_in, admin_user):
    sign_in(page, admin_user)
    page.locator(".sidebar nav").get_by_role("link", name="工作日历").click()
    page.wait_for_url("**/settings/calendar/20*/")  # this year, or next year from November
    page.goto("/settings/calendar/2027/")
    expect(page.locator(".calendar-missing")).to_contain_text("2027年的法定节假日安排尚未录入")
    expect(page.locator("#d20270208")).to_have_attribute("data-kind", "work")

    page.get_by_label("通知全文").fill(NOTICE_2027)
    page.get_by_role("button", name="识别通知").click()
    page.wait_for_url("**/settings/calendar/2027/notice/")
    holidays = page.locator("#holidays")
    expect(holidays).to_contain_text("春节")
    expect(holidays).to_contain_text("2月5日 至 2月12日")
    expect(page.locator("#make-up-days")).to_contain_text("2月20日")
    expect(page.locator("#problems")).to_have_count(0)
    screenshot(page, "calendar-review")
    assert not CalendarDay.objects.exists()

    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/settings/calendar/2027/")
    expect(page.locator(".msg.success")).to_contain_text(
        "2027年工作日历已按《国务院办公厅关于2027年部分节假日安排的通知》录入"
    )
    for day in range(5, 13):
        cell = page.locator(f"#d202702{day:02d}")
        expect(cell).to_have_attribute("data-kind", "holiday")
        expect(cell).to_contain_text("春节")
    expect(page.locator("#d20270220")).to_have_attribute("data-kind", "makeup")
    expect(page.locator("#d20270220")).to_contain_text("班")
    screenshot(page, "calendar-2027-entered")
    assert work_calendar().knows(2027)

    # The company also closes on 31 December: one click, no page load (HTMX swaps the cell).
    page.evaluate("window.notReloaded = true")
    page.locator("#d20271231").click()
    expect(page.locator("#d20271231")).to_have_attribute("data-kind", "holiday")
    assert page.evaluate("window.notReloaded") is True
    assert CalendarDay.objects.get(day=date(2027, 12, 31)).is_working_day is False
    assert not work_calendar().is_working_day(date(2027, 12, 31))


def test_the_year_fits_a_phone(phone_page, sign_in, admin_user):
    page = sign_in(phone_page, admin_user)
    page.goto("/settings/calendar/2026/")
    expect(page.locator("#d20261001")).to_have_attribute("data-kind", "holiday")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    box = page.locator("#d20261001").bounding_box()
    assert box is not None
    assert box["width"] >= 40  # a finger-sized target
    screenshot(page, "calendar-phone")
