"""项目资料 in the browser, on a phone-sized screen: the director uploads a material (a wrong
file is refused with the reason), then a new version; the first one stays and the list
shows the current version."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm.service.models import Material
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_director_uploads_a_material_and_a_new_version_on_a_phone(phone_page, sign_in, project, director, tmp_path):
    wrong = Path(tmp_path) / "说明.txt"
    wrong.write_text("not a pdf")
    first = Path(tmp_path) / "不利因素v1.pdf"
    first.write_bytes(PDF)
    second = Path(tmp_path) / "不利因素v2.pdf"
    second.write_bytes(PDF)

    page = sign_in(phone_page, director)
    page.goto("/service/materials/")
    page.click("text=上传资料")
    page.select_option("select[name=project]", str(project.pk))
    page.select_option("select[name=kind]", "adverse")
    page.fill("input[name=title]", "红线内外不利因素告知书")
    page.set_input_files("input[name=file]", str(wrong))
    page.click("form.card button.primary")
    expect(page.locator("form.card")).to_contain_text("不是 PDF 或图片")
    page.set_input_files("input[name=file]", str(first))
    page.click("form.card button.primary")
    expect(page.locator("#versions")).to_contain_text("v1")

    page.set_input_files("#upload input[name=file]", str(second))
    page.fill("#upload input[name=note]", "更新周边规划")
    page.click("#upload button.primary")
    expect(page.locator(".messages")).to_contain_text("已上传新版本 v2")
    expect(page.locator("#versions li[data-version='2']")).to_contain_text("当前版本")
    expect(page.locator("#versions li[data-version='1']")).to_contain_text("不利因素v1.pdf")
    assert fits_the_screen(page)
    screenshot(page, "materials_390")
    material = Material.objects.get()
    assert list(material.versions.values_list("number", "is_current").order_by("number")) == [(1, False), (2, True)]
    page.goto("/service/materials/")
    expect(page.locator("table.materials")).to_contain_text("v2")
