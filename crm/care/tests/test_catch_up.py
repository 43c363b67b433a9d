"""Never lost to timing: a message planned after its window closed, or left unsent while
the server was down, goes once in the next allowed window within its rule's catch-up
period; only past that does it expire, with the reason (real dates, ``now`` injected)."""

from datetime import date, timedelta

import pytest

from crm.care import catchup, dispatch, jobs, planning, services
from crm.care.models import CareRule, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.customers import services as customer_services
from crm.customers.models import Customer
from crm.lib.dates import local_day
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway

Status = OutboundMessage.Status
TUESDAY = date(2026, 11, 24)
WEDNESDAY = TUESDAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.SMS_GATEWAY = "locmem"  # the jobs build the configured gateway


def only(trigger):
    [message] = OutboundMessage.objects.filter(trigger=trigger)
    return message


@pytest.fixture
def signed(make_customer, make_unit, consultant):
    """A signed deal whose customer accepts notifications and care messages."""

    def make(name="业主", **dates):
        customer = make_customer(name, consent_care=True, consent_notification=True)
        return customer_services.create_deal(
            actor=consultant,
            customer=customer,
            unit=make_unit(),
            subscribed_on=date(2026, 9, 1),
            contracted_on=date(2026, 9, 8),
            **dates,
        )

    return make


class TestPlannedLate:
    def test_a_full_payment_recorded_in_the_afternoon_goes_the_next_morning_once(self, signed, consultant):
        deal = signed()
        # Paid Monday, recorded Tuesday 15:00: Tuesday's 10:00–11:00 window has closed.
        customer_services.update_deal(deal, actor=consultant, full_payment_on=TUESDAY - timedelta(days=1))
        assert planning.plan_milestone_notices(now=local(TUESDAY, 15)) == 1
        message = only(Trigger.FULL_PAYMENT)
        assert message.status == Status.SCHEDULED
        assert (message.scheduled_at, message.window_ends_at) == (local(WEDNESDAY, 10), local(WEDNESDAY, 11))
        assert message.error == "已过原定发送时段，顺延至 11月25日 10:00–11:00 补发"
        assert planning.plan_milestone_notices(now=local(TUESDAY, 15, 10)) == 0
        assert planning.plan_milestone_notices(now=local(WEDNESDAY, 9)) == 0
        # Nothing expires in between; it goes once in Wednesday's window.
        assert jobs.expire_overdue(now=local(TUESDAY, 23)) == 0
        gateway = LocmemGateway()
        assert dispatch.send_due_messages(now=local(TUESDAY, 16), gateway=gateway) == 0
        assert dispatch.send_due_messages(now=local(WEDNESDAY, 10, 1), gateway=gateway) == 1
        assert dispatch.send_due_messages(now=local(WEDNESDAY, 10, 2), gateway=gateway) == 0
        assert [m.reference for m in locmem.outbox] == [str(message.pk)]

    def test_a_filing_recorded_at_1122_for_a_10_to_11_window_is_not_expired(self, signed, consultant):
        deal = signed()
        customer_services.update_deal(deal, actor=consultant, filed_on=TUESDAY - timedelta(days=1))
        planning.plan_today(now=local(TUESDAY, 11, 22))
        assert jobs.expire_overdue(now=local(TUESDAY, 11, 28)) == 0
        message = only(Trigger.FILING)
        assert (message.status, message.scheduled_at) == (Status.SCHEDULED, local(WEDNESDAY, 10))

    def test_a_milestone_entered_late_is_announced_within_the_catch_up_period_only(self, signed, consultant):
        within = signed("七天前全款")
        beyond = signed("八天前全款")
        # Due the day after: 7 days late is the last chance for the 7-day rule.
        customer_services.update_deal(within, actor=consultant, full_payment_on=TUESDAY - timedelta(days=8))
        customer_services.update_deal(beyond, actor=consultant, full_payment_on=TUESDAY - timedelta(days=9))
        assert planning.plan_milestone_notices(now=local(TUESDAY, 9)) == 1
        assert only(Trigger.FULL_PAYMENT).customer_id == within.customer_id

    def test_the_demos_first_start_at_1113_expires_nothing_of_the_day(
        self, signed, make_customer, make_unit, consultant
    ):
        """A birthday, a family birthday, full payment, filing and an anniversary, all due
        Tuesday 10:00–11:00, planned by the first run at 11:13."""
        birthday = make_customer("寿星", birthday_on=date(1980, 11, 24), consent_care=True)
        customer_services.create_deal(
            actor=consultant, customer=birthday, unit=make_unit(), subscribed_on=date(2024, 3, 1)
        )
        customer_services.add_family_member(
            birthday,
            actor=consultant,
            relation="spouse",
            name="寿星太太",
            birthday_on=date(1982, 11, 24),
            consent_care=True,
        )
        paid = signed("全款")
        customer_services.update_deal(paid, actor=consultant, full_payment_on=TUESDAY - timedelta(days=1))
        filed = signed("备案")
        customer_services.update_deal(filed, actor=consultant, filed_on=TUESDAY - timedelta(days=1))
        anniversary = make_customer("周年", consent_care=True)
        customer_services.create_deal(
            actor=consultant,
            customer=anniversary,
            unit=make_unit(),
            subscribed_on=date(2025, 11, 20),
            contracted_on=date(2025, 11, 24),
        )
        assert planning.plan_today(now=local(TUESDAY, 11, 13)) == 5
        assert jobs.send_due_messages(now=local(TUESDAY, 11, 13)) == 0
        assert jobs.expire_overdue(now=local(TUESDAY, 11, 28)) == 0
        assert sorted(OutboundMessage.objects.values_list("trigger", "status")) == sorted(
            [
                (Trigger.ANNIVERSARY, Status.SCHEDULED),
                (Trigger.BIRTHDAY, Status.SCHEDULED),
                (Trigger.FAMILY_BIRTHDAY, Status.SCHEDULED),
                (Trigger.FILING, Status.SCHEDULED),
                (Trigger.FULL_PAYMENT, Status.SCHEDULED),
            ]
        )
        assert {local_day(m.scheduled_at) for m in OutboundMessage.objects.all()} == {WEDNESDAY}
        assert jobs.send_due_messages(now=local(WEDNESDAY, 10, 1)) == 5

    def test_a_subscription_on_friday_afternoon_goes_on_the_make_up_sunday(self, make_customer, make_unit, consultant):
        customer = make_customer("周四认购", consent_care=True)
        customer_services.create_deal(
            actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 9, 17)
        )
        # The congratulations are due Friday 09-18 10:00–10:30; planned at 15:00 they wait
        # for the next working day, Sunday 09-20 (调休上班).
        assert planning.plan_subscription_congratulations(now=local(date(2026, 9, 18), 15)) == 1
        assert only(Trigger.SUBSCRIPTION).scheduled_at == local(date(2026, 9, 20), 10)

    def test_a_rule_without_catch_up_records_the_missed_message_as_expired(self, owner, project):
        services.ensure_rules(project)
        CareRule.objects.filter(project=project, trigger=Trigger.BIRTHDAY).update(catch_up_days=0)
        assert planning.plan_birthdays(now=local(date(2026, 11, 23), 11)) == 1
        message = only(Trigger.BIRTHDAY)
        assert (message.status, message.error) == (Status.EXPIRED, "已过发送时段，该类短信不补发")


