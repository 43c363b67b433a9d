"""培训 in the browser: the supervisor (a planner) opens a session that has taken place,
records who attended, who was on leave and the scores (a score over 100 is refused, the
input kept), and the attendee's training record shows the score; the attendee writes their
own summary on a phone-sized screen."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.training import services
from crm.training.models import Attendance
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_recording_attendance_and_scores_then_the_attendee_summarises(
    page, phone_page, sign_in, supervisor, consultant, teammate
):
    plan = services.create_plan(
        actor=supervisor,
        title="商务礼仪培训",
        topic="etiquette",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    started: datetime = timezone.now() - timedelta(hours=3)
    session = services.schedule_session(
        plan,
        actor=supervisor,
        topic="电话礼仪",
        starts_at=started,
        attendees=[consultant, teammate],
        trainer_name="外请讲师王老师",
    )

    sign_in(page, supervisor)
    page.goto(f"/training/sessions/{session.pk}/")
    mine = page.locator("#attendance tr[data-attendee='consultant']")
    theirs = page.locator("#attendance tr[data-attendee='teammate']")
    mine.locator("select").select_option("attended")
    mine.locator("input.score").fill("120")
    theirs.locator("select").select_option("leave")
    page.click("#attendance button.primary")
    expect(page.locator("#attendance")).to_contain_text("成绩须在 0–100 之间")
    expect(mine.locator("input.score")).to_have_value("120")
    mine.locator("input.score").fill("92")
    page.click("#attendance button.primary")
    expect(page.locator(".messages")).to_contain_text("已保存出勤与成绩（2 人有变更）")
    assert dict(session.attendances.values_list("attendee__username", "status")) == {
        "consultant": Attendance.Status.ATTENDED,
        "teammate": Attendance.Status.LEAVE,
    }
    page.goto(f"/training/people/{consultant.pk}/")
    expect(page.locator(f"#record tr[data-session='{session.pk}'] [data-figure=score]")).to_have_text("92")
    expect(page.locator("#record-stats [data-figure=attended]")).to_have_text("1")

    phone = sign_in(phone_page, consultant)
    phone.goto(f"/training/sessions/{session.pk}/")
    expect(phone.locator("#my-summary")).to_contain_text("考核成绩：92")
    phone.fill("#my-summary textarea[name=summary]", "接听电话三声之内，先报项目名称")
    phone.click("#my-summary button.primary")
    expect(phone.locator(".messages")).to_contain_text("培训总结已保存")
    assert fits_the_screen(phone)
    screenshot(phone, "training_summary_390")
    phone.goto("/training/me/")
    expect(phone.locator("#record")).to_contain_text("接听电话三声之内")
    assert session.attendances.get(attendee=consultant).summary == "接听电话三声之内，先报项目名称"
