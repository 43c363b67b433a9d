"""Issues raised from the outcome form, worked in the department's own queue, told to the
customer by the visitor and only then closed; the reminders job (once per issue and
day); the API and the Excel export of issues."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.models import Department
from crm.accounts.roles import Role
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.visits import cards, selectors, services
from crm.visits.models import IssueCategory, IssueEvent, IssueReminder, VisitIssue, VisitTask
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
NOW = cst(2026, 9, 28, 10, 30)  # Monday
IssueStatus = VisitIssue.Status


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def engineering(company):
    return Department.objects.create(company=company, name="工程部")


@pytest.fixture
def engineer(make_staff, engineering):
    """A member of 工程部 without any visit role: the routing alone lets them work it."""
    user = make_staff("engineer", display_name="孙工")
    user.department = engineering
    user.save()
    return user


@pytest.fixture
def finance_clerk(make_staff, company):
    user = make_staff("clerk", display_name="钱会计")
    user.department = Department.objects.create(company=company, name="财务部")
    user.save()
    return user


@pytest.fixture
def quality(company, engineering):
    services.ensure_default_issue_categories(company)
    category = IssueCategory.objects.get(company=company, name="产品质量")
    category.department = engineering
    category.save()
    return category


def draft(category, **kw):
    fields = {"description": "卫生间墙面渗水", "promised_on": date(2026, 10, 9)} | kw
    return services.IssueDraft(category=category, **fields)


def record(task, actor, *issues, reached=True):
    scores = dict.fromkeys(task.questions, 4)
    return services.record_visit(
        task, actor=actor, reached=reached, channel="phone", scores=scores, issues=list(issues), now=NOW
    )


def api(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# ---------------------------------------------------------------- raising from the outcome


def test_an_outcome_raises_several_issues_at_once(make_task, customer, consultant, quality, company, engineering):
    policy = IssueCategory.objects.get(company=company, name="政策咨询")
    task = make_task(customer)
    row, raised = record(
        task,
        consultant,
        draft(quality),
        draft(policy, description="公积金提前还款手续", department=engineering, promised_on=date(2026, 9, 30)),
    )
    assert row.status == VisitTask.Status.DONE
    assert [(i.category.name, i.department, i.status) for i in raised] == [
        ("产品质量", engineering, IssueStatus.OPEN),
        ("政策咨询", engineering, IssueStatus.OPEN),
    ]
    assert TimelineEvent.objects.filter(customer=customer, summary__contains="回访问题").count() == 2


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        ({"category": None}, "问题 2：请选择问题类别", "issue:1:category"),
        ({"description": " "}, "问题 2：请填写问题描述", "issue:1:description"),
        ({"promised_on": None}, "问题 2：请填写告知客户的承诺答复日期", "issue:1:promised_on"),
        ({"promised_on": date(2026, 9, 27)}, "问题 2：承诺答复日期不能早于今天", "issue:1:promised_on"),
    ],
)
def test_a_bad_issue_refuses_the_whole_outcome(make_task, customer, consultant, quality, change, message, field):
    task = make_task(customer)
    bad = draft(quality) if "category" in change else draft(quality, **change)
    if "category" in change:
        bad = services.IssueDraft(category=None, description="x", promised_on=date(2026, 10, 9))
    with pytest.raises(DomainError) as err:
        record(task, consultant, draft(quality), bad)
    assert (err.value.message, err.value.field) == (message, field)
    task.refresh_from_db()
    assert task.status == VisitTask.Status.PENDING
    assert not VisitIssue.objects.exists()


def test_an_unreached_customer_raises_no_issue(make_task, customer, consultant, quality):
    with pytest.raises(DomainError, match="未联系上客户时不能登记"):
        record(make_task(customer), consultant, draft(quality), reached=False)
    assert not VisitIssue.objects.exists()


def test_the_outcome_page_keeps_what_was_typed_when_an_issue_is_refused(
    client, make_task, customer, consultant, quality
):
    task = make_task(customer)
    client.force_login(consultant)
    data = {"reached": "yes", "channel": "phone", "opinions": "总体满意"}
    data |= {f"q{i}": "4" for i in range(len(task.questions))}
    data |= {"issue0_category": str(quality.pk), "issue0_description": "阳台<b>渗水</b>", "issue0_promised_on": ""}
    response = client.post(reverse("visits:record", args=[task.pk]), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "问题 1：请填写告知客户的承诺答复日期" in page
    assert "阳台&lt;b&gt;渗水&lt;/b&gt;" in page  # kept, and escaped
    assert "总体满意" in page
    assert 'class="visit-raise-issues" open' in page
    task.refresh_from_db()
    assert task.status == VisitTask.Status.PENDING

    data["issue0_promised_on"] = "2026-10-09"
    response = client.post(reverse("visits:record", args=[task.pk]), data)
    assert response.status_code == 302
    issue = VisitIssue.objects.get()
    assert (issue.description, issue.promised_on) == ("阳台<b>渗水</b>", date(2026, 10, 9))


def test_a_typed_date_that_is_not_a_date_is_refused_in_chinese(client, make_task, customer, consultant, quality):
    task = make_task(customer)
    client.force_login(consultant)
    data = {"reached": "yes", "channel": "phone", "issue0_description": "渗水", "issue0_promised_on": "下周"}
    data |= {f"q{i}": "4" for i in range(len(task.questions))}
    page = client.post(reverse("visits:record", args=[task.pk]), data).content.decode()
    assert "请填写正确的日期，如 2026-10-09" in page
    assert 'value="下周"' in page


# ---------------------------------------------------------------- the department's queue


def test_the_department_sees_its_queue_and_nobody_elses(
    client, make_task, customer, consultant, quality, engineer, finance_clerk, outsider
):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    assert list(selectors.department_issues(engineer)) == [issue]
    assert list(selectors.issues_visible_to(engineer)) == [issue]
    assert not selectors.department_issues(finance_clerk).exists()
    assert not selectors.issues_visible_to(outsider).exists()
    client.force_login(engineer)
    page = client.get(reverse("visits:department_issues")).content.decode()
    assert "本部门回访问题 · 工程部" in page
    assert "卫生间墙面渗水" in page
    assert client.get(reverse("visits:issue", args=[issue.pk])).status_code == 200
    client.force_login(finance_clerk)
    assert "卫生间墙面渗水" not in client.get(reverse("visits:department_issues")).content.decode()
    assert client.get(reverse("visits:issue", args=[issue.pk])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("visits:issue", args=[issue.pk])).status_code == 404


def test_only_the_department_works_the_issue_and_a_resolution_is_required(
    make_task, customer, consultant, quality, engineer, finance_clerk
):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    for who in (finance_clerk, consultant):
        with pytest.raises(NotAllowed):
            services.start_issue(issue, actor=who)
    services.start_issue(issue, actor=engineer, now=NOW)
    with pytest.raises(DomainError, match="请填写处理结果"):
        services.resolve_issue(issue, actor=engineer, resolution="  ")
    services.resolve_issue(issue, actor=engineer, resolution="已更换防水层", now=NOW)
    issue.refresh_from_db()
    assert (issue.status, issue.resolution) == (IssueStatus.RESOLVED, "已更换防水层")


def test_only_the_visitor_informs_and_only_then_the_issue_closes(
    make_task, customer, consultant, teammate, quality, engineer
):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    with pytest.raises(services.IllegalIssueMove):  # not resolved yet
        services.inform_customer(issue, actor=consultant, accepted=True, note="已告知")
    services.resolve_issue(issue, actor=engineer, resolution="已更换防水层", now=NOW)
    for who in (engineer, teammate):
        with pytest.raises(NotAllowed):
            services.inform_customer(issue, actor=who, accepted=True, note="已告知")
    with pytest.raises(DomainError, match="请填写告知客户的情况"):
        services.inform_customer(issue, actor=consultant, accepted=True, note="")
    services.inform_customer(issue, actor=consultant, accepted=True, note="客户表示满意", now=NOW)
    issue.refresh_from_db()
    assert issue.status == IssueStatus.CLOSED
    assert issue.informed_at == issue.closed_at == NOW
    moves = list(IssueEvent.objects.filter(issue=issue).values_list("from_status", "to_status"))
    assert moves == [("open", "resolved"), ("resolved", "informed"), ("informed", "closed")]


def test_a_customer_who_does_not_accept_sends_it_back_to_the_department(
    make_task, customer, consultant, quality, engineer
):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    services.resolve_issue(issue, actor=engineer, resolution="已清理", now=NOW)
    with pytest.raises(DomainError, match="请填写客户不接受的原因"):
        services.inform_customer(issue, actor=consultant, accepted=False, note="")
    services.inform_customer(issue, actor=consultant, accepted=False, note="客户说仍有渗水", now=NOW)
    issue.refresh_from_db()
    assert issue.status == IssueStatus.IN_PROGRESS
    assert issue.closed_at is None


def test_the_pages_walk_the_issue_to_closed_with_errors_kept(
    client, make_task, customer, consultant, quality, engineer
):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    client.force_login(engineer)
    url = reverse("visits:issue", args=[issue.pk])
    assert "开始处理" in client.get(url).content.decode()
    assert client.post(reverse("visits:issue_act", args=[issue.pk, "start"]), {"note": ""}).status_code == 302
    response = client.post(reverse("visits:issue_act", args=[issue.pk, "resolve"]), {"note": ""})
    assert response.status_code == 400
    assert "请填写处理结果" in response.content.decode()
    assert (
        client.post(
            reverse("visits:issue_act", args=[issue.pk, "inform"]), {"accepted": "yes", "note": "x"}
        ).status_code
        == 403
    )
    assert client.post(reverse("visits:issue_act", args=[issue.pk, "resolve"]), {"note": "已修复"}).status_code == 302
    client.force_login(consultant)
    response = client.post(reverse("visits:issue_act", args=[issue.pk, "inform"]), {"note": "已电话告知"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "请选择客户是否接受处理结果" in page
    assert "已电话告知" in page
    data = {"accepted": "yes", "note": "已电话告知"}
    assert client.post(reverse("visits:issue_act", args=[issue.pk, "inform"]), data).status_code == 302
    issue.refresh_from_db()
    assert issue.status == IssueStatus.CLOSED


# ---------------------------------------------------------------- reminders and cards


def test_reminders_come_once_per_issue_and_day(make_task, customer, consultant, quality, engineer, calendar):
    # Promised Friday 10-09 (a working day after National Day); the working day before is
    # Thursday 10-08, not during the holiday.
    _, (soon,) = record(make_task(customer), consultant, draft(quality))
    _, (far,) = record(make_task(customer), consultant, draft(quality, promised_on=date(2026, 10, 30)))
    assert services.remind_issues(now=cst(2026, 9, 30, 9), calendar=calendar) == 0
    assert services.remind_issues(now=cst(2026, 10, 8, 9), calendar=calendar) == 1
    assert services.remind_issues(now=cst(2026, 10, 8, 15), calendar=calendar) == 0  # rerun: nothing twice
    assert services.remind_issues(now=cst(2026, 10, 12, 9), calendar=calendar) == 1  # the next day again, late
    kinds = list(IssueReminder.objects.filter(issue=soon).order_by("on").values_list("on", "kind"))
    assert kinds == [(date(2026, 10, 8), "promise"), (date(2026, 10, 12), "late")]
    assert not IssueReminder.objects.filter(issue=far).exists()
    assert {r.department_id for r in IssueReminder.objects.all()} == {engineer.department_id}


def test_a_resolved_issue_reminds_the_visitor_until_told(make_task, customer, consultant, quality, engineer, calendar):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    services.resolve_issue(issue, actor=engineer, resolution="已修复", now=NOW)
    assert services.remind_issues(now=cst(2026, 9, 29, 9), calendar=calendar) == 1
    reminder = IssueReminder.objects.get()
    assert (reminder.kind, reminder.recipient) == ("inform", consultant)
    services.inform_customer(issue, actor=consultant, accepted=True, note="已告知", now=NOW)
    assert services.remind_issues(now=cst(2026, 9, 30, 9), calendar=calendar) == 0


def test_the_cards_show_the_department_queue_and_what_to_tell_customers(
    make_task, customer, consultant, quality, engineer, calendar
):
    _, (issue,) = record(make_task(customer), consultant, draft(quality))
    services.remind_issues(now=cst(2026, 10, 8, 9), calendar=calendar)
    dept = {c.key: c for c in cards.workbench_cards(engineer, today=date(2026, 10, 8))}["visit_issues_department"]
    assert [(s.label, s.value) for s in dept.stats] == [("待处理", 1), ("超过承诺日期", 0)]
    assert [r.issue for r in dept.context["reminders"]] == [issue]
    assert "visit_issues_inform" not in {c.key for c in cards.workbench_cards(consultant, today=date(2026, 10, 8))}
    services.resolve_issue(issue, actor=engineer, resolution="已修复", now=NOW)
    inform = {c.key: c for c in cards.workbench_cards(consultant, today=date(2026, 10, 8))}["visit_issues_inform"]
    assert inform.context["issues"] == [issue]


# ---------------------------------------------------------------- API and export


def test_the_api_raises_works_and_closes_an_issue(make_task, customer, consultant, quality, engineer, finance_clerk):
    task = make_task(customer)
    body = {
        "reached": True,
        "channel": "phone",
        "scores": dict.fromkeys(task.questions, 5),
        "issues": [{"category": quality.pk, "description": "", "promised_on": "2026-10-09"}],
    }
    response = api(consultant).post(f"/api/visits/{task.pk}/outcome/", body, format="json")
    assert response.status_code == 400
    assert "请填写问题描述" in response.content.decode()
    body["issues"][0]["description"] = "地库照明不足"
    assert api(consultant).post(f"/api/visits/{task.pk}/outcome/", body, format="json").status_code == 200
    issue = VisitIssue.objects.get()
    queue = api(engineer).get("/api/visits/issues/?department_queue=1").json()
    assert [row["id"] for row in queue["results"]] == [issue.pk]
    assert api(finance_clerk).get(f"/api/visits/issues/{issue.pk}/").status_code == 404
    assert api(consultant).post(f"/api/visits/issues/{issue.pk}/resolve/", {"note": "x"}).status_code == 403
    assert api(engineer).post(f"/api/visits/issues/{issue.pk}/resolve/", {"note": "已加装灯具"}).status_code == 200
    response = api(consultant).post(f"/api/visits/issues/{issue.pk}/inform/", {"accepted": True, "note": "已告知"})
    assert response.json()["status"] == "closed"
    assert [e["to_status"] for e in api(consultant).get(f"/api/visits/issues/{issue.pk}/events/").json()] == [
        "resolved",
        "informed",
        "closed",
    ]


def test_the_issue_export_has_the_department_queue(
    client, make_task, customer, consultant, quality, engineer, make_staff
):
    record(make_task(customer), consultant, draft(quality, description="=HYPERLINK(1)"))
    client.force_login(engineer)
    response = client.get(reverse("visits:issue_export") + "?queue=1&state=working")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1
    assert rows[0][4] == "工程部"
    assert not str(rows[0][5]).startswith("=")
    # Without the export permission and outside the department: refused.
    client.force_login(make_staff("nobody", Role.CONSULTANT))
    assert client.get(reverse("visits:issue_export")).status_code == 403


def test_an_issue_row_with_only_a_date_is_not_dropped_silently(client, make_task, customer, consultant, quality):
    task = make_task(customer)
    client.force_login(consultant)
    data = {"reached": "yes", "channel": "phone", "issue1_promised_on": "2026-10-09"}
    data |= {f"q{i}": "4" for i in range(len(task.questions))}
    response = client.post(reverse("visits:record", args=[task.pk]), data)
    assert response.status_code == 400
    assert "问题 2：请选择问题类别" in response.content.decode()
    task.refresh_from_db()
    assert task.status == VisitTask.Status.PENDING