class TestServerDown:
    @pytest.fixture
    def birthday(self, owner):
        """Planned at 01:00 for 2026-11-23 10:00–10:30; then the server stops."""
        planning.plan_birthdays(now=local(date(2026, 11, 23), 1))
        return only(Trigger.BIRTHDAY)

    def test_a_server_back_at_1113_sends_the_missed_greeting_the_next_morning(self, birthday):
        assert jobs.send_due_messages(now=local(date(2026, 11, 23), 11, 13)) == 0
        birthday.refresh_from_db()
        assert birthday.status == Status.SCHEDULED
        assert (birthday.next_attempt_at, birthday.window_ends_at) == (
            local(date(2026, 11, 24), 10),
            local(date(2026, 11, 24), 10, 30),
        )
        assert birthday.scheduled_at == local(date(2026, 11, 23), 10)  # the day it was planned for
        assert "顺延至 11月24日 10:00–10:30" in birthday.error
        assert jobs.send_due_messages(now=local(date(2026, 11, 24), 10, 5)) == 1
        assert jobs.send_due_messages(now=local(date(2026, 11, 24), 10, 6)) == 0
        assert len(locmem.outbox) == 1

    def test_past_the_catch_up_period_it_expires_with_the_reason(self, birthday):
        assert jobs.expire_overdue(now=local(date(2026, 11, 25), 9)) == 1
        birthday.refresh_from_db()
        assert birthday.status == Status.EXPIRED
        assert birthday.error == "已过发送时段，且超过补发期限（1天），不再发送"
        assert jobs.send_due_messages(now=local(date(2026, 11, 25), 10, 5)) == 0

    def test_a_claimed_row_is_left_to_its_worker(self, birthday):
        OutboundMessage.objects.filter(pk=birthday.pk).update(status=Status.SUBMITTING)
        assert jobs.expire_overdue(now=local(date(2026, 11, 23), 11)) == 0
        birthday.refresh_from_db()
        assert birthday.window_ends_at == local(date(2026, 11, 23), 10, 30)

    def test_a_working_day_rule_waits_for_the_next_working_day(self, make_customer, make_unit, consultant):
        customer = make_customer("节前认购", consent_care=True)
        customer_services.create_deal(
            actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 9, 29)
        )
        planning.plan_subscription_congratulations(now=local(date(2026, 9, 30), 1))
        assert jobs.expire_overdue(now=local(date(2026, 9, 30), 18)) == 1
        message = only(Trigger.SUBSCRIPTION)
        assert (message.status, message.next_attempt_at) == (Status.SCHEDULED, local(date(2026, 10, 8), 10))


