"""Dispatch through the locmem gateway: windows, consent, quiet hours, caps, exactly once."""

from datetime import date, time, timedelta

import pytest
from django.db.models import F

from crm.care import dispatch, planning, services
from crm.care.models import DeliveryReceipt, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.customers import services as customer_services
from crm.customers.models import TimelineEvent
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.base import InboundReply, Outcome, Receipt

Status = OutboundMessage.Status
BIRTHDAY = date(2026, 11, 23)


@pytest.fixture
def gateway():
    return LocmemGateway()


@pytest.fixture
def birthday_message(owner):
    planning.plan_birthdays(now=local(BIRTHDAY, 1))
    return OutboundMessage.objects.get(trigger=Trigger.BIRTHDAY)


def status_of(message):
    message.refresh_from_db()
    return message.status


def test_a_due_message_is_sent_once_with_its_outbox_id_as_reference(birthday_message, gateway):
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 9, 59), gateway=gateway) == 0  # not yet due
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway) == 1
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 2), gateway=gateway) == 0
    assert [m.reference for m in locmem.outbox] == [str(birthday_message.pk)]
    assert locmem.outbox[0].mobile == "13811112222"
    assert status_of(birthday_message) == Status.SENT
    assert birthday_message.gateway_message_id.startswith("locmem-")
    event = TimelineEvent.objects.get(customer=birthday_message.customer, kind=TimelineEvent.Kind.MESSAGE)
    assert "生日祝福" in event.summary


def test_dispatch_never_sends_past_the_window_and_leaves_the_catch_up_to_expire_overdue(birthday_message, gateway):
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 31), gateway=gateway) == 0
    assert locmem.outbox == []
    # Past its window dispatch leaves it alone: catching up (or expiring) is expire_overdue's call.
    assert status_of(birthday_message) == Status.SCHEDULED
    dispatch.expire_overdue(now=local(BIRTHDAY, 10, 31))
    assert status_of(birthday_message) == Status.SCHEDULED
    assert birthday_message.next_attempt_at == local(BIRTHDAY + timedelta(days=1), 10)


def test_expire_overdue_catches_up_once_then_closes_messages_nobody_dispatched(birthday_message):
    # The birthday rule's catch-up period is one day: the next morning's window, then no more.
    assert dispatch.expire_overdue(now=local(BIRTHDAY + timedelta(days=1), 8)) == 1
    assert status_of(birthday_message) == Status.SCHEDULED
    assert birthday_message.next_attempt_at == local(BIRTHDAY + timedelta(days=1), 10)
    assert dispatch.expire_overdue(now=local(BIRTHDAY + timedelta(days=1), 11)) == 1
    assert status_of(birthday_message) == Status.EXPIRED


def test_consent_withdrawn_after_planning_is_honoured_at_send_time(birthday_message, gateway, service):
    customer_services.set_consent(birthday_message.customer, actor=service, purpose="care", granted=False)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 5), gateway=gateway)
    assert status_of(birthday_message) == Status.CANCELLED
    assert "未同意" in birthday_message.error
    assert locmem.outbox == []


def test_quiet_hours_hold_care_messages_until_eight(owner, gateway, consultant, approver):
    rule = services.rule_for(owner.project_id, Trigger.BAD_WEATHER)
    services.update_rule(rule, actor=consultant, window_end=time(23, 0))
    draft = services.create_draft(rule, occasion="storm", send_on=BIRTHDAY, values={"原因": "寒潮"})
    services.approve_draft(draft, actor=approver, now=local(BIRTHDAY, 19))
    message = OutboundMessage.objects.get(trigger=Trigger.BAD_WEATHER)
    assert "寒潮" in message.text
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 20, 30), gateway=gateway) == 0
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED
    assert message.next_attempt_at == local(BIRTHDAY + timedelta(days=1), 8)
    assert "免打扰" in message.error
    assert message.attempts == 0
    assert locmem.outbox == []


