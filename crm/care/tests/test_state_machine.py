"""The outbox as a state machine: the table of allowed moves and the one mover that keeps it."""

from datetime import date, timedelta
from itertools import product

import pytest
from django.db.models import Q

from crm.care import outbox, services
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.core.errors import DomainError

Status = OutboundMessage.Status
DAY = date(2026, 11, 23)
CLAIMED = local(DAY, 10, 1)
ALL_PAIRS = list(product(Status, Status))


@pytest.fixture
def make_message(owner):
    rule = services.rule_for(owner.project_id, Trigger.BIRTHDAY)
    made = iter(range(1000))

    def make(status=Status.SCHEDULED, *, customer=owner, text="林业主，祝您生日快乐。", **fields):
        claimed = status == Status.SUBMITTING
        values = {
            "scheduled_at": local(DAY, 10),
            "next_attempt_at": local(DAY, 10),
            "window_ends_at": local(DAY, 10, 30),
            "claimed_at": CLAIMED if claimed else None,
            "attempts": 1 if claimed else 0,
        }
        return OutboundMessage.objects.create(
            customer=customer,
            project_id=customer.project_id,
            rule=rule,
            trigger=rule.trigger,
            occasion=f"m{next(made)}",
            text=text,
            status=status,
            **({"purpose": rule.purpose} | values | fields),
        )

    return make


def snapshot(message):
    return OutboundMessage.objects.filter(pk=message.pk).values().get()


def claim_of(message):
    return message.claimed_at if message.status == Status.SUBMITTING else None


def test_the_table_names_every_status_and_only_statuses():
    assert set(OutboundMessage.ALLOWED_MOVES) == set(Status)
    assert all(targets <= set(Status) for targets in OutboundMessage.ALLOWED_MOVES.values())


def test_delivered_and_cancelled_are_final():
    assert OutboundMessage.ALLOWED_MOVES[Status.DELIVERED] == frozenset()
    assert OutboundMessage.ALLOWED_MOVES[Status.CANCELLED] == frozenset()


def test_nothing_the_gateway_may_hold_goes_back_to_the_queue_except_by_staff_or_settle():
    # Sent, delivered and undelivered rows were accepted by a gateway: sending them again
    # would be a duplicate, so no move leads from them to scheduled or submitting.
    for accepted in (Status.SENT, Status.DELIVERED, Status.UNDELIVERED):
        assert not OutboundMessage.ALLOWED_MOVES[accepted] & {Status.SCHEDULED, Status.SUBMITTING}


