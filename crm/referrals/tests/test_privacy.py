"""老带新 in the erasure plan and the backfill of referrals from Customer.referrer."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps

from crm.customers import services as customer_services
from crm.customers.models import Customer
from crm.privacy import erasure
from crm.referrals import services
from crm.referrals.models import Referral, Reward

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_erasing_the_referrer_clears_the_reward_texts_and_keeps_the_counts(consultant, director, old, new, unit):
    referral = services.record_referral(new, actor=consultant, referrer=old, now=NOW)
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    reward = services.propose_reward(
        referral, actor=consultant, kind=Reward.Kind.CASH, amount="800", note="张老业主现金"
    )
    services.reject_reward(reward, actor=director, note="张老业主已领过")
    erasure.anonymise_customer(old, actor=director, reason="客户申请", now=NOW)
    reward.refresh_from_db()
    assert (reward.note, reward.decision_note) == ("", "")
    assert reward.amount == 800
    assert Referral.objects.filter(pk=referral.pk, referrer=old).exists()


def test_the_backfill_creates_a_referral_for_each_customer_with_a_referrer(old, new, make_customer):
    third = make_customer("王三")
    # Written behind the services' back, as rows were before this app existed.
    Customer.objects.filter(pk__in=[new.pk, third.pk]).update(referrer=old)
    Customer.objects.filter(pk=old.pk).update(referrer=old)  # a bad old row: refers to itself
    migration = importlib.import_module("crm.referrals.migrations.0002_backfill_from_customer_referrer")
    migration.backfill(apps, None)
    migration.backfill(apps, None)  # twice: nothing more
    rows = Referral.objects.order_by("referred_id")
    assert [(r.referrer_id, r.referred_id, r.channel) for r in rows] == [
        (old.pk, new.pk, "chain"),
        (old.pk, third.pk, "chain"),
    ]
