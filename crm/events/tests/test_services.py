"""客户活动: invitations and the 3-day notice through the care outbox, replies, check-in,
gifts. Real dates: the event is Sunday 2026-12-20 14:00, the notice due Thursday 12-17
10:00–10:30 (seed 001: 活动前三天)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from django.http import Http404

from crm.care.models import OutboundMessage
from crm.care.services import opt_out
from crm.core.errors import DomainError
from crm.customers.models import TimelineEvent
from crm.events import jobs, selectors, services
from crm.events.models import Event, EventGift, Invitee
from crm.lib.dates import CHINA_TZ
from crm.service import services as service_services
from crm.service.models import Gift, GiftIssue, GiftStock

EVENT_ON = date(2026, 12, 20)


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


NOW = at(2026, 12, 7)


@pytest.fixture
def event(service: Any, project: Any) -> Event:
    return services.create_event(
        project,
        actor=service,
        title="业主中秋茶话会",
        starts_on=EVENT_ON,
        starts_at_time=time(14, 0),
        place="锦华苑会所",
        now=NOW,
    )


@pytest.fixture
def owners(make_customer: Any) -> list[Any]:
    return [make_customer(f"业主{i}", consent_marketing=True) for i in range(3)]


def _invite(event: Event, service: Any, customers: list[Any], now: datetime = NOW) -> services.Sent:
    ids = [c.pk for c in customers]
    services.add_invitees(event, type(customers[0]).objects.filter(pk__in=ids), actor=service, now=now)
    return services.send_invitations(event, actor=service, now=now)


def _messages(event: Event, kind: str) -> Any:
    return OutboundMessage.objects.filter(occasion=f"{event.key}-{kind}")


def test_invitations_go_once_per_invitee_however_often_they_are_sent(event, service, owners):
    sent = _invite(event, service, owners)
    again = services.send_invitations(event, actor=service, now=at(2026, 12, 7, 9, 5))

    assert sent == services.Sent(queued=3, not_sent=0)
    assert again == services.Sent(queued=0, not_sent=0)
    rows = _messages(event, "invite")
    assert rows.count() == 3
    assert set(rows.values_list("status", flat=True)) == {OutboundMessage.Status.SCHEDULED}
    assert "业主中秋茶话会" in rows[0].text
    assert "12月20日（周日）14:00（锦华苑会所）" in rows[0].text
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert Invitee.objects.filter(event=event, invite_message__isnull=False).count() == 3


def test_an_invitee_added_later_is_invited_on_the_next_send(event, service, owners, make_customer):
    _invite(event, service, owners)
    late = make_customer("后来的业主", consent_marketing=True)
    sent = _invite(event, service, [late], now=at(2026, 12, 8))
    assert sent.queued == 1
    assert _messages(event, "invite").count() == 4


def test_the_notice_is_planned_three_days_before_once_under_repeated_job_runs(event, service, owners):
    _invite(event, service, owners)

    assert jobs.plan_event_notices(now=at(2026, 12, 16, 23, 50)) == 0
    assert jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0)) == 3
    assert jobs.plan_event_notices(now=at(2026, 12, 17, 8, 10)) == 0
    assert jobs.plan_event_notices(now=at(2026, 12, 17, 10, 20)) == 0

    rows = _messages(event, "notice")
    assert rows.count() == 3
    assert {r.scheduled_at for r in rows} == {at(2026, 12, 17, 10, 0)}
    assert {r.window_ends_at for r in rows} == {at(2026, 12, 17, 10, 30)}
    assert _messages(event, "invite").count() == 3


def test_a_second_runner_racing_the_first_still_creates_one_notice(event, service, owners):
    _invite(event, service, owners)
    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0))
    Invitee.objects.filter(event=event).update(notice_message=None)  # as if the first run's marks were not seen

    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 1))

    assert _messages(event, "notice").count() == 3
    assert Invitee.objects.filter(event=event, notice_message__isnull=False).count() == 3


def test_moving_the_event_moves_the_queued_notice_and_its_text(event, service, owners):
    _invite(event, service, owners)
    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0))

    result = services.update_event(event, actor=service, starts_on=date(2026, 12, 27), now=at(2026, 12, 17, 9, 0))

    assert result.moved >= 3
    rows = _messages(event, "notice")
    assert {r.scheduled_at for r in rows} == {at(2026, 12, 24, 10, 0)}
    assert all("12月27日（周日）" in r.text and "12月20日" not in r.text for r in rows)
    # The job on the new notice day finds the notices planned: still one per invitee.
    assert jobs.plan_event_notices(now=at(2026, 12, 24, 8, 0)) == 0
    assert _messages(event, "notice").count() == 3


def test_a_date_moved_before_the_notice_day_plans_the_notice_from_the_new_date(event, service, owners):
    _invite(event, service, owners)
    services.update_event(event, actor=service, starts_on=date(2026, 12, 27), now=at(2026, 12, 10))

    assert jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0)) == 0
    assert jobs.plan_event_notices(now=at(2026, 12, 24, 8, 0)) == 3
    assert {r.scheduled_at for r in _messages(event, "notice")} == {at(2026, 12, 24, 10, 0)}
    assert all("12月27日（周日）" in r.text for r in _messages(event, "invite"))


def test_an_event_moved_too_close_expires_its_notice_rather_than_sending_on_the_day(event, service, owners):
    _invite(event, service, owners)
    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0))

    services.update_event(event, actor=service, starts_on=date(2026, 12, 18), now=at(2026, 12, 17, 11, 0))

    rows = _messages(event, "notice")
    assert set(rows.values_list("status", flat=True)) == {OutboundMessage.Status.EXPIRED}
    assert "来不及" in rows[0].error


def test_an_opted_out_customer_is_not_messaged_and_the_reason_shows(event, service, owners, make_customer):
    out = make_customer("退订业主", consent_marketing=True)
    opt_out(out, actor=service, source="回复TD")
    no_consent = make_customer("未授权业主", consent_marketing=False)

    sent = _invite(event, service, [*owners, out, no_consent])
    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0))

    assert sent == services.Sent(queued=3, not_sent=2)
    for customer, reason in ((out, "客户已退订"), (no_consent, "客户未同意接收营销推广短信")):
        invitee = Invitee.objects.select_related("invite_message", "notice_message").get(customer=customer)
        assert invitee.invite_message.status == OutboundMessage.Status.CANCELLED
        assert invitee.invite_message.error == reason
        assert invitee.notice_message.status == OutboundMessage.Status.CANCELLED
    assert OutboundMessage.objects.filter(customer=out, status=OutboundMessage.Status.SCHEDULED).count() == 0


def test_a_customer_who_declines_is_not_sent_the_notice(event, service, consultant, owners):
    _invite(event, service, owners)
    declined = Invitee.objects.get(event=event, customer=owners[0])
    services.record_rsvp(declined, actor=consultant, rsvp=Invitee.Rsvp.NO, note="出差", now=at(2026, 12, 9))

    assert jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0)) == 2
    assert not _messages(event, "notice").filter(customer=owners[0]).exists()


def test_declining_after_the_notice_was_queued_cancels_it(event, service, consultant, owners):
    _invite(event, service, owners)
    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0))
    declined = Invitee.objects.get(event=event, customer=owners[0])

    services.record_rsvp(declined, actor=consultant, rsvp=Invitee.Rsvp.NO, now=at(2026, 12, 17, 9, 0))

    row = _messages(event, "notice").get(customer=owners[0])
    assert row.status == OutboundMessage.Status.CANCELLED
    assert row.error == "客户回复不参加活动"


def test_cancelling_the_event_withdraws_unsent_messages(event, service, owners):
    _invite(event, service, owners)
    services.cancel_event(event, actor=service, reason="台风")
    assert set(_messages(event, "invite").values_list("status", flat=True)) == {OutboundMessage.Status.CANCELLED}
    assert jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0)) == 0


def test_check_in_records_attendance_once_on_the_timeline(event, service, consultant, owners):
    _invite(event, service, owners)
    invitee = Invitee.objects.get(event=event, customer=owners[0])
    with pytest.raises(DomainError, match="还未开始"):
        services.check_in(invitee, actor=consultant, now=at(2026, 12, 19, 14, 0))

    services.check_in(invitee, actor=consultant, now=at(2026, 12, 20, 13, 50))
    services.check_in(invitee, actor=consultant, now=at(2026, 12, 20, 13, 55))

    invitee.refresh_from_db()
    assert invitee.attended_at == at(2026, 12, 20, 13, 50)
    assert invitee.rsvp == Invitee.Rsvp.YES
    summaries = list(
        TimelineEvent.objects.filter(customer=owners[0], kind=TimelineEvent.Kind.EVENT).values_list(
            "summary", flat=True
        )
    )
    assert summaries.count("出席客户活动「业主中秋茶话会」") == 1
    assert any(s.startswith("受邀参加客户活动") for s in summaries)
    assert selectors.counts(event).attended == 1


def test_an_event_gift_takes_stock_through_the_service_and_is_linked(event, service, director, owners, project):
    _invite(event, service, owners)
    gift = Gift.objects.create(company=project.company, name="月饼礼盒", unit="盒")
    service_services.stock_in(gift, actor=director, project=project, quantity=5)
    invitee = Invitee.objects.get(event=event, customer=owners[0])

    link = services.issue_event_gift(
        event, actor=service, invitee=invitee, gift=gift, quantity=2, now=at(2026, 12, 20, 15)
    )

    assert GiftStock.objects.get(gift=gift, project=project).quantity == 3
    issue = GiftIssue.objects.get()
    assert link == EventGift.objects.get(event=event)
    assert link.issue == issue
    assert link.invitee == invitee
    assert issue.occasion == "event"
    assert issue.customer == owners[0]
    assert TimelineEvent.objects.filter(customer=owners[0], kind=TimelineEvent.Kind.GIFT).count() == 1
    with pytest.raises(DomainError, match="库存不足"):
        services.issue_event_gift(event, actor=service, invitee=invitee, gift=gift, quantity=4)
    assert EventGift.objects.count() == 1


def test_the_outsider_cannot_see_the_event(event, outsider):
    with pytest.raises(Http404):
        selectors.get_event_for_user(outsider, event.pk)


def test_a_consultant_sees_only_their_own_customers_on_the_list(event, service, owners, make_customer, teammate):
    other = make_customer("同组的客户", owner=teammate, consent_marketing=True)
    _invite(event, service, [*owners, other])
    assert selectors.invitees_of(event, service).count() == 4
    assert set(selectors.invitees_of(event, teammate).values_list("customer", flat=True)) == {other.pk}


def test_candidates_follow_the_filter_and_skip_those_already_invited(event, service, owners, make_customer):
    vip = make_customer("VIP业主", consent_marketing=True, is_vip=True)
    assert selectors.candidates(service, event, vip=True).get() == vip
    _invite(event, service, [vip])
    assert not selectors.candidates(service, event, vip=True).exists()
    assert selectors.candidates(service, event, project=event.project).count() == 3


@pytest.mark.parametrize("frm", list(Event.Status))
@pytest.mark.parametrize("to", list(Event.Status))
def test_every_status_move_follows_the_table(event, service, frm, to):
    Event.objects.filter(pk=event.pk).update(status=frm)
    allowed = to in Event.ALLOWED_MOVES[frm]
    if allowed:
        assert services._move(event, to, actor=service).status == to
    else:
        with pytest.raises(DomainError):
            services._move(event, to, actor=service)
        event.refresh_from_db()
        assert event.status == frm


def test_a_notice_that_missed_its_window_is_caught_up_but_never_on_the_event_day(event, service, owners):
    from crm.care import jobs as care_jobs

    _invite(event, service, owners)
    jobs.plan_event_notices(now=at(2026, 12, 17, 8, 0))

    care_jobs.expire_overdue(now=at(2026, 12, 17, 11, 0))  # the dispatcher was down at 10:00
    assert {r.next_attempt_at for r in _messages(event, "notice")} == {at(2026, 12, 18, 10, 0)}
    care_jobs.expire_overdue(now=at(2026, 12, 19, 11, 0))  # and again: 12-20 is the event's day
    assert set(_messages(event, "notice").values_list("status", flat=True)) == {OutboundMessage.Status.EXPIRED}