@pytest.mark.parametrize(("frm", "to"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_every_move_in_the_table_succeeds_and_every_other_is_refused_and_changes_nothing(make_message, frm, to):
    message = make_message(frm)
    before = snapshot(message)
    # A claim (into "submitting") is stamped with when it was taken.
    stamp = {"claimed_at": local(DAY, 10, 2)} if to == Status.SUBMITTING else {}
    if to in OutboundMessage.ALLOWED_MOVES[frm]:
        assert outbox.move(message.pk, frm=frm, to=to, claim=claim_of(message), now=local(DAY, 10, 2), **stamp)
        after = snapshot(message)
        assert after["status"] == to
        assert after["updated_at"] == local(DAY, 10, 2)
        # The claim belongs to "submitting" only; a row back in the queue is a new attempt.
        assert (after["claimed_at"] is not None) == (to == Status.SUBMITTING)
        if to == Status.SCHEDULED:
            assert after["handed_at"] is None
    else:
        with pytest.raises(outbox.IllegalMove) as refused:
            outbox.move(message.pk, frm=frm, to=to, claim=claim_of(message), now=local(DAY, 10, 2), **stamp)
        assert refused.value.message == f"短信状态不能从“{frm.label}”改为“{to.label}”"
        assert snapshot(message) == before


def test_a_row_no_longer_in_the_expected_status_is_not_moved(make_message):
    message = make_message(Status.SENT)
    before = snapshot(message)
    assert not outbox.move(message.pk, frm=Status.SCHEDULED, to=Status.CANCELLED, error="人工取消")
    assert snapshot(message) == before


def test_a_move_out_of_submitting_needs_the_claim_it_holds(make_message):
    message = make_message(Status.SUBMITTING)
    before = snapshot(message)
    with pytest.raises(ValueError, match="claim"):
        outbox.move(message.pk, frm=Status.SUBMITTING, to=Status.FAILED)
    # Another worker's claim (a later one) is not ours: nothing moves.
    assert not outbox.move(message.pk, frm=Status.SUBMITTING, to=Status.FAILED, claim=CLAIMED - timedelta(minutes=3))
    assert snapshot(message) == before
    assert outbox.move(message.pk, frm=Status.SUBMITTING, to=Status.FAILED, claim=CLAIMED)
    assert snapshot(message)["status"] == Status.FAILED


def test_moving_several_rows_moves_only_those_still_under_the_claim_given(make_message):
    ours, taken_over = make_message(Status.SUBMITTING), make_message(Status.SUBMITTING)
    OutboundMessage.objects.filter(pk=taken_over.pk).update(claimed_at=local(DAY, 10, 9))
    moved = outbox.move_all(
        Q(pk__in=[ours.pk, taken_over.pk]),
        frm=Status.SUBMITTING,
        to=Status.SENT,
        claims={ours.pk: CLAIMED, taken_over.pk: CLAIMED},
    )
    assert moved == 1
    assert snapshot(ours)["status"] == Status.SENT
    assert snapshot(taken_over)["status"] == Status.SUBMITTING


def test_a_further_condition_is_checked_in_the_same_move(make_message):
    message = make_message(Status.SUBMITTING)
    assert not outbox.move(
        message.pk, frm=Status.SUBMITTING, to=Status.SUBMITTING, claim=CLAIMED, only_if=Q(handed_at__isnull=False)
    )
    assert outbox.move(
        message.pk,
        frm=Status.SUBMITTING,
        to=Status.SUBMITTING,
        claim=CLAIMED,
        only_if=Q(handed_at__isnull=True),
        handed_at=local(DAY, 10, 2),
    )
    assert snapshot(message)["handed_at"] == local(DAY, 10, 2)


# ----------------------------------------------------------------------------- named moves


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.HELD])
def test_staff_cancel_a_scheduled_or_held_message(make_message, status):
    message = make_message(status)
    assert outbox.cancel(message.pk, reason="人工取消：客户电话要求")
    after = snapshot(message)
    assert (after["status"], after["error"]) == (Status.CANCELLED, "人工取消：客户电话要求")


@pytest.mark.parametrize("status", [Status.SUBMITTING, Status.SENT, Status.EXPIRED])
def test_a_message_claimed_or_done_cannot_be_cancelled(make_message, status):
    message = make_message(status)
    before = snapshot(message)
    assert not outbox.cancel(message.pk, reason="人工取消")
    assert snapshot(message) == before


def test_a_held_message_is_released_into_the_queue_once_its_text_is_complete(make_message):
    message = make_message(Status.HELD, text="入住愉快，客服电话（{客服电话}）", error="楼盘未设置客服电话")
    with pytest.raises(DomainError, match=r"\{客服电话\}"):
        outbox.release_held(message.pk, scheduled_at=local(DAY, 10), window_ends_at=local(DAY, 10, 30))
    assert snapshot(message)["status"] == Status.HELD

    assert outbox.release_held(
        message.pk,
        scheduled_at=local(DAY + timedelta(days=1), 10),
        window_ends_at=local(DAY + timedelta(days=1), 10, 30),
        text="入住愉快，客服电话（0571-88880000）",
        params={"客服电话": "0571-88880000"},
    )
    after = snapshot(message)
    assert after["status"] == Status.SCHEDULED
    assert after["text"] == "入住愉快，客服电话（0571-88880000）"
    assert after["params"] == {"客服电话": "0571-88880000"}
    assert after["next_attempt_at"] == local(DAY + timedelta(days=1), 10)
    assert after["error"] == ""
    # Released once: a second release finds it no longer held.
    assert not outbox.release_held(
        message.pk, scheduled_at=local(DAY, 10), window_ends_at=local(DAY, 10, 30), text="入住愉快"
    )


