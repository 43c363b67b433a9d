"""老带新 as an Excel workbook through the shared writer (crm.core.xlsx): the rows of the
list's own filter, watermarked and audited. Names only, never mobiles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Q, Sum
from django.utils import timezone

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark
from crm.referrals.models import ReferralStatus, Reward

if TYPE_CHECKING:
    from crm.accounts.models import User

MAX_ROWS = 50_000
HEADERS = (
    "登记时间",
    "推荐人",
    "推荐人编号",
    "新客户",
    "新客户编号",
    "楼盘",
    "置业顾问",
    "推荐方式",
    "状态",
    "到访日期",
    "奖励申请数",
    "已发放奖励(元)",
)


def _stamp(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y%m%d")


def export_referrals(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from crm.referrals.forms import ReferralFilterForm

    rows = (
        ReferralFilterForm(params, user=user)
        .queryset()
        .select_related("referrer", "referred", "referred__project", "referred__owner")
        .annotate(
            reward_count=Count("rewards"),
            paid=Sum("rewards__amount", filter=Q(rewards__state=Reward.State.PAID)),
        )[:MAX_ROWS]
    )
    workbook = Workbook()
    sheet = workbook.add_sheet("老带新", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(HEADERS)
    count = 0
    for r in rows:
        sheet.append(
            [
                timezone.localtime(r.created_at).replace(tzinfo=None),
                r.referrer.name,
                r.referrer.number,
                r.referred.name,
                r.referred.number,
                r.referred.project.name,
                str(r.referred.owner),
                r.get_channel_display(),
                ReferralStatus(r.status).label,  # type: ignore[attr-defined]
                r.visited_on,
                r.reward_count,
                r.paid or 0,
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出老带新 {count} 条", ip=ip)
    return Export(file, f"老带新_{_stamp(now)}.xlsx", count, ascii_filename=f"referrals_{_stamp(now)}.xlsx")
