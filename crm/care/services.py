"""Writes for 温馨速递: rules, drafts and approval, broadcasts, opt-out.

Rules enforced here:
1. A message needing approval (construction progress, festivals, broadcasts) exists only
   as a Draft until an approver of the general-affairs group approves it; approving
   creates the outbox rows, rejecting ends it. An unapproved draft never sends.
2. Opt-out (reply or staff) takes effect at once: the customer is marked and every
   open message to them is cancelled in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from crm.care import audience as audiences
from crm.care import outbox, templating, timing
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import DEFAULT_RULES, Audience, Trigger
from crm.core import audit
from crm.core.errors import DomainError, PermissionDenied
from crm.customers import services as customer_services
from crm.customers import timeline
from crm.customers.models import Customer, TimelineEvent
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

RULE_FIELDS = [
    "is_enabled",
    "template",
    "window_start",
    "window_end",
    "offset_days",
    "needs_approval",
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


def base_values(project: Project) -> dict[str, object]:
    return {
        "公司": project.company.sms_signature or project.company.name,
        "楼盘": project.name,
        "客服电话": project.sales_phone,
        "物业电话": project.sales_phone,
    }


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


@transaction.atomic
def approve_draft(draft: Draft, *, actor: User, comment: str = "", now: Any = None) -> int:
    """Approve and queue: one outbox row per reachable recipient. Returns the number queued."""
    _check_approver(actor)
    draft = Draft.objects.select_for_update().select_related("rule", "project").get(pk=draft.pk)
    if draft.status != Draft.Status.PENDING:
        raise DomainError("该短信已审批")
    leftover = templating.missing_values(draft.text)
    if leftover:
        raise DomainError(f"短信中还有未填写的内容：{'、'.join('{' + n + '}' for n in leftover)}", field="text")
    now = now or timezone.now()
    start, end = timing.window(draft.send_on, draft.rule.window_start, draft.rule.window_end)
    if end <= now:
        raise DomainError("已过发送时间，不能再批准")
    draft.status = Draft.Status.APPROVED
    draft.decided_by = actor
    draft.decided_at = now
    draft.comment = comment
    draft.save()
    start = max(start, now)
    # One INSERT … SELECT from the recipients' query: at 1M customers a festival greeting is
    # 100,000+ rows, none of which needs to pass through Python. A recipient who already has
    # this trigger's message for the occasion (another project's draft) is skipped, so the
    # count is of messages really queued.
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
            "scheduled_at": start,
            "next_attempt_at": start,
            "window_ends_at": end,
        },
    )
    draft.recipient_count = queued
    draft.save(update_fields=["recipient_count"])
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
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=draft, summary=f"驳回温馨速递 {draft}", reason=comment)
    return draft


BROADCAST_TRIGGERS = (Trigger.SHOW_FLAT_OPEN, Trigger.SHOW_FLAT_CLOSE, Trigger.EVENT, Trigger.BAD_WEATHER)


@transaction.atomic
def compose_broadcast(
    project: Project,
    *,
    actor: User,
    trigger: str,
    send_on: date,
    values: dict[str, object],
    audience_filter: dict[str, Any] | None = None,
) -> Draft:
    """Staff compose an ad-hoc message (show flat, event, bad weather): a draft with its
    recipient count and rendered text, queued once approved (or at once when the rule
    needs no approval and the author may send)."""
    if trigger not in BROADCAST_TRIGGERS:
        raise DomainError("不支持的群发类型", field="trigger")
    rule = rule_for(project.pk, trigger)
    if not rule.is_enabled:
        raise DomainError("该类型短信已停用", field="trigger")
    if rule.audience == Audience.CUSTOMER:
        raise DomainError("该规则只针对单个客户")
    occasion = f"{send_on:%Y-%m-%d}-{timezone.now():%H%M%S}"
    draft = create_draft(
        rule, occasion=occasion, send_on=send_on, actor=actor, values=values, audience_filter=audience_filter
    )
    if templating.missing_values(draft.text):
        missing = "、".join(templating.missing_values(draft.text))
        raise DomainError(f"请填写：{missing}", field="values")
    return draft


# ------------------------------------------------------------------ opt-out


def cancel_open_messages(customer_ids: list[int], reason: str) -> int:
    return OutboundMessage.objects.filter(customer_id__in=customer_ids, status=OutboundMessage.Status.SCHEDULED).update(
        status=OutboundMessage.Status.CANCELLED, error=reason[:300], updated_at=timezone.now()
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


@transaction.atomic
def opt_in_again(customer: Customer, *, actor: User, source: str) -> None:
    source = (source or "").strip()
    if not source:
        raise DomainError("请填写客户重新同意的方式", field="source")
    customer_services.clear_opt_out(customer, at=timezone.now())
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
    2. Only a scheduled row can be cancelled: once claimed ("submitting") the gateway may
       already have it. The compare-and-set UPDATE … WHERE status='scheduled' settles the
       race with a dispatcher claiming the same row at the same moment.
    """
    if not is_care_staff(actor):
        raise PermissionDenied("只有客服人员可以取消短信")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写取消原因", field="reason")
    cancelled = OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.SCHEDULED).update(
        status=OutboundMessage.Status.CANCELLED, error=f"人工取消：{reason}"[:300], updated_at=timezone.now()
    )
    if not cancelled:
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


def preview_broadcast(
    project: Project, *, trigger: str, values: dict[str, object], audience_filter: dict[str, Any] | None = None
) -> BroadcastPreview:
    """What compose_broadcast would draft, without writing anything: the rendered text,
    the placeholders still blank and how many customers it would reach today."""
    if trigger not in BROADCAST_TRIGGERS:
        raise DomainError("不支持的群发类型", field="trigger")
    rule = rule_for(project.pk, trigger)
    if not rule.is_enabled:
        raise DomainError("该类型短信已停用", field="trigger")
    text = preview(rule, values=values)
    unsaved = Draft(rule=rule, project=project, audience_filter=audience_filter or {})
    return BroadcastPreview(rule, text, recipients_for_draft(unsaved).count(), templating.missing_values(text))
