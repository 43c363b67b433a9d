"""The lifecycle table, the one mover and the named verbs."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest

from crm.complaints import services
from crm.complaints.models import Complaint, ComplaintEvent
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.models import AuditLog
from crm.customers.models import TimelineEvent
from crm.lib.dates import CHINA_TZ

from .conftest import REGISTERED_AT

Status = Complaint.Status
pytestmark = pytest.mark.django_db


def test_every_status_has_a_row_in_the_table():
    assert set(Complaint.ALLOWED_MOVES) == set(Status)
    assert Complaint.ALLOWED_MOVES[Status.CANCELLED] == frozenset()


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(Status, Status)))
def test_every_pair_moves_exactly_when_the_table_allows(frm, to, make_complaint, director):
    complaint = make_complaint()
    Complaint.objects.filter(pk=complaint.pk).update(status=frm)
    complaint.refresh_from_db()
    events = ComplaintEvent.objects.filter(complaint=complaint).count()
    if to in Complaint.ALLOWED_MOVES[frm]:
        services.move(complaint, to, actor=director, note="测试")
        complaint.refresh_from_db()
        assert complaint.status == to
        last = ComplaintEvent.objects.filter(complaint=complaint).last()
        assert (last.from_status, last.to_status, last.actor, last.note) == (frm, to, director, "测试")
    else:
        with pytest.raises(services.IllegalMove):
            services.move(complaint, to, actor=director)
        complaint.refresh_from_db()
        assert complaint.status == frm
        assert ComplaintEvent.objects.filter(complaint=complaint).count() == events


def test_registration_numbers_stamps_deadlines_and_dispatches_to_the_category_owner(make_complaint, service):
    complaint = make_complaint()
    assert complaint.number == "TS202609290001"
    assert make_complaint().number == "TS202609290002"
    assert complaint.status == Status.DISPATCHED
    assert complaint.assignee == service
    assert complaint.first_response_due_at == REGISTERED_AT + timedelta(hours=24)
    assert complaint.resolution_due_at == datetime(2026, 10, 10, tzinfo=CHINA_TZ)
    assert complaint.resolution_due_day == date(2026, 10, 9)
    moves = list(complaint.events.values_list("from_status", "to_status"))
    assert moves == [("", Status.REGISTERED), (Status.REGISTERED, Status.DISPATCHED)]


def test_first_response_hours_is_a_setting(make_complaint, settings):
    settings.COMPLAINT_FIRST_RESPONSE_HOURS = 48
    assert make_complaint().first_response_due_at == REGISTERED_AT + timedelta(hours=48)


def test_the_number_sequence_restarts_each_day(make_complaint):
    make_complaint()
    assert make_complaint(now=REGISTERED_AT + timedelta(days=1)).number == "TS202609300001"


def test_a_complainant_with_a_customers_mobile_is_linked_and_gets_timeline_events(make_complaint, customer):
    complaint = make_complaint(complainant_mobile="138 1234 5678")
    assert complaint.customer == customer
    assert complaint.complainant_mobile == "13812345678"
    assert complaint.masked_mobile == "138****5678"
    kinds = TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.COMPLAINT)
    assert kinds.count() == 2  # registered, dispatched
    assert "TS20260929" in kinds.first().summary


def test_an_unknown_complainant_stays_unlinked(make_complaint, customer):
    complaint = make_complaint(complainant_mobile="13900009999")
    assert complaint.customer is None
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.COMPLAINT).exists()


def test_a_bad_mobile_is_refused_in_chinese(make_complaint):
    with pytest.raises(DomainError) as exc:
        make_complaint(complainant_mobile="12345")
    assert exc.value.field == "complainant_mobile"
    assert not Complaint.objects.exists()


def test_without_a_category_owner_it_waits_for_the_director(make_complaint, category, director, service):
    category.owner = None
    category.save()
    complaint = make_complaint()
    assert complaint.status == Status.REGISTERED
    with pytest.raises(NotAllowed):
        services.dispatch_complaint(complaint, actor=service, assignee=service)
    services.dispatch_complaint(complaint, actor=director, assignee=service)
    assert (complaint.status, complaint.assignee) == (Status.DISPATCHED, service)
    assert complaint.dispatched_at is not None


def test_the_whole_path_to_archive(make_complaint, service, director):
    c = make_complaint()
    t = REGISTERED_AT + timedelta(hours=1)
    services.acknowledge_complaint(c, actor=service, now=t)
    assert c.acknowledged_at == t
    services.start_investigation(c, actor=service)
    with pytest.raises(DomainError):
        services.propose_plan(c, actor=service, plan="  ")
    services.propose_plan(c, actor=service, plan="道歉并更换接待人员，10月9日前回复")
    with pytest.raises(NotAllowed):
        services.approve_plan(c, actor=service)
    with pytest.raises(DomainError):
        services.reject_plan(c, actor=director, note="")
    services.reject_plan(c, actor=director, note="请补充补偿措施")
    assert c.status == Status.INVESTIGATING
    services.propose_plan(c, actor=service, plan="道歉、更换接待人员并赠送物业费一个月")
    services.approve_plan(c, actor=director)
    assert c.plan_approved_at is not None
    services.start_work(c, actor=service)
    services.record_progress(c, actor=service, note="已致电客户致歉")
    services.resolve_complaint(c, actor=service, note="已更换接待人员")
    with pytest.raises(DomainError):
        services.confirm_resolution(c, actor=service, satisfaction=6)
    services.confirm_resolution(c, actor=service, satisfaction=4, note="客户表示满意")
    assert (c.status, c.satisfaction) == (Status.CONFIRMED, 4)
    services.archive_complaint(c, actor=service)
    assert c.status == Status.ARCHIVED
    assert c.archived_at is not None
    kinds = list(c.events.values_list("kind", flat=True))
    assert kinds.count(ComplaintEvent.Kind.PROGRESS) == 1
    assert AuditLog.objects.filter(target_type="complaints.complaint", target_id=str(c.pk)).count() == len(kinds)


def test_only_the_assignee_or_the_director_handles_it(make_complaint, make_staff, project, director):
    from crm.accounts.roles import Role

    other = make_staff("other_service", Role.SERVICE, projects=(project,))
    c = make_complaint()
    with pytest.raises(NotAllowed):
        services.acknowledge_complaint(c, actor=other)
    services.acknowledge_complaint(c, actor=director)
    assert c.status == Status.ACKNOWLEDGED


def test_waiting_stops_the_clock_and_resume_returns_to_where_it_was(make_complaint, service, calendar):
    c = make_complaint()
    services.acknowledge_complaint(c, actor=service)
    services.start_investigation(c, actor=service)
    due = c.resolution_due_at
    paused = datetime(2026, 10, 8, 12, 0, tzinfo=CHINA_TZ)
    services.wait_for_customer(c, actor=service, note="等待客户提供购房合同", now=paused)
    assert (c.status, c.paused_from, c.paused_at) == (Status.WAITING, Status.INVESTIGATING, paused)
    assert not c.is_breached(datetime(2026, 10, 20, tzinfo=CHINA_TZ))
    services.resume_complaint(c, actor=service, now=datetime(2026, 10, 9, 12, 0, tzinfo=CHINA_TZ), calendar=calendar)
    assert (c.status, c.paused_at, c.paused_from) == (Status.INVESTIGATING, None, "")
    assert c.resolution_due_at == due + timedelta(days=1)  # 24 working hours: 10-10 is a working Saturday


def test_a_resolved_complaint_can_be_reopened_by_the_director_only(make_complaint, service, director):
    c = make_complaint()
    Complaint.objects.filter(pk=c.pk).update(status=Status.RESOLVED, satisfaction=None)
    with pytest.raises(NotAllowed):
        services.reopen_complaint(c, actor=service, note="客户不满意")
    services.reopen_complaint(c, actor=director, note="客户不满意")
    assert c.status == Status.REOPENED
    assert c.resolved_at is None
    services.start_investigation(c, actor=service)
    assert c.status == Status.INVESTIGATING


def test_cancel_needs_a_reason(make_complaint, director):
    c = make_complaint()
    with pytest.raises(DomainError):
        services.cancel_complaint(c, actor=director, note=" ")
    services.cancel_complaint(c, actor=director, note="客户撤回")
    assert c.status == Status.CANCELLED
    assert c.cancelled_at is not None


def test_available_verbs_follow_the_table_and_the_role(make_complaint, service, director, duty):
    c = make_complaint()
    assert services.available_verbs(c, service) == ["acknowledge", "progress"]
    assert "cancel" in services.available_verbs(c, director)
    assert services.available_verbs(c, duty) == []
    Complaint.objects.filter(pk=c.pk).update(status=Status.PLAN_PROPOSED)
    c.refresh_from_db()
    assert "approve" not in services.available_verbs(c, service)
    assert {"approve", "reject"} <= set(services.available_verbs(c, director))


def test_perform_runs_the_verb_by_name(make_complaint, service):
    c = make_complaint()
    services.perform(c, "acknowledge", actor=service)
    assert c.status == Status.ACKNOWLEDGED
    with pytest.raises(services.IllegalMove):
        services.perform(c, "resolve", actor=service, note="已处理")
    assert c.status == Status.ACKNOWLEDGED


def test_a_year_without_a_calendar_still_registers_with_an_estimated_deadline(make_complaint):
    # 2026-12-30 (Wednesday): 3 working days run into 2027, which nobody has entered.
    complaint = make_complaint(now=datetime(2026, 12, 30, 10, 0, tzinfo=CHINA_TZ))
    assert complaint.resolution_due_at == datetime(2027, 1, 5, tzinfo=CHINA_TZ)  # 12-31, 01-01, 01-04 (Mon–Fri)
    note = complaint.events.get(to_status=Status.REGISTERED).note
    assert "2027 年的法定节假日安排尚未录入" in note
    assert "估算" in note
