"""客户描摹 as an Excel workbook through the shared writer (crm.core.xlsx): the list's own
filter, watermarked and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from crm.customers.exporting import Export, export_list
from crm.portraits.models import CHOICE_FIELDS, Portrait

if TYPE_CHECKING:
    from crm.accounts.models import User

MAX_ROWS = 50_000
HEADERS = (
    "季度",
    "提交日期",
    "置业顾问",
    "楼盘",
    "客户编号",
    "客户姓名",
    *(label for _name, label, _choices in CHOICE_FIELDS),
    "职业/单位说明",
    "家庭情况说明",
    "爱好与兴趣趋向",
    "居住现状说明",
    "其他描摹与维护建议",
)


def _row(p: Portrait) -> list[Any]:
    return [
        p.quarter,
        p.submitted_on,
        str(p.consultant),
        p.project.name,
        p.customer.number,
        p.customer.name,
        *(getattr(p, f"get_{name}_display")() for name, _label, _choices in CHOICE_FIELDS),
        p.occupation,
        p.family_note,
        p.interests,
        p.living_note,
        p.notes,
    ]


def export_portraits(
    user: User, params: Mapping[str, str], *, today: date, now: datetime, ip: str | None = None
) -> Export:
    from crm.portraits.forms import PortraitFilterForm

    rows = PortraitFilterForm(params, user=user, today=today).queryset()[:MAX_ROWS]
    return export_list(
        user, (_row(p) for p in rows), title="客户描摹", headers=HEADERS, ascii_name="portraits", now=now, ip=ip
    )
