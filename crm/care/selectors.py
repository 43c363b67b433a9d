"""Reads of 温馨速递 data, scoped to the user.

Messages, opt-outs and replies are customer data: they go through the customer scope
(crm.accounts.access), so a message to another team's customer is a 404 like the customer.
Drafts carry no customer data (a text and a count): approvers see every draft of their
company, care staff those of their projects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from crm.accounts import access
from crm.accounts.access import NOTHING, project_q
from crm.care import services
from crm.care.models import CareRule, Draft, InboundReply, OutboundMessage
from crm.care.rules import Trigger
from crm.core.models import AuditLog
from crm.customers.models import Customer, Deal, TimelineEvent
from crm.customers.selectors import customer_scope_q, customers_visible_to
from crm.lib.dates import local_midnight
from crm.lib.numbers import parse_id
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User


def care_projects(user: User) -> QuerySet[Project]:
    """Projects whose rules, drafts and broadcasts the user works on."""
    return Project.objects.filter(project_q(user, wide_permissions=(services.APPROVE, services.EDIT_RULES)))


def drafts_visible_to(user: User) -> QuerySet[Draft]:
    """Approvers: every draft of the company; care staff: their projects' drafts."""
    if not (services.may_approve(user) or services.is_care_staff(user)):
        return Draft.objects.filter(NOTHING)
    return Draft.objects.filter(project_q(user, path="project__", wide_permissions=(services.APPROVE,)))


def get_draft_for_user(user: User, pk: int) -> Draft:
    draft = drafts_visible_to(user).select_related("rule", "project__company").filter(pk=pk).first()
    if draft is None:
        raise Http404("审批单不存在或无权查看")
    return draft


def rules_visible_to(user: User) -> QuerySet[CareRule]:
    """Rules of the projects the user works on, for care staff, approvers and the
    administrators who change them (the 发送规则 page)."""
    if not (services.is_care_staff(user) or services.may_approve(user) or services.may_edit_rules(user)):
        return CareRule.objects.filter(NOTHING)
    return CareRule.objects.filter(project__in=care_projects(user))


def messages_visible_to(user: User) -> QuerySet[OutboundMessage]:
    """Outbox rows of customers the user may see (archived customers' history included),
    and notices to contacts who are not customers (unlinked complainants) of the projects
    the user's scope covers (project or company scope; never an own/team scope, which is
    about customers)."""
    customers = customer_scope_q(user, prefix="customer__")
    contacts = access.scope_q(user, company="project__company", project="project")
    if contacts == NOTHING:
        return OutboundMessage.objects.filter(customers)
    return OutboundMessage.objects.filter(customers | (Q(customer__isnull=True) & contacts))


def notices_for(occasion_prefix: str) -> QuerySet[OutboundMessage]:
    """The notices of one matter (a complaint: its number and ":"), oldest first; the
    caller has checked that the user may see the matter."""
    return OutboundMessage.objects.filter(occasion__startswith=occasion_prefix).order_by("created_at", "id")


def get_message_for_user(user: User, pk: int) -> OutboundMessage:
    message = (
        messages_visible_to(user)
        .select_related("customer", "project__company", "rule", "draft__decided_by", "family_member")
        .filter(pk=pk)
        .first()
    )
    if message is None:
        raise Http404("短信不存在或无权查看")
    return message


def message_history(message: OutboundMessage) -> QuerySet[AuditLog]:
    """What staff did to a message (cancelled, resent), newest first."""
    return (
        AuditLog.objects.filter(target_type=OutboundMessage._meta.label_lower, target_id=str(message.pk))
        .select_related("actor")
        .order_by("-at", "-id")
    )


def opted_out_customers(user: User) -> QuerySet[Customer]:
    """Opted-out customers in scope, newest first, each with the summary of the latest
    consent event (how the opt-out came: a reply, the gateway's blacklist, staff)."""
    latest_consent = (
        TimelineEvent.objects.filter(customer_id=OuterRef("pk"), kind=TimelineEvent.Kind.CONSENT)
        .order_by("-occurred_at", "-id")
        .values("summary")[:1]
    )
    return (
        customers_visible_to(user, include_archived=True)
        .filter(has_opted_out=True)
        .annotate(opt_out_source=Subquery(latest_consent))
        .order_by("-opted_out_at", "-id")
    )


def replies_visible_to(user: User) -> QuerySet[InboundReply]:
    """Replies (上行) from a number of a customer in scope."""
    customers = customers_visible_to(user, include_archived=True)
    return InboundReply.objects.filter(
        Q(mobile__in=customers.values("mobile")) | Q(mobile__in=customers.exclude(mobile2="").values("mobile2"))
    ).order_by("-received_at", "-id")


# ------------------------------------------------------------------ outbox filters

Status = OutboundMessage.Status

