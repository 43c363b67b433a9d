"""Dispatch: send due outbox rows through the gateway exactly once, and settle the rest.

The race this module is built around: a worker may die (SIGKILL, deploy, power) or stall (a
paused VM, a batch of slow gateway calls) after it claimed rows, after it handed one to the
gateway, or after the gateway accepted it but before the row says so. Therefore:
1. A row is claimed (scheduled → submitting, ``claimed_at``) in its own committed
   transaction *before* the gateway is called, so no other worker can take it.
2. Every later write of the row is a move through ``crm.care.outbox.move`` that compares the
   status *and the claim this worker holds* in the same UPDATE (the table of allowed moves is
   ``OutboundMessage.ALLOWED_MOVES``). A worker that stalled past the lease, whose row settle
   has since returned to the queue and another worker claimed, rescheduled or sent, finds its
   claim gone: its late writes (window, quiet hours, daily cap, outcome) change nothing.
3. Just before the gateway call the claim is re-taken and the row stamped ``handed_at`` in one
   compare-and-set, which also requires the customer to be still reachable (not opted out,
   consent for the purpose, not archived): an opt-out arriving while a batch is being sent
   stops the rest of it. Only a worker whose hand-off succeeded calls the gateway.
4. The outbox id travels to the gateway as its reference (Aliyun OutId, Tencent
   SessionContext) and comes back in receipts and status queries.
5. ``settle_submitting`` takes rows whose claim is older than the lease. One never handed to
   the gateway (a crash between claim and send: up to a batch) goes back to the queue at
   once, whatever the gateway, its attempt given back. One handed over is looked up in the
   gateway's status query and settled from it or from a receipt — never sent again blindly;
   only when an authoritative query (Aliyun, console, locmem) has not known it for the settle
   grace is it queued again: the gateway never received it. Tencent's query lists only
   reported messages, so an unlisted row is handed to a person after a day instead.

Timing and order: a row is claimed only while its window is open, the earliest window end
first, so a large broadcast never starves a personal message whose window closes sooner. A
row whose window closes while claimed goes back to the queue unsent; whether it still goes
later (catch-up) or expires is ``expire_overdue``'s decision, not dispatch's. Dispatch never
sends late.

Throughput: a claimed batch is read with what its checks need in one query each (the
messages, the per-customer daily counts, the deals), each message costs one UPDATE before
its gateway call (the hand-off), and the messages the gateway accepted are marked sent
together, in one transaction, when the batch is done. A worker killed mid-batch therefore
leaves up to a batch accepted but still "submitting"; settle finds them in the gateway's
status query like any other unknown outcome (point 5), and never resends.

Timing settings (``CARE_LEASE_SECONDS``, ``CARE_SETTLE_GRACE_SECONDS``): the lease must be
longer than one gateway call (SMS_CONNECT_TIMEOUT_SECONDS + SMS_TIMEOUT_SECONDS), or settle
would query rows still in flight; the grace longer than the lease plus the gateway's delay in
listing a message in its status query.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateTimeField, F, Q, QuerySet, Value, When
from django.utils import timezone

from crm.care import catchup, outbox, services, templating, timing
from crm.care.audience import CONSENT_FIELD
from crm.care.models import DeliveryReceipt, GatewayState, InboundReply, OutboundMessage
from crm.care.rules import Purpose, Trigger
from crm.customers import timeline
from crm.customers.models import Customer, Deal, TimelineEvent
from crm.lib.dates import local_day, local_midnight
from crm.lib.numbers import parse_id
from crm.sms.base import Gateway, Outcome, QueryError, Receipt, SmsMessage
from crm.sms.base import InboundReply as Reply
from crm.sms.gateways import get_gateway

log = logging.getLogger("crm.care.dispatch")
Status = OutboundMessage.Status

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)  # default: a "submitting" row older than this is looked up by settle
SETTLE_GRACE = timedelta(minutes=10)  # default: the gateway's query has not known it this long: never received
CLAIM_BATCH = 20
PAUSE = timedelta(minutes=30)  # a gateway that cannot send at all is left alone this long
Clock = Callable[[], datetime]
# Claim order: the earliest window end first (index message_due_by_deadline).
DUE_ORDER = ("window_ends_at", "next_attempt_at", "id")


def lease() -> timedelta:
    """How long a claim is left alone before settle looks it up (CARE_LEASE_SECONDS)."""
    return timedelta(seconds=getattr(settings, "CARE_LEASE_SECONDS", LEASE.total_seconds()))


def settle_grace() -> timedelta:
    """How long the gateway's query must not know a claimed row before it is queued again
    (CARE_SETTLE_GRACE_SECONDS)."""
    return timedelta(seconds=getattr(settings, "CARE_SETTLE_GRACE_SECONDS", SETTLE_GRACE.total_seconds()))


def job_clock(now: datetime) -> Clock:
    """``now`` advanced by the time the job has been running.

    A batch can take minutes when the gateway is slow; stamping every claim with the job's
    start would make settle_submitting (running beside it under Celery) take rows still
    waiting for their turn for abandoned ones and return them to the queue, so that this
    worker's hand-off fails and another worker sends them: correct, but churn.
    """
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def daily_cap() -> int:
    """Per-customer messages per day, below the gateways' own per-number limits."""
    return int(getattr(settings, "CARE_DAILY_CAP", 3))


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min, 4 min … (capped at 30 min)."""
    base = min(30 * 2 ** max(attempts - 1, 0), 1800)
    return timedelta(seconds=base * (0.8 + 0.4 * random.random()))  # jitter, not security


# ----------------------------------------------------------------------------- claiming


def due(now: datetime) -> QuerySet[OutboundMessage]:
    """Rows ready to go: scheduled, due, and their window still open, the earliest window
    end first. A row past its window is left for ``expire_overdue`` (catch up or expire)."""
    return OutboundMessage.objects.filter(
        status=Status.SCHEDULED, next_attempt_at__lte=now, window_ends_at__gt=now
    ).order_by(*DUE_ORDER)


def claim(now: datetime, limit: int) -> list[int]:
    """Move up to ``limit`` due rows from scheduled to submitting; return their ids.

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED lets workers take disjoint rows without
    waiting. SQLite (one writer at a time): compare-and-set UPDATE … WHERE status =
    'scheduled' claims a row only if no one else did first.
    """
    claimed: dict[str, Any] = {"claimed_at": now, "handed_at": None, "attempts": F("attempts") + 1}
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(due(now).select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            if ids:
                outbox.move_all(Q(pk__in=ids), frm=Status.SCHEDULED, to=Status.SUBMITTING, now=now, **claimed)
        return ids
    return [
        pk
        for pk in due(now).values_list("pk", flat=True)[:limit]
        if outbox.move(pk, frm=Status.SCHEDULED, to=Status.SUBMITTING, now=now, **claimed)
    ]


def _paused(gateway_name: str, now: datetime) -> GatewayState | None:
    return GatewayState.objects.filter(gateway=gateway_name, paused_until__gt=now).first()


# ----------------------------------------------------------------------------- sending


def send_due_messages(
    *, now: datetime, limit: int = 500, gateway: Gateway | None = None, clock: Clock | None = None
) -> int:
    """Send up to ``limit`` due messages; returns how many the gateway accepted.

    ``clock``: the time as the job runs (default: ``now`` advanced by the time elapsed).
    """
    gateway = gateway or get_gateway()
    clock = clock or job_clock(now)
    accepted = 0
    handled = 0
    while handled < limit:
        if _paused(gateway.name, clock()):
            break
        ids = claim(clock(), min(CLAIM_BATCH, limit - handled))
        if not ids:
            break
        messages = list(
            OutboundMessage.objects.filter(pk__in=ids)
            .select_related("customer", "rule", "project__company")
            .order_by(*DUE_ORDER)
        )
        batch = _Batch.load(messages, clock())
        try:
            for message in messages:
                handled += 1
                if batch.paused_until is not None:
                    # The gateway refused the account: the rest of the batch waits with it.
                    _reschedule(message, batch.paused_until, batch.pause_reason, now=clock())
                elif _send_one(message, gateway, clock, batch):
                    accepted += 1
        finally:
            # Also when a send raised: what the gateway accepted is marked, not left to settle.
            _mark_sent(batch.accepted, gateway.name)
    return accepted


@dataclass
class _Accepted:
    message: OutboundMessage
    claim: datetime  # the claim the hand-off took: the row is marked sent only if still ours
    gateway_message_id: str
    at: datetime


@dataclass
class _Batch:
    """What the checks of one claimed batch need, read once, and what the gateway accepted.

    The deals are read when the batch is loaded: a deal cancelled while the batch is being
    sent (a few seconds; at worst 20 gateway timeouts) is noticed by the next batch. The
    customer's opt-out and consent are checked again at each hand-off.
    """

    day: date  # Asia/Shanghai day the counts are for
    sent_today: Counter[int]
    deals: dict[int, Mapping[str, object]]
    # Recipients who are not customers (unlinked complainants) are capped by number.
    sent_to_contact: Counter[str] = field(default_factory=Counter)
    accepted: list[_Accepted] = field(default_factory=list)
    paused_until: datetime | None = None
    pause_reason: str = ""

    @classmethod
    def load(cls, messages: list[OutboundMessage], now: datetime) -> _Batch:
        customer_ids = {m.customer_id for m in messages if m.customer_id is not None}
        contacts = {m.contact_mobile for m in messages if m.customer_id is None}
        contact_counts = (
            OutboundMessage.objects.filter(
                customer__isnull=True,
                contact_mobile__in=contacts,
                status__in=SENT_STATUSES,
                submitted_at__gte=_local_midnight(now),
            )
            .values_list("contact_mobile")
            .annotate(n=Count("id"))
            .order_by()
            if contacts
            else []
        )
        counts = (
            OutboundMessage.objects.filter(
                customer_id__in=customer_ids,
                status__in=SENT_STATUSES,
                submitted_at__gte=_local_midnight(now),
            )
            .values_list("customer_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        deal_ids = {deal_id for m in messages if (deal_id := _deal_id(m)) is not None}
        deals: dict[int, Mapping[str, object]] = (
            {d["pk"]: d for d in Deal.objects.filter(pk__in=deal_ids).values("pk", "status", "contracted_on")}
            if deal_ids
            else {}
        )
        return cls(
            day=local_day(now),
            sent_today=Counter(dict(counts)),
            deals=deals,
            sent_to_contact=Counter(dict(contact_counts)),
        )

    def sent_today_for(self, message: OutboundMessage, now: datetime) -> int:
        """Messages sent to the message's recipient today: those counted at load plus those
        this batch sent; a batch running past midnight counts afresh."""
        if message.customer_id is None:
            if local_day(now) != self.day:
                return _sent_today_to_contact(message.contact_mobile, now)
            return self.sent_to_contact[message.contact_mobile]
        if local_day(now) != self.day:
            return _sent_today(message.customer_id, now)
        return self.sent_today[message.customer_id]

    def count_sent(self, message: OutboundMessage) -> None:
        if message.customer_id is None:
            self.sent_to_contact[message.contact_mobile] += 1
        else:
            self.sent_today[message.customer_id] += 1


def _deal_id(message: OutboundMessage) -> int | None:
    return int(message.occasion[5:]) if message.occasion.startswith("deal:") else None


def _blocked(
    message: OutboundMessage, now: datetime, deals: dict[int, Mapping[str, object]] | None = None
) -> tuple[str, str] | None:
    """(new status, reason) when the message must not go; None when it may. ``deals``: the
    batch's deals by id, read at once (else the message's deal is read here)."""
    if message.contact_mobile and services.mobile_has_opted_out(message.contact_mobile):
        return Status.CANCELLED, "该号码已退订短信（回复退订），不再发送"
    customer = message.customer
    if customer is None:
        # A contact who is not a customer (an unlinked complainant): only service notices
        # about their own complaint go to them, and only an opt-out of the number stops them.
        if message.purpose != Purpose.NOTIFICATION:
            return Status.CANCELLED, "收件人不是客户，只能接收服务通知"
        return _unfilled(message)
    if customer.has_opted_out:
        return Status.CANCELLED, "客户已退订"
    if customer.is_archived:
        return Status.CANCELLED, "客户已归档"
    if not getattr(customer, CONSENT_FIELD[Purpose(message.purpose)]):
        return Status.CANCELLED, f"客户未同意接收{Purpose(message.purpose).label}短信"
    deal_id = _deal_id(message)
    if deal_id is not None:
        if deals is not None:
            deal: Mapping[str, object] | None = deals.get(deal_id)
        else:
            deal = Deal.objects.filter(pk=deal_id).values("status", "contracted_on").first()
        if deal is None or deal["status"] != Deal.Status.ACTIVE:
            return Status.CANCELLED, "成交已取消"
        if message.trigger == Trigger.SIGNING_REMINDER and deal["contracted_on"]:
            return Status.CANCELLED, "客户已签约，无需提醒"
    return _unfilled(message)


def _unfilled(message: OutboundMessage) -> tuple[str, str] | None:
    unfilled = [name for name in templating.placeholders(message.text) if name in templating.KNOWN]
    if unfilled:
        # The last guard against a placeholder reaching a customer: a person fills it first.
        return Status.HELD, f"短信中还有未填写的内容：{'、'.join('{' + n + '}' for n in unfilled)}"
    return None


def _reschedule(
    message: OutboundMessage, when: datetime, reason: str, *, now: datetime, refund_attempt: bool = True
) -> bool:
    """Back to the queue, if the claim is still ours; ``refund_attempt``: the gateway was not
    (or could not be) asked, so the attempt does not count."""
    extra: dict[str, Any] = {"attempts": F("attempts") - 1} if refund_attempt else {}
    return outbox.move(
        message.pk,
        frm=Status.SUBMITTING,
        to=Status.SCHEDULED,
        claim=message.claimed_at,
        now=now,
        next_attempt_at=when,
        error=reason[:300],
        **extra,
    )


def _finish(message: OutboundMessage, status: str, reason: str, code: str = "", *, now: datetime) -> bool:
    """Close a claimed row (failed, cancelled, held), if the claim is still ours."""
    return outbox.move(
        message.pk,
        frm=Status.SUBMITTING,
        to=status,
        claim=message.claimed_at,
        now=now,
        error=reason[:300],
        error_code=code[:80],
    )


SENT_STATUSES = [Status.SENT, Status.DELIVERED, Status.UNDELIVERED]


def _local_midnight(now: datetime) -> datetime:
    return local_midnight(local_day(now))


def _sent_today(customer_id: int, now: datetime) -> int:
    return OutboundMessage.objects.filter(
        customer_id=customer_id, status__in=SENT_STATUSES, submitted_at__gte=_local_midnight(now)
    ).count()


def _sent_today_to_contact(mobile: str, now: datetime) -> int:
    return OutboundMessage.objects.filter(
        customer__isnull=True, contact_mobile=mobile, status__in=SENT_STATUSES, submitted_at__gte=_local_midnight(now)
    ).count()


def _mark_sent(accepted: list[_Accepted], gateway_name: str) -> None:
    """Mark what the gateway accepted as sent, with its timeline events, in one transaction.

    Only rows still "submitting" under the claim their hand-off took are marked: settle may
    already have applied a receipt (a batch that ran longer than the lease), and then wrote
    the timeline event itself. The rows are locked first, so a settle or callback running
    now waits and then finds them closed.
    """
    if not accepted:
        return
    by_pk = {a.message.pk: a for a in accepted}
    claims = {a.message.pk: a.claim for a in accepted}
    held = Q(pk__in=[])
    for pk, at in claims.items():
        held |= Q(pk=pk, claimed_at=at)
    with transaction.atomic():
        still_open = list(
            OutboundMessage.objects.select_for_update()
            .filter(held, status=Status.SUBMITTING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not still_open:
            return
        mine = [by_pk[pk] for pk in still_open]
        outbox.move_all(
            Q(pk__in=still_open),
            frm=Status.SUBMITTING,
            to=Status.SENT,
            claims={pk: claims[pk] for pk in still_open},
            gateway=gateway_name,
            gateway_message_id=Case(
                *(When(pk=a.message.pk, then=Value(a.gateway_message_id[:80])) for a in mine),
                output_field=CharField(),
            ),
            submitted_at=Case(*(When(pk=a.message.pk, then=Value(a.at)) for a in mine), output_field=DateTimeField()),
            error="",
            error_code="",
        )
        timeline.record_many(
            timeline.Entry(
                a.message.customer_id,
                TimelineEvent.Kind.MESSAGE,
                f"温馨速递·{a.message.rule.get_trigger_display()}：{a.message.text[:60]}",
                at=a.at,
                source=a.message,
            )
            for a in mine
            if a.message.customer_id is not None  # a contact who is no customer has no timeline
        )


def _hand(message: OutboundMessage, now: datetime, gateway_name: str) -> bool:
    """Re-take the claim and stamp the row as handed to the gateway, in one compare-and-set.

    The races it settles: this worker stalled past the lease and settle returned the row to
    the queue (another worker may have claimed or sent it) — the claim is no longer the one
    we hold; or the customer opted out or withdrew consent since the batch was read — the
    EXISTS fails. Either way nothing is sent. Committed before the gateway call, so settle
    knows from ``handed_at`` which claimed rows the gateway may have.
    """
    if message.claimed_at is None:  # not a claimed row: nothing of ours to hand over
        return False
    handed = outbox.hand_off(
        message.pk,
        claim=message.claimed_at,
        now=now,
        gateway=gateway_name,
        purpose=message.purpose,
        to_customer=message.customer_id is not None,
        to_contact=bool(message.contact_mobile),
    )
    if handed:
        message.claimed_at = message.handed_at = now
    return handed


def _not_handed(message: OutboundMessage, now: datetime, batch: _Batch) -> None:
    """The hand-off failed: the claim is gone (nothing to do), or the customer changed."""
    fresh = (
        OutboundMessage.objects.filter(pk=message.pk, status=Status.SUBMITTING, claimed_at=message.claimed_at)
        .select_related("customer")
        .first()
    )
    if fresh is None:
        log.warning("message %s: claim taken over before sending; not sent by this worker", message.pk)
        return
    blocked = _blocked(fresh, now, batch.deals)
    if blocked:
        _finish(fresh, *blocked, now=now)
    else:  # consent given back meanwhile: the next claim checks again
        _reschedule(fresh, now, "客户状态有变化，稍后发送", now=now)


def _send_one(message: OutboundMessage, gateway: Gateway, clock: Clock, batch: _Batch) -> bool:
    now = clock()
    if now >= message.window_ends_at:
        # Never late: back to the queue, where expire_overdue decides (catch up or expire).
        _reschedule(message, message.next_attempt_at, "已过发送时段", now=now)
        return False
    blocked = _blocked(message, now, batch.deals)
    if blocked:
        _finish(message, *blocked, now=now)
        return False
    if timing.in_quiet_hours(now, message.purpose):
        # 工信部令第31号: no care/marketing SMS 20:00–08:00; past its window it is not claimed again.
        _reschedule(message, timing.quiet_hours_end(now), "夜间免打扰时段，推迟到 08:00", now=now)
        return False
    if batch.sent_today_for(message, now) >= daily_cap():
        later = timing.quiet_hours_end(now + timedelta(hours=12))
        _reschedule(message, later, f"已达每日 {daily_cap()} 条上限，顺延", now=now)
        return False
    if not _hand(message, now, gateway.name):
        _not_handed(message, now, batch)
        return False
    handed_at = now  # also the claim now held
    company = message.project.company
    result = gateway.send(
        SmsMessage(
            reference=str(message.pk),
            mobile=message.recipient_mobile,
            sign_name=company.sms_signature or company.name,
            template_code=message.rule.gateway_template_code,
            params={k: str(v) for k, v in (message.params or {}).items()},
            text=message.text,
        )
    )
    outcome = result.outcome
    now = clock()
    if outcome is Outcome.ACCEPTED:
        # Marked sent with the rest of the batch (_mark_sent), still only if still ours.
        batch.accepted.append(_Accepted(message, handed_at, result.gateway_message_id, handed_at))
        batch.count_sent(message)
        return True
    if outcome is Outcome.UNKNOWN:
        # Stays "submitting": settle_submitting asks the gateway instead of resending.
        outbox.move(
            message.pk,
            frm=Status.SUBMITTING,
            to=Status.SUBMITTING,
            claim=message.claimed_at,
            now=now,
            error=f"结果未知，待核对：{result.detail}"[:300],
            error_code=result.code[:80],
        )
        return False
    if outcome is Outcome.OPTED_OUT:
        _finish(message, Status.FAILED, result.detail, result.code, now=now)
        _opt_out_recipient(message, source=f"网关黑名单 {result.code}")
        return False
    if outcome is Outcome.FAILED:
        _finish(message, Status.FAILED, result.detail, result.code, now=now)
        return False
    if outcome is Outcome.PAUSE:
        # The account cannot send at all: not this message's fault, so no attempt is used up.
        until = now + PAUSE
        GatewayState.objects.update_or_create(
            gateway=gateway.name, defaults={"paused_until": until, "reason": result.detail[:300]}
        )
        log.error("SMS gateway %s paused: %s %s", gateway.name, result.code, result.detail)
        _reschedule(message, until, result.detail, now=now)
        batch.paused_until, batch.pause_reason = until, result.detail
        return False
    if outcome is Outcome.DEFER:
        _reschedule(message, timing.quiet_hours_end(now), result.detail, now=now)
        return False
    if message.attempts >= MAX_ATTEMPTS:
        _finish(message, Status.FAILED, f"重试 {message.attempts} 次仍失败：{result.detail}", result.code, now=now)
        return False
    delay = timedelta(seconds=result.retry_after) if result.retry_after else backoff(message.attempts)
    _reschedule(message, now + delay, result.detail, now=now, refund_attempt=False)
    return False


# ----------------------------------------------------------------------------- settling


def settle_submitting(*, now: datetime, gateway: Gateway | None = None, limit: int = 500) -> int:
    """Settle rows left "submitting" for longer than the lease (see the module docstring, 5)."""
    gateway = gateway or get_gateway()
    settled = 0
    stuck = OutboundMessage.objects.filter(status=Status.SUBMITTING, claimed_at__lt=now - lease()).select_related(
        "customer"
    )
    for message in stuck.order_by("claimed_at", "id")[:limit]:
        claimed_at = message.claimed_at or now
        if message.handed_at is None:
            # Claimed but never handed to the gateway (a crash between claim and send, a batch
            # stalled before its turn): no gateway can have it, so it is queued again at once.
            # The compare-and-set on the claim and the empty stamp loses to a hand-off.
            settled += outbox.move(
                message.pk,
                frm=Status.SUBMITTING,
                to=Status.SCHEDULED,
                claim=message.claimed_at,
                only_if=Q(handed_at__isnull=True),
                now=now,
                next_attempt_at=now,
                attempts=F("attempts") - 1,
                error="上次未发出，已重新排队",
            )
            continue
        try:
            mine = [
                receipt
                for sent_on in _query_dates(claimed_at)
                for receipt in gateway.query(str(message.pk), message.recipient_mobile, sent_on)
                if receipt.reference == str(message.pk)
            ]
        except QueryError as exc:
            log.warning("status query for message %s failed: %s", message.pk, exc)
            continue
        if mine:
            if _apply_receipt(message, mine[0], now):
                settled += 1
        elif not query_is_authoritative(gateway):
            # Tencent's query lists only messages that already have a delivery report, so
            # "not listed" proves nothing: wait for a receipt, and after a day hand the row
            # to a person instead of risking a duplicate.
            if claimed_at < now - UNCONFIRMED_AFTER:
                settled += outbox.move(
                    message.pk,
                    frm=Status.SUBMITTING,
                    to=Status.FAILED,
                    claim=message.claimed_at,
                    now=now,
                    error="无法确认是否已发出（网关未返回回执），未自动重发，请人工核对",
                )
        elif claimed_at < now - settle_grace():
            # The gateway's own records never showed it: it was not received; queue it again.
            # Compare-and-set on the claim we looked at: a worker that re-took it meanwhile wins.
            settled += outbox.move(
                message.pk,
                frm=Status.SUBMITTING,
                to=Status.SCHEDULED,
                claim=message.claimed_at,
                now=now,
                next_attempt_at=now,
                error="网关未收到，重新排队",
            )
    return settled


UNCONFIRMED_AFTER = timedelta(hours=24)


def query_is_authoritative(gateway: Gateway) -> bool:
    """Whether the gateway's status query lists every message it accepted (Aliyun, the
    console with its record, the test backends) or only those with a delivery report
    (Tencent)."""
    return bool(getattr(gateway, "query_is_authoritative", gateway.name != "tencent"))


def _query_dates(claimed_at: datetime) -> list[date]:
    """The gateway files a message under the day it received it (Asia/Shanghai): a claim just
    before midnight may be filed under the next day, and missing it there would resend it."""
    first = local_day(claimed_at)
    last = local_day(claimed_at + lease())
    return [first] if last == first else [first, last]


# Rows a receipt finds not yet recorded as sent: the receipt stamps them and writes the
# customer's timeline event.
_NOT_RECORDED_AS_SENT = (Status.SCHEDULED, Status.SUBMITTING, Status.FAILED)


def _apply_receipt(message: OutboundMessage, receipt: Receipt, now: datetime) -> bool:
    """Apply a receipt to its message; returns False when the row moved on since it was read
    (a concurrent settle or callback closed it, another worker holds it now) or the receipt
    says nothing new (a second report of a delivered message): it then changes nothing."""
    frm = Status(message.status)
    final = Status.DELIVERED if receipt.delivered else Status.UNDELIVERED
    to = final if receipt.is_final else Status.SENT
    if not outbox.allowed(frm, to):
        return False
    first = frm in _NOT_RECORDED_AS_SENT
    updates: dict[str, Any] = {}
    if receipt.gateway_message_id:
        updates["gateway_message_id"] = receipt.gateway_message_id[:80]
    if first:
        updates["submitted_at"] = message.handed_at or message.claimed_at or now
        updates["error"] = ""
    if receipt.is_final:
        updates["delivered_at"] = receipt.reported_at or now
        if not receipt.delivered:
            updates["error"] = f"未送达：{receipt.detail or receipt.code}"[:300]
            updates["error_code"] = receipt.code[:80]
    with transaction.atomic():
        # Two settle runs (two beats, a redelivered task) or a settle and a callback may hold
        # the same open row: only the first moves it and writes the timeline event.
        if not outbox.move(message.pk, frm=frm, to=to, claim=message.claimed_at, now=now, **updates):
            return False
        if first and message.customer_id is not None:
            timeline.record(
                message.customer_id,
                TimelineEvent.Kind.MESSAGE,
                f"温馨速递·{message.get_trigger_display()}：{message.text[:60]}",
                at=message.handed_at or message.claimed_at or now,
                source=message,
            )
    if receipt.has_opted_out:
        _opt_out_recipient(message, source="网关回执：黑名单/退订")
    return True


def _opt_out_recipient(message: OutboundMessage, *, source: str) -> None:
    """The gateway says the recipient refuses SMS: opt out the customer, or the number of a
    contact who is not a customer."""
    if message.customer is not None:
        services.opt_out(message.customer, actor=None, source=source)
    else:
        services.opt_out_mobile(message.contact_mobile, source=source)


def expire_overdue(*, now: datetime, due_only: bool = False) -> int:
    """Scheduled messages past their window go in the next allowed window while their
    rule's catch-up period lasts, and expire with the reason past it (crm.care.catchup)."""
    return catchup.reschedule_overdue(now=now, due_only=due_only)


