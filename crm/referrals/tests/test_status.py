"""The referral's status follows the referred customer's deal (the issue's required test)."""

from __future__ import annotations

from datetime import date

import pytest

from crm.customers import services as customer_services
from crm.customers.models import Deal
from crm.referrals import selectors, services
from crm.referrals.models import Referral, ReferralChannel, ReferralStatus

from .conftest import NOW

pytestmark = pytest.mark.django_db


def _status(referral: Referral) -> str:
    return selectors.status_of(referral)


def test_referral_status_follows_the_referred_customers_deal(consultant, old, new, unit):
    referral = services.record_referral(new, actor=consultant, referrer=old, channel=ReferralChannel.CHAIN, now=NOW)
    assert _status(referral) == ReferralStatus.LEAD

    services.change_referral(referral, actor=consultant, visited_on=date(2026, 9, 16))
    assert _status(referral) == ReferralStatus.VISITED

    deal = customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    assert _status(referral) == ReferralStatus.SUBSCRIBED

    customer_services.update_deal(deal, actor=consultant, contracted_on=date(2026, 9, 25))
    assert _status(referral) == ReferralStatus.SIGNED

    customer_services.cancel_deal(deal, actor=consultant, reason="客户退房", on=date(2026, 10, 8))
    assert Deal.objects.get(pk=deal.pk).status == Deal.Status.CANCELLED
    # A cancelled deal (退房) no longer counts: back to the arrival.
    assert _status(referral) == ReferralStatus.VISITED


def test_status_filter_and_annotation_agree(consultant, old, make_customer, make_unit):
    kids = [make_customer(f"新客{i}") for i in range(4)]
    rows = [services.record_referral(k, actor=consultant, referrer=old, now=NOW) for k in kids]
    services.change_referral(rows[1], actor=consultant, visited_on=date(2026, 9, 16))
    customer_services.create_deal(actor=consultant, customer=kids[2], unit=make_unit(), subscribed_on=date(2026, 9, 20))
    customer_services.create_deal(
        actor=consultant,
        customer=kids[3],
        unit=make_unit(),
        subscribed_on=date(2026, 9, 20),
        contracted_on=date(2026, 9, 22),
    )
    visible = selectors.referrals_visible_to(consultant)
    by_status = {r.referred_id: r.status for r in visible}
    assert [by_status[k.pk] for k in kids] == ["lead", "visited", "subscribed", "signed"]
    for status in ReferralStatus.values:
        filtered = set(visible.filter(selectors.status_q(status)).values_list("referred_id", flat=True))
        assert filtered == {pk for pk, s in by_status.items() if s == status}
