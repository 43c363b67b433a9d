"""Escalation of overdue visit tasks (issue 12, item 3: overdue tasks escalate to the team
leader and then the supervisor).

Level 1: an open task past its due date goes to the assignee's team leader (the
leader's card and the list's 逾期督办 filter). Level 2: still open one working day after
level 1 (same time of day), it goes to the 客服中心主任's queue. An unassigned overdue task
has no team leader and goes straight to level 2. Each raise is a conditional UPDATE on
the current level plus one VisitEvent, so running the job twice (or two runners at once)
raises each level once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from crm.core.calendar import work_calendar
from crm.lib.dates import local_day, local_midnight
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.visits import timing
from crm.visits.models import VisitEvent, VisitTask

SECOND_LEVEL_AFTER_WORKING_DAYS = 1
LEVEL_NOTES = {
    1: "超过完成期限未回访，已提醒组长督办",
    2: "升级一个工作日后仍未回访，已升级至客服中心主任",
}


def second_level_due(escalated_at: datetime, calendar: WorkCalendar) -> datetime:
    """The same time of day, one working day after the first escalation (pure)."""
    day = local_day(escalated_at)
    time_of_day = escalated_at - local_midnight(day)
    try:
        next_day = calendar.add_working_days(day, SECOND_LEVEL_AFTER_WORKING_DAYS)
    except CalendarUnknown:
        next_day = timing.lenient(calendar).add_working_days(day, SECOND_LEVEL_AFTER_WORKING_DAYS)
    return local_midnight(next_day) + time_of_day


def _raise(task_id: int, *, frm: int, to: int, now: datetime) -> int:
    with transaction.atomic():
        done = VisitTask.objects.filter(pk=task_id, escalation_level=frm, status__in=list(VisitTask.OPEN)).update(
            escalation_level=to, escalated_at=now, updated_at=now
        )
        if done:
            VisitEvent.objects.create(task_id=task_id, kind=VisitEvent.Kind.ESCALATED, note=LEVEL_NOTES[to], at=now)
    return done


def escalate_overdue(*, now: datetime, calendar: WorkCalendar | None = None) -> int:
    """Raise the overdue open tasks a level; returns how many levels were raised."""
    calendar = calendar or work_calendar()
    today = local_day(now)
    raised = 0
    overdue = VisitTask.objects.filter(status__in=list(VisitTask.OPEN), due_on__lt=today, escalation_level__lt=2)
    rows = overdue.values_list("pk", "escalation_level", "escalated_at", "assignee__team__leader_id").order_by("pk")
    for pk, level, escalated_at, leader_id in rows.iterator(chunk_size=1000):
        if level == 0:
            raised += _raise(pk, frm=0, to=1 if leader_id else 2, now=now)
        elif escalated_at is not None and now >= second_level_due(escalated_at, calendar):
            raised += _raise(pk, frm=1, to=2, now=now)
    return raised


def leader_queue_q(user_id: int) -> Q:
    """Open tasks escalated to this team leader (level 1, the assignee in their team)."""
    return Q(status__in=list(VisitTask.OPEN), escalation_level=1, assignee__team__leader_id=user_id)


def director_queue_q() -> Q:
    return Q(status__in=list(VisitTask.OPEN), escalation_level=2)
