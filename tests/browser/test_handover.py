"""交接班 in the browser, on phone-sized screens, with two logins: the outgoing officer
hands over a shift with the keys missing and no explanation; the incoming officer cannot
accept (公物缺失不接) and the handover stays open; the outgoing officer explains; the
incoming officer accepts. Nothing overflows 390px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from crm.accounts.roles import Role
from crm.lib.dates import CHINA_TZ
from crm.service import services
from crm.service.models import Handover
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_handover_with_a_missing_item_is_accepted_only_once_explained(
    phone_page, browser, live_server, sign_in, make_staff, project, director
):
    from datetime import datetime

    outgoing = make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班")
    incoming = make_staff("duty2", Role.DUTY, projects=(project,), display_name="钱接班")
    start = datetime(2026, 9, 29, 8, 0, tzinfo=CHINA_TZ)
    shift = services.plan_shift(
        actor=director, project=project, officer=outgoing, starts_at=start, ends_at=start + timedelta(hours=12)
    )

    # The outgoing officer starts the handover from the shift page.
    page = sign_in(phone_page, outgoing)
    page.goto(f"/service/duty/{shift.pk}/")
    assert fits_the_screen(page)
    screenshot(page, "shift_390")
    page.select_option("select[name=incoming]", str(incoming.pk))
    page.click("text=开始交班")
    expect(page.locator("#handover-status")).to_have_text("交班填写中")
    page.fill("textarea[name=log_summary]", "来电 2 个，均已答复；来访 1 人")
    page.click("#content-form button.primary")
    expect(page.locator(".messages")).to_contain_text("交班内容已保存")
    keys = page.locator("li[data-item=钥匙]")
    keys.locator("select[name=state]").select_option("missing")
    keys.locator("button").click()
    expect(page.locator("li[data-item=钥匙]")).to_have_attribute("data-state", "missing")
    expect(page.locator("#items .msg.error")).to_contain_text("钥匙")
    page.click("#submit-handover")
    expect(page.locator("#handover-status")).to_have_text("待接班确认")
    assert fits_the_screen(page)
    handover = Handover.objects.get()

    # The incoming officer, with their own login, cannot accept: the keys are unexplained.
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    other = sign_in(context.new_page(), incoming)
    other.goto(f"/service/handovers/{handover.pk}/")
    other.check("input[name=log_clear]")
    other.check("input[name=area_clean]")
    other.click("#accept-handover")
    expect(other.locator("#accept .msg.error")).to_contain_text("公物缺失不接：钥匙")
    expect(other.locator("#handover-status")).to_have_text("待接班确认")
    assert fits_the_screen(other)
    screenshot(other, "handover_refused_390")
    handover.refresh_from_db()
    assert handover.status == Handover.Status.SUBMITTED
    assert "公物缺失" in handover.refusal_reasons

    # The outgoing officer explains the loss.
    page.reload()
    keys = page.locator("li[data-item=钥匙]")
    keys.locator("input[name=explanation]").fill("钥匙交物业前台保管，已登记")
    keys.locator("button").click()
    expect(page.locator("li[data-item=钥匙]")).to_contain_text("钥匙交物业前台保管")

    # Now the incoming officer accepts.
    other.goto(f"/service/handovers/{handover.pk}/")
    other.check("input[name=log_clear]")
    other.check("input[name=area_clean]")
    other.click("#accept-handover")
    expect(other.locator(".messages")).to_contain_text("已确认接班")
    expect(other.locator("#handover-status")).to_have_text("已接班")
    assert fits_the_screen(other)
    handover.refresh_from_db()
    assert handover.status == Handover.Status.ACCEPTED
    assert handover.accepted_at is not None
    context.close()