# ----------------------------------------------------------------------------- callbacks


def record_receipts(receipts: Iterable[Receipt], *, gateway_name: str, now: datetime | None = None) -> int:
    """Apply pushed receipts once each (gateways push the same receipt several times)."""
    now = now or timezone.now()
    applied = 0
    for receipt in receipts:
        with transaction.atomic():
            _, created = DeliveryReceipt.objects.get_or_create(
                dedup_key=f"{gateway_name}:{receipt.dedup_key}",
                defaults={
                    "gateway": gateway_name,
                    "delivered": receipt.delivered,
                    "code": receipt.code[:80],
                    "reported_at": receipt.reported_at,
                },
            )
            if not created:
                continue
            lookup = Q(gateway_message_id=receipt.gateway_message_id) if receipt.gateway_message_id else Q(pk__in=[])
            if (reference := parse_id(receipt.reference)) is not None:
                lookup |= Q(pk=reference)
            message = (
                OutboundMessage.objects.select_for_update(of=("self",))
                .filter(lookup)
                .select_related("customer")
                .first()
            )
            if message is None:
                log.warning("receipt for unknown message %s/%s", receipt.reference, receipt.gateway_message_id)
                continue
            DeliveryReceipt.objects.filter(dedup_key=f"{gateway_name}:{receipt.dedup_key}").update(message=message)
            if _apply_receipt(message, receipt, now):
                applied += 1
    return applied


