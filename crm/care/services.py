"""Writes for 温馨速递: rules, drafts and approval, broadcasts, opt-out.

Rules enforced here:
1. Approval follows the rule (``needs_approval``; seed 001: construction progress and
   festivals). Such a message exists only as a Draft until an approver of the
   general-affairs group approves it; approving creates the outbox rows, rejecting ends
   it. An unapproved draft never sends. A broadcast whose rule needs no approval (show
   flats, events, bad weather by default) is queued as staff submit it. A customer
   event's invitations and notices (crm.events) follow the same rule: with approval on,
   each is written held (等待综合组审批) under the event's pending draft, released once
   on approval or cancelled on rejection; an event edited after approval waits again.
2. An event notice is planned from the event's date (the rule's offset: 3 days before)
   and moves with it (``move_event``).
3. A draft queued after its window closed goes in the next window within the rule's
   catch-up period (crm.care.timing.send_slot); past it, it can no longer be approved.
4. Opt-out (reply or staff) takes effect at once: the customer is marked and every
   open message to them is cancelled in the same transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.care import audience as audiences
from crm.care import outbox, templating, timing
from crm.care.models import CareRule, Draft, OptedOutMobile, OutboundMessage
from crm.care.rendering import base_values as base_values
from crm.care.rendering import hold_reason
from crm.care.rendering import render as render_rule
from crm.care.rules import COMPLAINT_NOTICES, DEFAULT_RULES, Audience, Purpose, Trigger
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError, PermissionDenied
from crm.customers import services as customer_services
from crm.customers import timeline
from crm.customers.models import Customer, TimelineEvent
from crm.lib.dates import local_day
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

log = logging.getLogger("crm.care.services")

RULE_FIELDS = [
    "is_enabled",
    "template",
    "window_start",
    "window_end",
    "offset_days",
    "needs_approval",
    "catch_up_days",
    "working_days_only",
    "gateway_template_code",
]


def ensure_rules(project: Project) -> list[CareRule]:
    """Create the project's missing rules from the defaults (idempotent)."""
    existing = set(CareRule.objects.filter(project=project).values_list("trigger", flat=True))
    CareRule.objects.bulk_create(
        [
            CareRule(
                project=project,
                trigger=trigger,
                template=spec.template,
                purpose=spec.purpose,
                audience=spec.audience,
                window_start=spec.window_start,
                window_end=spec.window_end,
                offset_days=spec.offset_days,
                needs_approval=spec.needs_approval,
                catch_up_days=spec.catch_up_days,
                working_days_only=spec.working_days_only,
            )
            for trigger, spec in DEFAULT_RULES.items()
            if trigger not in existing
        ],
        ignore_conflicts=True,
    )
    return list(CareRule.objects.filter(project=project))


def rule_for(project_id: int, trigger: str) -> CareRule:
    rule = CareRule.objects.filter(project_id=project_id, trigger=trigger).first()
    if rule is None:
        ensure_rules(Project.objects.get(pk=project_id))
        rule = CareRule.objects.get(project_id=project_id, trigger=trigger)
    return rule


@transaction.atomic
def update_rule(rule: CareRule, *, actor: User, **changes: Any) -> CareRule:
    if "template" in changes:
        templating.check_template(changes["template"])
    if changes.get("window_start") and changes.get("window_end") and changes["window_start"] >= changes["window_end"]:
        raise DomainError("发送截止时间应晚于开始时间", field="window_end")
    before = audit.snapshot(rule, RULE_FIELDS)
    for key, value in changes.items():
        if key not in RULE_FIELDS:
            raise DomainError(f"不能修改字段 {key}")
        setattr(rule, key, value)
    rule.updated_by = actor
    rule.save()
    changed = audit.diff(rule, before, RULE_FIELDS)
    if changed:
        audit.log(
            audit.AuditLog.Action.UPDATE, actor=actor, target=rule, changes=changed, summary=f"修改温馨速递规则 {rule}"
        )
    return rule


def preview(rule: CareRule, customer: Customer | None = None, values: dict[str, object] | None = None) -> str:
    """The rule's text rendered for a sample customer (placeholders without values stay visible)."""
    merged: dict[str, object] = base_values(rule.project)
    if customer is not None:
        merged["客户"] = customer.name
    merged.update(values or {})
    return templating.render(rule.template, merged, purpose=rule.purpose, strict=False)


# ------------------------------------------------------------------ drafts and approval


@transaction.atomic
def create_draft(
    rule: CareRule,
    *,
    occasion: str,
    send_on: date,
    actor: User | None = None,
    values: dict[str, object] | None = None,
    audience_filter: dict[str, Any] | None = None,
    event_on: date | None = None,
) -> Draft:
    """A draft for approval; the same rule and occasion give the same draft (idempotent)."""
    merged = base_values(rule.project) | (values or {})
    text = templating.render(rule.template, merged, purpose=rule.purpose, strict=False)
    draft, created = Draft.objects.get_or_create(
        rule=rule,
        occasion=occasion,
        defaults={
            "project": rule.project,
            "send_on": send_on,
            "event_on": event_on,
            "text": text,
            "values": {k: str(v) for k, v in merged.items()},
            "audience_filter": audience_filter or {},
            "created_by": actor,
        },
    )
    if created:
        draft.recipient_count = recipients_for_draft(draft).count()
        draft.save(update_fields=["recipient_count"])
    return draft


def recipients_for_draft(draft: Draft) -> Any:
    qs = audiences.audience_customers(draft.rule.audience, draft.project_id, draft.rule.purpose)
    flt = draft.audience_filter or {}
    if flt.get("stage"):
        qs = qs.filter(stage__in=flt["stage"])
    if flt.get("grade"):
        qs = qs.filter(grade__in=flt["grade"])
    if flt.get("tag"):
        qs = qs.filter(tags__name__in=flt["tag"]).distinct()
    return qs


