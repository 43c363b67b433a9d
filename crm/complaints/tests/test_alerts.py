"""Staff notifications about complaints (crm.complaints.alerts): who is told of an
escalation, a dispatch, a plan, a reported department and a held mail — once per event,
and only people whose scope covers the row."""

from __future__ import annotations

from datetime import datetime

import pytest

from crm.accounts.models import Department
from crm.accounts.roles import Role
from crm.complaints import alerts, escalation, issues, jobs, services
from crm.complaints.mail_intake import MailboxConfig, intake_mail
from crm.complaints.models import InboundMail
from crm.core.models import Notification
from crm.core.notifications import unread_count
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar

from .conftest import REGISTERED_AT

pytestmark = pytest.mark.django_db

LEVEL_ONE_AT = datetime(2026, 9, 30, 18, 0, tzinfo=CHINA_TZ)  # first response was due 17:00
LEVEL_TWO_AT = datetime(2026, 10, 8, 18, 0, tzinfo=CHINA_TZ)  # a working day later (holiday between)


@pytest.fixture
def director_b(make_staff, project_b):
    """客服中心主任 of project B only."""
    return make_staff("director_b", Role.DIRECTOR, projects=(project_b,), display_name="冯主任")


def received(user, kind: str | None = None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=user).order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def test_level_one_tells_the_director_and_the_assignee_once_however_often_the_job_runs(
    make_complaint, duty, service, director, calendar
):
    complaint = make_complaint(actor=duty)
    assert escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar) == 1
    assert escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar) == 0
    jobs.escalate_breached(now=datetime(2026, 9, 30, 18, 15, tzinfo=CHINA_TZ))
    [to_director] = received(director, alerts.KIND_ESCALATED)
    [to_assignee] = received(service, alerts.KIND_ESCALATED)
    assert to_director.title == f"投诉 {complaint.number} 已超时升级：超过首次响应期限未接收，已升级至客服中心主任"
    assert to_director.link == f"/complaints/{complaint.pk}/"
    assert to_director.dedupe_key == to_assignee.dedupe_key
    assert "售楼处接待人员态度冷淡" in to_director.text
    assert to_director.created_at == LEVEL_ONE_AT
    assert unread_count(director) == 1


def test_level_two_tells_the_directors_again_and_management_not_the_assignee(
    make_complaint, duty, service, director, manager, calendar
):
    make_complaint(actor=duty)
    escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar)
    assert received(manager) == []
    assert escalation.escalate_breached(now=LEVEL_TWO_AT, calendar=calendar) == 1
    escalation.escalate_breached(now=LEVEL_TWO_AT, calendar=calendar)
    first, second = received(director, alerts.KIND_ESCALATED)
    assert "已超时升级" in first.title
    assert "二级升级" in second.title
    [to_management] = received(manager, alerts.KIND_ESCALATED)
    assert "二级升级" in to_management.title
    assert len(received(service, alerts.KIND_ESCALATED)) == 1  # level 1 only


def test_a_director_of_another_project_hears_nothing(make_complaint, duty, director, director_b, calendar):
    make_complaint(actor=duty)
    escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar)
    assert len(received(director)) == 1
    assert received(director_b) == []


def test_a_director_whose_project_it_is_is_told(make_complaint, duty, director_b, project_b, calendar):
    make_complaint(actor=duty, project=project_b)
    escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar)
    assert len(received(director_b, alerts.KIND_ESCALATED)) == 1


def test_an_inactive_director_is_not_told(make_complaint, duty, director, calendar):
    director.is_active = False
    director.save()
    make_complaint(actor=duty)
    escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar)
    assert received(director) == []


def test_a_reopened_complaint_that_breaches_again_is_a_new_event(make_complaint, duty, service, director, calendar):
    complaint = make_complaint(actor=duty)
    escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar)
    services.acknowledge_complaint(complaint, actor=service, now=LEVEL_ONE_AT)
    services.start_investigation(complaint, actor=service, now=LEVEL_ONE_AT)
    services.propose_plan(complaint, actor=service, plan="道歉并培训", now=LEVEL_ONE_AT)
    services.approve_plan(complaint, actor=director, now=LEVEL_ONE_AT)
    services.start_work(complaint, actor=service, now=LEVEL_ONE_AT)
    services.resolve_complaint(complaint, actor=service, note="已道歉", now=LEVEL_ONE_AT)
    services.reopen_complaint(complaint, actor=director, note="客户不满意", now=LEVEL_ONE_AT)
    # The new round's deadline: the end of the third working day after 09-30 → 10-10.
    escalation.escalate_breached(now=datetime(2026, 10, 11, 9, 0, tzinfo=CHINA_TZ), calendar=calendar)
    assert len(received(director, alerts.KIND_ESCALATED)) == 2


def test_dispatch_at_registration_tells_the_owner_but_not_the_one_who_dispatched_to_themselves(
    make_complaint, duty, service
):
    complaint = make_complaint(actor=duty)
    [note] = received(service, alerts.KIND_ASSIGNED)
    assert note.title == f"投诉 {complaint.number} 已分派给您"
    assert "09-30 17:00 前接收" in note.text
    make_complaint(actor=service)  # the owner registered it: they know
    assert len(received(service, alerts.KIND_ASSIGNED)) == 1


