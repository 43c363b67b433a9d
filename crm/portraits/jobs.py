"""客户描摹's job: remind consultants short of their quarterly quota."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count
from django.urls import reverse
from django.utils.http import urlencode

from crm.accounts.models import User
from crm.core.notifications import notify
from crm.lib.dates import local_day
from crm.portraits.models import Portrait
from crm.portraits.quarters import QUOTA, Quarter
from crm.portraits.selectors import consultants_q


def remind_portrait_quota(*, now: datetime) -> int:
    """提醒补交客户描摹 (seed 001: three portraits per consultant per quarter):

    1. From two weeks before the quarter's last day (China dates) to that day, each active
       置业顾问 with fewer than three portraits submitted in the quarter is notified with
       how many are missing and a link to the quota page.
    2. Once per consultant per quarter: the notification key names the quarter, and
       ``notify`` writes one notification per key and recipient, so the daily runs after
       the first (and a re-run) add nothing.
    3. Before the reminder window nothing is sent. Returns how many were written.
    """
    today = local_day(now)
    quarter = Quarter.of(today)
    if today < quarter.reminder_on:
        return 0
    consultants = list(
        User.objects.filter(consultants_q(), company__isnull=False).distinct().values_list("pk", flat=True)
    )
    counts = {
        row["consultant_id"]: row["n"]
        for row in Portrait.objects.filter(quarter=quarter.key, consultant_id__in=consultants)
        .values("consultant_id")
        .annotate(n=Count("id"))
    }
    link = f"{reverse('portraits:quota')}?{urlencode({'quarter': quarter.key})}"
    written = 0
    for pk in consultants:
        missing = QUOTA - counts.get(pk, 0)
        if missing <= 0:
            continue
        written += notify(
            [pk],
            kind="portrait_quota",
            title=f"{quarter.label}客户描摹还差 {missing} 份",
            text=f"每季度须提交 {QUOTA} 份客户描摹，本季度截止 {quarter.last:%Y-%m-%d}。",
            key=f"portrait-quota:{quarter.key}",
            link=link,
            now=now,
        )
    return written