def test_the_daily_cap_per_customer_is_kept(owner, gateway, settings):
    settings.CARE_DAILY_CAP = 1
    rule = services.rule_for(owner.project_id, Trigger.BIRTHDAY)
    for occasion in ("a", "b"):
        OutboundMessage.objects.create(
            customer=owner,
            project_id=owner.project_id,
            rule=rule,
            trigger=Trigger.BIRTHDAY,
            occasion=occasion,
            purpose=rule.purpose,
            text="测试",
            scheduled_at=local(BIRTHDAY, 10),
            next_attempt_at=local(BIRTHDAY, 10),
            window_ends_at=local(BIRTHDAY, 18),
        )
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway) == 1
    assert len(locmem.outbox) == 1
    assert OutboundMessage.objects.filter(status=Status.SCHEDULED, error__contains="每日").count() == 1


def test_a_signing_reminder_is_cancelled_when_the_contract_is_signed_before_it_goes(
    make_customer, make_unit, consultant, gateway
):
    customer = make_customer("待签约")
    deal = customer_services.create_deal(
        actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 11, 18)
    )
    planning.plan_signing_reminders(now=local(BIRTHDAY, 9))
    customer_services.update_deal(deal, actor=consultant, contracted_on=date(2026, 11, 23))
    dispatch.send_due_messages(now=local(BIRTHDAY, 16, 1), gateway=gateway)
    message = OutboundMessage.objects.get(trigger=Trigger.SIGNING_REMINDER)
    assert message.status == Status.CANCELLED
    assert message.error == "客户已签约，无需提醒"


def test_transient_errors_back_off_and_permanent_ones_fail_with_a_reason(birthday_message, gateway):
    locmem.script(Outcome.RETRY)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    birthday_message.refresh_from_db()
    assert birthday_message.status == Status.SCHEDULED
    assert birthday_message.next_attempt_at > local(BIRTHDAY, 10, 1)
    locmem.script(Outcome.FAILED)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 10), gateway=gateway)
    birthday_message.refresh_from_db()
    assert birthday_message.status == Status.FAILED
    assert birthday_message.error
    assert birthday_message.attempts == 2


def test_a_paused_gateway_stops_the_queue(birthday_message, gateway, make_customer):
    locmem.script(Outcome.PAUSE)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    assert status_of(birthday_message) == Status.SCHEDULED
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 5), gateway=gateway) == 0
    assert locmem.outbox == []


def test_an_unknown_outcome_is_settled_by_the_status_query_not_by_resending(birthday_message, gateway, time_machine):
    time_machine.move_to(local(BIRTHDAY, 10, 1))  # the locmem gateway stamps sends with the clock
    locmem.script(Outcome.UNKNOWN)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    assert status_of(birthday_message) == Status.SUBMITTING
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 2), gateway=gateway) == 0
    assert dispatch.settle_submitting(now=local(BIRTHDAY, 10, 5), gateway=gateway) == 1
    birthday_message.refresh_from_db()
    assert birthday_message.status == Status.DELIVERED
    assert len(locmem.outbox) == 1


def handed_over(ids):
    """The rows as a worker leaves them that died right after handing them to the gateway."""
    OutboundMessage.objects.filter(pk__in=ids).update(handed_at=F("claimed_at"))


def test_a_message_the_gateway_never_got_is_requeued_after_the_grace_period(birthday_message, gateway):
    handed_over(dispatch.claim(local(BIRTHDAY, 10, 1), 10))  # the gateway never got it
    assert dispatch.settle_submitting(now=local(BIRTHDAY, 10, 5), gateway=gateway) == 0  # still within grace
    assert dispatch.settle_submitting(now=local(BIRTHDAY, 10, 12), gateway=gateway) == 1
    assert status_of(birthday_message) == Status.SCHEDULED
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 12), gateway=gateway) == 1
    assert len(locmem.outbox) == 1


def test_a_receipt_delivered_three_times_changes_the_message_once(birthday_message, gateway):
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    birthday_message.refresh_from_db()
    receipt = Receipt(
        reference=str(birthday_message.pk),
        gateway_message_id=birthday_message.gateway_message_id,
        mobile="13811112222",
        delivered=True,
        code="DELIVERED",
        detail="",
        reported_at=local(BIRTHDAY, 10, 2),
    )
    applied = [dispatch.record_receipts([receipt], gateway_name="locmem") for _ in range(3)]
    assert applied == [1, 0, 0]
    assert DeliveryReceipt.objects.count() == 1
    assert status_of(birthday_message) == Status.DELIVERED
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MESSAGE).count() == 1


