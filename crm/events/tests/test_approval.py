"""客户活动 messages under 综合组审批: when an administrator switches approval on for the
project's 活动通知 rule, the invitations and the 3-day notice wait on the event's draft
(shown on the care approval page, never resent by hand), go once on approval and never on
rejection. The event is Sunday 2026-12-20; the notice is due Thursday 12-17 10:00–10:30."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from django.urls import reverse

from crm.care import dispatch, resend
from crm.care import services as care
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.core.errors import DomainError
from crm.customers.models import Customer
from crm.events import jobs, services
from crm.events.models import Event, Invitee
from crm.lib.dates import CHINA_TZ
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway

EVENT_ON = date(2026, 12, 20)
Status = OutboundMessage.Status


def at(m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=CHINA_TZ)


@pytest.fixture(autouse=True)
def _locmem() -> Any:
    locmem.reset()
    yield
    locmem.reset()


@pytest.fixture
def approval_on(project: Any) -> None:
    """An administrator switched 需综合组审批 on for the project's 活动通知 rule."""
    rule = care.rule_for(project.pk, Trigger.EVENT)
    CareRule.objects.filter(pk=rule.pk).update(needs_approval=True)


@pytest.fixture
def event(service: Any, project: Any) -> Event:
    return services.create_event(
        project,
        actor=service,
        title="业主品鉴会",
        starts_on=EVENT_ON,
        starts_at_time=time(14, 0),
        place="锦华苑会所",
        now=at(12, 7),
    )


@pytest.fixture
def owners(make_customer: Any) -> list[Customer]:
    return [make_customer(f"业主{i}", consent_marketing=True) for i in range(3)]


def _invite(event: Event, service: Any, owners: list[Customer], now: datetime) -> services.Sent:
    services.add_invitees(event, Customer.objects.filter(pk__in=[c.pk for c in owners]), actor=service, now=now)
    return services.send_invitations(event, actor=service, now=now)


def _rows(event: Event, kind: str) -> Any:
    return OutboundMessage.objects.filter(occasion=f"{event.key}-{kind}")


def _draft(event: Event, kind: str) -> Draft:
    return Draft.objects.get(occasion=f"{event.key}-{kind}")


def _send(now: datetime) -> int:
    return dispatch.send_due_messages(now=now, gateway=LocmemGateway())


def test_with_approval_on_invitations_wait_then_go_exactly_once(approval_on, event, service, approver, owners, login):
    sent = _invite(event, service, owners, at(12, 7, 9))

    assert sent == services.Sent(queued=0, not_sent=0, awaiting_approval=3)
    draft = _draft(event, "invite")
    assert draft.status == Draft.Status.PENDING
    assert draft.recipient_count == 3
    assert set(_rows(event, "invite").values_list("status", "error")) == {(Status.HELD, care.AWAITING_APPROVAL)}
    # Nothing goes before the approval, and nobody resends one by hand.
    assert _send(at(12, 7, 10)) == 0
    row = _rows(event, "invite").first()
    assert resend.refusal(row) == "该短信等待综合组审批，批准后自动排入发件箱，不能补发"
    assert not resend.is_resendable(row)
    with pytest.raises(DomainError, match="等待综合组审批"):
        resend.resend_message(row, actor=service, now=at(12, 7, 10))
    page = login(approver).get(reverse("care:approvals")).content.decode()
    assert f'id="draft-{draft.pk}"' in page
    assert "活动邀请 · 活动日期" in page
    assert "08:00–20:00" in page  # the invitation's window, not the notice rule's

    queued = care.approve_draft(draft, actor=approver, now=at(12, 7, 11))

    assert queued == 3
    assert set(_rows(event, "invite").values_list("status", flat=True)) == {Status.SCHEDULED}
    assert {r.scheduled_at for r in _rows(event, "invite")} == {at(12, 7, 11)}
    with pytest.raises(DomainError, match="该短信已审批"):
        care.approve_draft(draft, actor=approver, now=at(12, 7, 11, 5))
    assert _send(at(12, 7, 11, 10)) == 3
    assert _send(at(12, 7, 11, 20)) == 0
    assert len(locmem.outbox) == 3
    assert sorted(m.reference for m in locmem.outbox) == sorted(str(r.pk) for r in _rows(event, "invite"))


