"""投诉's card on the workbench: the complaint queue with its deadlines.

Whoever reads complaints sees the open ones in their scope, those due today, the breached
ones (warned) and, for the director, complaints filed from outside without a category
(待分类: only the director can dispatch them), plans waiting for approval and complaint
mails held for a person (crm.complaints.mail_intake); each count links to the
list with the same filter (crm.complaints.selectors.state_q), so number and rows agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from crm.complaints import services
from crm.complaints.analysis import REPORT
from crm.complaints.selectors import complaints_visible_to, held_mail_count, state_q
from crm.core.cards import Action, Card, Stat

if TYPE_CHECKING:
    from crm.accounts.models import User


def list_url(state: str) -> str:
    return f"{reverse('complaints:list')}?{urlencode({'state': state})}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    # 投诉分析报告 (monthly): 客服中心主任, 管理层, 市场专员 and administrators.
    report: list[Card | Action] = (
        [Action("投诉分析报告", reverse("complaints:report_monthly"), order=60)] if user.has_perm(REPORT) else []
    )
    return complaint_cards(user, today=today) + casework_cards(user, today=today) + report


def complaint_cards(user: User, *, today: date) -> list[Card | Action]:
    if not user.has_perm(services.VIEW):
        return []
    now = timezone.now()
    keys = [("open", "未结投诉", False), ("due_today", "今天到期", False), ("breached", "已超时", True)]
    if user.has_perm(services.HANDLE):
        keys.insert(1, ("mine", "我负责的", False))
    if user.has_perm(services.MANAGE):
        keys.append(("unsorted", "待分类", True))
    if user.has_perm(services.APPROVE):
        keys.append(("plan_pending", "方案待审批", True))
        keys.append(("escalated", "已升级", True))
        keys.append(("dissatisfied", "客户不满意", True))
    counts = complaints_visible_to(user).aggregate(
        **{key: Count("pk", filter=state_q(key, user=user, now=now)) for key, _, _ in keys}
    )
    stats = tuple(
        Stat(f"complaints_{key}", label, counts[key], list_url(key), warn=warn and counts[key] > 0)
        for key, label, warn in keys
    )
    if user.has_perm(services.MANAGE):
        held = held_mail_count(user)
        stats += (Stat("complaints_held_mails", "待处理邮件", held, reverse("complaints:mails"), warn=held > 0),)
    items: list[Card | Action] = [Card("complaints", title="投诉", stats=stats, order=25)]
    if user.has_perm(services.ADD):
        items.append(Action("登记投诉", reverse("complaints:new"), order=40))
    return items


# ---------------------------------------------------------------- 首问责任制 and 媒体监督


def issue_list_url(state: str) -> str:
    return f"{reverse('complaints:issue_list')}?{urlencode({'state': state})}"


def casework_cards(user: User, *, today: date) -> list[Card | Action]:
    """首问责任人: my pending callbacks (回复客户) and my open issues; the director: hand-offs
    escalated for not answering in time; whoever watches the media (市场专员, the
    director): this week's review while it is incomplete."""
    from crm.complaints import consultations, issues, media
    from crm.complaints.selectors import issue_state_q, issues_visible_to

    items: list[Card | Action] = []
    if user.has_perm(issues.VIEW):
        now = timezone.now()
        keys = [
            ("callback_mine", "待回复客户", True),
            ("mine", "我首问的事项", False),
            ("overdue", "部门超时未答复", True),
        ]
        if user.has_perm(issues.MANAGE):
            keys.append(("escalated", "部门超时投诉", True))
        counts = issues_visible_to(user).aggregate(
            **{key: Count("pk", filter=issue_state_q(key, user=user, now=now)) for key, _, _ in keys}
        )
        stats = tuple(
            Stat(f"issues_{key}", label, counts[key], issue_list_url(key), warn=warn and counts[key] > 0)
            for key, label, warn in keys
        )
        items.append(Card("first_responder", title="首问责任", stats=stats, order=24))
    if user.has_perm(consultations.ADD):
        items.append(Action("登记咨询", reverse("complaints:consultation_new"), order=41))
    if user.has_perm(media.CHECK) and user.company_id is not None:
        missing = media.missing_count(user.company_id, today)
        if missing:
            stat = Stat("media_missing", "本周媒体未浏览", missing, reverse("complaints:media_review"), warn=True)
            items.append(Card("media_review", title="媒体监督", stats=(stat,), order=30))
    return items
