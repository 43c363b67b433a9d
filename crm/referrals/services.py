"""Writes of 老带新: recording who brought whom, keeping ``Customer.referrer`` and the
Referral row in step, registering an arrival, and the reward lifecycle.

Rules (seed 004 第二篇 三 "老客户带新客户"四大策略; seed 003: 鼓励客户推荐新客户, 给予奖励):
1. A new customer has at most one referrer, of the same company, never themself, and never
   one of the customers they brought in themselves (no loops in a chain).
2. ``Customer.referrer`` and the Referral row agree: recording a referral sets the
   referrer through crm.customers.services; a referrer set or changed in customers (the
   registration form, an edit, a merge) reaches ``sync_referrals`` through the signal.
3. The status is derived from the new customer's deal (selectors.with_status); the one fact
   kept here is the arrival (到访), registered by the consultant.
4. A reward is proposed once the new customer has subscribed (已认购), and moves
   待审批 → 已批准 → 已发放 or → 已驳回 (Reward.ALLOWED_MOVES); approving and paying need
   their permissions (crm.accounts.roles: 客服中心主任, 行政主管, 管理员).
Every write leaves an audit row and events on both customers' timelines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import services as customer_services
from crm.customers import timeline
from crm.customers.models import Customer, TimelineEvent
from crm.customers.timeline import Entry
from crm.referrals.models import Referral, ReferralChannel, ReferralStatus, Reward

if TYPE_CHECKING:
    from crm.accounts.models import User

Kind = TimelineEvent.Kind
State = Reward.State

VIEW = "referrals.view_referral"
ADD = "referrals.add_referral"
CHANGE = "referrals.change_referral"
EXPORT = "referrals.export_referrals"
STATS = "referrals.view_referral_stats"
VIEW_REWARD = "referrals.view_reward"
PROPOSE_REWARD = "referrals.add_reward"
APPROVE_REWARD = "referrals.approve_reward"
PAY_REWARD = "referrals.pay_reward"

# Rule 4: a reward is for a referral that brought a deal.
REWARDABLE = frozenset({ReferralStatus.SUBSCRIBED, ReferralStatus.SIGNED})


def _label(customer: Customer) -> str:
    return f"{customer.name}（{customer.number}）"


def upline_ids(customer_id: int, *, limit: int = 50) -> list[int]:
    """The referrers above a customer, nearest first (their referrer, that one's …)."""
    seen: list[int] = []
    current: int | None = customer_id
    while current is not None and len(seen) < limit:
        current = Customer.objects.filter(pk=current).values_list("referrer_id", flat=True).first()
        if current is None or current in seen or current == customer_id:
            break
        seen.append(current)
    return seen


def check_referrer(referred: Customer, referrer: Customer) -> None:
    """Rule 1: refuse a referrer that is the customer, of another company, or below them."""
    if referrer.pk == referred.pk:
        raise DomainError("推荐人不能是客户本人", field="referrer")
    if referrer.company_id != referred.company_id:
        raise DomainError("推荐人须是本公司客户", field="referrer")
    if referred.pk in upline_ids(referrer.pk):
        raise DomainError("推荐人是由该客户介绍来的，不能互为推荐人", field="referrer")


def _timeline_for(referral: Referral, *, actor: User | None, at: datetime, verb: str = "") -> None:
    referrer, referred = referral.referrer, referral.referred
    channel = referral.get_channel_display()
    timeline.record_many(
        [
            Entry(
                referred,
                Kind.REFERRAL,
                f"{verb}由老客户 {_label(referrer)}推荐（{channel}）",
                actor,
                at,
                None,
                referral,
            ),
            Entry(
                referrer, Kind.REFERRAL, f"{verb}推荐新客户 {_label(referred)}（{channel}）", actor, at, None, referral
            ),
        ]
    )


@transaction.atomic
def record_referral(
    referred: Customer,
    *,
    actor: User,
    referrer: Customer,
    channel: str = ReferralChannel.CHAIN,
    visited_on: date | None = None,
    now: datetime | None = None,
) -> Referral:
    """Record that ``referrer`` brought ``referred`` in (at intake or later).

    1. Rule 1 checks; a customer that already has a referral is refused (change it instead).
    2. The referral row, then ``Customer.referrer`` through customers (audited there).
    3. An audit row and a 老带新 event on both customers' timelines.
    """
    if not actor.has_perm(ADD):
        raise NotAllowed("您没有登记老带新的权限")
    now = now or timezone.now()
    referred = Customer.objects.select_for_update().get(pk=referred.pk)
    if Referral.objects.filter(referred=referred).exists():
        raise DomainError("该客户已登记推荐人", field="referred")
    if channel not in ReferralChannel.values:
        raise DomainError("请选择推荐方式", field="channel")
    check_referrer(referred, referrer)
    referral = Referral.objects.create(
        company_id=referred.company_id,
        referrer=referrer,
        referred=referred,
        channel=channel,
        visited_on=visited_on,
        recorded_by=actor,
        created_at=now,
    )
    if referred.referrer_id != referrer.pk:
        # The signal this sends finds the row above in step and does nothing more.
        customer_services.update_customer(referred, actor=actor, referrer=referrer)
    audit.log(
        audit.AuditLog.Action.CREATE,
        actor=actor,
        target=referral,
        customer_id=referred.pk,
        summary=f"登记老带新：{referrer.number} 推荐 {referred.number}",
    )
    _timeline_for(referral, actor=actor, at=now)
    return referral


@transaction.atomic
def change_referral(
    referral: Referral, *, actor: User, channel: str | None = None, visited_on: date | Any | None = ...
) -> Referral:
    """Change the strategy or register the arrival (到访) of the new customer."""
    if not actor.has_perm(CHANGE):
        raise NotAllowed("您没有登记老带新的权限")
    row = Referral.objects.select_for_update().select_related("referrer", "referred").get(pk=referral.pk)
    changes: dict[str, list[str]] = {}
    if channel is not None and channel != row.channel:
        if channel not in ReferralChannel.values:
            raise DomainError("请选择推荐方式", field="channel")
        changes["channel"] = [row.channel, channel]
        row.channel = channel
    if visited_on is not ... and visited_on != row.visited_on:
        changes["visited_on"] = [str(row.visited_on or ""), str(visited_on or "")]
        row.visited_on = visited_on
    if not changes:
        return row
    row.save(update_fields=["channel", "visited_on"])
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=row, customer_id=row.referred_id, changes=changes)
    if "visited_on" in changes and row.visited_on:
        timeline.record(
            row.referred,
            Kind.REFERRAL,
            f"老带新客户到访（{row.visited_on:%Y-%m-%d}），推荐人 {_label(row.referrer)}",
            actor=actor,
            source=row,
        )
    return row


