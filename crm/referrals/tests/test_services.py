"""Recording referrals, keeping Customer.referrer in step, and the reward lifecycle."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import product

import pytest

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import services as customer_services
from crm.customers.models import Channel, Customer, TimelineEvent
from crm.referrals import services
from crm.referrals.models import Referral, ReferralChannel, Reward

from .conftest import NOW

pytestmark = pytest.mark.django_db
State = Reward.State


def test_recording_a_referral_sets_the_referrer_and_tells_both_timelines(consultant, old, new):
    referral = services.record_referral(
        new, actor=consultant, referrer=old, channel=ReferralChannel.KEY_PERSON, now=NOW
    )
    assert Customer.objects.get(pk=new.pk).referrer_id == old.pk
    assert referral.company_id == new.company_id
    new_events = TimelineEvent.objects.filter(customer=new, kind=TimelineEvent.Kind.REFERRAL)
    old_events = TimelineEvent.objects.filter(customer=old, kind=TimelineEvent.Kind.REFERRAL)
    assert [e.summary for e in new_events] == [f"由老客户 张老业主（{old.number}）推荐（核心人物介绍）"]
    assert [e.summary for e in old_events] == [f"推荐新客户 李新客（{new.number}）（核心人物介绍）"]


def test_a_customer_registered_with_a_referrer_gets_a_referral(consultant, make_customer, old):
    fresh = make_customer("王介绍", referrer=old, source_channel=Channel.REFERRAL)
    referral = Referral.objects.get(referred=fresh)
    assert referral.referrer_id == old.pk
    assert referral.recorded_by_id == consultant.pk
    assert referral.channel == ReferralChannel.CHAIN


def test_changing_or_removing_the_referrer_in_customers_follows(consultant, make_customer, old, new):
    fresh = make_customer("王介绍", referrer=old)
    customer_services.update_customer(fresh, actor=consultant, referrer=new)
    assert Referral.objects.get(referred=fresh).referrer_id == new.pk
    customer_services.update_customer(fresh, actor=consultant, referrer=None)
    assert not Referral.objects.filter(referred=fresh).exists()


def test_merging_moves_the_referral_to_the_record_that_stays(consultant, director, make_customer, old):
    duplicate = make_customer("王介绍", referrer=old)
    kept = make_customer("王介绍二")
    brought = make_customer("赵下线", referrer=duplicate)
    customer_services.merge_customers(kept, duplicate, actor=director)
    assert Customer.objects.get(pk=kept.pk).referrer_id == old.pk
    assert Referral.objects.get(referred=kept).referrer_id == old.pk
    assert Referral.objects.get(referred=brought).referrer_id == kept.pk


def test_a_customer_cannot_refer_themself_or_their_own_referrer(consultant, old, new):
    with pytest.raises(DomainError, match="本人"):
        services.record_referral(old, actor=consultant, referrer=old)
    services.record_referral(new, actor=consultant, referrer=old)
    with pytest.raises(DomainError, match="互为推荐人"):
        services.record_referral(old, actor=consultant, referrer=new)


def test_a_customer_has_one_referral(consultant, make_customer, old, new):
    services.record_referral(new, actor=consultant, referrer=old)
    with pytest.raises(DomainError, match="已登记推荐人"):
        services.record_referral(new, actor=consultant, referrer=make_customer("另一位"))


def test_removing_a_referrer_with_rewards_is_refused(consultant, director, old, new, unit):
    referral = services.record_referral(new, actor=consultant, referrer=old)
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    services.propose_reward(referral, actor=consultant, kind=Reward.Kind.CASH, amount="2000")
    with pytest.raises(DomainError, match="已有奖励"):
        customer_services.update_customer(new, actor=consultant, referrer=None)
    assert Customer.objects.get(pk=new.pk).referrer_id == old.pk


@pytest.fixture
def subscribed(consultant, old, new, unit) -> Referral:
    referral = services.record_referral(new, actor=consultant, referrer=old, now=NOW)
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    return referral


def test_a_reward_waits_for_the_subscription(consultant, old, new):
    referral = services.record_referral(new, actor=consultant, referrer=old)
    with pytest.raises(DomainError, match="认购后"):
        services.propose_reward(referral, actor=consultant, kind=Reward.Kind.CASH, amount="1000")


def test_a_reward_amount_is_never_negative(consultant, subscribed):
    with pytest.raises(DomainError, match="负数"):
        services.propose_reward(subscribed, actor=consultant, kind=Reward.Kind.CASH, amount="-1")


def test_reward_is_approved_then_paid_by_the_right_people(consultant, director, supervisor, subscribed, old):
    reward = services.propose_reward(
        subscribed, actor=consultant, kind=Reward.Kind.PROPERTY_FEE, amount="3000", now=NOW
    )
    assert reward.state == State.PENDING
    with pytest.raises(NotAllowed):
        services.approve_reward(reward, actor=consultant)
    reward = services.approve_reward(reward, actor=supervisor, now=NOW)
    assert (reward.state, reward.approved_by_id, reward.approved_at) == (State.APPROVED, supervisor.pk, NOW)
    reward = services.pay_reward(reward, actor=director, now=NOW)
    assert (reward.state, reward.paid_by_id, reward.amount) == (State.PAID, director.pk, Decimal("3000.00"))
    summaries = list(
        TimelineEvent.objects.filter(customer=old, kind=TimelineEvent.Kind.REFERRAL).values_list("summary", flat=True)
    )
    assert any("已发放" in s for s in summaries)
    assert any("已批准" in s for s in summaries)


def test_a_rejection_needs_a_reason(director, consultant, subscribed):
    reward = services.propose_reward(subscribed, actor=consultant, kind=Reward.Kind.GIFT, amount="0")
    with pytest.raises(DomainError, match="驳回原因"):
        services.reject_reward(reward, actor=director, note=" ")
    reward = services.reject_reward(reward, actor=director, note="重复申请")
    assert (reward.state, reward.decision_note) == (State.REJECTED, "重复申请")


def test_every_move_follows_the_table(consultant, admin_user, subscribed):
    verbs = {State.APPROVED: services.approve_reward, State.PAID: services.pay_reward}
    for frm, to in product(State.values, State.values):
        reward = Reward.objects.create(
            referral=subscribed, kind=Reward.Kind.CASH, amount=1, state=frm, proposed_by=consultant, proposed_at=NOW
        )
        allowed = to in Reward.ALLOWED_MOVES[frm]

        def move(reward: Reward = reward, to: str = to) -> Reward:
            if to == State.REJECTED:
                return services.reject_reward(reward, actor=admin_user, note="不符合条件")
            if to in verbs:
                return verbs[to](reward, actor=admin_user)
            return services._move(reward, to, actor=admin_user)

        if allowed:
            assert move().state == to
        else:
            with pytest.raises(DomainError):
                move()
            assert Reward.objects.get(pk=reward.pk).state == frm
