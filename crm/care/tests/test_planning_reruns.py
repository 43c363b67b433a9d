"""Planning runs every ten minutes: every run after the day's first plans nothing new.

The planners leave out what is already planned inside their queries (crm.care.planning.
not_planned); these tests hold that for every trigger at once, including the deal-based
occasions ("deal:<id>") and family members.
"""

from datetime import date

import pytest

from crm.care import planning
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.customers import services as customer_services
from crm.customers.models import MoveInKind

DAY = date(2026, 11, 24)  # a Tuesday: Monday's subscriptions are congratulated


@pytest.fixture
def a_busy_day(make_customer, make_unit, consultant):
    def deal(name, **dates):
        customer = make_customer(name, consent_care=True)
        return customer_services.create_deal(actor=consultant, customer=customer, unit=make_unit(), **dates)

    birthday = make_customer("寿星", birthday_on=date(1980, 11, 24), consent_care=True)
    customer_services.create_deal(actor=consultant, customer=birthday, unit=make_unit(), subscribed_on=date(2024, 3, 1))
    customer_services.add_family_member(
        birthday,
        actor=consultant,
        relation="spouse",
        name="寿星太太",
        birthday_on=date(1982, 11, 24),
        consent_care=True,
    )
    deal("周一认购", subscribed_on=date(2026, 11, 23))
    deal("待签约", subscribed_on=date(2026, 11, 19))
    deal("全款", subscribed_on=date(2026, 9, 1), contracted_on=date(2026, 9, 8), full_payment_on=date(2026, 11, 23))
    deal("备案", subscribed_on=date(2026, 9, 1), contracted_on=date(2026, 9, 8), filed_on=date(2026, 11, 23))
    deal("周年", subscribed_on=date(2025, 11, 20), contracted_on=date(2025, 11, 24))
    moved = deal("入住", subscribed_on=date(2025, 3, 1), contracted_on=date(2025, 3, 5), delivered_on=date(2026, 11, 1))
    customer_services.update_deal(
        moved, actor=consultant, moved_in_on=date(2026, 11, 17), move_in_kind=MoveInKind.INDIVIDUAL
    )


def test_every_trigger_is_planned_once_however_often_planning_runs(a_busy_day):
    first = planning.plan_today(now=local(DAY, 1))
    triggers = sorted(OutboundMessage.objects.values_list("trigger", flat=True))
    assert triggers == sorted(
        [
            Trigger.BIRTHDAY,
            Trigger.FAMILY_BIRTHDAY,
            Trigger.SUBSCRIPTION,
            # Thursday's subscription, never congratulated (it was recorded today): a late
            # entry, still within the rule's catch-up period of 3 working days.
            Trigger.SUBSCRIPTION,
            Trigger.SIGNING_REMINDER,
            Trigger.FULL_PAYMENT,
            Trigger.FILING,
            Trigger.ANNIVERSARY,
            Trigger.MOVE_IN,
        ]
    )
    assert first == len(triggers)
    for hour in (9, 10, 15):
        assert planning.plan_today(now=local(DAY, hour)) == 0
        for planner in planning.PLANNERS:
            assert planner(now=local(DAY, hour)) == 0, planner.__name__
    assert OutboundMessage.objects.count() == first


def test_a_message_already_planned_is_not_counted_again_when_others_are_new(a_busy_day, make_customer):
    planning.plan_birthdays(now=local(DAY, 1))
    make_customer("晚登记的寿星", birthday_on=date(1990, 11, 24), consent_care=True, stage="owner")
    assert planning.plan_birthdays(now=local(DAY, 9)) == 1
