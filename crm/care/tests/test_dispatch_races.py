"""The outbox's races, in one process with an injected clock: a worker that stalls past the
lease, a crash between claim and send (Tencent), an opt-out while a batch is being sent,
and a broadcast due at the same time as personal messages."""

from collections import Counter
from datetime import date, time, timedelta

import pytest
from django.db.models import F

from crm.care import dispatch, services
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.customers import services as customer_services
from crm.customers.models import TimelineEvent
from crm.sms.backends import locmem
from crm.sms.backends.console import ConsoleGateway
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.base import InboundReply, Outcome

Status = OutboundMessage.Status
DAY = date(2026, 11, 23)


class Clock:
    """The time as a worker sees it; tests move it."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class StallingGateway(LocmemGateway):
    """Stalls in its first send while ``meanwhile`` runs (the rest of the world moving on),
    then accepts it like the locmem gateway."""

    def __init__(self, meanwhile):
        self.meanwhile = meanwhile
        self.stalled = False

    def send(self, message):
        if not self.stalled:
            self.stalled = True
            self.meanwhile()
        return super().send(message)


class QuietTencent(LocmemGateway):
    """A gateway whose status query lists only messages that have a receipt (Tencent)."""

    name = "tencent"

    def query(self, reference, mobile, sent_on):
        return []


class Killed(BaseException):
    """The worker process dies (SIGKILL) while the gateway call is in flight."""


@pytest.fixture
def make_messages(make_customer):
    """``count`` care messages to as many customers, due at 10:00, window until ``until``."""
    made = Counter()

    def make(count, *, until=time(10, 30), trigger=Trigger.BIRTHDAY, draft=None, customers=None):
        customers = customers or [
            make_customer(f"客户{len(made)}-{i}", consent_care=True, consent_marketing=True) for i in range(count)
        ]
        rule = services.rule_for(customers[0].project_id, trigger)
        made[trigger] += 1
        return [
            OutboundMessage.objects.create(
                customer=customer,
                project_id=customer.project_id,
                rule=rule,
                trigger=trigger,
                occasion=f"{trigger}-{made[trigger]}",
                draft=draft,
                purpose=rule.purpose,
                text=f"{customer.name}，您好。",
                scheduled_at=local(DAY, 10),
                next_attempt_at=local(DAY, 10),
                window_ends_at=local(DAY, until.hour, until.minute),
            )
            for customer in customers
        ]

    return make


def rows(messages):
    return {row["id"]: row for row in OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]).values()}


def sent_references():
    return Counter(m.reference for m in locmem.outbox)


# ----------------------------------------------------------------------------- a stalled worker


def _late_quiet_hours(clock, settings):
    clock.now = local(DAY, 20, 30)  # care messages wait for 08:00


def _late_past_the_window(clock, settings):
    clock.now = local(DAY, 23, 30)  # the window closed at 23:00


def _late_over_the_daily_cap(clock, settings):
    clock.now = local(DAY, 10, 20)
    settings.CARE_DAILY_CAP = 0


@pytest.mark.parametrize(
    "wakes_up", [_late_quiet_hours, _late_past_the_window, _late_over_the_daily_cap], ids=["quiet", "window", "cap"]
)
def test_a_worker_stalled_past_the_lease_changes_nothing_another_worker_has_since_claimed(
    make_messages, settings, wakes_up
):
    """Worker A claims five messages, hands the first to the gateway and stalls there. Settle
    returns the four never handed to the queue; worker B claims them and sends them (the
    gateway's answer lost: they stay "submitting" under B's claim, for settle to look up).
    A wakes up late, when each of its remaining messages would be rescheduled (quiet hours,
    window closed, daily cap): B's rows must come out exactly as B left them."""
    messages = make_messages(5, until=time(23, 0))
    clock_a = Clock(local(DAY, 10, 1))
    left_by_b = {}

    def meanwhile():
        assert dispatch.settle_submitting(now=local(DAY, 10, 4), gateway=LocmemGateway()) == 4
        locmem.script(*[Outcome.UNKNOWN] * 4)
        dispatch.send_due_messages(now=local(DAY, 10, 4), gateway=LocmemGateway(), clock=Clock(local(DAY, 10, 4)))
        left_by_b.update(rows(messages[1:]))
        wakes_up(clock_a, settings)

    assert dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=StallingGateway(meanwhile), clock=clock_a) == 1

    assert {row["status"] for row in left_by_b.values()} == {Status.SUBMITTING}
    assert rows(messages[1:]) == left_by_b
    assert sent_references() == Counter(str(m.pk) for m in messages)  # each once: A the first, B the rest
    first = OutboundMessage.objects.get(pk=messages[0].pk)
    assert (first.status, first.submitted_at) == (Status.SENT, local(DAY, 10, 1))