def sync_referrals(customer_ids: Iterable[int], *, actor: User | None, now: datetime | None = None) -> int:
    """Bring the Referral rows of these customers in step with ``Customer.referrer``
    (rule 2), after customers set, changed or moved a referrer. Returns rows written.

    1. A referrer and no row: a merged duplicate's row moves to the customer it was merged
       into (keeping its strategy and rewards), else a new row (连锁介绍).
    2. A row whose referrer differs: the row follows the customer.
    3. No referrer any more: the row goes, unless it has rewards (then the change is refused).
    A merged duplicate's own row stays with it (its deals moved; the lists leave it out).
    """
    now = now or timezone.now()
    written = 0
    for customer in Customer.objects.filter(pk__in=list(customer_ids)).select_related("referrer"):
        if customer.merged_into_id:
            continue
        row = Referral.objects.select_for_update().filter(referred=customer).first()
        if customer.referrer_id is None:
            if row is None:
                continue
            if row.rewards.exists():
                raise DomainError("该客户的老带新已有奖励记录，不能移除推荐人", field="referrer")
            audit.log(audit.AuditLog.Action.DELETE, actor=actor, target=row, customer_id=customer.pk)
            row.delete()
            written += 1
            continue
        referrer = customer.referrer
        assert referrer is not None
        check_referrer(customer, referrer)
        moved = False
        if row is None:
            row = Referral.objects.select_for_update().filter(referred__merged_into=customer).first()
            if row is not None:
                row.referred, moved = customer, True
        if row is None:
            row = Referral(
                company_id=customer.company_id,
                referred=customer,
                referrer=referrer,
                recorded_by=actor if actor is not None and actor.is_authenticated else None,
                created_at=now,
            )
        elif row.referrer_id == referrer.pk and not moved:
            continue
        verb = "" if row.pk is None else "推荐人变更："
        row.referrer = referrer
        row.save()
        written += 1
        _timeline_for(row, actor=actor, at=now, verb=verb)
    return written


