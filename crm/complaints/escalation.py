"""Escalation of breached complaints (DESIGN 3.4: breaches escalate to the director).

Level 1: a complaint past a deadline (not acknowledged within the first-response time, or
not resolved by the resolution deadline). Level 2: still breached one working day after
level 1. Each raise is a conditional UPDATE on the current level plus an event, so running
the job twice (or two runners at once) raises each level once.
"""

from __future__ import annotations

from datetime import datetime

from crm.complaints import deadlines, services
from crm.complaints.models import Complaint
from crm.complaints.selectors import breached_q
from crm.core.calendar import work_calendar
from crm.lib.dates import local_day, local_midnight
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar

SECOND_LEVEL_AFTER_WORKING_DAYS = 1


def second_level_due(escalated_at: datetime, calendar: WorkCalendar) -> datetime:
    """The same time of day, one working day after the first escalation (pure)."""
    day = local_day(escalated_at)
    time_of_day = escalated_at - local_midnight(day)
    try:
        next_day = calendar.add_working_days(day, SECOND_LEVEL_AFTER_WORKING_DAYS)
    except CalendarUnknown:
        next_day = deadlines.lenient(calendar).add_working_days(day, SECOND_LEVEL_AFTER_WORKING_DAYS)
    return local_midnight(next_day) + time_of_day


def escalate_breached(*, now: datetime, calendar: WorkCalendar | None = None) -> int:
    calendar = calendar or work_calendar()
    raised = 0
    rows = Complaint.objects.filter(breached_q(now), escalation_level__lt=2).order_by("id")
    for complaint in rows.iterator(chunk_size=500):
        if complaint.escalation_level == 0:
            reason = (
                "超过首次响应期限未接收"
                if complaint.acknowledged_at is None and now > complaint.first_response_due_at
                else "超过处理期限未办结"
            )
            raised += services.escalate(complaint, level=1, now=now, reason=f"{reason}，已升级至客服中心主任")
        elif complaint.escalated_at is not None and now >= second_level_due(complaint.escalated_at, calendar):
            raised += services.escalate(complaint, level=2, now=now, reason="升级一个工作日后仍未处理，二级升级")
    return raised