@transaction.atomic
def edit_draft(draft: Draft, *, actor: User, text: str) -> Draft:
    """Replace a pending draft's text (blanks such as {进度} filled in); an unchanged text
    writes nothing."""
    draft = Draft.objects.select_for_update().get(pk=draft.pk)
    text = (text or "").strip()
    if text and text == draft.text:
        return draft
    if draft.status != Draft.Status.PENDING:
        raise DomainError("只有待审批的短信可以修改")
    if not text:
        raise DomainError("短信内容不能为空", field="text")
    draft.text = text
    draft.save(update_fields=["text"])
    return draft


def _check_approver(actor: User) -> None:
    if not may_approve(actor):
        raise DomainError("只有综合组审批人可以审批温馨速递")


def draft_slot(draft: Draft, now: datetime) -> timing.Slot | None:
    """The window a draft's messages go in if queued at ``now``: its send day's, or a later
    one within the rule's catch-up period (an event notice: never on or after the event);
    None when it is too late."""
    rule = draft.rule
    slot = timing.send_slot(
        draft.send_on,
        rule.window_start,
        rule.window_end,
        now=now,
        catch_up_days=rule.catch_up_days,
        working_days_only=rule.working_days_only,
        cal=work_calendar() if rule.working_days_only else None,
    )
    if slot is not None and draft.event_on is not None and slot.day >= draft.event_on:
        return None
    return slot


def _refuse_blanks(draft: Draft) -> None:
    leftover = templating.missing_values(draft.text)
    if not leftover:
        return
    settings_missing = [name for name in leftover if name in base_values(draft.project)]
    if settings_missing:
        raise DomainError(hold_reason(settings_missing, draft.project), field="text")
    raise DomainError(f"短信中还有未填写的内容：{'、'.join('{' + n + '}' for n in leftover)}", field="text")


def _queue_draft(draft: Draft, slot: timing.Slot, now: datetime) -> int:
    """One outbox row per reachable recipient of the draft, in ``slot``; returns how many.

    One INSERT … SELECT from the recipients' query: at 1M customers a festival greeting is
    100,000+ rows, none of which needs to pass through Python. A recipient who already has
    this trigger's message for the occasion (another project's draft) is skipped, so the
    count is of messages really queued.
    """
    start = max(slot.starts_at, now)
    queued = outbox.queue_for(
        recipients_for_draft(draft),
        {
            "project_id": draft.project_id,
            "rule_id": draft.rule_id,
            "trigger": draft.rule.trigger,
            "occasion": draft.occasion,
            "draft_id": draft.pk,
            "purpose": draft.rule.purpose,
            "text": draft.text,
            "params": templating.template_params(draft.rule.template, draft.values),
            "error": timing.late_note(slot) if slot.is_late else "",
            "scheduled_at": start,
            "next_attempt_at": start,
            "window_ends_at": slot.ends_at,
        },
    )
    draft.recipient_count = queued
    draft.save(update_fields=["recipient_count"])
    return queued


@transaction.atomic
def approve_draft(draft: Draft, *, actor: User, comment: str = "", now: Any = None) -> int:
    """Approve and queue: one outbox row per reachable recipient. Returns the number queued.

    Approved after its window closed, it goes in the next window within the rule's
    catch-up period; past that it can no longer be approved."""
    _check_approver(actor)
    draft = Draft.objects.select_for_update().select_related("rule", "project__company").get(pk=draft.pk)
    if draft.status != Draft.Status.PENDING:
        raise DomainError("该短信已审批")
    _refuse_blanks(draft)
    now = now or timezone.now()
    kind = event_draft_kind(draft)
    if kind is not None:
        slot = _event_slot(draft.rule, kind, draft.event_on, now) if draft.event_on else None
    else:
        slot = draft_slot(draft, now)
    if slot is None:
        raise DomainError("已过发送时间，不能再批准")
    draft.status = Draft.Status.APPROVED
    draft.decided_by = actor
    draft.decided_at = now
    draft.comment = comment
    draft.save()
    queued = _release_event_draft(draft, slot, now) if kind is not None else _queue_draft(draft, slot, now)
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=draft, summary=f"批准温馨速递 {draft}，{queued} 人")
    return queued


@transaction.atomic
def edit_and_approve_draft(draft: Draft, *, actor: User, text: str, comment: str = "", now: Any = None) -> int:
    """The approver's last edit and the approval as one decision: a refused approval (blanks
    left, past the send window, already decided) also undoes the edit. Returns the number
    queued."""
    _check_approver(actor)
    edited = edit_draft(draft, actor=actor, text=text)
    return approve_draft(edited, actor=actor, comment=comment, now=now)


@transaction.atomic
def reject_draft(draft: Draft, *, actor: User, comment: str) -> Draft:
    _check_approver(actor)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("驳回时请填写意见", field="comment")
    draft = Draft.objects.select_for_update().get(pk=draft.pk)
    if draft.status != Draft.Status.PENDING:
        raise DomainError("该短信已审批")
    draft.status = Draft.Status.REJECTED
    draft.decided_by = actor
    draft.decided_at = timezone.now()
    draft.comment = comment
    draft.save()
    if event_draft_kind(draft) is not None:
        # The event's messages waiting for this decision go nowhere, with the reason.
        outbox.move_all(
            Q(draft=draft),
            frm=OutboundMessage.Status.HELD,
            to=OutboundMessage.Status.CANCELLED,
            now=draft.decided_at,
            error=f"综合组已驳回：{comment}"[:300],
        )
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=draft, summary=f"驳回温馨速递 {draft}", reason=comment)
    return draft


