"""The figures the KPI app calls: referral_stats and owners_who_referred."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from crm.customers import services as customer_services
from crm.lib.dates import CHINA_TZ
from crm.referrals import selectors, services

pytestmark = pytest.mark.django_db

SEPT = datetime(2026, 9, 10, 10, 0, tzinfo=CHINA_TZ)


def test_referral_stats_per_project_and_consultant(
    consultant, teammate, make_customer, make_unit, project, project_b, old
):
    a1 = make_customer("甲")
    a2 = make_customer("乙", owner=teammate)
    b1 = make_customer("丙", project=project_b)
    late = make_customer("丁")
    for c in (a1, a2, b1):
        services.record_referral(c, actor=consultant, referrer=old, now=SEPT)
    services.record_referral(late, actor=consultant, referrer=old, now=SEPT + timedelta(days=30))
    customer_services.create_deal(
        actor=consultant,
        customer=a1,
        unit=make_unit(),
        subscribed_on=date(2026, 9, 12),
        contracted_on=date(2026, 9, 14),
    )
    customer_services.create_deal(actor=consultant, customer=a2, unit=make_unit(), subscribed_on=date(2026, 9, 12))

    stats = selectors.referral_stats(start=date(2026, 9, 1), end=date(2026, 9, 30))
    by_project = {r.label: (r.referrals, r.subscribed, r.signed) for r in stats.by_project}
    assert by_project == {"锦华苑": (2, 2, 1), "滨江御府": (1, 0, 0)}
    by_consultant = {r.label: r.referrals for r in stats.by_consultant}
    assert by_consultant == {"王顾问": 2, "李同组": 1}
    assert (stats.total.referrals, stats.total.subscribed, stats.total.signed) == (3, 2, 1)
    assert stats.total.subscribe_rate == pytest.approx(2 / 3)

    only_b = selectors.referral_stats(start=date(2026, 9, 1), end=date(2026, 9, 30), project_ids=[project_b.pk])
    assert [r.label for r in only_b.by_project] == ["滨江御府"]


def test_owners_who_referred(consultant, make_customer, make_unit, project, old):
    quiet = make_customer("沉默业主")
    for owner in (old, quiet):
        customer_services.create_deal(
            actor=consultant, customer=owner, unit=make_unit(), subscribed_on=date(2026, 1, 5)
        )
    services.record_referral(make_customer("新朋友"), actor=consultant, referrer=old, now=SEPT)
    rows = selectors.owners_who_referred(start=date(2026, 9, 1), end=date(2026, 9, 30), project_ids=[project.pk])
    assert [(r.project, r.owners, r.referring) for r in rows] == [("锦华苑", 2, 1)]
    assert rows[0].rate == 0.5
    earlier = selectors.owners_who_referred(start=date(2026, 8, 1), end=date(2026, 8, 31))
    assert [(r.owners, r.referring) for r in earlier] == [(2, 0)]