# Status filters of the outbox (page and API): each status, plus the groups the workbench
# counts link to. A count and the list behind it use the same Q, so they always agree.
STATUS_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "planned": ("待发送（含提交中）", (Status.SCHEDULED, Status.SUBMITTING)),
    "sent_any": ("已发出（含已送达）", (Status.SENT, Status.DELIVERED)),
    "failed_any": ("发送失败或未送达", (Status.FAILED, Status.UNDELIVERED)),
    "attention": ("待处理（失败、过期、暂缓）", (Status.FAILED, Status.EXPIRED, Status.HELD)),
}


def status_q(value: str) -> Q:
    if value in STATUS_GROUPS:
        return Q(status__in=STATUS_GROUPS[value][1])
    return Q(status=value)


def day_range_q(start: date | None, end: date | None) -> Q:
    """Planned (scheduled) on local days ``start``..``end`` (either may be open)."""
    q = Q()
    if start:
        q &= Q(scheduled_at__gte=local_midnight(start))
    if end:
        q &= Q(scheduled_at__lt=local_midnight(end + timedelta(days=1)))
    return q


# ------------------------------------------------------------------ what a message is for

# The milestone a deal's message is about, as staff name it.
DEAL_MILESTONES: dict[str, str] = {
    Trigger.SUBSCRIPTION: "认购",
    Trigger.SIGNING_REMINDER: "认购待签约",
    Trigger.FULL_PAYMENT: "全款到账",
    Trigger.FILING: "合同备案",
    Trigger.MOVE_IN: "入住",
}
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
YEAR = re.compile(r"^(\d{4})$")
BROADCAST = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})\d{2}$")


def occasion_labels(messages: Iterable[OutboundMessage]) -> dict[int, str]:
    """What each message is for, in business words (one query for the deals of a page):
    "成交 锦华苑 1号楼-1301 · 认购" rather than the outbox's key "deal:605", "2026年11月23日"
    rather than "2026-11-23"."""
    messages = list(messages)
    deal_ids = {deal_id for m in messages if (deal_id := _deal_id(m.occasion)) is not None}
    deals = (
        {d.pk: d for d in Deal.objects.filter(pk__in=deal_ids).select_related("project", "unit__building")}
        if deal_ids
        else {}
    )
    return {m.pk: occasion_label(m.occasion, m.trigger, deals) for m in messages}


def occasion_label(occasion: str, trigger: str, deals: dict[int, Deal]) -> str:
    deal_id = _deal_id(occasion)
    if deal_id is not None:
        deal = deals.get(deal_id)
        milestone = DEAL_MILESTONES.get(trigger, "成交")
        if deal is None:
            return f"成交（已删除） · {milestone}"
        return f"成交 {deal.project.name} {deal.unit.label} · {milestone}"
    if match := BROADCAST.match(occasion):
        y, m, d, hh, mm = (int(g) for g in match.groups())
        return f"{y}年{m}月{d}日 群发（{hh:02d}:{mm:02d} 编写）"
    if match := DAY.match(occasion):
        y, m, d = (int(g) for g in match.groups())
        return f"{y}年{m}月{d}日"
    if match := YEAR.match(occasion):
        return f"{match.group(1)}年"
    if match := COMPLAINT.match(occasion):
        return f"投诉 {match.group(1)} · {Trigger(trigger).label}" if trigger in Trigger.values else occasion
    if match := EVENT.match(occasion):
        return f"客户活动（第 {match.group(1)} 号）· {EVENT_KINDS[match.group(2)]}"
    return occasion


COMPLAINT = re.compile(r"^(TS\d{12}):")
# A customer event's invitation and its notice 3 days before (crm.events, event_occasion).
EVENT = re.compile(r"^ev(\d+)-(invite|notice)$")
EVENT_KINDS = {"invite": "邀请", "notice": "活动前提醒"}


def _deal_id(occasion: str) -> int | None:
    prefix, _, rest = occasion.partition(":")
    return parse_id(rest) if prefix == "deal" else None


# ------------------------------------------------------------------ opt-outs

OPT_OUT_SUMMARY = re.compile(r"^退订短信（(.*?)）(?:，|$)")


def opt_out_source(summary: str) -> str:
    """ "短信回复“TD”" out of the timeline's "退订短信（短信回复“TD”），取消待发短信 1 条"."""
    match = OPT_OUT_SUMMARY.match(summary)
    return match.group(1) if match else summary


# ---------------------------------------------------------------- report packs (crm.reports)

# How the report packs group the outbox's statuses (温馨速递短信发送情况).
REPORT_STATUS_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sent", (OutboundMessage.Status.SENT, OutboundMessage.Status.DELIVERED)),
    ("failed", (OutboundMessage.Status.FAILED, OutboundMessage.Status.UNDELIVERED)),
    ("expired", (OutboundMessage.Status.EXPIRED,)),
    ("pending", (OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.SUBMITTING, OutboundMessage.Status.HELD)),
    ("cancelled", (OutboundMessage.Status.CANCELLED,)),
)
# The care ledger of the weekly and monthly reports (seed 001: 温馨速递认购、签约、工程进度及
# 生日客户的台帐): the triggers it lists, in the seed's order.
LEDGER_TRIGGERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("认购", (Trigger.SUBSCRIPTION,)),
    ("签约", (Trigger.SIGNING_REMINDER,)),
    ("工程进度", (Trigger.CONSTRUCTION,)),
    ("生日", (Trigger.BIRTHDAY, Trigger.FAMILY_BIRTHDAY)),
)


