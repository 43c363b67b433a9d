"""回访 in the browser on a phone (390×844): a consultant opens today's call from the
workbench, reads the script, first saves without a score (the error names the question,
what was typed stays), then records the outcome; the task leaves today's list and the
customer's timeline shows the visit. Nothing overflows the screen."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from playwright.sync_api import Page, expect

from crm.lib.dates import at
from crm.visits import services
from crm.visits.models import VisitPlan, VisitTask
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MONDAY = date(2026, 9, 28)


def fits_the_screen(page: Page) -> bool:
    viewport = page.viewport_size
    assert viewport is not None
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


@pytest.fixture(autouse=True)
def _monday_morning():
    """The pages read "today" from the clock: Monday 2026-09-28 from 10:00 (ticking)."""
    from datetime import time

    with time_machine.travel(at(MONDAY, time(10, 0)), tick=True):
        yield


def test_a_consultant_records_todays_visit_from_the_workbench(
    phone_page, sign_in, company, project, consultant, make_customer
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
        occasion_on=date(2026, 9, 25),
        purpose=plan.purpose,
        questions=plan.question_list,
        assignee=consultant,
        start_on=date(2026, 9, 25),
        due_on=date(2026, 10, 8),
    )
    page = sign_in(phone_page, consultant)
    card = page.locator(".visits-today")
    expect(card).to_contain_text("林晓")
    assert fits_the_screen(page)
    screenshot(page, "visits-workbench-phone")
    card.get_by_role("link", name="林晓").click()

    expect(page.locator(".visit-script")).to_contain_text("您好，请问是林晓先生/女士吗？")
    expect(page.locator(".visit-script")).to_contain_text(project.name)
    form = page.locator("form.outcome-form")
    form.get_by_label("已联系上").check()
    form.get_by_label("对置业顾问销售服务的满意程度").select_option("5")
    form.get_by_label("对售楼处现场舒适度的满意程度").select_option("4")
    form.get_by_label("对银行按揭服务的满意程度").select_option("4")
    form.locator("textarea[name=opinions]").fill("希望按揭审批进度及时告知")
    form.get_by_role("button", name="保存回访结果").click()
    expect(page.locator(".errorlist")).to_contain_text("请为“对律师签约服务的满意程度”选择 1–5 分")
    expect(page.locator("textarea[name=opinions]")).to_have_value("希望按揭审批进度及时告知")
    expect(page.get_by_label("对置业顾问销售服务的满意程度")).to_have_value("5")
    assert fits_the_screen(page)
    screenshot(page, "visits-record-error-phone")

    page.get_by_label("对律师签约服务的满意程度").select_option("3")
    page.get_by_role("button", name="保存回访结果").click()
    expect(page.locator(".messages")).to_contain_text("已记录林晓的回访")
    expect(page.locator("table.visits")).not_to_contain_text("林晓")
    expect(page.locator("table.visits")).to_contain_text("没有符合条件的回访任务")
    assert fits_the_screen(page)

    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("body")).to_contain_text("回访（")
    expect(page.locator("body")).to_contain_text("希望按揭审批进度及时告知")
    screenshot(page, "visits-timeline-phone")
    assert fits_the_screen(page)
    task.refresh_from_db()
    assert (task.status, task.satisfaction) == (VisitTask.Status.DONE, 4)


def test_an_issue_raised_in_a_visit_is_resolved_by_the_department_and_closed(
    phone_page, sign_in, company, project, consultant, make_customer, make_staff
):
    """390px: the consultant records the outcome and raises an issue; the 工程部 member
    sees it in the department's queue and resolves it; the consultant tells the customer
    and the issue closes."""
    from crm.accounts.models import Department
    from crm.visits.models import IssueCategory, VisitIssue

    engineering = Department.objects.create(company=company, name="工程部")
    engineer = make_staff("engineer", display_name="孙工")
    engineer.department = engineering
    engineer.save()
    services.ensure_default_plans(project)
    services.ensure_default_issue_categories(company)
    IssueCategory.objects.filter(company=company, name="产品质量").update(department=engineering)
    plan = VisitPlan.objects.get(project=project, name="签约回访")
    customer = make_customer("周敏")
    task = VisitTask.objects.create(
        company=company,
        customer=customer,
        project=project,
        plan=plan,
        occasion="deal:2",
        occasion_on=date(2026, 9, 25),
        purpose=plan.purpose,
        questions=plan.question_list,
        assignee=consultant,
        start_on=date(2026, 9, 25),
        due_on=date(2026, 10, 8),
    )
    page = sign_in(phone_page, consultant)
    page.goto(f"/visits/{task.pk}/")
    form = page.locator("form.outcome-form")
    form.get_by_label("已联系上").check()
    for question in task.questions:
        form.get_by_label(question).select_option("4")
    form.locator("summary", has_text="客户提出了问题").click()
    form.locator("select[name=issue0_category]").select_option(label="产品质量")
    form.locator("textarea[name=issue0_description]").fill("次卧窗户关不严，下雨渗水")
    form.get_by_role("button", name="保存回访结果").click()
    # No promised date: refused, what was typed stays.
    expect(page.locator(".errorlist")).to_contain_text("请填写告知客户的承诺答复日期")
    expect(page.locator("textarea[name=issue0_description]")).to_have_value("次卧窗户关不严，下雨渗水")
    assert fits_the_screen(page)
    page.locator("input[name=issue0_promised_on]").fill("2026-10-09")
    page.get_by_role("button", name="保存回访结果").click()
    expect(page.locator(".messages")).to_contain_text("登记问题 1 个并已转责任部门")
    screenshot(page, "visits-issue-raised-phone")

    page.context.clear_cookies()
    page = sign_in(page, engineer)
    expect(page.locator(".visit-issues-department")).to_contain_text("本部门回访问题")
    page.goto("/visits/issues/department/")
    expect(page.locator("h1")).to_contain_text("本部门回访问题 · 工程部")
    assert fits_the_screen(page)
    page.get_by_role("link", name="周敏").click()
    expect(page.locator(".issue-description")).to_have_text("次卧窗户关不严，下雨渗水")
    page.get_by_role("button", name="开始处理").click()
    expect(page.locator(".messages")).to_contain_text("已开始处理")
    page.get_by_role("button", name="处理完成").click()
    expect(page.locator(".errorlist")).to_contain_text("请填写处理结果")
    page.locator("textarea[name=note]").fill("已更换窗户密封条并做淋水试验")
    page.get_by_role("button", name="处理完成").click()
    expect(page.locator(".messages")).to_contain_text("等待回访人告知客户")
    assert fits_the_screen(page)
    screenshot(page, "visits-issue-resolved-phone")

    page.context.clear_cookies()
    page = sign_in(page, consultant)
    card = page.locator(".visit-issues-inform")
    expect(card).to_contain_text("周敏")
    card.get_by_role("link", name="周敏").click()
    inform = page.locator("form.issue-inform")
    inform.get_by_label("客户接受处理结果").check()
    inform.locator("textarea[name=note]").fill("已电话告知，客户表示满意")
    inform.get_by_role("button", name="已告知客户").click()
    expect(page.locator(".messages")).to_contain_text("已告知客户，问题已关闭")
    expect(page.locator(".issue-events")).to_contain_text("已关闭")
    assert fits_the_screen(page)
    screenshot(page, "visits-issue-closed-phone")
    issue = VisitIssue.objects.get()
    assert issue.status == VisitIssue.Status.CLOSED
    assert issue.resolution == "已更换窗户密封条并做淋水试验"


def test_the_directors_visit_pages_fit_a_phone(phone_page, sign_in, company, project, director, make_customer):
    """390px: repairs (recorded with a refused save first), the campaign form with its
    preview, the samples page and the monthly statistics; nothing overflows."""
    make_customer("郑洁")
    page = sign_in(phone_page, director)
    page.goto("/visits/repairs/")
    form = page.locator("form.repair-form")
    form.locator("input[name=customer_number]").fill("KH00000001")
    form.locator("textarea[name=problem]").fill("厨房水槽下水慢")
    form.get_by_role("button", name="登记报修").click()
    expect(page.locator(".errorlist")).to_contain_text("请填写维修单位")
    expect(page.locator("textarea[name=problem]")).to_have_value("厨房水槽下水慢")
    assert fits_the_screen(page)
    page.locator("input[name=contractor]").fill("华安维修")
    page.get_by_role("button", name="登记报修").click()
    expect(page.locator(".messages")).to_contain_text("已登记郑洁的报修")
    assert fits_the_screen(page)
    screenshot(page, "visits-repairs-phone")

    page.goto("/visits/campaigns/new/")
    page.locator("input[name=name]").fill("学区政策专项")
    page.locator("input[name=purpose]").fill("告知学区新政策")
    page.locator("input[name=start_on]").fill("2026-09-28")
    page.locator("input[name=due_on]").fill("2026-10-16")
    page.get_by_role("button", name="预览人数").click()
    expect(page.locator(".campaign-preview")).to_contain_text("1")
    assert fits_the_screen(page)
    screenshot(page, "visits-campaign-new-phone")

    for url in ("/visits/samples/", "/visits/stats/", "/visits/campaigns/"):
        page.goto(url)
        assert fits_the_screen(page), url


def test_a_long_queue_fills_in_its_total_and_loads_the_plan_options_when_asked(
    page, sign_in, company, project, consultant, make_customer
):
    services.ensure_default_plans(project)
    plan = VisitPlan.objects.get(project=project, name="签约回访")
    other = VisitPlan.objects.filter(project=project).exclude(pk=plan.pk).first()
    assert other is not None
    customer = make_customer("林晓")
    for i in range(30):
        chosen = plan if i < 4 else other
        VisitTask.objects.create(
            company=company,
            customer=customer,
            project=project,
            plan=chosen,
            occasion=f"deal:{i}",
            occasion_on=date(2026, 9, 25),
            purpose=chosen.purpose,
            questions=chosen.question_list,
            assignee=consultant,
            start_on=date(2026, 9, 25),
            due_on=date(2026, 10, 8),
        )
    sign_in(page, consultant)
    page.goto("/visits/")
    expect(page.locator("table.visits tbody tr")).to_have_count(25)
    # Fetched by the page itself once its rows are shown (hx-get on load), with the pager's count.
    expect(page.locator("#list-total")).to_have_text("共 30 条")
    expect(page.locator(".pager")).to_contain_text("第 1 / 2 页")

    plans = page.locator("select[name=plan]")
    expect(plans.locator("option")).to_have_count(1)  # 全部计划, until the pointer reaches it
    plans.hover()
    expect(plans.locator("option", has_text="签约回访")).to_have_count(1)
    plans.select_option(label="签约回访")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.visits tbody tr")).to_have_count(4)
    expect(page.locator("#list-total")).to_have_text("共 4 条")
