"""温馨速递's cards on the workbench; each count uses the filter of the list it links to.

Approvers: drafts waiting for them. Care staff: today's outbox (scheduled / sent / failed).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count
from django.urls import reverse

from crm.accounts.access import widest_scope
from crm.accounts.roles import Scope
from crm.care import services
from crm.care.forms import day_range_q, status_q
from crm.care.models import Draft
from crm.care.selectors import drafts_visible_to, messages_visible_to
from crm.core.cards import Action, Card, Stat

if TYPE_CHECKING:
    from crm.accounts.models import User


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    stats: list[Stat] = []
    if services.may_approve(user):
        pending = drafts_visible_to(user).filter(status=Draft.Status.PENDING).count()
        stats.append(Stat("pending_drafts", "待审批短信", pending, reverse("care:approvals"), warn=pending > 0))
    if services.is_care_staff(user) and widest_scope(user) > Scope.NONE:
        keys = (("scheduled", "今日待发"), ("sent_any", "今日已发"), ("failed_any", "今日发送失败"))
        counts = (
            messages_visible_to(user)
            .filter(day_range_q(today, today))
            .aggregate(**{key: Count("pk", filter=status_q(key)) for key, _ in keys})
        )
        outbox = reverse("care:outbox")
        day = today.isoformat()
        stats += [
            Stat(
                f"outbox_{key}",
                label,
                counts[key],
                f"{outbox}?status={key}&date_from={day}&date_to={day}",
                warn=key == "failed_any" and counts[key] > 0,
            )
            for key, label in keys
        ]
    if not stats:
        return []
    return [Card("care", title="温馨速递", stats=tuple(stats), order=30)]
