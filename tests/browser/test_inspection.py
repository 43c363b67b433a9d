"""日常巡查 in the browser, on a phone-sized screen: the specialist starts today's
inspection, marks an area with a problem, records a finding, handles it, confirms the
on-site disclosures and completes the inspection; completing before every area has a result is refused with the missing areas."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm.service.models import Finding, Inspection
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_daily_inspection_on_a_phone(phone_page, sign_in, project, service):
    page = sign_in(phone_page, service)
    page.goto("/service/inspections/")
    page.select_option("select[name=project]", str(project.pk))
    page.click("text=开始今日巡查")
    expect(page.locator("h1")).to_contain_text("日常巡查 锦华苑")
    page.click("#complete-inspection")
    expect(page.locator("#areas .msg.error")).to_contain_text("还没有巡查结果：综合办公室")

    page.click("summary:has-text('记录问题')")
    page.select_option("#findings select[name=area]", "水吧及咖啡厅")
    page.select_option("#findings select[name=department]", "property")
    page.fill("#findings textarea[name=description]", "咖啡机下方有水渍")
    page.click("#findings form button.primary")
    expect(page.locator(".messages")).to_contain_text("问题已记录")
    page.fill("#findings li textarea[name=note]", "保洁已清理")
    page.click("#findings li button")
    expect(page.locator("#findings")).to_contain_text("处理：保洁已清理")

    for area in page.locator("#areas li[data-area]").all():
        name = area.get_attribute("data-area")
        row = page.locator(f"#areas li[data-area='{name}']")
        if name == "水吧及咖啡厅":
            row.locator("select[name=result]").select_option("problem")
            row.locator("input[name=note]").fill("地面水渍")
        row.locator("button").click()
        expect(page.locator(f"#areas li[data-area='{name}']")).not_to_have_attribute("data-result", "pending")
    for item in page.locator("#displays li[data-display]").all():
        name = item.get_attribute("data-display")
        page.locator(f"#displays li[data-display='{name}'] button").click()
        expect(page.locator(f"#displays li[data-display='{name}']")).not_to_have_attribute("data-status", "pending")
    assert fits_the_screen(page)
    screenshot(page, "inspection_390")
    page.click("#complete-inspection")
    expect(page.locator(".messages")).to_contain_text("巡查已完成")
    assert Inspection.objects.get().completed_at is not None
    assert Finding.objects.get().handled_at is not None
    assert fits_the_screen(page)
