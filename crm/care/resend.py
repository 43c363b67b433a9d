"""补发: staff send again a care message that failed, expired or was held.

Rules:
1. Only failed (发送失败), expired (已过期未发) and held (暂缓发送) messages can be resent,
   by a user with ``care.resend_message`` (客服专员, 客服中心主任, 系统管理员), one by one
   or in bulk; every resend is audited (who, when, the previous status and reason).
2. A resend re-uses the same outbox row, moved back to "scheduled" with a fresh window:
   the rule's window today when at least ``MIN_LEFT`` of it remains, else the rule's window
   the next day. The row keeps its (customer, trigger, occasion) key, so no planner, second
   runner or second click can make a second message for the occasion, and the outbox id the
   gateway gets as its reference still names one message. Attempts start again at 0.
3. What would stop the message at send time is checked first, so staff see why at once:
   the customer opted out, was archived or withdrew consent for the purpose; the rule was
   switched off; a placeholder is still blank after filling it from the project's current
   settings (a held move-in greeting goes once the project's 客服电话 is entered).
4. A failed message whose outcome the gateway never confirmed may have reached the
   customer: it is resent only when the user confirms they checked (``confirmed``).
5. An undelivered message (未送达) is not resent: the gateway accepted it and the carrier
   could not deliver it (phone off, number out of service); staff call the customer.

Status writes: every status change of this module goes through ``_move``, one guarded
compare-and-set (``UPDATE … WHERE pk = … AND status = <the status we read>``). A dispatcher
never holds a failed, expired or held row, so the only race is two people resending the
same message: the second finds the status changed and is told so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from crm.care import outbox, rendering, services, templating, timing
from crm.care.audience import CONSENT_FIELD
from crm.care.models import Draft, OutboundMessage
from crm.care.rules import Purpose
from crm.core import audit
from crm.core.errors import DomainError, PermissionDenied
from crm.lib.dates import CHINA_TZ, local_day

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crm.accounts.models import User

Status = OutboundMessage.Status

RESEND = "care.resend_message"
RESENDABLE = (Status.FAILED, Status.EXPIRED, Status.HELD)
MIN_LEFT = timedelta(minutes=5)  # less of today's window than this: tomorrow's window
BULK_LIMIT = 500

# Where staff fix a placeholder the message still lacks.
WHERE_TO_FIX: dict[str, str] = {
    "客服电话": "楼盘设置中的“客服电话”",
    "物业电话": "楼盘设置中的“物业电话”",
    "公司": "公司设置中的“短信签名”",
    "楼盘": "楼盘设置中的“楼盘名称”",
}


def may_resend(user: User) -> bool:
    return user.has_perm(RESEND)


def awaits_approval(message: OutboundMessage) -> bool:
    """A held message whose draft waits for 综合组审批 (a customer event's, crm.events):
    only the approval sends it, never a resend."""
    return (
        message.status == Status.HELD
        and message.draft_id is not None
        and Draft.objects.filter(pk=message.draft_id, status=Draft.Status.PENDING).exists()
    )


def is_resendable(message: OutboundMessage) -> bool:
    return message.status in RESENDABLE and not awaits_approval(message)


def outcome_unknown(message: OutboundMessage) -> bool:
    """A failed message the gateway may have delivered: the worker could not learn the
    outcome and settle handed it to a person (dispatch: "…请人工核对")."""
    return message.status == Status.FAILED and not message.error_code and "人工核对" in message.error


def resend_window(start_at: Any, end_at: Any, now: datetime) -> tuple[datetime, datetime]:
    """The next window of a rule's daily ``start_at``–``end_at`` that still has MIN_LEFT in
    it: today's (from now) or tomorrow's."""
    now = now.astimezone(CHINA_TZ)
    today = local_day(now)
    start, end = timing.window(today, start_at, end_at)
    if end - max(start, now) >= MIN_LEFT:
        return max(start, now), end
    return timing.window(today + timedelta(days=1), start_at, end_at)


def fix_hint(message: OutboundMessage, *, brief: bool = False) -> str:
    """What staff do about a message that did not go, in Chinese ("" when nothing to do);
    ``brief`` for a list row, the whole sentence for the message page."""
    status = message.status
    if awaits_approval(message):
        return "等待综合组审批" if brief else "等待综合组审批：批准后按时段发送，驳回则不发送。"
    if status == Status.HELD:
        missing = list(dict.fromkeys(templating.missing_values(message.text)))
        if missing and brief:
            return f"待填写：{'、'.join(missing)}，填好后补发"
        if missing:
            places = "、".join(WHERE_TO_FIX.get(name, f"短信中的“{{{name}}}”") for name in missing)
            return f"请先填写{places}，然后点“补发”：系统重新填入后检查，无缺项才会发送。"
        return "处理后补发" if brief else "处理上述问题后点“补发”：系统重新检查后按发送时段发送。"
    if status == Status.EXPIRED:
        return "可以补发" if brief else "可以补发：按该类短信的发送时段，今天或下一天发送。"
    if status == Status.FAILED:
        if outcome_unknown(message):
            return "结果不明，核实后补发" if brief else "发送结果不明，客户可能已收到：请先核实，确认未收到后再补发。"
        return "核实后可以补发" if brief else "核实手机号或失败原因后可以补发。"
    if status == Status.UNDELIVERED:
        if brief:
            return "不能补发，请联系客户"
        return "网关已受理但未能送达（如关机、停机、空号），不能补发；请核实号码后联系客户。"
    return ""


def refusal(message: OutboundMessage, *, confirmed: bool = False) -> str:
    """Why this message cannot be resent now, in Chinese; "" when it can."""
    if awaits_approval(message):
        return "该短信等待综合组审批，批准后自动排入发件箱，不能补发"
    if not is_resendable(message):
        return f"该短信状态为“{message.get_status_display()}”，只有发送失败、过期未发或暂缓发送的短信可以补发"
    customer = message.customer
    purpose = Purpose(message.purpose)
    if message.contact_mobile and services.mobile_has_opted_out(message.contact_mobile):
        return "该号码已退订短信，不能补发"
    if customer is not None and customer.has_opted_out:
        return "客户已退订，不能补发"
    if customer is not None and customer.is_archived:
        return "客户已归档，不能补发"
    if customer is not None and not getattr(customer, CONSENT_FIELD[purpose]):
        return f"客户未同意接收{purpose.label}短信，不能补发"
    if not message.rule.is_enabled:
        return f"“{message.rule.get_trigger_display()}”短信已停用，不能补发"
    missing = list(dict.fromkeys(_refilled(message)[2]))
    if missing:
        places = "、".join(WHERE_TO_FIX.get(name, f"“{{{name}}}”") for name in missing)
        return f"短信中还有未填写的内容：{'、'.join('{' + n + '}' for n in missing)}，请先填写{places}"
    if outcome_unknown(message) and not confirmed:
        return "发送结果不明，客户可能已收到：请先核实，确认客户未收到后注明“已核实”再补发"
    return ""


def _refilled(message: OutboundMessage) -> tuple[str, dict[str, str], list[str]]:
    """The text and gateway parameters with blanks filled from the project's current
    settings (and the values the message was planned with), and what is still blank.

    A text without blanks is returned as it is, with its parameters: what was planned and
    checked is what goes.
    """
    if not templating.missing_values(message.text):
        return message.text, dict(message.params or {}), []
    rendered = rendering.render_message(message)
    return rendered.text, rendered.params, templating.missing_values(rendered.text)


def _move(message: OutboundMessage, to: str, *, now: datetime, **fields: Any) -> bool:
    """The one status write of this module, through the outbox's guarded mover
    (crm.care.outbox.move: the allowed moves, compare-and-set from the status we read).

    Returns False when the row is no longer in that status (someone else resent it).
    """
    return outbox.move(message.pk, frm=message.status, to=to, now=now, **fields)


@transaction.atomic
def resend_message(
    message: OutboundMessage, *, actor: User, now: datetime | None = None, confirmed: bool = False
) -> OutboundMessage:
    """Send a failed, expired or held message again (rules 1–4 of the module)."""
    if not may_resend(actor):
        raise PermissionDenied("您没有补发短信的权限")
    now = now or timezone.now()
    message = OutboundMessage.objects.select_related("customer", "rule", "project__company").get(pk=message.pk)
    reason = refusal(message, confirmed=confirmed)
    if reason:
        raise DomainError(reason)
    previous_status, previous_error, previous_attempts = message.status, message.error, message.attempts
    text, params, _ = _refilled(message)
    start, end = resend_window(message.rule.window_start, message.rule.window_end, now)
    moved = _move(
        message,
        Status.SCHEDULED,
        now=now,
        text=text,
        params=params,
        scheduled_at=start,
        next_attempt_at=start,
        window_ends_at=end,
        attempts=0,
        claimed_at=None,
        gateway="",
        gateway_message_id="",
        error="",
        error_code="",
        submitted_at=None,
        delivered_at=None,
    )
    if not moved:
        raise DomainError("该短信的状态刚刚发生了变化（可能已由他人补发），请刷新后查看")
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=message,
        customer_id=message.customer_id,
        summary=(
            f"补发短信 {message.get_trigger_display()}（原状态：{Status(previous_status).label}），"
            f"{start:%m-%d %H:%M} 起发送"
        ),
        changes={
            "status": [previous_status, Status.SCHEDULED],
            "scheduled_at": [message.scheduled_at.isoformat(), start.isoformat()],
            "attempts": [previous_attempts, 0],
            **({"text": [message.text, text]} if text != message.text else {}),
        },
        reason=f"补发前：{previous_error}" if previous_error else "",
    )
    message.refresh_from_db()
    return message


@dataclass
class BulkResult:
    """What a bulk resend did: the messages resent, and each refused one with its reason."""

    resent: list[OutboundMessage] = field(default_factory=list)
    refused: list[tuple[OutboundMessage, str]] = field(default_factory=list)


def resend_messages(
    messages: Iterable[OutboundMessage], *, actor: User, now: datetime | None = None, confirmed: bool = False
) -> BulkResult:
    """Resend several messages; each one on its own (a refused one does not stop the rest)."""
    if not may_resend(actor):
        raise PermissionDenied("您没有补发短信的权限")
    now = now or timezone.now()
    result = BulkResult()
    for message in list(messages)[:BULK_LIMIT]:
        try:
            result.resent.append(resend_message(message, actor=actor, now=now, confirmed=confirmed))
        except DomainError as exc:
            result.refused.append((message, exc.message))
    return result