def _amount(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError("请填写正确的金额", field="amount") from exc
    if value < 0:
        raise DomainError("金额不能为负数", field="amount")
    if value >= Decimal("1e10"):
        raise DomainError("金额过大", field="amount")
    return value


@transaction.atomic
def propose_reward(
    referral: Referral, *, actor: User, kind: str, amount: Any, note: str = "", now: datetime | None = None
) -> Reward:
    """Propose a reward for the referrer (rule 4): waits for approval."""
    from crm.referrals.selectors import status_of

    if not actor.has_perm(PROPOSE_REWARD):
        raise NotAllowed("您没有申请老带新奖励的权限")
    if kind not in Reward.Kind.values:
        raise DomainError("请选择奖励类型", field="kind")
    value = _amount(amount)
    row = Referral.objects.select_for_update().select_related("referrer", "referred").get(pk=referral.pk)
    if status_of(row) not in REWARDABLE:
        raise DomainError("新客户认购后才能申请老带新奖励")
    now = now or timezone.now()
    reward = Reward.objects.create(
        referral=row, kind=kind, amount=value, note=(note or "").strip()[:200], proposed_by=actor, proposed_at=now
    )
    audit.log(
        audit.AuditLog.Action.CREATE,
        actor=actor,
        target=reward,
        customer_id=row.referrer_id,
        summary=f"申请老带新奖励 {reward.get_kind_display()} {value} 元",
    )
    timeline.record(
        row.referrer,
        Kind.REFERRAL,
        f"申请老带新奖励：{reward.get_kind_display()} {value} 元（推荐 {_label(row.referred)}）",
        actor=actor,
        at=now,
        source=reward,
    )
    return reward


def _move(reward: Reward, target: str, *, actor: User, note: str = "", now: datetime | None = None) -> Reward:
    """The one guarded mover: locks the row, refuses a move not in ALLOWED_MOVES, stamps
    the actor and time that belong to the move, audits it and tells both timelines."""
    now = now or timezone.now()
    with transaction.atomic():
        row = Reward.objects.select_for_update().get(pk=reward.pk)
        frm = row.state
        if target not in Reward.ALLOWED_MOVES[frm]:
            raise DomainError(f"奖励{row.get_state_display()}，不能{State(target).label}")
        row.state = target
        if target == State.APPROVED:
            row.approved_by, row.approved_at = actor, now
        elif target == State.PAID:
            row.paid_by, row.paid_at = actor, now
        elif target == State.REJECTED:
            row.rejected_by, row.rejected_at = actor, now
        if note:
            row.decision_note = note.strip()[:200]
        row.save()
        referral = Referral.objects.select_related("referrer", "referred").get(pk=row.referral_id)
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=row,
            customer_id=referral.referrer_id,
            changes={"state": [frm, target]},
            reason=row.decision_note,
        )
        timeline.record(
            referral.referrer,
            Kind.REFERRAL,
            f"老带新奖励{State(target).label}：{row.get_kind_display()} {row.amount} 元（推荐 {_label(referral.referred)}）",
            actor=actor,
            at=now,
            source=row,
        )
    return row


def approve_reward(reward: Reward, *, actor: User, note: str = "", now: datetime | None = None) -> Reward:
    if not actor.has_perm(APPROVE_REWARD):
        raise NotAllowed("您没有审批老带新奖励的权限")
    return _move(reward, State.APPROVED, actor=actor, note=note, now=now)


def reject_reward(reward: Reward, *, actor: User, note: str = "", now: datetime | None = None) -> Reward:
    if not actor.has_perm(APPROVE_REWARD):
        raise NotAllowed("您没有审批老带新奖励的权限")
    if not (note or "").strip():
        raise DomainError("请填写驳回原因", field="note")
    return _move(reward, State.REJECTED, actor=actor, note=note, now=now)


def pay_reward(reward: Reward, *, actor: User, note: str = "", now: datetime | None = None) -> Reward:
    if not actor.has_perm(PAY_REWARD):
        raise NotAllowed("您没有发放老带新奖励的权限")
    return _move(reward, State.PAID, actor=actor, note=note, now=now)