class TestEventNotices:
    def test_an_event_notice_never_catches_up_onto_the_event(self, owner, service):
        Customer.objects.filter(pk=owner.pk).update(consent_marketing=True)
        event_on = date(2026, 12, 20)
        draft = services.compose_broadcast(
            owner.project,
            actor=service,
            trigger=Trigger.EVENT,
            event_on=event_on,
            values={"活动": "业主冬至联谊会", "时间": "12月20日（周日）14:00"},
            now=local(date(2026, 12, 10), 9),
        )
        [message] = OutboundMessage.objects.filter(draft=draft)
        assert message.scheduled_at == local(date(2026, 12, 17), 10)
        # Down on the 17th and 18th: the 19th is still before the event.
        assert jobs.expire_overdue(now=local(date(2026, 12, 19), 9)) == 1
        message.refresh_from_db()
        assert (message.status, message.next_attempt_at) == (Status.SCHEDULED, local(date(2026, 12, 19), 10))
        # Down on the 19th too: the event day itself is too late.
        assert jobs.expire_overdue(now=local(date(2026, 12, 19), 11)) == 1
        message.refresh_from_db()
        assert message.status == Status.EXPIRED


def test_the_dispatcher_can_ask_where_a_late_row_goes(owner):
    planning.plan_birthdays(now=local(date(2026, 11, 23), 1))
    message = only(Trigger.BIRTHDAY)
    assert catchup.next_slot(message, local(date(2026, 11, 23), 10, 5)).starts_at == local(date(2026, 11, 23), 10)
    assert catchup.next_slot(message, local(date(2026, 11, 23), 10, 31)).starts_at == local(date(2026, 11, 24), 10)
    assert catchup.next_slot(message, local(date(2026, 11, 24), 10, 31)) is None


# ---------------------------------------------------------------- a day planning never ran

BIRTHDAY = date(2026, 11, 23)  # the owner fixture's birthday (a Monday)


def test_a_birthday_on_a_day_the_server_was_down_is_planned_the_next_morning(owner):
    # Down all of 11-23: planning first runs at 00:10 on 11-24.
    planning.plan_birthdays(now=local(BIRTHDAY + timedelta(days=1), 0, 10))
    message = only(Trigger.BIRTHDAY)
    assert message.occasion == BIRTHDAY.isoformat()
    assert message.status == Status.SCHEDULED
    assert message.next_attempt_at == local(BIRTHDAY + timedelta(days=1), 10)
    # Later runs that day plan nothing twice.
    assert planning.plan_birthdays(now=local(BIRTHDAY + timedelta(days=1), 9)) == 0


def test_a_longer_catch_up_period_reaches_further_back_and_a_missed_day_past_it_is_recorded(owner):
    rule = services.rule_for(owner.project_id, Trigger.BIRTHDAY)
    CareRule.objects.filter(pk=rule.pk).update(catch_up_days=2)
    # Down 11-23 and 11-24: planning first runs on 11-25, still inside two days.
    planning.plan_birthdays(now=local(BIRTHDAY + timedelta(days=2), 0, 10))
    message = only(Trigger.BIRTHDAY)
    assert (message.occasion, message.status) == (BIRTHDAY.isoformat(), Status.SCHEDULED)
    assert message.next_attempt_at == local(BIRTHDAY + timedelta(days=2), 10)
    OutboundMessage.objects.all().delete()
    CareRule.objects.filter(pk=rule.pk).update(catch_up_days=0)
    # No catch-up for the owner's greeting (family birthdays still look back a day): the
    # missed greeting is recorded as expired with the reason, for staff to see, not dropped.
    planning.plan_birthdays(now=local(BIRTHDAY + timedelta(days=1), 0, 10))
    message = only(Trigger.BIRTHDAY)
    assert message.status == Status.EXPIRED
    assert message.error