@pytest.mark.parametrize("word", ["TD", "td", "Ｔ", "R", "n", "退订", "拒收"])
def test_an_opt_out_reply_stops_everything_at_once(birthday_message, gateway, word):
    opted = dispatch.record_replies(
        [InboundReply(mobile="13811112222", text=word, received_at=local(BIRTHDAY, 9))], gateway_name="locmem"
    )
    assert opted == 1
    birthday_message.customer.refresh_from_db()
    assert birthday_message.customer.has_opted_out
    assert status_of(birthday_message) == Status.CANCELLED
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway) == 0
    assert locmem.outbox == []


def test_an_ordinary_reply_is_kept_but_changes_nothing(birthday_message):
    assert (
        dispatch.record_replies(
            [InboundReply(mobile="13811112222", text="谢谢", received_at=None)], gateway_name="locmem"
        )
        == 0
    )
    assert status_of(birthday_message) == Status.SCHEDULED


def test_an_opt_out_arriving_while_a_batch_dispatches_stops_the_rest(make_customer, consultant, make_unit, gateway):
    customers = []
    for i in range(5):
        c = make_customer(f"业主{i}", birthday_on=date(1980, 11, 23), consent_care=True)
        customer_services.create_deal(actor=consultant, customer=c, unit=make_unit(), subscribed_on=date(2026, 1, 5))
        customers.append(c)
    planning.plan_birthdays(now=local(BIRTHDAY, 1))
    first_batch = dispatch.claim(local(BIRTHDAY, 10, 1), 2)
    dispatch.record_replies(
        [InboundReply(mobile=customers[4].mobile, text="TD", received_at=None)], gateway_name="locmem"
    )
    OutboundMessage.objects.filter(pk__in=first_batch).update(status=Status.SCHEDULED, attempts=0)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 2), gateway=gateway)
    assert customers[4].mobile not in [m.mobile for m in locmem.outbox]
    assert len(locmem.outbox) == 4


def test_a_paused_gateway_does_not_use_up_the_messages_attempts(birthday_message, gateway):
    OutboundMessage.objects.filter(pk=birthday_message.pk).update(attempts=dispatch.MAX_ATTEMPTS)
    locmem.script(Outcome.PAUSE)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    birthday_message.refresh_from_db()
    assert birthday_message.status == Status.SCHEDULED
    assert birthday_message.attempts == dispatch.MAX_ATTEMPTS


def test_the_last_retry_fails_with_a_reason(birthday_message, gateway):
    OutboundMessage.objects.filter(pk=birthday_message.pk).update(attempts=dispatch.MAX_ATTEMPTS - 1)
    locmem.script(Outcome.RETRY)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    birthday_message.refresh_from_db()
    assert birthday_message.status == Status.FAILED
    assert birthday_message.error.startswith(f"重试 {dispatch.MAX_ATTEMPTS} 次仍失败")


class QuietTencent(LocmemGateway):
    """A gateway whose status query lists only messages that have a receipt (Tencent)."""

    name = "tencent"

    def query(self, reference, mobile, sent_on):
        return []


def test_an_unlisted_message_on_tencent_is_never_resent_but_handed_to_a_person(birthday_message):
    gateway = QuietTencent()
    handed_over(dispatch.claim(local(BIRTHDAY, 10, 1), 10))
    assert dispatch.settle_submitting(now=local(BIRTHDAY, 10, 30), gateway=gateway) == 0
    assert status_of(birthday_message) == Status.SUBMITTING
    assert dispatch.settle_submitting(now=local(BIRTHDAY + timedelta(days=1), 10, 2), gateway=gateway) == 1
    assert status_of(birthday_message) == Status.FAILED
    assert "人工核对" in birthday_message.error
    assert locmem.outbox == []
