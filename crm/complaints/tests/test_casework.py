"""咨询, 首问责任制 and 媒体监督: the rules of crm.complaints.consultations, issues and media."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.accounts.models import Department
from crm.accounts.roles import Role
from crm.complaints import consultations, issues, media, selectors
from crm.complaints.models import (
    Channel,
    Complaint,
    ConsultationChannel,
    ConsultationTopic,
    CustomerIssue,
    IssueEvent,
    MediaCheck,
    Medium,
    Sentiment,
)
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db

# Wednesday 2026-09-30 10:00, the last working day before the National Day holiday.
NOW = datetime(2026, 9, 30, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def topic(company) -> ConsultationTopic:
    consultations.ensure_default_topics(company)
    return ConsultationTopic.objects.get(company=company, name="付款与按揭")


@pytest.fixture
def engineering(company) -> Department:
    return Department.objects.create(company=company, name="工程部")


@pytest.fixture
def finance(company) -> Department:
    return Department.objects.create(company=company, name="财务部")


def consult(actor, project, topic, **kw):
    fields = {
        "channel": ConsultationChannel.PHONE,
        "topic": topic,
        "question": "公积金贷款最长能贷多少年？",
        "answer": "最长 30 年，且不超过退休年龄后 5 年",
        "contact_name": "张三",
        "contact_mobile": "13812345678",
        "project": project,
    } | kw
    return consultations.register_consultation(consultations.ConsultationIntake(**fields), actor=actor, now=NOW)


def new_issue(actor, project, *, mobile="13812345678", now=NOW):
    return issues.register_issue(
        issues.IssueIntake(
            subject="车位产权",
            description="客户问车位能否办理产权证",
            contact_name="张三",
            contact_mobile=mobile,
            project=project,
        ),
        actor=actor,
        now=now,
    )


# ---------------------------------------------------------------- consultations


def test_a_consultation_links_the_customer_by_mobile_and_writes_the_timeline(service, project, topic, customer):
    c = consult(service, project, topic)
    assert c.customer == customer
    assert c.answered_by == service
    event = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.CONSULTATION)
    assert "公积金贷款" in event.summary


def test_an_unknown_mobile_stays_an_unlinked_contact(service, project, topic, customer):
    c = consult(service, project, topic, contact_mobile="13900009999")
    assert c.customer is None
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CONSULTATION).exists()


def test_a_consultation_without_an_answer_must_need_follow_up(service, project, topic):
    with pytest.raises(DomainError) as exc:
        consult(service, project, topic, answer="")
    assert exc.value.field == "answer"


def test_a_consultation_needing_follow_up_becomes_the_receivers_issue(service, project, topic, customer):
    c = consult(service, project, topic, answer="", needs_follow_up=True)
    issue = CustomerIssue.objects.get(consultation=c)
    assert issue.first_responder == service
    assert issue.customer == customer
    assert issue.status == CustomerIssue.Status.OPEN


def test_a_consultation_becomes_a_complaint_once(service, project, topic, category):
    c = consult(service, project, topic, channel=ConsultationChannel.WECHAT)
    complaint = consultations.consultation_to_complaint(c, actor=service, category=category, now=NOW)
    assert complaint.channel == Channel.WECHAT
    assert complaint.content == c.question
    assert c.complaint == complaint
    with pytest.raises(DomainError):
        consultations.consultation_to_complaint(c, actor=service, category=category, now=NOW)
    assert Complaint.objects.count() == 1


def test_the_quarterly_summary_counts_by_topic_channel_project_staff_and_question(
    service, director, project, project_b, topic, company
):
    other = ConsultationTopic.objects.get(company=company, name="工程进度")
    consult(service, project, topic)
    consult(service, project, topic, channel=ConsultationChannel.WALK_IN)
    consult(director, project_b, other, question="几号楼先交房？")
    # The next quarter does not count.
    consultations.register_consultation(
        consultations.ConsultationIntake(
            channel="phone",
            topic=topic,
            question="下季度的问题",
            answer="答",
            contact_name="李四",
            contact_mobile="",
            project=project,
        ),
        actor=service,
        now=NOW + timedelta(days=2),
    )
    rows = selectors.consultations_visible_to(director)
    summary = consultations.quarterly_summary(rows, year=2026, quarter=3)
    assert summary.total == 3
    assert [(r.label, r.count) for r in summary.by_topic] == [("付款与按揭", 2), ("工程进度", 1)]
    assert {(r.label, r.count) for r in summary.by_channel} == {("电话", 2), ("来访", 1)}
    assert [(r.label, r.count) for r in summary.by_staff] == [("刘客服", 2), ("吴主任", 1)]
    assert summary.top_questions[0].label == "公积金贷款最长能贷多少年？"
    assert summary.top_questions[0].count == 2
    assert consultations.quarterly_summary(rows, year=2026, quarter=4).total == 1


# ---------------------------------------------------------------- first responder


def test_the_first_responder_stays_owner_across_two_hand_offs(service, project, engineering, finance, director):
    issue = new_issue(service, project)
    cal = WorkCalendar()
    first = issues.hand_off(issue, actor=service, department=engineering, asked="车位能否办证", now=NOW, calendar=cal)
    issues.record_answer(first, actor=director, answer="地下车位可办理产权", now=NOW + timedelta(hours=1))
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.CALLBACK_DUE
    second = issues.hand_off(
        issue, actor=service, department=finance, asked="办证费用多少", now=NOW + timedelta(hours=2), calendar=cal
    )
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.HANDED_OFF
    issues.record_answer(second, actor=service, answer="按面积收费，约 2000 元", now=NOW + timedelta(hours=3))
    issue.refresh_from_db()
    assert issue.first_responder == service
    assert issue.status == CustomerIssue.Status.CALLBACK_DUE
    assert list(issue.hand_offs.values_list("department__name", flat=True)) == ["工程部", "财务部"]
    # Only the owner (or the director) may call back and close.
    with pytest.raises(NotAllowed):
        issues.record_callback(issue, actor=_other_service(project), result="已告知", now=NOW + timedelta(hours=4))
    issues.record_callback(issue, actor=service, result="已告知客户办证流程和费用", now=NOW + timedelta(hours=4))
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.CLOSED
    assert issue.first_responder == service


def _other_service(project):
    from crm.accounts.services import create_staff

    return create_staff(
        "service2", company=project.company, roles=(Role.SERVICE,), password="x-pass-123", projects=(project,)
    )


def test_closing_without_a_callback_is_refused(service, project, engineering):
    issue = new_issue(service, project)
    issues.mark_answered(issue, actor=service, now=NOW)
    with pytest.raises(DomainError, match="尚未回复客户"):
        issues.close_issue(issue, actor=service, now=NOW)
    # An unreached callback is recorded but does not close it.
    issues.record_callback(issue, actor=service, result="电话无人接听", is_reached=False, now=NOW)
    with pytest.raises(DomainError, match="尚未回复客户"):
        issues.move(issue, CustomerIssue.Status.CLOSED, actor=service, now=NOW)
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.CALLBACK_DUE
    assert issue.callbacks.count() == 1


def test_a_callback_cannot_close_while_a_department_has_not_answered(service, project, engineering):
    issue = new_issue(service, project)
    issues.hand_off(issue, actor=service, department=engineering, asked="?", now=NOW, calendar=WorkCalendar())
    with pytest.raises(DomainError, match="还有部门未答复"):
        issues.record_callback(issue, actor=service, result="已告知", now=NOW)
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.HANDED_OFF
    assert issue.callbacks.count() == 0


def test_escalation_waits_for_the_response_time_on_the_work_calendar(service, project, engineering, director):
    """Handed off on Wed 2026-09-30 10:00 with 24 working hours: 14 hours of that Wednesday,
    then 10-01..07 is the National Day holiday, so the answer is due Thu 10-08 10:00."""
    issue = new_issue(service, project)
    record = issues.hand_off(
        issue, actor=service, department=engineering, asked="车位能否办证", now=NOW, calendar=WorkCalendar()
    )
    assert record.respond_by == datetime(2026, 10, 8, 10, 0, tzinfo=CHINA_TZ)
    with pytest.raises(DomainError, match="未到"):
        issues.escalate_hand_off(record, actor=service, reason="", now=datetime(2026, 10, 7, 18, 0, tzinfo=CHINA_TZ))
    late = datetime(2026, 10, 8, 10, 1, tzinfo=CHINA_TZ)
    escalation = issues.escalate_hand_off(record, actor=service, reason="工程部两天未答复", now=late)
    assert escalation.hand_off == record
    with pytest.raises(DomainError, match="已投诉过"):
        issues.escalate_hand_off(record, actor=service, reason="", now=late)
    assert (
        selectors.issues_visible_to(director)
        .filter(selectors.issue_state_q("escalated", user=director, now=late))
        .get()
        == issue
    )
    assert IssueEvent.objects.filter(issue=issue, kind=IssueEvent.Kind.ESCALATED).count() == 1


def test_a_consultant_sees_only_own_customers_issues(consultant, teammate, outsider, service, project, make_customer):
    mine = make_customer("我的客户", owner=consultant)
    theirs = make_customer("同组客户", owner=teammate)
    own_issue = new_issue(consultant, project, mobile=mine.mobile)
    by_service_for_mine = new_issue(service, project, mobile=mine.mobile)
    teammates = new_issue(teammate, project, mobile=theirs.mobile)
    unlinked = new_issue(service, project, mobile="13900000001")
    visible = set(selectors.issues_visible_to(consultant))
    assert visible == {own_issue, by_service_for_mine}
    assert teammates not in visible
    assert unlinked not in visible
    assert set(selectors.issues_visible_to(outsider)) == set()
    assert set(selectors.issues_visible_to(service)) == {own_issue, by_service_for_mine, teammates, unlinked}


def test_a_consultant_cannot_be_first_responder_for_someone_elses_customer(
    consultant, teammate, project, make_customer
):
    theirs = make_customer("同组客户", owner=teammate)
    with pytest.raises(NotAllowed):
        new_issue(consultant, project, mobile=theirs.mobile)
    with pytest.raises(NotAllowed):
        new_issue(consultant, project, mobile="13900000002")
    assert not CustomerIssue.objects.exists()


def test_an_issue_needs_a_mobile_to_call_back(service, project):
    with pytest.raises(DomainError) as exc:
        new_issue(service, project, mobile="")
    assert exc.value.field == "contact_mobile"


def test_the_issue_table_allows_only_its_moves(service, project):
    for frm, targets in CustomerIssue.ALLOWED_MOVES.items():
        for to in CustomerIssue.Status:
            issue = new_issue(service, project)
            CustomerIssue.objects.filter(pk=issue.pk).update(status=frm)
            if to == CustomerIssue.Status.CLOSED:
                issue.callbacks.create(called_by=service, called_at=NOW, result="已告知")
            if to in targets:
                issues.move(issue, to, actor=service, now=NOW)
                assert CustomerIssue.objects.get(pk=issue.pk).status == to
            else:
                with pytest.raises(issues.IllegalIssueMove):
                    issues.move(issue, to, actor=service, now=NOW)
                assert CustomerIssue.objects.get(pk=issue.pk).status == frm


# ---------------------------------------------------------------- media watch


@pytest.fixture
def analyst(make_staff):
    return make_staff("analyst", Role.ANALYST, display_name="马市场")


def test_the_weekly_checklist_is_per_local_week(company, analyst):
    media.ensure_default_media(company)
    all_media = list(Medium.objects.filter(company=company))
    sunday_night = datetime(2026, 10, 11, 23, 30, tzinfo=CHINA_TZ)  # 15:30 UTC, still Sunday
    monday = datetime(2026, 10, 12, 0, 10, tzinfo=CHINA_TZ)  # Sunday 16:10 UTC, but Monday here
    for medium in all_media[:-1]:
        media.check_medium(medium, actor=analyst, now=sunday_night - timedelta(days=3))
    week = media.week_of(sunday_night)
    assert week.isoformat() == "2026-10-05"
    review = media.weekly_review(company.pk, week)
    assert [m.name for m in review.missing] == [all_media[-1].name]
    assert not review.is_complete
    media.check_medium(all_media[-1], actor=analyst, now=sunday_night)
    assert media.weekly_review(company.pk, week).is_complete
    assert media.missing_count(company.pk, week) == 0
    # Ten minutes later it is a new week: everything is to do again.
    assert media.week_of(monday).isoformat() == "2026-10-12"
    assert media.missing_count(company.pk, media.week_of(monday)) == len(all_media)
    media.check_medium(all_media[0], actor=analyst, now=monday)
    assert MediaCheck.objects.filter(week_on=media.week_of(monday)).count() == 1
    with pytest.raises(DomainError, match="本周已浏览"):
        media.check_medium(all_media[0], actor=analyst, now=monday + timedelta(hours=1))


def test_a_switched_off_medium_leaves_the_checklist(company, analyst):
    media.ensure_default_media(company)
    Medium.objects.filter(company=company).exclude(sort_order=1).update(is_active=False)
    assert media.missing_count(company.pk, NOW.date()) == 1


def test_a_finding_becomes_a_media_complaint(company, analyst, director, project, category):
    media.ensure_default_media(company)
    forum = Medium.objects.get(company=company, name="业主论坛")
    finding = media.record_finding(
        media.FindingIntake(
            medium=forum,
            summary="业主发帖称 3 号楼外墙渗水无人处理",
            sentiment=Sentiment.NEGATIVE,
            link="https://bbs.example.com/t/1",
            project=project,
        ),
        actor=analyst,
        now=NOW,
    )
    with pytest.raises(NotAllowed):
        # 市场专员 does not register complaints; the director does.
        media.finding_to_complaint(finding, actor=analyst, category=category, now=NOW)
    complaint = media.finding_to_complaint(finding, actor=director, category=category, now=NOW)
    assert complaint.channel == Channel.MEDIA
    assert complaint.complainant_mobile == ""
    assert "外墙渗水" in complaint.content
    assert "https://bbs.example.com/t/1" in complaint.content
    assert finding.complaint == complaint
    with pytest.raises(DomainError, match="已转为投诉"):
        media.finding_to_complaint(finding, actor=director, category=category, now=NOW)


def test_a_finding_becomes_an_issue_owned_by_who_found_it(company, analyst, project):
    media.ensure_default_media(company)
    medium = Medium.objects.get(company=company, name="安居客")
    finding = media.record_finding(
        media.FindingIntake(medium=medium, summary="网友询问交房时间", sentiment=Sentiment.NEUTRAL, project=project),
        actor=analyst,
        now=NOW,
    )
    issue = media.finding_to_issue(finding, actor=analyst, subject="回复网友交房时间", now=NOW)
    assert issue.first_responder == analyst
    assert issue.media_finding == finding
    assert issue.source == "media"


def test_a_finding_without_summary_is_refused(company, analyst):
    media.ensure_default_media(company)
    medium = Medium.objects.filter(company=company).first()
    with pytest.raises(DomainError) as exc:
        media.record_finding(
            media.FindingIntake(medium=medium, summary="  ", sentiment=Sentiment.NEUTRAL), actor=analyst, now=NOW
        )
    assert exc.value.field == "summary"
