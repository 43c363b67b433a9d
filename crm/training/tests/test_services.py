"""Plans, sessions, attendance and scores, summaries: who may do what, and when."""

from datetime import date

import pytest

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.models import Notification
from crm.training import services
from crm.training.models import Attendance

from .conftest import cn

pytestmark = pytest.mark.django_db


def test_only_planners_make_plans(consultant, supervisor, approver, director):
    with pytest.raises(NotAllowed):
        services.create_plan(
            actor=consultant, title="x", topic="etiquette", starts_on=date(2026, 10, 1), ends_on=date(2026, 10, 2)
        )
    for planner in (supervisor, approver, director):
        plan = services.create_plan(
            actor=planner, title="礼仪", topic="etiquette", starts_on=date(2026, 10, 1), ends_on=date(2026, 10, 2)
        )
        assert plan.company_id == planner.company_id


def test_a_plan_cannot_end_before_it_starts(supervisor):
    with pytest.raises(DomainError) as caught:
        services.create_plan(
            actor=supervisor, title="礼仪", topic="etiquette", starts_on=date(2026, 10, 2), ends_on=date(2026, 10, 1)
        )
    assert caught.value.field == "ends_on"


def test_scheduling_a_session_adds_each_attendee_and_notifies_them(make_session, consultant, teammate):
    session = make_session([consultant, teammate, consultant])
    assert sorted(a.attendee.username for a in session.attendances.all()) == ["consultant", "teammate"]
    assert set(session.attendances.values_list("status", flat=True)) == {Attendance.Status.EXPECTED}
    note = Notification.objects.get(recipient=consultant)
    assert note.title == "培训通知：电话礼仪：可以听到的形象（10-15 14:00）"
    assert note.link == f"/training/sessions/{session.pk}/"


def test_a_session_needs_a_trainer_and_attendees(make_session, plan, consultant, supervisor):
    with pytest.raises(DomainError) as caught:
        make_session([])
    assert caught.value.field == "attendees"
    with pytest.raises(DomainError) as caught:
        services.schedule_session(
            plan, actor=supervisor, topic="礼仪", starts_at=cn(2026, 10, 15, 14), attendees=[consultant]
        )
    assert (caught.value.field, caught.value.message) == ("trainer", "请选择讲师或填写外部讲师姓名")


def test_recording_attendance_and_scores(make_session, consultant, teammate, service, supervisor):
    session = make_session([consultant, teammate, service])
    rows = {a.attendee_id: a for a in session.attendances.all()}
    changed = services.record_attendance(
        session,
        actor=supervisor,
        entries=[
            (rows[consultant.pk], "attended", 92),
            (rows[teammate.pk], "leave", None),
            (rows[service.pk], "absent", None),
        ],
        now=cn(2026, 10, 15, 17),
    )
    assert changed == 3
    assert {a.attendee_id: (a.status, a.score) for a in session.attendances.all()} == {
        consultant.pk: ("attended", 92),
        teammate.pk: ("leave", None),
        service.pk: ("absent", None),
    }


def test_no_attended_or_score_before_the_session_starts_and_no_score_when_absent(make_session, consultant, supervisor):
    session = make_session([consultant])
    row = session.attendances.get()
    with pytest.raises(DomainError, match="培训尚未开始"):
        services.record_attendance(session, actor=supervisor, entries=[(row, "attended", 80)], now=cn(2026, 10, 15, 13))
    with pytest.raises(DomainError, match="未出席，不能登记成绩"):
        services.record_attendance(session, actor=supervisor, entries=[(row, "absent", 80)], now=cn(2026, 10, 15, 17))
    # 请假 may be recorded ahead of the session.
    assert services.record_attendance(session, actor=supervisor, entries=[(row, "leave", None)], now=cn(2026, 10, 14))


def test_the_trainer_records_their_own_session_and_nobody_elses(make_session, consultant, teammate, leader):
    own = make_session([consultant], trainer=leader)
    other = make_session([consultant], topic="拜访礼仪")
    row = own.attendances.get()
    assert services.record_attendance(own, actor=leader, entries=[(row, "attended", 75)], now=cn(2026, 10, 16)) == 1
    with pytest.raises(NotAllowed):
        services.record_attendance(
            other, actor=leader, entries=[(other.attendances.get(), "attended", 75)], now=cn(2026, 10, 16)
        )
    with pytest.raises(NotAllowed):
        services.record_attendance(own, actor=teammate, entries=[(row, "attended", 99)], now=cn(2026, 10, 16))


def test_an_attendee_writes_only_their_own_summary_after_the_start(make_session, consultant, teammate):
    session = make_session([consultant, teammate])
    mine = session.attendances.get(attendee=consultant)
    with pytest.raises(DomainError, match="培训开始后"):
        services.write_summary(mine, actor=consultant, text="学到了", now=cn(2026, 10, 15, 13))
    with pytest.raises(NotAllowed):
        services.write_summary(mine, actor=teammate, text="代写", now=cn(2026, 10, 15, 17))
    services.write_summary(mine, actor=consultant, text="  接听电话三声之内，先报项目名称  ", now=cn(2026, 10, 15, 17))
    mine.refresh_from_db()
    assert mine.summary == "接听电话三声之内，先报项目名称"
    assert mine.summary_at == cn(2026, 10, 15, 17)


def test_removing_an_attendee_with_a_record_is_refused(make_session, consultant, teammate, supervisor):
    session = make_session([consultant, teammate])
    row = session.attendances.get(attendee=teammate)
    services.record_attendance(session, actor=supervisor, entries=[(row, "leave", None)], now=cn(2026, 10, 14))
    fields = {"topic": session.topic, "starts_at": session.starts_at, "trainer_name": "外请讲师张老师"}
    with pytest.raises(DomainError, match="不能移出"):
        services.update_session(session, actor=supervisor, attendees=[consultant], **fields)
    services.update_session(session, actor=supervisor, attendees=[teammate], **fields)
    assert list(session.attendances.values_list("attendee__username", flat=True)) == ["teammate"]