# Notices about a complaint go through the outbox but are not 温馨速递 (care messages).
COMPLAINT_NOTICE_TRIGGERS = (
    Trigger.COMPLAINT_ACCEPTED,
    Trigger.COMPLAINT_PROGRESS,
    Trigger.COMPLAINT_REPLY,
    Trigger.COMPLAINT_SURVEY,
)


def _outbox_in_period(company_id: int, project_id: int | None, first: date, last: date) -> QuerySet[OutboundMessage]:
    """温馨速递 outbox rows of the company (or one project) planned for [first, last] (local
    dates); complaint notices left out."""
    rows = OutboundMessage.objects.exclude(trigger__in=COMPLAINT_NOTICE_TRIGGERS).filter(
        project__company_id=company_id,
        scheduled_at__gte=local_midnight(first),
        scheduled_at__lt=local_midnight(last + timedelta(days=1)),
    )
    return rows.filter(project_id=project_id) if project_id is not None else rows


def outbox_for_period(company_id: int, project_id: int | None, first: date, last: date) -> list[dict[str, Any]]:
    """温馨速递短信发送情况: per trigger, the messages planned in the period by status group
    (REPORT_STATUS_GROUPS; the status as it is when the pack is generated)."""
    from django.db.models import Count

    labels = dict(Trigger.choices)
    annotations = {key: Count("pk", filter=Q(status__in=list(statuses))) for key, statuses in REPORT_STATUS_GROUPS}
    rows = (
        _outbox_in_period(company_id, project_id, first, last)
        .values("trigger")
        .annotate(total=Count("pk"), **annotations)
        .order_by("trigger")
    )
    out: list[dict[str, Any]] = []
    for row in rows:
        r: dict[str, Any] = dict(row)
        out.append(
            {
                "trigger": labels.get(r["trigger"], r["trigger"]),
                **{k: r[k] for k in ("total", *dict(REPORT_STATUS_GROUPS))},
            }
        )
    return sorted(out, key=lambda r: str(r["trigger"]))


def care_ledger_for_period(company_id: int, project_id: int | None, first: date, last: date) -> list[dict[str, Any]]:
    """The care ledger: each subscription, signing, construction and birthday message planned
    in the period, oldest first, with the customer's number and name (the caller masks)."""
    order = {t: label for label, triggers in LEDGER_TRIGGERS for t in triggers}
    rows = (
        _outbox_in_period(company_id, project_id, first, last)
        .filter(trigger__in=list(order))
        .select_related("customer", "project")
        .order_by("scheduled_at", "id")
    )
    return [
        {
            "kind": order[m.trigger],
            "trigger": m.get_trigger_display(),
            "customer_number": m.customer.number if m.customer else "",
            "customer_name": m.customer.name if m.customer else m.contact_name,
            "project": m.project.name,
            "scheduled_at": m.scheduled_at,
            "status": m.get_status_display(),
        }
        for m in rows
    ]


# ------------------------------------------------------------------ KPI measures (crm.kpis)

# The dashboard's message figures and the outbox behind them use the same filters (the
# status groups above and ``day_range_q``): a message belongs to the period of the day it
# was planned for (scheduled_at, local days), so the outbox link ?status=…&date_from=…
# shows exactly the counted rows. Opt-outs belong to the day the customer opted out.
KPI_MEASURES: dict[str, str] = {"sent": "sent_any", "failed": "failed_any"}


def kpi_q(measure: str, *, start: date, end: date) -> Q:
    if measure not in KPI_MEASURES:
        return NOTHING
    return status_q(KPI_MEASURES[measure]) & day_range_q(start, end)


def opted_out_q(start: date | None, end: date | None) -> Q:
    """Customers who opted out on the local days ``start``..``end`` (either may be open)."""
    q = Q(has_opted_out=True)
    if start:
        q &= Q(opted_out_at__gte=local_midnight(start))
    if end:
        q &= Q(opted_out_at__lt=local_midnight(end + timedelta(days=1)))
    return q


def kpi_opted_out(user: User, *, start: date, end: date) -> QuerySet[Customer]:
    """The opt-outs of a period in the user's scope (the 退订管理 page with ?start=&end=)."""
    return opted_out_customers(user).filter(opted_out_q(start, end))


def pending_drafts(user: User) -> QuerySet[Draft]:
    """Drafts waiting for 综合组's approval that the user may see (the management home)."""
    return drafts_visible_to(user).filter(status=Draft.Status.PENDING)
