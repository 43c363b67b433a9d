"""An event's invitee list as an Excel workbook through the shared writer (crm.core.xlsx):
the invitees the user may see, mobiles masked, watermarked and audited."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark
from crm.events import selectors

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.events.models import Event

HEADERS = ("客户编号", "客户", "手机（脱敏）", "邀请时间", "邀请短信", "活动通知短信", "回执", "回执备注", "签到时间")


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _message(message: object) -> str:
    if message is None:
        return ""
    status = message.get_status_display()  # type: ignore[attr-defined]
    error = getattr(message, "error", "")
    return f"{status}（{error}）" if error else str(status)


def export_invitees(event: Event, user: User, *, now: datetime, ip: str | None = None) -> Export:
    workbook = Workbook()
    sheet = workbook.add_sheet("邀请名单", freeze="A4")
    sheet.append_note(watermark(user, now=now))
    sheet.append_note(f"{event.title} · {event.starts_on:%Y-%m-%d} {event.starts_at_time:%H:%M} · {event.place}")
    sheet.append_header(HEADERS)
    count = 0
    for i in selectors.invitees_of(event, user):
        sheet.append(
            [
                i.customer.number,
                i.customer.name,
                i.customer.masked_mobile,
                _local(i.invited_at),
                _message(i.invite_message),
                _message(i.notice_message),
                i.get_rsvp_display(),
                i.rsvp_note,
                _local(i.attended_at),
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(
        audit.AuditLog.Action.EXPORT, actor=user, target=event, summary=f"导出活动邀请名单 {event}：{count} 人", ip=ip
    )
    stamp = f"{timezone.localtime(now):%Y%m%d%H%M}"
    return Export(
        file, f"活动邀请名单_{event.title}_{stamp}.xlsx", count, ascii_filename=f"event_{event.pk}_{stamp}.xlsx"
    )