BROADCAST_TRIGGERS = (Trigger.SHOW_FLAT_OPEN, Trigger.SHOW_FLAT_CLOSE, Trigger.EVENT, Trigger.BAD_WEATHER)
DIRECT_COMMENT = "该类短信无需审批，提交即排入发件箱"


def event_send_on(rule: CareRule, event_on: date | None) -> date:
    """The day an event notice is due: the rule's offset from the event (seed 001: 活动前三天)."""
    if event_on is None:
        raise DomainError("请填写活动日期", field="event_on")
    return event_on + timedelta(days=rule.offset_days)


def _broadcast_rule(project: Project, trigger: str) -> CareRule:
    if trigger not in BROADCAST_TRIGGERS:
        raise DomainError("不支持的群发类型", field="trigger")
    rule = rule_for(project.pk, trigger)
    if not rule.is_enabled:
        raise DomainError("该类型短信已停用", field="trigger")
    return rule


@transaction.atomic
def compose_broadcast(
    project: Project,
    *,
    actor: User,
    trigger: str,
    values: dict[str, object],
    send_on: date | None = None,
    event_on: date | None = None,
    audience_filter: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Draft:
    """Staff compose an ad-hoc message (show flat, event, bad weather).

    1. An event notice's send day is computed from the event's date (``event_on``, the
       rule's offset: 3 days before); the others go on ``send_on``.
    2. Every placeholder needs a value.
    3. When the rule needs approval (``needs_approval``), the result is a pending draft
       for the general-affairs group; otherwise the draft is recorded as decided by the
       author and its messages are queued at once. Either way the send day's window, or
       a later one within the catch-up period, must still be ahead (an event notice's
       before the event).
    """
    if not is_care_staff(actor):
        raise PermissionDenied("只有客服人员可以群发短信")
    rule = _broadcast_rule(project, trigger)
    if rule.audience == Audience.CUSTOMER:
        raise DomainError("该规则只针对单个客户")
    now = now or timezone.now()
    if trigger == Trigger.EVENT:
        send_on = event_send_on(rule, event_on)
    elif send_on is None:
        raise DomainError("请选择发送日期", field="send_on")
    else:
        event_on = None
    occasion = f"{send_on:%Y-%m-%d}-{timezone.localtime(now):%H%M%S}"
    draft = create_draft(
        rule,
        occasion=occasion,
        send_on=send_on,
        event_on=event_on,
        actor=actor,
        values=values,
        audience_filter=audience_filter,
    )
    missing = templating.missing_values(draft.text)
    if missing:
        settings_missing = [name for name in missing if name in base_values(project)]
        if settings_missing:
            raise DomainError(hold_reason(settings_missing, project), field="values")
        raise DomainError(f"请填写：{'、'.join(missing)}", field="values")
    slot = draft_slot(draft, now)
    if slot is None:
        raise DomainError(_too_late(draft), field="event_on" if event_on else "send_on")
    if rule.needs_approval:
        return draft
    draft.status = Draft.Status.APPROVED
    draft.decided_by = actor
    draft.decided_at = now
    draft.comment = DIRECT_COMMENT
    draft.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    queued = _queue_draft(draft, slot, now)
    audit.log(
        audit.AuditLog.Action.CREATE,
        actor=actor,
        target=draft,
        summary=f"群发温馨速递 {draft}，{queued} 人（无需审批）",
    )
    return draft


def _too_late(draft: Draft) -> str:
    if draft.event_on is not None:
        return "活动日期太近，已来不及在活动前发出通知，请核对活动日期"
    return "所选发送日期的发送时段已过，请改选以后的日期"


# Messages the gateway has (or may have): they cannot be recalled.
HANDED_OVER = [
    OutboundMessage.Status.SUBMITTING,
    OutboundMessage.Status.SENT,
    OutboundMessage.Status.DELIVERED,
    OutboundMessage.Status.UNDELIVERED,
]


@dataclass(frozen=True)
class EventMove:
    draft: Draft
    moved: int  # queued messages moved to the new send day
    already_sent: int  # messages already handed to the gateway with the old date


_WEEKDAY = re.compile(r"(?P<open>[（(]?)(?P<word>周|星期)[一二三四五六日天](?P<close>[）)]?)")
_WEEKDAYS = "一二三四五六日"


def _redate(text: str, old: date, new: date) -> str:
    """``text`` with the event's old date (“9月20日”, and a weekday right after it) written
    as the new one."""
    old_md, new_md = f"{old.month}月{old.day}日", f"{new.month}月{new.day}日"

    def weekday(match: re.Match[str]) -> str:
        day = match.group("word") + _WEEKDAYS[new.weekday()]
        return f"{new_md}{match.group('open')}{day}{match.group('close')}"

    text = re.sub(re.escape(old_md) + _WEEKDAY.pattern, weekday, text)
    return text.replace(old_md, new_md)


@transaction.atomic
def move_event(
    draft: Draft,
    *,
    actor: User,
    event_on: date,
    values: dict[str, object] | None = None,
    now: datetime | None = None,
) -> EventMove:
    """The event moved to ``event_on``: its notice moves with it (the rule's offset from the
    new date) and the date written in it (“9月20日（周六）”) is rewritten.

    1. Only care staff move events, and only an event notice not rejected.
    2. ``values`` (new placeholder values) re-render the text; allowed while the draft is
       pending, or when the rule needs no approval: an approved text is not changed
       behind the approver's back (the date excepted).
    3. Queued messages (scheduled or held) move to the new day's window and text; those
       already handed to the gateway cannot be recalled and are counted.
    """
    if not is_care_staff(actor):
        raise PermissionDenied("只有客服人员可以修改活动日期")
    draft = Draft.objects.select_for_update().select_related("rule", "project__company").get(pk=draft.pk)
    rule = draft.rule
    if rule.trigger != Trigger.EVENT or draft.event_on is None:
        raise DomainError("只有活动通知可以改期")
    if draft.status == Draft.Status.REJECTED:
        raise DomainError("该活动通知已驳回")
    if values is not None and draft.status == Draft.Status.APPROVED and rule.needs_approval:
        raise DomainError("已批准的活动通知只能改期；修改内容请重新编写并提交审批", field="values")
    now = now or timezone.now()
    old_on = draft.event_on
    before = {"event_on": str(old_on), "send_on": str(draft.send_on)}
    draft.event_on = event_on
    draft.send_on = event_send_on(rule, event_on)
    if values is not None:
        draft.values = {k: str(v) for k, v in (base_values(draft.project) | draft.values | values).items()}
        draft.text = templating.render(rule.template, draft.values, purpose=rule.purpose, strict=False)
    else:
        draft.values = {k: _redate(str(v), old_on, event_on) for k, v in draft.values.items()}
        draft.text = _redate(draft.text, old_on, event_on)
    if templating.missing_values(draft.text):
        raise DomainError(f"请填写：{'、'.join(templating.missing_values(draft.text))}", field="values")
    slot = draft_slot(draft, now)
    if slot is None:
        raise DomainError(_too_late(draft), field="event_on")
    draft.save(update_fields=["event_on", "send_on", "values", "text"])
    queued = OutboundMessage.objects.filter(
        draft=draft, status__in=[OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD]
    )
    start = max(slot.starts_at, now)
    moved = queued.update(
        text=draft.text,
        params=templating.template_params(rule.template, draft.values),
        scheduled_at=start,
        next_attempt_at=start,
        window_ends_at=slot.ends_at,
        updated_at=now,
    )
    sent = OutboundMessage.objects.filter(draft=draft, status__in=HANDED_OVER).count()
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=draft,
        changes={"event_on": [before["event_on"], str(event_on)], "send_on": [before["send_on"], str(draft.send_on)]},
        summary=f"活动改期 {draft}：{old_on:%Y-%m-%d} → {event_on:%Y-%m-%d}，调整待发短信 {moved} 条",
    )
    return EventMove(draft, moved, sent)


