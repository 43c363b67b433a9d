"""站内通知 in the browser, on a phone (390px): a complaint breaches its first-response time,
the escalation job runs, the director sees the bell's count, opens the inbox, follows the
notification to the complaint, and the count is gone."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from crm.accounts.roles import Role
from crm.complaints import escalation, services
from crm.complaints.models import Category, Channel
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REGISTERED_AT = datetime(2026, 9, 29, 17, 0, tzinfo=CHINA_TZ)
JOB_RUNS_AT = datetime(2026, 9, 30, 18, 0, tzinfo=CHINA_TZ)  # first response was due 17:00


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_director_follows_the_escalation_notice_to_the_complaint_on_a_phone(
    phone_page, sign_in, make_staff, company, project, service, director
):
    services.ensure_default_categories(company)
    category = Category.objects.get(company=company, name="服务质量")
    category.owner = service
    category.save()
    duty = make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班")
    complaint = services.register_complaint(
        services.Intake(
            channel=Channel.PHONE,
            complainant_name="林先生",
            complainant_mobile="13600007777",
            content="<b>样板间</b>开放时间与公告不符",
            project=project,
            category=category,
        ),
        actor=duty,
        now=REGISTERED_AT,
        calendar=WorkCalendar(),
    )
    assert escalation.escalate_breached(now=JOB_RUNS_AT, calendar=WorkCalendar()) == 1

    page = sign_in(phone_page, director)
    bell = page.locator("a.bell")
    expect(bell.locator(".bell-count")).to_have_text("1")
    expect(page.locator('[data-card="notifications"] [data-stat="unread"] b')).to_have_text("1")
    assert fits_the_screen(page)

    bell.click()
    page.wait_for_url("**/notifications/")
    item = page.locator("li.notification.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"投诉 {complaint.number} 已超时升级")
    expect(item).to_contain_text("<b>样板间</b>开放时间与公告不符")  # shown as typed, not as markup
    assert fits_the_screen(page)
    screenshot(page, "notifications-inbox-390")

    item.locator("a").click()
    page.wait_for_url(f"**/complaints/{complaint.pk}/")
    expect(page.locator("h1")).to_contain_text(complaint.number)
    expect(page.locator("a.bell .bell-count")).to_have_count(0)

    page.goto("/notifications/")
    expect(page.locator("li.notification.unread")).to_have_count(0)
    expect(page.locator("li.notification")).to_have_count(1)
    expect(page.locator(".unread-total")).to_have_text("0")
