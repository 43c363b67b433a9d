"""个人信息申请 on the workbench: open requests, those due within 3 working days, overdue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.http import urlencode

from crm.core.calendar import work_calendar
from crm.core.cards import Action, Card, Stat
from crm.lib.workcalendar import CalendarUnknown
from crm.privacy import selectors, services
from crm.privacy.models import DataSubjectRequest

if TYPE_CHECKING:
    from crm.accounts.models import User

SOON_WORKING_DAYS = 3


def soon(today: date) -> date:
    try:
        return work_calendar().add_working_days(today, SOON_WORKING_DAYS)
    except CalendarUnknown:
        return today + timedelta(days=SOON_WORKING_DAYS)


def list_url(state: str) -> str:
    return f"{reverse('privacy:list')}?{urlencode({'status': state})}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.VIEW):
        return []
    counts = selectors.requests_visible_to(user).aggregate(
        open=Count("pk", filter=Q(status__in=DataSubjectRequest.OPEN)),
        due=Count("pk", filter=selectors.due_q(today, within=soon(today))),
        overdue=Count("pk", filter=selectors.overdue_q(today)),
    )
    stats = (
        Stat("privacy_open", "未办结申请", counts["open"], list_url("open")),
        Stat("privacy_due", "3个工作日内到期", counts["due"], list_url("due"), warn=counts["due"] > 0),
        Stat("privacy_overdue", "已超期", counts["overdue"], list_url("overdue"), warn=counts["overdue"] > 0),
    )
    return [Card("privacy", title="个人信息申请", stats=stats, order=30)]
