"""escalate_breached: level 1 on a breach, level 2 a working day later, idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.complaints import escalation, jobs, services
from crm.complaints.models import Complaint, ComplaintEvent
from crm.lib.dates import CHINA_TZ

from .conftest import REGISTERED_AT

pytestmark = pytest.mark.django_db


def cst(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHINA_TZ)


def escalations(complaint: Complaint) -> int:
    return complaint.events.filter(kind=ComplaintEvent.Kind.ESCALATED).count()


def test_not_acknowledged_in_time_is_level_one_once(make_complaint, calendar):
    complaint = make_complaint()  # first response due 09-30 17:00
    assert escalation.escalate_breached(now=cst(9, 30, 16), calendar=calendar) == 0
    assert escalation.escalate_breached(now=cst(9, 30, 18), calendar=calendar) == 1
    assert escalation.escalate_breached(now=cst(9, 30, 19), calendar=calendar) == 0
    complaint.refresh_from_db()
    assert (complaint.escalation_level, complaint.escalated_at) == (1, cst(9, 30, 18))
    assert escalations(complaint) == 1
    assert "首次响应" in complaint.events.get(kind=ComplaintEvent.Kind.ESCALATED).note


def test_level_two_comes_a_working_day_later_skipping_the_holiday(make_complaint, calendar):
    complaint = make_complaint()
    escalation.escalate_breached(now=cst(9, 30, 18), calendar=calendar)
    # The next working day after 09-30 is 10-08 (National Day): not yet on 10-07.
    assert escalation.escalate_breached(now=cst(10, 7, 23), calendar=calendar) == 0
    assert escalation.escalate_breached(now=cst(10, 8, 18), calendar=calendar) == 1
    assert escalation.escalate_breached(now=cst(10, 9, 18), calendar=calendar) == 0
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2
    assert escalations(complaint) == 2


def test_an_acknowledged_complaint_in_time_and_a_closed_one_are_left_alone(make_complaint, service, director, calendar):
    on_time = make_complaint()
    services.acknowledge_complaint(on_time, actor=service, now=REGISTERED_AT + timedelta(hours=1))
    closed = make_complaint()
    services.cancel_complaint(closed, actor=director, note="客户撤回", now=REGISTERED_AT + timedelta(hours=1))
    assert escalation.escalate_breached(now=cst(10, 9, 12), calendar=calendar) == 0
    # Past the resolution deadline (end of 10-09) the acknowledged one escalates.
    assert escalation.escalate_breached(now=cst(10, 10, 1), calendar=calendar) == 1
    on_time.refresh_from_db()
    closed.refresh_from_db()
    assert (on_time.escalation_level, closed.escalation_level) == (1, 0)


def test_a_complaint_waiting_for_the_customer_in_time_is_not_breached(make_complaint, service, calendar):
    complaint = make_complaint()
    services.acknowledge_complaint(complaint, actor=service, now=REGISTERED_AT + timedelta(hours=1))
    services.wait_for_customer(complaint, actor=service, note="等待客户补充材料", now=cst(9, 30, 10))
    assert escalation.escalate_breached(now=cst(10, 20), calendar=calendar) == 0


def test_the_job_is_in_the_schedule():
    from config.schedule import SCHEDULE

    assert "crm.complaints.jobs.escalate_breached" in {job.func for job in SCHEDULE}
    assert jobs.escalate_breached.__name__ == "escalate_breached"