# ------------------------------------------------------------------ opt-out


def cancel_open_messages(customer_ids: list[int], reason: str) -> int:
    """Cancel the customers' scheduled and held messages (an opt-out takes effect at once);
    a claimed one is stopped by dispatch's hand-off check."""
    now = timezone.now()
    where = Q(customer_id__in=customer_ids)
    return sum(
        outbox.move_all(where, frm=frm, to=OutboundMessage.Status.CANCELLED, now=now, error=reason[:300])
        for frm in (OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD)
    )


@transaction.atomic
def opt_out(customer: Customer, *, actor: User | None, source: str) -> int:
    """Stop every SMS to this customer at once (reply TD/R…, or staff on the customer's request)."""
    customer_services.mark_opted_out(customer, at=timezone.now())
    cancelled = cancel_open_messages([customer.pk], f"客户已退订（{source}）")
    timeline.record(
        customer, TimelineEvent.Kind.CONSENT, f"退订短信（{source}），取消待发短信 {cancelled} 条", actor=actor
    )
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=customer,
        customer_id=customer.pk,
        summary=f"退订短信：{source}",
    )
    return cancelled


def mobile_has_opted_out(mobile: str) -> bool:
    """Whether the number replied an opt-out word (or the gateway blacklisted it)."""
    return bool(mobile) and OptedOutMobile.objects.filter(mobile=mobile).exists()


@transaction.atomic
def opt_out_mobile(mobile: str, *, source: str, now: datetime | None = None) -> int:
    """Stop every SMS to this number as a contact who is not a customer (an unlinked
    complainant) at once: record it and cancel the open messages to it. Customers with the
    number are opted out on their own row (``opt_out``). Returns how many were cancelled."""
    if not mobile:
        return 0
    now = now or timezone.now()
    OptedOutMobile.objects.get_or_create(mobile=mobile, defaults={"opted_out_at": now, "source": source[:100]})
    where = Q(contact_mobile=mobile)
    reason = f"该号码已退订短信（{source}），不再发送"[:300]
    return sum(
        outbox.move_all(where, frm=frm, to=OutboundMessage.Status.CANCELLED, now=now, error=reason)
        for frm in (OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD)
    )


@transaction.atomic
def opt_in_again(customer: Customer, *, actor: User, source: str) -> None:
    source = (source or "").strip()
    if not source:
        raise DomainError("请填写客户重新同意的方式", field="source")
    customer_services.clear_opt_out(customer, at=timezone.now())
    # The customer's own numbers are no longer refused as contacts either.
    OptedOutMobile.objects.filter(mobile__in=[m for m in (customer.mobile, customer.mobile2) if m]).delete()
    timeline.record(customer, TimelineEvent.Kind.CONSENT, f"恢复接收短信（{source}）", actor=actor)
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=customer,
        customer_id=customer.pk,
        summary=f"恢复接收短信：{source}",
    )


# ------------------------------------------------------------------ who may do what

# Who may do what is a permission of the role table (crm.accounts.roles): 客服专员,
# 客服中心主任 and administrators run care messages (DESIGN 3.8); 综合组 approves them;
# rules are configuration for administrators.
MANAGE = "care.manage_messages"
APPROVE = "care.approve_draft"
EDIT_RULES = "care.change_carerule"


def is_care_staff(user: User) -> bool:
    """Composes broadcasts, fills and cancels messages, edits drafts of their projects."""
    return user.has_perm(MANAGE)


def may_approve(user: User) -> bool:
    return user.has_perm(APPROVE)


def may_edit_rules(user: User) -> bool:
    return user.has_perm(EDIT_RULES)


# ------------------------------------------------------------------ outbox and previews


