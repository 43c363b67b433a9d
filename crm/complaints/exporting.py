"""The complaint list as an Excel workbook through the shared writer (crm.core.xlsx: cells
that look like formulas are neutralised): the rows of the list's own filter, mobiles
masked, watermarked and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from crm.complaints.forms import ComplaintFilterForm
from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark

if TYPE_CHECKING:
    from crm.accounts.models import User

HEADERS = (
    "投诉编号",
    "登记时间",
    "渠道",
    "投诉人",
    "联系电话",
    "楼盘",
    "类别",
    "状态",
    "责任人",
    "处理期限",
    "是否超时",
    "升级级别",
    "满意度",
    "投诉内容",
    "重复投诉（前次编号）",
)
MAX_ROWS = 50_000


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def export_complaints(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    form = ComplaintFilterForm(params, user=user)
    rows = form.queryset(now=now).select_related("project", "category", "assignee", "repeat_of")[:MAX_ROWS]
    workbook = Workbook()
    sheet = workbook.add_sheet("投诉", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(HEADERS)
    count = 0
    for c in rows.iterator(chunk_size=2000):
        sheet.append(
            [
                c.number,
                _local(c.registered_at),
                c.get_channel_display(),
                c.complainant_name,
                c.masked_mobile,
                c.project.name,
                c.category.name,
                c.get_status_display(),
                str(c.assignee) if c.assignee else "",
                _local(c.resolution_due_at),
                "是" if c.is_breached(now) else "否",
                c.escalation_level,
                c.satisfaction or "",
                c.content[:500],
                (c.repeat_of.number if c.repeat_of else "是") if c.is_repeat else "",
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出投诉 {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"投诉列表_{stamp}.xlsx", count, ascii_filename=f"complaints_{stamp}.xlsx")