def test_a_stalled_worker_does_not_mark_sent_what_settle_has_already_settled(make_messages, time_machine):
    """A's message was accepted, but A stalled before marking its batch: settle found the
    message in the gateway's query and closed it (with the customer's timeline event); A's
    late mark changes nothing and writes no second event."""
    time_machine.move_to(local(DAY, 10, 1))  # the locmem gateway stamps sends with the clock
    [message] = make_messages(1)
    gateway = LocmemGateway()

    class StallAfterAccept(LocmemGateway):
        def send(self, sms):
            result = gateway.send(sms)
            assert dispatch.settle_submitting(now=local(DAY, 10, 5), gateway=gateway) == 1
            return result

    dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=StallAfterAccept(), clock=Clock(local(DAY, 10, 1)))

    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert TimelineEvent.objects.filter(customer=message.customer, kind=TimelineEvent.Kind.MESSAGE).count() == 1
    assert len(locmem.outbox) == 1


# ----------------------------------------------------------------------------- never handed over


def test_tencent_rows_claimed_but_never_handed_over_are_queued_again_not_failed(make_messages):
    """A worker dies in the gateway call of the first message of its batch of five (the
    gateway got it). The other four were claimed but never handed to the gateway: settle
    queues them again after the lease, and they go out once. The one handed over is unlisted
    in Tencent's query, so it is never resent, and after a day a person checks it."""
    messages = make_messages(5)

    class DiesInFirstCall(QuietTencent):
        calls = 0

        def send(self, sms):
            self.calls += 1
            result = super().send(sms)
            if self.calls == 1:
                raise Killed
            return result

    with pytest.raises(Killed):
        dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=DiesInFirstCall(), clock=Clock(local(DAY, 10, 1)))
    assert Counter(r["status"] for r in rows(messages).values()) == {Status.SUBMITTING: 5}

    assert dispatch.settle_submitting(now=local(DAY, 10, 2), gateway=QuietTencent()) == 0  # within the lease
    assert dispatch.settle_submitting(now=local(DAY, 10, 4), gateway=QuietTencent()) == 4
    requeued = [rows(messages)[m.pk] for m in messages[1:]]
    assert {(r["status"], r["attempts"], r["handed_at"]) for r in requeued} == {(Status.SCHEDULED, 0, None)}

    assert dispatch.send_due_messages(now=local(DAY, 10, 5), gateway=QuietTencent()) == 4
    assert sent_references() == Counter(str(m.pk) for m in messages)

    dispatch.settle_submitting(now=local(DAY + timedelta(days=1), 10, 2), gateway=QuietTencent())
    first = OutboundMessage.objects.get(pk=messages[0].pk)
    assert first.status == Status.FAILED
    assert "人工核对" in first.error
    assert len(locmem.outbox) == 5


def test_a_claim_handed_over_while_settle_looks_at_it_is_not_queued_again(make_messages, monkeypatch):
    """Settle read the row before its worker handed it over (at the very instant of the
    claim): settle's compare-and-set (claim unchanged, not handed) loses, and the message is
    not queued for a second send."""
    [message] = make_messages(1)
    dispatch.claim(local(DAY, 10, 1), 1)
    real_move = dispatch.outbox.move

    def worker_hands_it_over_first(message_id, **move):
        OutboundMessage.objects.filter(pk=message_id).update(handed_at=F("claimed_at"))
        return real_move(message_id, **move)

    monkeypatch.setattr(dispatch.outbox, "move", worker_hands_it_over_first)
    assert dispatch.settle_submitting(now=local(DAY, 10, 4), gateway=LocmemGateway()) == 0
    message.refresh_from_db()
    assert (message.status, message.handed_at) == (Status.SUBMITTING, local(DAY, 10, 1))


# ----------------------------------------------------------------------------- opt-out mid-batch


def test_an_opt_out_arriving_while_a_batch_is_being_sent_stops_the_rest_of_it(make_messages):
    messages = make_messages(5)
    quitter = messages[3].customer

    class ReplyArrives(LocmemGateway):
        def send(self, sms):
            if sms.reference == str(messages[0].pk):
                dispatch.record_replies(
                    [InboundReply(mobile=quitter.mobile, text="TD", received_at=None)], gateway_name="locmem"
                )
            return super().send(sms)

    assert dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=ReplyArrives()) == 4
    assert str(messages[3].pk) not in sent_references()
    stopped = OutboundMessage.objects.get(pk=messages[3].pk)
    assert (stopped.status, stopped.error) == (Status.CANCELLED, "客户已退订")