def record_replies(replies: Iterable[Reply], *, gateway_name: str, now: datetime | None = None) -> int:
    """Store replies; an opt-out word opts out every customer with that number at once."""
    now = now or timezone.now()
    opted = 0
    for reply in replies:
        received = reply.received_at or now
        key = f"{gateway_name}:{reply.mobile}:{received.isoformat()}:{reply.text}"[:120]
        with transaction.atomic():
            record, created = InboundReply.objects.get_or_create(
                dedup_key=key,
                defaults={
                    "mobile": reply.mobile,
                    "text": reply.text[:500],
                    "received_at": received,
                    "gateway": gateway_name,
                    "is_opt_out": reply.is_opt_out,
                },
            )
            if not created or not reply.is_opt_out:
                continue
            # The number itself, so that a complainant who is not a customer is not sent to.
            services.opt_out_mobile(reply.mobile, source=f"短信回复“{reply.text}”", now=received)
            customers = list(
                Customer.objects.filter(Q(mobile=reply.mobile) | Q(mobile2=reply.mobile), has_opted_out=False)
            )
            for customer in customers:
                services.opt_out(customer, actor=None, source=f"短信回复“{reply.text}”")
            record.customers_opted_out = len(customers)
            record.save(update_fields=["customers_opted_out"])
            opted += len(customers)
    return opted
