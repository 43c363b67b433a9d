"""回访督查 in the browser on a phone (390×844): the supervisor (行政主管) filters the visit
records, flags one with a comment; the consultant sees it on the workbench, first sends an
empty answer (refused in Chinese), then answers; the flag closes, the supervisor accepts
it. Nothing overflows the screen."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine
from playwright.sync_api import Page, expect

from crm.lib.dates import at
from crm.visits import services
from crm.visits.models import ReviewFlag, VisitPlan, VisitTask
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


def test_the_supervisor_flags_a_record_and_the_consultant_answers_on_the_phone(
    phone_page, sign_in, company, project, consultant, supervisor, make_customer
):
    services.ensure_default_plans(project)
    plan = VisitPlan.objects.get(project=project, name="签约回访")
    customer = make_customer("林晓")
    task = VisitTask.objects.create(
        company=company,
        customer=customer,
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
    services.record_outcome(
        task,
        actor=consultant,
        reached=True,
        channel="phone",
        scores=dict.fromkeys(task.questions, 2),
        opinions="客户抱怨按揭太慢",
    )

    page = sign_in(phone_page, supervisor)
    page.goto("/visits/review/")
    page.locator("select[name=score]").select_option("low")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.visit-review tbody tr[data-task]")).to_have_count(1)
    assert fits_the_screen(page)
    screenshot(page, "visits-review-phone")
    page.locator("table.visit-review").get_by_role("link", name="林晓").click()
    page.locator("#flags summary").click()
    page.locator("form.flag-form textarea[name=comment]").fill("满意度 2 分，请说明客户对按揭的具体不满和已采取的措施")
    page.get_by_role("button", name="标记并要求答复").click()
    expect(page.locator(".visit-flag")).to_contain_text("待答复")
    page.context.clear_cookies()

    page = sign_in(page, consultant)
    card = page.locator(".visit-flags-answer")
    expect(card).to_contain_text("林晓")
    assert fits_the_screen(page)
    screenshot(page, "visits-flag-workbench-phone")
    card.get_by_role("link", name="林晓").click()
    expect(page.locator(".flag-comment")).to_contain_text("请说明客户对按揭的具体不满")
    page.get_by_role("button", name="提交答复").click()
    expect(page.locator(".errorlist")).to_contain_text("请填写答复")
    page.locator("form.flag-answer-form textarea[name=answer]").fill("客户希望放款提速，已联系银行并于周三回电告知")
    page.get_by_role("button", name="提交答复").click()
    expect(page.locator(".visit-flag")).to_contain_text("已答复")
    expect(page.locator("form.flag-answer-form")).to_have_count(0)
    assert fits_the_screen(page)
    screenshot(page, "visits-flag-answered-phone")
    assert ReviewFlag.objects.get().status == ReviewFlag.Status.ANSWERED
    page.goto("/")
    expect(page.locator(".visit-flags-answer")).to_have_count(0)
    page.context.clear_cookies()

    page = sign_in(page, supervisor)
    page.goto(f"/visits/{task.pk}/")
    page.get_by_role("button", name="认可答复").click()
    expect(page.locator(".visit-flag")).to_contain_text("已认可")
    assert ReviewFlag.objects.get().status == ReviewFlag.Status.ACCEPTED
