"""A member of the public, on a phone (390px), files a complaint on /tousu/ with a photo,
solves the arithmetic CAPTCHA (test settings draw 3 + 4, see config/settings_test.py),
gets the complaint number and checks its status with the last 4 digits of the mobile.
The director then finds it under 待分类 on the workbench and sees the photo's thumbnail,
upright and without its GPS position."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from crm.complaints.models import Channel, Complaint
from crm.complaints.tests import images
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_member_of_the_public_files_a_complaint_and_checks_its_status(
    phone_page, project, customer, director, sign_in
):
    cache.clear()
    page = phone_page
    page.goto("/tousu/")
    expect(page.locator("h1")).to_have_text("我要投诉")
    assert page.locator(".sidebar").count() == 0
    page.fill("input[name=complainant_name]", "张先生")
    page.fill("input[name=complainant_mobile]", "13812345678")
    page.select_option("select[name=project]", label=project.name)
    page.fill("input[name=unit_text]", "2 栋 1 单元 301")
    page.fill("textarea[name=content]", "<b>地下车库</b>积水三天无人处理")
    page.set_input_files(
        "input[name=attachments]", files=[{"name": "积水.png", "mimeType": "image/png", "buffer": images.png(8, 8)}]
    )
    # A wrong answer first: refused, the text is kept, a new challenge is drawn.
    page.fill("input[name=captcha_answer]", "8")
    page.click("button.primary")
    expect(page.locator(".field.captcha .errorlist")).to_contain_text("验证码计算结果不正确")
    expect(page.locator("textarea[name=content]")).to_have_value("<b>地下车库</b>积水三天无人处理")
    assert fits_the_screen(page)
    screenshot(page, "public-complaint-form-390")
    photo = images.jpeg_sideways(400, 200)  # a phone photo: sideways, with GPS in its EXIF
    page.set_input_files(
        "input[name=attachments]", files=[{"name": "积水.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    page.fill("input[name=captcha_answer]", "7")
    page.click("button.primary")

    number = page.locator(".complaint-number").inner_text().strip()
    complaint = Complaint.objects.get(number=number)
    assert complaint.channel == Channel.WEBSITE
    assert complaint.customer == customer
    row = complaint.attachments.get()
    assert (row.content_type, row.width, row.height) == ("image/jpeg", 200, 400)
    with row.file.open("rb") as handle:
        assert b"GPS" not in handle.read()
    assert fits_the_screen(page)
    screenshot(page, "public-complaint-done-390")

    page.click(".public-done a.button")
    expect(page.locator("input[name=number]")).to_have_value(number)
    page.fill("input[name=last4]", "0000")
    page.click("button.primary")
    expect(page.locator(".msg.error")).to_contain_text("没有查到与投诉编号和手机号后四位相符的投诉")
    page.fill("input[name=number]", number)
    page.fill("input[name=last4]", "5678")
    page.click("button.primary")
    expect(page.locator(".public-status")).to_contain_text("已受理")
    expect(page.locator(".public-steps")).to_contain_text("收到投诉")
    assert fits_the_screen(page)
    screenshot(page, "public-complaint-status-390")

    # The director: 待分类 on the workbench → the list → the detail with the thumbnail.
    sign_in(page, director)
    stat = page.locator("a[data-stat=complaints_unsorted]")
    expect(stat).to_contain_text("待分类")
    expect(stat.locator("b")).to_have_text("1")
    stat.click()
    page.click(f"text={number}")
    thumb = page.locator("ul.attachments img")
    expect(thumb).to_have_attribute("src", f"/complaints/{complaint.pk}/attachments/{row.pk}/thumbnail/")
    thumb.scroll_into_view_if_needed()
    # Waited on through the locator: a string handed to wait_for_function is evaluated with
    # eval() once it polls, which the page's CSP (script-src 'self') rightly refuses.
    expect(thumb).to_have_js_property("complete", True)
    expect(thumb).to_have_js_property("naturalWidth", 160)  # upright, at most 320 on the longer side
    expect(thumb).to_have_js_property("naturalHeight", 320)
    assert fits_the_screen(page)
    screenshot(page, "public-complaint-staff-detail-390")
