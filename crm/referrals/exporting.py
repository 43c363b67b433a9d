"""老带新 as an Excel workbook through the shared writer (crm.core.xlsx): the rows of the
list's own filter, watermarked and audited. Names only, never mobiles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from crm.customers.exporting import Export, export_list
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


def _row(r: Any) -> list[Any]:
    return [
        timezone.localtime(r.created_at).replace(tzinfo=None),
        r.referrer.name,
        r.referrer.number,
        r.referred.name,
        r.referred.number,
        r.referred.project.name,
        str(r.referred.owner),
        r.get_channel_display(),
        ReferralStatus(r.status).label,
        r.visited_on,
        r.reward_count,
        r.paid or 0,
    ]


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
    return export_list(
        user, (_row(r) for r in rows), title="老带新", headers=HEADERS, ascii_name="referrals", now=now, ip=ip
    )
