"""Issues raised in visits: routed to a department with a promised date, on the
customer's timeline, in the scoped list; the issue lifecycle table."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest
import time_machine
from django.urls import reverse

from crm.accounts.models import Department
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.visits import selectors, services
from crm.visits.models import IssueCategory, VisitIssue
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
NOW = cst(2026, 9, 28, 10, 30)
IssueStatus = VisitIssue.Status


@pytest.fixture
def engineering(company):
    return Department.objects.create(company=company, name="工程部")


@pytest.fixture
def quality(company, engineering):
    services.ensure_default_issue_categories(company)
    category = IssueCategory.objects.get(company=company, name="产品质量")
    category.department = engineering
    category.save()
    return category


def raise_one(task, actor, category, **kw):
    fields = {"description": "卫生间墙面渗水", "promised_on": date(2026, 10, 9), "now": NOW} | kw
    return services.raise_issue(task, actor=actor, category=category, **fields)


def test_the_default_classes_are_the_issues_list(company):
    assert services.ensure_default_issue_categories(company) == 4
    assert services.ensure_default_issue_categories(company) == 0
    names = list(IssueCategory.objects.filter(company=company).values_list("name", flat=True))
    assert names == ["产品质量", "服务态度", "政策咨询", "其他"]


def test_an_issue_goes_to_the_categorys_department_and_the_timeline(
    make_task, customer, consultant, quality, engineering
):
    task = make_task(customer)
    issue = raise_one(task, consultant, quality)
    assert (issue.department, issue.status, issue.customer, issue.raised_by) == (
        engineering,
        IssueStatus.OPEN,
        customer,
        consultant,
    )
    event = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.VISIT)
    assert "转工程部" in event.summary
    assert "10-09 前答复" in event.summary


def test_raising_an_issue_refuses_bad_input_in_chinese(make_task, customer, consultant, company, quality):
    task = make_task(customer)
    other = IssueCategory.objects.get(company=company, name="其他")  # no default department
    cases = [
        ({"category": other}, "请选择责任部门", "department"),
        ({"description": "  "}, "请填写问题描述", "description"),
        ({"promised_on": date(2026, 9, 27)}, "承诺答复日期不能早于今天", "promised_on"),
    ]
    for change, message, field in cases:
        args = {"category": quality} | change
        with pytest.raises(DomainError) as err:
            raise_one(task, consultant, **args)
        assert (err.value.message, err.value.field) == (message, field)
    assert not VisitIssue.objects.exists()


def test_only_the_visitor_raises_issues_on_their_task(make_task, customer, teammate, quality):
    with pytest.raises(NotAllowed):
        raise_one(make_task(customer), teammate, quality)


@pytest.mark.parametrize(("frm", "to"), list(product(IssueStatus, IssueStatus)))
def test_every_issue_move_is_allowed_exactly_when_the_table_says_so(frm, to, make_task, customer, consultant, quality):
    issue = raise_one(make_task(customer), consultant, quality)
    VisitIssue.objects.filter(pk=issue.pk).update(status=frm)
    issue.refresh_from_db()
    if to in VisitIssue.ALLOWED_MOVES[frm]:
        assert services.move_issue(issue, to, actor=consultant, note="已更换防水层", now=NOW).status == to
    else:
        with pytest.raises(services.IllegalIssueMove):
            services.move_issue(issue, to, actor=consultant, now=NOW)
        issue.refresh_from_db()
        assert issue.status == frm


def test_an_issue_closes_only_after_the_customer_was_told(make_task, customer, consultant, quality):
    issue = raise_one(make_task(customer), consultant, quality)
    services.move_issue(issue, IssueStatus.RESOLVED, actor=consultant, note="已维修", now=NOW)
    with pytest.raises(services.IllegalIssueMove):
        services.move_issue(issue, IssueStatus.CLOSED, actor=consultant, now=NOW)
    services.move_issue(issue, IssueStatus.INFORMED, actor=consultant, now=NOW)
    services.move_issue(issue, IssueStatus.CLOSED, actor=consultant, now=NOW)
    issue.refresh_from_db()
    assert issue.resolution == "已维修"
    assert issue.resolved_at == issue.informed_at == issue.closed_at == NOW


def test_the_issue_list_keeps_to_the_scope_and_marks_late_ones(
    client, make_task, make_customer, customer, consultant, outsider, director, quality, project_b
):
    mine = raise_one(make_task(customer), consultant, quality)
    theirs_task = make_task(make_customer("王五", owner=outsider, project=project_b))
    theirs = raise_one(theirs_task, outsider, quality, description="车位划线不清")
    assert list(selectors.issues_visible_to(consultant)) == [mine]
    assert set(selectors.issues_visible_to(director)) == {mine, theirs}
    with time_machine.travel(cst(2026, 10, 12, 9), tick=False):
        client.force_login(consultant)
        page = client.get(reverse("visits:issues") + "?state=late").content.decode()
    assert "卫生间墙面渗水" in page
    assert "车位划线不清" not in page
    assert 'class="overdue"' in page