def test_consent_withdrawn_while_a_batch_is_being_sent_stops_that_customers_message(make_messages, service):
    messages = make_messages(3)
    withdrawn = messages[2].customer

    class ConsentWithdrawn(LocmemGateway):
        def send(self, sms):
            if sms.reference == str(messages[0].pk):
                customer_services.set_consent(withdrawn, actor=service, purpose="care", granted=False)
            return super().send(sms)

    assert dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=ConsentWithdrawn()) == 2
    stopped = OutboundMessage.objects.get(pk=messages[2].pk)
    assert stopped.status == Status.CANCELLED
    assert "未同意" in stopped.error
    assert str(messages[2].pk) not in sent_references()


# ----------------------------------------------------------------------------- claim order


def test_a_broadcast_never_starves_personal_messages_whose_window_closes_sooner(make_messages):
    # The broadcast was queued first (lower ids), its window runs until 20:00; the birthday
    # greetings close at 10:30. With room for three sends, the greetings go first.
    broadcast = make_messages(30, until=time(20, 0), trigger=Trigger.EVENT)
    personal = make_messages(3, until=time(10, 30))
    assert dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=LocmemGateway(), limit=3) == 3
    assert set(sent_references()) == {str(m.pk) for m in personal}
    assert dispatch.send_due_messages(now=local(DAY, 10, 2), gateway=LocmemGateway()) == 30
    assert set(sent_references()) == {str(m.pk) for m in personal + broadcast}


def test_a_message_past_its_window_is_left_for_expire_overdue_not_sent(make_messages):
    [late] = make_messages(1)
    assert dispatch.claim(local(DAY, 10, 30), 10) == []
    assert dispatch.send_due_messages(now=local(DAY, 10, 45), gateway=LocmemGateway()) == 0
    assert OutboundMessage.objects.get(pk=late.pk).status == Status.SCHEDULED
    assert locmem.outbox == []


def test_a_window_closing_while_a_message_waits_in_its_batch_returns_it_unsent(make_messages, monkeypatch):
    [message] = make_messages(1)
    clock = Clock(local(DAY, 10, 29))
    real_claim = dispatch.claim

    def claim_then_the_window_closes(now, limit):
        claimed = real_claim(now, limit)
        clock.now = local(DAY, 10, 30)
        return claimed

    monkeypatch.setattr(dispatch, "claim", claim_then_the_window_closes)
    assert dispatch.send_due_messages(now=clock.now, gateway=LocmemGateway(), clock=clock) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_at) == (Status.SCHEDULED, 0, None)
    assert locmem.outbox == []


# ----------------------------------------------------------------------------- held at the last moment


def test_a_placeholder_left_in_the_text_holds_the_message_instead_of_sending_it(make_messages):
    [message] = make_messages(1)
    OutboundMessage.objects.filter(pk=message.pk).update(text="入住愉快！如有需要请致电客服（{客服电话}）。")
    dispatch.send_due_messages(now=local(DAY, 10, 1), gateway=LocmemGateway())
    message.refresh_from_db()
    assert message.status == Status.HELD
    assert message.error == "短信中还有未填写的内容：{客服电话}"
    assert locmem.outbox == []


# ----------------------------------------------------------------------------- the console after a crash


def test_the_console_settles_what_it_printed_before_a_crash_and_prints_nothing_twice(
    make_messages, tmp_path, capsys, time_machine
):
    """The worker dies right after the console printed the second of three messages: the
    first was marked sent, the second is left "submitting" (handed over), the third never
    handed over. Settle, past the grace, finds the second in the console's ledger instead of
    queuing it again; the third goes out once."""
    time_machine.move_to(local(DAY, 10, 1))  # the console dates its ledger by the clock
    messages = make_messages(3)
    ledger = tmp_path / "ledger.jsonl"

    class ConsoleKilledAfterSecondPrint(ConsoleGateway):
        printed = 0

        def send(self, sms):
            result = super().send(sms)
            self.printed += 1
            if self.printed == 2:
                raise Killed
            return result

    with pytest.raises(Killed):
        dispatch.send_due_messages(
            now=local(DAY, 10, 1), gateway=ConsoleKilledAfterSecondPrint(ledger=ledger), clock=Clock(local(DAY, 10, 1))
        )
    after_restart = ConsoleGateway(ledger=ledger)
    assert dispatch.settle_submitting(now=local(DAY, 10, 15), gateway=after_restart) == 2
    assert dispatch.send_due_messages(now=local(DAY, 10, 15), gateway=after_restart) == 1

    out = capsys.readouterr().out
    printed = Counter(line.split("引用 ")[1].split()[0] for line in out.splitlines() if "引用 " in line)
    assert printed == Counter(str(m.pk) for m in messages)
    assert [rows(messages)[m.pk]["status"] for m in messages] == [Status.SENT, Status.DELIVERED, Status.SENT]
