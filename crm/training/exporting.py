"""培训 records as an Excel workbook through the shared writer (crm.core.xlsx): one row per
attendee of each session of the list's filter, watermarked and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from crm.customers.exporting import Export, export_list
from crm.training.models import Attendance

if TYPE_CHECKING:
    from crm.accounts.models import User

MAX_ROWS = 50_000
HEADERS = ("培训时间", "培训计划", "类别", "培训主题", "讲师", "地点", "学员", "出勤", "考核成绩", "培训总结")


def _row(a: Attendance) -> list[Any]:
    s = a.session
    return [
        timezone.localtime(s.starts_at).replace(tzinfo=None),
        s.plan.title,
        s.plan.get_topic_display(),
        s.topic,
        s.trainer_label,
        s.location,
        str(a.attendee),
        a.get_status_display(),
        a.score,
        a.summary,
    ]


def export_attendance(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from crm.training.forms import SessionFilterForm

    sessions = SessionFilterForm(params, user=user, now=now).queryset()
    rows = (
        Attendance.objects.filter(session__in=sessions.values("pk"))
        .select_related("session", "session__plan", "session__trainer", "attendee")
        .order_by("-session__starts_at", "attendee__username")[:MAX_ROWS]
    )
    return export_list(
        user, (_row(a) for a in rows), title="培训记录", headers=HEADERS, ascii_name="training", now=now, ip=ip
    )
