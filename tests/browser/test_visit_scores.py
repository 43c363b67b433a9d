"""回访人月度得分 on a phone (390×844): the team leader reads the score and its formula and
writes the consultant's improvement plan; the director converts a serious visit issue
into a complaint and a second click lands on the same complaint. Nothing overflows."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine
from playwright.sync_api import Page, expect

from crm.accounts.models import Department
from crm.complaints import services as complaint_services
from crm.complaints.models import Complaint
from crm.lib.dates import at
from crm.visits import services
from crm.visits.models import IssueCategory, VisitPlan, VisitTask
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MONDAY = date(2026, 9, 28)


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(at(MONDAY, time(10, 0)), tick=True):
        yield


@pytest.fixture
def recorded(company, project, consultant, make_customer):
    services.ensure_default_plans(project)
    plan = VisitPlan.objects.get(project=project, name="签约回访")
    task = VisitTask.objects.create(
        company=company,
        customer=make_customer("林晓"),
        project=project,
        plan=plan,
        occasion="deal:1",
        occasion_on=date(2026, 9, 21),
        purpose=plan.purpose,
        questions=plan.question_list,
        assignee=consultant,
        start_on=date(2026, 9, 21),
        due_on=date(2026, 9, 28),
    )
    category = IssueCategory.objects.create(
        company=company, name="产品质量", department=Department.objects.create(company=company, name="工程部")
    )
    _, issues = services.record_visit(
        task,
        actor=consultant,
        reached=True,
        channel="phone",
        scores=dict.fromkeys(task.questions, 4),
        issues=[services.IssueDraft(category=category, description="卫生间渗水", promised_on=date(2026, 10, 9))],
    )
    return issues[0]


def test_the_leader_writes_the_improvement_plan(phone_page, sign_in, recorded, teams, leader):
    teams[0].leader = leader
    teams[0].save()
    page = sign_in(phone_page, leader)
    page.goto("/visits/stats/scores/?month=2026-09")
    expect(page.locator(".score-formula")).to_contain_text("30 × 接通率")
    card = page.locator(".visit-score").filter(has_text="王顾问")
    expect(card.locator(".score")).to_contain_text("分")
    card.locator("summary").click()
    card.locator("textarea[name=plan]").fill("每天上午集中回访，未接通的下午换时段重拨")
    card.get_by_role("button", name="保存").click()
    expect(page.locator(".improvement-plan")).to_contain_text("每天上午集中回访")
    assert fits_the_screen(page)
    screenshot(page, "visits-scores-phone")


def test_the_director_converts_an_issue_once(phone_page, sign_in, recorded, company, director):
    complaint_services.ensure_default_categories(company)
    page = sign_in(phone_page, director)
    page.goto(f"/visits/issues/{recorded.pk}/")
    form = page.locator("form.issue-convert")
    expect(form.locator("select[name=category] option:checked")).to_have_text("产品质量")
    assert fits_the_screen(page)
    screenshot(page, "visits-issue-convert-phone")
    form.get_by_role("button", name="转为投诉").click()
    complaint = Complaint.objects.get()
    page.wait_for_url(f"**/complaints/{complaint.pk}/")
    expect(page.locator("body")).to_contain_text("回访转投诉")
    page.goto(f"/visits/issues/{recorded.pk}/")
    expect(page.locator(".issue-complaint")).to_contain_text(complaint.number)
    expect(page.locator("form.issue-convert")).to_have_count(0)
    assert Complaint.objects.count() == 1