@transaction.atomic
def cancel_message(message: OutboundMessage, *, actor: User, reason: str) -> OutboundMessage:
    """Staff stop one scheduled message (wrong text, the customer asked on the phone …).

    1. Only care staff may cancel, and they must give a reason (audited).
    2. Only a scheduled or held row can be cancelled: once claimed ("submitting") the
       gateway may already have it.
    """
    if not is_care_staff(actor):
        raise PermissionDenied("只有客服人员可以取消短信")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写取消原因", field="reason")
    # The outbox's guarded mover (scheduled or held → cancelled) settles the race with a
    # dispatcher claiming the same row at the same moment.
    if not outbox.cancel(message.pk, reason=f"人工取消：{reason}"):
        raise DomainError("该短信已不是待发送状态，不能取消")
    message.refresh_from_db()
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=message,
        customer_id=message.customer_id,
        summary=f"取消短信 {message.get_trigger_display()}（{message.occasion}）",
        reason=reason,
    )
    return message


SMS_UNIT_CHARS = 70  # one SMS (signature included)
SMS_PART_CHARS = 67  # each part of a longer, split message


def sms_size(text: str, signature: str) -> tuple[int, int]:
    """(characters including 【签名】, billed SMS units): 70 per unit, 67 per part when split."""
    length = len(text) + (len(signature) + 2 if signature else 0)
    if length <= SMS_UNIT_CHARS:
        return length, 1
    return length, -(-length // SMS_PART_CHARS)


def signature_of(project: Project) -> str:
    return project.company.sms_signature or project.company.name


@dataclass(frozen=True)
class BroadcastPreview:
    rule: CareRule
    text: str
    recipients: int
    missing: list[str]
    send_on: date | None = None  # an event notice's: computed from the event's date
    needs_approval: bool = False  # submitted for approval, or queued at once


def preview_broadcast(
    project: Project,
    *,
    trigger: str,
    values: dict[str, object],
    audience_filter: dict[str, Any] | None = None,
    event_on: date | None = None,
) -> BroadcastPreview:
    """What compose_broadcast would draft, without writing anything: the rendered text,
    the placeholders still blank, how many customers it would reach today, the send day
    of an event notice and whether it goes to approval."""
    rule = _broadcast_rule(project, trigger)
    send_on = event_send_on(rule, event_on) if trigger == Trigger.EVENT and event_on else None
    text = preview(rule, values=values)
    unsaved = Draft(rule=rule, project=project, audience_filter=audience_filter or {})
    return BroadcastPreview(
        rule,
        text,
        recipients_for_draft(unsaved).count(),
        templating.missing_values(text),
        send_on=send_on,
        needs_approval=rule.needs_approval,
    )


# ------------------------------------------------------------------ notices to one person


@dataclass(frozen=True)
class Notice:
    """A notice about one person's own matter (a complaint) for ``queue_notice``."""

    project_id: int
    trigger: str
    occasion: str  # unique per recipient and trigger: the exactly-once key
    mobile: str  # the number the person gave (normalised)
    customer_id: int | None = None  # the linked customer, or None for an unlinked contact
    name: str = ""  # shown to staff for a contact who is not a customer
    values: dict[str, object] | None = None  # the template's placeholders


# Values people typed (the complainant's name, a progress note, a reply) are cleaned like a
# customer's name (no links, no 【】, no control characters) and capped.
NOTICE_LIMITS = {"投诉人": 12, "进展": 70, "回复": 80}


def queue_notice(notice: Notice, *, now: datetime) -> OutboundMessage | None:
    """Queue one notice to one person (complaint notices, issue 11) in its rule's window.

    1. The project's rule for the trigger (created from the defaults if missing); a rule
       switched off queues nothing (None).
    2. The window: today's when still open, else the next allowed one within the rule's
       catch-up period (crm.care.timing.send_slot), counted from the day it is due (the
       rule's ``offset_days`` after ``now``: the complaint reply goes the next day). Past
       it the row is recorded as expired, with the reason.
    3. A placeholder without a value holds it, with the reason (crm.care.rendering).
    4. A recipient who cannot receive it is recorded as cancelled, with the reason, so staff
       see why nothing went: the number opted out; a linked customer opted out, archived
       or without consent for service notices (the same rule as every care message).
    5. Exactly once: the row is unique per (customer or contact number, trigger,
       occasion); a second call returns the existing row and writes nothing.
    """
    if notice.trigger not in COMPLAINT_NOTICES:
        raise ValueError(f"{notice.trigger} is not a notice to one person")
    if notice.customer_id is None and not notice.mobile:
        return None  # nobody to send to (a written complaint without a number)
    rule = rule_for(notice.project_id, notice.trigger)
    if not rule.is_enabled:
        return None
    existing = _existing_notice(notice)
    if existing is not None:
        return existing
    rule = CareRule.objects.select_related("project__company").get(pk=rule.pk)
    values = {name: _clean_notice_value(name, value) for name, value in (notice.values or {}).items()}
    text = render_rule(rule, base_values(rule.project) | values)
    due_on = local_day(now) + timedelta(days=rule.offset_days)
    slot = timing.send_slot(
        due_on,
        rule.window_start,
        rule.window_end,
        now=now,
        catch_up_days=rule.catch_up_days,
        working_days_only=rule.working_days_only,
        cal=work_calendar() if rule.working_days_only else None,
    )
    status, error = OutboundMessage.Status.SCHEDULED, ""
    if slot is None:
        start, end = timing.window(due_on, rule.window_start, rule.window_end)
        status, error = OutboundMessage.Status.EXPIRED, timing.expired_reason(rule.catch_up_days)
    else:
        start, end = max(slot.starts_at, now), slot.ends_at
        if slot.is_late:
            error = timing.late_note(slot)
    if text.is_held:
        status, error = OutboundMessage.Status.HELD, text.hold_reason
    refusal = _notice_refusal(notice, rule.purpose)
    if refusal:
        status, error = OutboundMessage.Status.CANCELLED, refusal
    queued = outbox.queue_notice_row(
        {
            "customer_id": notice.customer_id,
            "contact_mobile": notice.mobile,
            "contact_name": notice.name[:50],
            "project_id": rule.project_id,
            "rule_id": rule.pk,
            "trigger": rule.trigger,
            "occasion": notice.occasion,
            "purpose": rule.purpose,
            "text": text.text,
            "params": text.params,
            "status": status,
            "error": error[:300],
            "scheduled_at": start,
            "next_attempt_at": start,
            "window_ends_at": end,
        }
    )
    if not queued:
        log.info("notice %s %s was queued by a concurrent call", notice.trigger, notice.occasion)
    return _existing_notice(notice)


def rewrite_notice(notice: Notice, *, now: datetime) -> OutboundMessage | None:
    """Re-render a queued notice with new values (staff word the complaint's next-day reply
    themselves) while it still waits: scheduled or held, never handed to the gateway. The
    row, its window and its exactly-once key stay; only the text and the template
    parameters change, in one compare-and-set with the status, so a dispatch worker that
    claims it first wins and this returns None (then it is already on its way)."""
    row = _existing_notice(notice)
    if row is None or row.handed_at is not None:
        return None
    if row.status not in (OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD):
        return None
    if row.rule_id is None:
        return None
    rule = CareRule.objects.select_related("project__company").get(pk=row.rule_id)
    values = {name: _clean_notice_value(name, value) for name, value in (notice.values or {}).items()}
    text = render_rule(rule, base_values(rule.project) | values)
    to = OutboundMessage.Status.HELD if text.is_held else OutboundMessage.Status.SCHEDULED
    error = text.hold_reason if text.is_held else ""
    moved = outbox.move(
        row.pk,
        frm=row.status,
        to=to,
        only_if=Q(handed_at__isnull=True),
        now=now,
        text=text.text,
        params=text.params,
        error=error[:300] if text.is_held else row.error if row.status == to else "",
    )
    if not moved:
        return None
    row.refresh_from_db()
    return row


def _clean_notice_value(name: str, value: object) -> object:
    if name == "投诉人":
        return templating.customer_value(value, limit=NOTICE_LIMITS[name])
    if name in NOTICE_LIMITS:
        return templating.note_value(value, limit=NOTICE_LIMITS[name])
    return value


def _existing_notice(notice: Notice) -> OutboundMessage | None:
    if notice.customer_id is not None:
        mine = Q(customer_id=notice.customer_id, family_member__isnull=True)
    else:
        mine = Q(customer__isnull=True, contact_mobile=notice.mobile)
    return OutboundMessage.objects.filter(mine, trigger=notice.trigger, occasion=notice.occasion).first()


def _notice_refusal(notice: Notice, purpose: str) -> str:
    """Why this person may not be sent the notice now ("" when they may)."""
    if mobile_has_opted_out(notice.mobile):
        return "该号码已退订短信（回复退订），不再发送"
    if notice.customer_id is None:
        return ""
    customer = Customer.objects.filter(pk=notice.customer_id).first()
    if customer is None:
        return "客户不存在"
    if customer.has_opted_out:
        return "客户已退订"
    if customer.is_archived:
        return "客户已归档"
    if not getattr(customer, audiences.CONSENT_FIELD[Purpose(purpose)]):
        return f"客户未同意接收{Purpose(purpose).label}短信"
    return ""


def cancel_notices(occasion_prefix: str, *, reason: str, now: datetime | None = None) -> int:
    """Cancel the scheduled and held notices of one matter (a complaint cancelled, a survey
    link withdrawn); those already handed to the gateway cannot be recalled."""
    now = now or timezone.now()
    where = Q(occasion__startswith=occasion_prefix, trigger__in=COMPLAINT_NOTICES)
    return sum(
        outbox.move_all(where, frm=frm, to=OutboundMessage.Status.CANCELLED, now=now, error=reason[:300])
        for frm in (OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD)
    )


# ------------------------------------------------------------------ customer events (crm.events)

# The invitation goes when the organiser sends it, outside the marketing quiet hours
# (工信部令第31号: no promotional SMS 20:00–08:00), or the next day.
EVENT_INVITE_WINDOW = (time(8, 0), time(20, 0))
EVENT_INVITE_CATCH_UP_DAYS = 1
EVENT_KINDS = {"invite": "活动邀请", "notice": "活动通知"}
TOO_LATE_FOR_EVENT = "活动日期太近，已来不及在活动前发出，不再发送"


@dataclass(frozen=True)
class EventMessage:
    """An invitation or the 3-day notice of a customer event (crm.events) to one invitee."""

    project_id: int
    customer_id: int
    event_key: str  # the event's key ("ev12"): with the kind, the exactly-once key
    kind: str  # "invite" or "notice"
    event_on: date
    values: dict[str, object]  # the rule's placeholders: {活动}, {时间}


def event_occasion(event_key: str, kind: str) -> str:
    return f"{event_key}-{kind}"


def _event_slot(rule: CareRule, kind: str, event_on: date, now: datetime) -> timing.Slot | None:
    """The window an event message goes in as of ``now``: the invitation today (or the next
    day), the notice on the rule's offset from the event (seed 001: 活动前三天 10:00–10:30),
    each within its catch-up period and never on or after the event's day."""
    if kind == "invite":
        slot = timing.send_slot(local_day(now), *EVENT_INVITE_WINDOW, now=now, catch_up_days=EVENT_INVITE_CATCH_UP_DAYS)
    else:
        slot = timing.send_slot(
            event_send_on(rule, event_on),
            rule.window_start,
            rule.window_end,
            now=now,
            catch_up_days=rule.catch_up_days,
        )
    if slot is not None and slot.day >= event_on:
        return None
    return slot


_EVENT_OCCASION = re.compile(r"^ev\d+-(?P<kind>invite|notice)$")
AWAITING_APPROVAL = "等待综合组审批，批准后按时段发送"


def event_draft_kind(draft: Draft) -> str | None:
    """ "invite" or "notice" for a customer event's draft (crm.events), else None (a
    broadcast's event notice composed by hand is an ordinary draft)."""
    if draft.rule.trigger != Trigger.EVENT:
        return None
    match = _EVENT_OCCASION.match(draft.occasion)
    return match.group("kind") if match else None


def _event_draft(rule: CareRule, message: EventMessage, text: str, now: datetime) -> Draft:
    """The event's draft of this kind (one per event and kind): it carries the event's date,
    so catch-up (crm.care.catchup) never moves one of its messages onto the event's day.
    Decided at once when the rule needs no approval (the organiser sends to the invitees
    they chose); otherwise pending for the general-affairs group (综合组审批), its messages
    held until approved (``_release_event_draft``)."""
    decided: dict[str, Any] = {
        "status": Draft.Status.APPROVED,
        "decided_at": now,
        "comment": f"客户活动{EVENT_KINDS[message.kind]}，按活动邀请名单发送",
    }
    if rule.needs_approval:
        decided = {"status": Draft.Status.PENDING}
    draft, _ = Draft.objects.get_or_create(
        rule=rule,
        occasion=event_occasion(message.event_key, message.kind),
        defaults={
            "project_id": message.project_id,
            "send_on": local_day(now) if message.kind == "invite" else event_send_on(rule, message.event_on),
            "event_on": message.event_on,
            "text": text,
            "values": {k: str(v) for k, v in message.values.items()},
            **decided,
        },
    )
    return draft


def _release_event_draft(draft: Draft, slot: timing.Slot, now: datetime) -> int:
    """An event's draft approved: its held messages (waiting for approval, or for a blank
    the approver filled in) go in ``slot`` with the approved text, each once (the move is a
    compare-and-set on the status). Returns how many."""
    start = max(slot.starts_at, now)
    released = outbox.move_all(
        Q(draft=draft),
        frm=OutboundMessage.Status.HELD,
        to=OutboundMessage.Status.SCHEDULED,
        now=now,
        text=draft.text,
        params=templating.template_params(draft.rule.template, draft.values),
        scheduled_at=start,
        next_attempt_at=start,
        window_ends_at=slot.ends_at,
        error=timing.late_note(slot) if slot.is_late else "",
    )
    draft.recipient_count = OutboundMessage.objects.filter(
        draft=draft, status__in=[OutboundMessage.Status.SCHEDULED, *HANDED_OVER]
    ).count()
    draft.save(update_fields=["recipient_count"])
    return released


def queue_event_message(message: EventMessage, *, now: datetime) -> OutboundMessage | None:
    """Queue a customer event's invitation or 3-day notice to one invitee (crm.events).

    1. The project's 活动通知 rule (seed 001); a rule switched off queues nothing (None).
    2. Exactly once: the row is unique per (customer, trigger, occasion) and the occasion
       is the event's key and the kind; a second call returns the existing row.
    3. The invitation goes today 08:00–20:00 (or the next day); the notice on the rule's
       offset from the event's date in the rule's window, within its catch-up period.
       Neither goes on or after the event's day: such a row is recorded as expired.
    4. An invitation is marketing: a customer who opted out, is archived or gave no
       marketing consent gets nothing; the row is recorded as cancelled with the reason.
    5. A placeholder without a value holds it, with the reason.
    """
    rule = rule_for(message.project_id, Trigger.EVENT)
    if not rule.is_enabled:
        return None
    occasion = event_occasion(message.event_key, message.kind)
    existing = OutboundMessage.objects.filter(
        customer_id=message.customer_id, family_member__isnull=True, trigger=Trigger.EVENT, occasion=occasion
    ).first()
    if existing is not None:
        return existing
    rule = CareRule.objects.select_related("project__company").get(pk=rule.pk)
    text = render_rule(rule, base_values(rule.project) | message.values)
    draft = _event_draft(rule, message, text.text, now)
    slot = _event_slot(rule, message.kind, message.event_on, now)
    status, error = OutboundMessage.Status.SCHEDULED, ""
    if slot is None:
        start = end = now
        status, error = OutboundMessage.Status.EXPIRED, TOO_LATE_FOR_EVENT
    else:
        start, end = max(slot.starts_at, now), slot.ends_at
        if slot.is_late:
            error = timing.late_note(slot)
        if draft.status == Draft.Status.PENDING:
            status, error = OutboundMessage.Status.HELD, AWAITING_APPROVAL
        elif draft.status == Draft.Status.REJECTED:
            status, error = OutboundMessage.Status.CANCELLED, f"综合组已驳回：{draft.comment}"
    if text.is_held and status != OutboundMessage.Status.CANCELLED:
        status, error = OutboundMessage.Status.HELD, text.hold_reason
    refusal = _notice_refusal(
        Notice(message.project_id, Trigger.EVENT, occasion, "", customer_id=message.customer_id), rule.purpose
    )
    if refusal:
        status, error = OutboundMessage.Status.CANCELLED, refusal
    inserted = outbox.queue_notice_row(
        {
            "customer_id": message.customer_id,
            "project_id": rule.project_id,
            "rule_id": rule.pk,
            "trigger": rule.trigger,
            "occasion": occasion,
            "draft_id": draft.pk,
            "purpose": rule.purpose,
            "text": text.text,
            "params": text.params,
            "status": status,
            "error": error[:300],
            "scheduled_at": start,
            "next_attempt_at": start,
            "window_ends_at": end,
        }
    )
    # A pending draft counts the messages waiting for it too (the approval page's 收件人).
    counted = status == OutboundMessage.Status.SCHEDULED or (
        status == OutboundMessage.Status.HELD and draft.status == Draft.Status.PENDING
    )
    if inserted and counted:
        Draft.objects.filter(pk=draft.pk).update(recipient_count=F("recipient_count") + 1)
    return OutboundMessage.objects.filter(
        customer_id=message.customer_id, family_member__isnull=True, trigger=Trigger.EVENT, occasion=occasion
    ).first()


@transaction.atomic
def move_event_messages(
    event_key: str, *, project_id: int, event_on: date, values: dict[str, object], now: datetime
) -> EventMove | None:
    """A customer event changed (date, time, title or place): its messages not yet handed
    to the gateway are rewritten, and the notice moves to the rule's offset from the new
    date (an invitation keeps its window). One that can no longer go before the event
    expires with the reason. Returns the notice's move (the invitation's before the notice
    is planned; None when nothing was queued); those already handed over cannot be
    recalled and are counted."""
    rule = rule_for(project_id, Trigger.EVENT)
    rule = CareRule.objects.select_related("project__company").get(pk=rule.pk)
    text = render_rule(rule, base_values(rule.project) | values)
    result: EventMove | None = None
    for kind in EVENT_KINDS:
        draft = Draft.objects.select_for_update().filter(rule=rule, occasion=event_occasion(event_key, kind)).first()
        if draft is None:
            continue
        # An approved text is not changed behind the approver's back: under approval the
        # rewritten messages wait for a new decision.
        reapprove = rule.needs_approval and draft.status == Draft.Status.APPROVED and draft.text != text.text
        draft.event_on = event_on
        if kind == "notice":
            draft.send_on = event_send_on(rule, event_on)
        draft.text = text.text
        draft.values = {k: str(v) for k, v in values.items()}
        changed = ["event_on", "send_on", "text", "values"]
        if reapprove:
            draft.status, draft.decided_by, draft.decided_at = Draft.Status.PENDING, None, None
            draft.comment = "活动信息已修改，需重新审批"
            changed += ["status", "decided_by", "decided_at", "comment"]
        draft.save(update_fields=changed)
        rows = OutboundMessage.objects.filter(draft=draft)
        if reapprove:
            rows.filter(status=OutboundMessage.Status.HELD).update(text=text.text, params=text.params)
            waiting = outbox.move_all(
                Q(draft=draft),
                frm=OutboundMessage.Status.SCHEDULED,
                to=OutboundMessage.Status.HELD,
                now=now,
                text=text.text,
                params=text.params,
                error=AWAITING_APPROVAL,
            )
            draft.recipient_count = rows.filter(status=OutboundMessage.Status.HELD).count()
            draft.save(update_fields=["recipient_count"])
            result = EventMove(draft, waiting, rows.filter(status__in=HANDED_OVER).count())
            continue
        queued = rows.filter(status__in=[OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD])
        moved = queued.filter(status=OutboundMessage.Status.HELD).update(text=text.text, params=text.params)
        scheduled = queued.filter(status=OutboundMessage.Status.SCHEDULED)
        event_day = at_day_start(event_on)
        if kind == "invite":
            # The invitation keeps its window unless that now reaches the event's day.
            outbox.move_all(
                Q(draft=draft, window_ends_at__gte=event_day),
                frm=OutboundMessage.Status.SCHEDULED,
                to=OutboundMessage.Status.EXPIRED,
                now=now,
                error=TOO_LATE_FOR_EVENT,
            )
            moved += scheduled.update(text=text.text, params=text.params, updated_at=now)
            continue
        slot = _event_slot(rule, kind, event_on, now)
        if slot is None:
            outbox.move_all(
                Q(draft=draft),
                frm=OutboundMessage.Status.SCHEDULED,
                to=OutboundMessage.Status.EXPIRED,
                now=now,
                error=TOO_LATE_FOR_EVENT,
            )
        else:
            start = max(slot.starts_at, now)
            moved += scheduled.update(
                text=text.text,
                params=text.params,
                scheduled_at=start,
                next_attempt_at=start,
                window_ends_at=slot.ends_at,
                error=timing.late_note(slot) if slot.is_late else "",
                updated_at=now,
            )
        result = EventMove(draft, moved, rows.filter(status__in=HANDED_OVER).count())
    return result


def at_day_start(day: date) -> datetime:
    return timing.window(day, time(0, 0), time(0, 0))[0]


def cancel_event_messages(
    event_key: str, *, reason: str, customer_ids: list[int] | None = None, kinds: tuple[str, ...] = ("invite", "notice")
) -> int:
    """Cancel a customer event's messages not yet handed to the gateway (the event was
    cancelled; an invitee declined or was removed); returns how many."""
    now = timezone.now()
    where = Q(trigger=Trigger.EVENT, occasion__in=[event_occasion(event_key, kind) for kind in kinds])
    if customer_ids is not None:
        where &= Q(customer_id__in=customer_ids)
    return sum(
        outbox.move_all(where, frm=frm, to=OutboundMessage.Status.CANCELLED, now=now, error=reason[:300])
        for frm in (OutboundMessage.Status.SCHEDULED, OutboundMessage.Status.HELD)
    )


def event_rule(project_id: int) -> CareRule:
    """The project's 活动通知 rule (crm.events reads its offset to plan the notice)."""
    return rule_for(project_id, Trigger.EVENT)


def clean_event_value(value: object, *, limit: int) -> str:
    """An event's title or place as staff typed it, fit to enter a message (no links, 【】
    or control characters; Chinese punctuation kept)."""
    return templating.note_value(value, limit=limit)
