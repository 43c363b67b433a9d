"""温馨速递's cards on the workbench; each count uses the filter of the list it links to.

Approvers: drafts waiting for them. Care staff (客服专员, 客服中心主任): today's outbox —
planned, sent, failed, expired and held — and what is left to handle from the last week
(failed, expired or held, to resend or fix), each linking to exactly those rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count
from django.urls import reverse
from django.utils.http import urlencode

from crm.accounts.access import widest_scope
from crm.accounts.roles import Scope
from crm.care import services
from crm.care.models import Draft
from crm.care.selectors import day_range_q, drafts_visible_to, messages_visible_to, status_q
from crm.core.cards import Action, Card, Stat

if TYPE_CHECKING:
    from crm.accounts.models import User

# (stat key, outbox status filter, label, warn when > 0) for today's messages.
TODAY: tuple[tuple[str, str, str, bool], ...] = (
    ("outbox_planned", "planned", "今日待发", False),
    ("outbox_sent", "sent_any", "今日已发", False),
    ("outbox_failed", "failed_any", "今日发送失败", True),
    ("outbox_expired", "expired", "今日过期未发", True),
    ("outbox_held", "held", "今日暂缓发送", True),
)
ATTENTION_DAYS = 7  # failed, expired or held in the last week: still worth resending


def outbox_url(status: str, start: date, end: date) -> str:
    return f"{reverse('care:outbox')}?{urlencode({'status': status, 'date_from': start.isoformat(), 'date_to': end.isoformat()})}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    stats: list[Stat] = []
    if services.may_approve(user):
        pending = drafts_visible_to(user).filter(status=Draft.Status.PENDING).count()
        stats.append(Stat("pending_drafts", "待审批短信", pending, reverse("care:approvals"), warn=pending > 0))
    if services.is_care_staff(user) and widest_scope(user) > Scope.NONE:
        week_start = today - timedelta(days=ATTENTION_DAYS - 1)
        # One query: the week's rows, counted per status filter (today's within the week).
        counts = (
            messages_visible_to(user)
            .filter(day_range_q(week_start, today))
            .aggregate(
                attention=Count("pk", filter=status_q("attention")),
                **{
                    key: Count("pk", filter=status_q(status) & day_range_q(today, today)) for key, status, _, _ in TODAY
                },
            )
        )
        stats += [
            Stat(key, label, counts[key], outbox_url(status, today, today), warn=warn and counts[key] > 0)
            for key, status, label, warn in TODAY
        ]
        attention = counts["attention"]
        stats.append(
            Stat(
                "outbox_attention",
                f"近{ATTENTION_DAYS}天待补发或处理",
                attention,
                outbox_url("attention", week_start, today),
                warn=attention > 0,
            )
        )
    if not stats:
        return []
    return [Card("care", title="温馨速递", stats=tuple(stats), order=30)]