def test_reassigning_tells_the_new_assignee(make_complaint, duty, director, make_staff, project):
    complaint = make_complaint(actor=duty)
    other = make_staff("service2", Role.SERVICE, projects=(project,), display_name="周客服")
    services.reassign_complaint(complaint, actor=director, assignee=other, now=REGISTERED_AT)
    [note] = received(other, alerts.KIND_ASSIGNED)
    assert note.title == f"投诉 {complaint.number} 已分派给您（改派）"
    assert received(director) == []


def test_a_proposed_plan_goes_to_the_approvers_and_their_decision_to_the_assignee(
    make_complaint, duty, service, director, director_b
):
    complaint = make_complaint(actor=duty)
    services.acknowledge_complaint(complaint, actor=service, now=REGISTERED_AT)
    services.start_investigation(complaint, actor=service, now=REGISTERED_AT)
    services.propose_plan(complaint, actor=service, plan="赔偿物业费一个月", now=REGISTERED_AT)
    [proposed] = received(director, alerts.KIND_PLAN_PROPOSED)
    assert proposed.title == f"投诉 {complaint.number} 的处理方案待您审批"
    assert "赔偿物业费一个月" in proposed.text
    assert received(director_b) == []
    assert received(service, alerts.KIND_PLAN_PROPOSED) == []

    services.reject_plan(complaint, actor=director, note="金额过高", now=REGISTERED_AT)
    [rejected] = received(service, alerts.KIND_PLAN_DECIDED)
    assert rejected.title.endswith("处理方案被退回")
    assert rejected.text == "意见：金额过高"

    services.propose_plan(complaint, actor=service, plan="赠送保洁一次", now=REGISTERED_AT)
    services.approve_plan(complaint, actor=director, now=REGISTERED_AT)
    assert [n.title[-3:] for n in received(service, alerts.KIND_PLAN_DECIDED)] == ["被退回", "已批准"]
    assert len(received(director, alerts.KIND_PLAN_PROPOSED)) == 2


def test_complaint_text_is_stored_as_typed_and_shown_escaped(make_complaint, duty, director, login, calendar):
    make_complaint(
        actor=duty, content="<script>alert(1)</script><img src=x onerror=alert(2)>", complainant_name="<b>王</b>"
    )
    escalation.escalate_breached(now=LEVEL_ONE_AT, calendar=calendar)
    [note] = received(director, alerts.KIND_ESCALATED)
    assert "<script>alert(1)</script>" in note.text
    html = login(director).get("/notifications/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;王&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html
    assert "<b>王</b>" not in html


def test_a_department_reported_by_the_first_responder_goes_to_the_director(
    company, service, project, director, director_b
):
    engineering = Department.objects.create(company=company, name="工程部")
    now = datetime(2026, 9, 30, 10, 0, tzinfo=CHINA_TZ)
    issue = issues.register_issue(
        issues.IssueIntake(
            subject="车位产权",
            description="客户问车位能否办理产权证",
            contact_name="张三",
            contact_mobile="13812345678",
            project=project,
        ),
        actor=service,
        now=now,
    )
    record = issues.hand_off(issue, actor=service, department=engineering, asked="?", now=now, calendar=WorkCalendar())
    escalation_row = issues.escalate_hand_off(
        record, actor=service, reason="两天未答复", now=datetime(2026, 10, 8, 11, 0, tzinfo=CHINA_TZ)
    )
    [note] = received(director, alerts.KIND_ISSUE_ESCALATED)
    assert note.title == f"首问事项 {issue.number}：工程部超时未答复"
    assert note.link == f"/complaints/issues/{issue.pk}/"
    assert note.dedupe_key == f"issue-escalation:{escalation_row.pk}"
    assert received(director_b) == []
    assert received(service) == []  # the one who reported it


def test_a_held_mail_tells_the_directors_once(duty, director, director_b, category, project):
    config = MailboxConfig(
        host="127.0.0.1", port=143, user="u", password="p", actor=duty.username, project=project.code
    )
    now = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
    record = intake_mail(b"this is not a mail at all\r\n\r\n", actor=duty, config=config, now=now)
    assert record.status == InboundMail.Status.HELD
    intake_mail(b"this is not a mail at all\r\n\r\n", actor=duty, config=config, now=now)  # read again
    for director_ in (director, director_b):  # the mail has no project yet: every director
        [note] = received(director_, alerts.KIND_MAIL_HELD)
        assert note.title == "一封投诉邮件待人工处理"
        assert note.link == f"/complaints/mail/{record.pk}/"
        assert "邮件没有邮件头" in note.text
    assert received(duty) == []


def test_a_complaint_nobody_owns_waits_for_the_directors_of_its_project(
    make_complaint, duty, director, director_b, category
):
    category.owner = None
    category.save()
    complaint = make_complaint(actor=duty)
    [note] = received(director, alerts.KIND_WAITING)
    assert note.title == f"新投诉 {complaint.number} 待分派"
    assert received(director_b) == []
    services.dispatch_complaint(complaint, actor=director, assignee=duty, now=REGISTERED_AT)
    assert len(received(duty, alerts.KIND_ASSIGNED)) == 1
    assert len(received(director)) == 1  # dispatching it themselves tells them nothing new
