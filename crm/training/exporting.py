"""培训 records as an Excel workbook through the shared writer (crm.core.xlsx): one row per
attendee of each session of the list's filter, watermarked and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark
from crm.training.models import Attendance

if TYPE_CHECKING:
    from crm.accounts.models import User

MAX_ROWS = 50_000
HEADERS = ("培训时间", "培训计划", "类别", "培训主题", "讲师", "地点", "学员", "出勤", "考核成绩", "培训总结")


def _stamp(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y%m%d")


def export_attendance(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from crm.training.forms import SessionFilterForm

    sessions = SessionFilterForm(params, user=user, now=now).queryset()
    rows = (
        Attendance.objects.filter(session__in=sessions.values("pk"))
        .select_related("session", "session__plan", "session__trainer", "attendee")
        .order_by("-session__starts_at", "attendee__username")[:MAX_ROWS]
    )
    workbook = Workbook()
    sheet = workbook.add_sheet("培训记录", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(HEADERS)
    count = 0
    for a in rows:
        s = a.session
        sheet.append(
            [
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
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出培训记录 {count} 条", ip=ip)
    return Export(file, f"培训记录_{_stamp(now)}.xlsx", count, ascii_filename=f"training_{_stamp(now)}.xlsx")
