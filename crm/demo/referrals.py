"""Demo 老带新: owners of both projects who brought in new customers (some of whom have
since subscribed or signed, some only arrived), a two-level chain, and rewards in every
state — one waiting on the approvers' card, one approved and waiting to be paid, one paid."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company
from crm.customers.models import Customer, Deal, Stage
from crm.referrals import services
from crm.referrals.models import Referral, ReferralChannel, Reward

CHANNELS = (ReferralChannel.CHAIN, ReferralChannel.CHAIN, ReferralChannel.KEY_PERSON, ReferralChannel.CROSS)
REWARDS = ((Reward.Kind.CASH, "2000"), (Reward.Kind.PROPERTY_FEE, "3000"), (Reward.Kind.GIFT, "500"))


def seed(company: Company, seed_value: int) -> int:
    rng = random.Random(seed_value + 4)
    now = timezone.now()
    free = Customer.objects.filter(company=company, is_archived=False, referrer__isnull=True)
    referrers = list(free.filter(stage=Stage.OWNER).select_related("owner").order_by("id")[:6])
    # New customers: some with deals (their status follows the deal), some prospects.
    with_deals = list(free.filter(stage=Stage.OWNER).exclude(pk__in=[c.pk for c in referrers]).order_by("-id")[:6])
    prospects = list(free.exclude(stage=Stage.OWNER).order_by("-id")[:6])
    referred = [c for pair in zip(with_deals, prospects, strict=False) for c in pair]
    made: list[Referral] = []
    for i, new in enumerate(referred):
        if not referrers:
            break
        old = referrers[i % len(referrers)]
        if old.pk == new.pk:
            continue
        when = now - timedelta(days=rng.randint(3, 80))
        referral = services.record_referral(
            new,
            actor=new.owner,
            referrer=old,
            channel=CHANNELS[i % len(CHANNELS)],
            visited_on=when.date() + timedelta(days=2) if i % 3 != 2 else None,
            now=when,
        )
        made.append(referral)
    if len(made) >= 2:
        # A second level: the first new customer brings in someone as well.
        next_new = free.exclude(pk__in=[r.referred_id for r in made]).exclude(stage=Stage.OWNER).order_by("id").first()
        if next_new is not None:
            made.append(services.record_referral(next_new, actor=next_new.owner, referrer=made[0].referred, now=now))
    director = company.staff.filter(username="director1").first()
    supervisor = company.staff.filter(username="supervisor1").first()
    dealt = [r for r in made if Deal.objects.filter(customer_id=r.referred_id, status=Deal.Status.ACTIVE).exists()]
    for i, referral in enumerate(dealt[: len(REWARDS)]):
        kind, amount = REWARDS[i]
        reward = services.propose_reward(
            referral, actor=referral.referred.owner, kind=kind, amount=amount, note="老带新成交奖励"
        )
        if i >= 1 and supervisor is not None:
            reward = services.approve_reward(reward, actor=supervisor, note="符合老带新奖励条件")
        if i >= 2 and director is not None:
            services.pay_reward(
                reward, actor=director, note="已随物业费抵扣" if kind == Reward.Kind.PROPERTY_FEE else ""
            )
    return len(made)