def test_an_invitee_added_while_the_draft_waits_waits_with_it(
    approval_on, event, service, approver, owners, make_customer
):
    _invite(event, service, owners[:2], at(12, 7, 9))
    _invite(event, service, owners[2:], at(12, 7, 9, 30))
    draft = _draft(event, "invite")
    assert draft.recipient_count == 3

    assert care.approve_draft(draft, actor=approver, now=at(12, 7, 10)) == 3
    # Added after the approval: the approved text goes at once.
    late = make_customer("后来的业主", consent_marketing=True)
    assert _invite(event, service, [late], at(12, 8, 9)).queued == 1


def test_a_rejected_invitation_never_goes(approval_on, event, service, approver, owners):
    _invite(event, service, owners, at(12, 7, 9))

    care.reject_draft(_draft(event, "invite"), actor=approver, comment="活动方案未定")

    rows = _rows(event, "invite")
    assert set(rows.values_list("status", "error")) == {(Status.CANCELLED, "综合组已驳回：活动方案未定")}
    assert _send(at(12, 7, 10)) == 0
    assert locmem.outbox == []


def test_the_notice_waits_for_approval_and_goes_in_its_window(approval_on, event, service, approver, owners):
    _invite(event, service, owners, at(12, 7, 9))
    care.approve_draft(_draft(event, "invite"), actor=approver, now=at(12, 7, 9, 30))

    assert jobs.plan_event_notices(now=at(12, 17, 8)) == 3
    assert jobs.plan_event_notices(now=at(12, 17, 8, 5)) == 0
    notice = _draft(event, "notice")
    assert notice.status == Draft.Status.PENDING
    assert set(_rows(event, "notice").values_list("status", flat=True)) == {Status.HELD}
    assert _send(at(12, 17, 10, 5)) == 0

    care.approve_draft(notice, actor=approver, now=at(12, 17, 9))

    assert {r.scheduled_at for r in _rows(event, "notice")} == {at(12, 17, 10)}
    assert _send(at(12, 17, 10, 5)) == 3
    assert _send(at(12, 17, 10, 10)) == 0


def test_an_event_edited_after_approval_waits_for_a_new_decision(approval_on, event, service, approver, owners):
    _invite(event, service, owners, at(12, 7, 9))
    draft = _draft(event, "invite")
    care.approve_draft(draft, actor=approver, now=at(12, 7, 9, 30))

    services.update_event(event, actor=service, place="锦华苑售楼处", now=at(12, 7, 9, 40))

    draft.refresh_from_db()
    assert draft.status == Draft.Status.PENDING
    assert "锦华苑售楼处" in draft.text
    rows = _rows(event, "invite")
    assert set(rows.values_list("status", "error")) == {(Status.HELD, care.AWAITING_APPROVAL)}
    assert all("锦华苑售楼处" in r.text for r in rows)
    assert _send(at(12, 7, 10)) == 0
    assert care.approve_draft(draft, actor=approver, now=at(12, 7, 10, 30)) == 3
    assert _send(at(12, 7, 10, 40)) == 3


def test_with_approval_off_event_messages_are_queued_at_once(event, service, owners):
    sent = _invite(event, service, owners, at(12, 7, 9))

    assert sent == services.Sent(queued=3, not_sent=0, awaiting_approval=0)
    assert _draft(event, "invite").status == Draft.Status.APPROVED
    assert _send(at(12, 7, 9, 10)) == 3
    assert Invitee.objects.filter(event=event, invite_message__status=Status.SENT).count() == 3