@pytest.mark.parametrize("status", [Status.FAILED, Status.EXPIRED])
def test_a_failed_or_expired_message_is_resent_with_its_attempts_reset(make_message, status):
    message = make_message(status, attempts=6, error="重试 6 次仍失败", error_code="HTTP_503")
    tomorrow = DAY + timedelta(days=1)
    assert outbox.resend(
        message.pk, frm=status, scheduled_at=local(tomorrow, 10), window_ends_at=local(tomorrow, 10, 30)
    )
    after = snapshot(message)
    assert (after["status"], after["attempts"], after["error"], after["error_code"]) == (Status.SCHEDULED, 0, "", "")
    assert (after["next_attempt_at"], after["window_ends_at"]) == (local(tomorrow, 10), local(tomorrow, 10, 30))


def test_a_delivered_message_is_never_resent(make_message):
    message = make_message(Status.DELIVERED)
    with pytest.raises(outbox.IllegalMove):
        outbox.resend(message.pk, frm=Status.DELIVERED, scheduled_at=local(DAY, 11), window_ends_at=local(DAY, 12))
    assert snapshot(message)["status"] == Status.DELIVERED


def test_a_claim_is_stamped_with_when_it_was_taken(make_message):
    message = make_message(Status.SCHEDULED)
    with pytest.raises(ValueError, match="claimed_at"):
        outbox.move(message.pk, frm=Status.SCHEDULED, to=Status.SUBMITTING)
    assert snapshot(message)["status"] == Status.SCHEDULED


# ---------------------------------------------------------------- the hand-off statement


@pytest.mark.parametrize("purpose", ["notification", "care", "marketing"])
@pytest.mark.parametrize(
    "change",
    [{}, {"has_opted_out": True}, {"is_archived": True}, {"consent": False}],
    ids=["reachable", "opted_out", "archived", "no_consent"],
)
def test_the_hand_off_agrees_with_the_reachable_rule(make_message, owner, purpose, change):
    from crm.care.audience import CONSENT_FIELD, reachable
    from crm.customers.models import Customer

    fields = dict.fromkeys(CONSENT_FIELD.values(), True) | {"has_opted_out": False, "is_archived": False}
    if "consent" in change:
        fields[CONSENT_FIELD[purpose]] = False
    fields |= {k: v for k, v in change.items() if k != "consent"}
    Customer.objects.filter(pk=owner.pk).update(**fields)
    message = make_message(Status.SUBMITTING, purpose=purpose)
    expected = reachable(Customer.objects.filter(pk=owner.pk), purpose).exists()
    now = CLAIMED + timedelta(seconds=5)
    handed = outbox.hand_off(message.pk, claim=CLAIMED, now=now, gateway="locmem", purpose=purpose)
    assert handed is expected
    message.refresh_from_db()
    assert message.status == Status.SUBMITTING
    if expected:
        assert (message.handed_at, message.claimed_at, message.gateway) == (now, now, "locmem")
    else:
        assert (message.handed_at, message.claimed_at) == (None, CLAIMED)


def test_the_hand_off_needs_the_claim_the_worker_holds(make_message):
    message = make_message(Status.SUBMITTING)
    stale = CLAIMED - timedelta(minutes=5)
    assert not outbox.hand_off(message.pk, claim=stale, now=CLAIMED, gateway="locmem", purpose=message.purpose)
    assert not outbox.hand_off(
        make_message(Status.SCHEDULED).pk, claim=CLAIMED, now=CLAIMED, gateway="locmem", purpose=message.purpose
    )
    assert snapshot(message)["handed_at"] is None
