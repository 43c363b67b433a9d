"""At the event's door: 现场登记 (walk-ins found or registered by mobile, never revealing a
customer outside the user's scope) and the capacity (名额) enforced on replies and walk-ins,
with the confirmed over-capacity admission recorded. The event is Sunday 2026-12-20."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.audit import AuditLog
from crm.core.errors import DomainError
from crm.customers import guard
from crm.customers import services as customer_services
from crm.customers.models import Channel, Customer, TimelineEvent
from crm.events import selectors, services
from crm.events.models import Event, Invitee
from crm.lib.dates import CHINA_TZ

EVENT_ON = date(2026, 12, 20)


def at(m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=CHINA_TZ)


ON_THE_DAY = at(12, 20, 13, 50)


@pytest.fixture
def event(service: Any, project: Any) -> Event:
    event = services.create_event(
        project,
        actor=service,
        title="业主答谢会",
        starts_on=EVENT_ON,
        starts_at_time=time(14, 0),
        place="锦华苑会所",
        now=at(12, 7),
    )
    return services.publish_event(event, actor=service)


def _invite(event: Event, service: Any, *customers: Customer) -> list[Invitee]:
    services.add_invitees(
        event, Customer.objects.filter(pk__in=[c.pk for c in customers]), actor=service, now=at(12, 7)
    )
    return [Invitee.objects.get(event=event, customer=c) for c in customers]


def _capacity(event: Event, seats: int) -> Event:
    Event.objects.filter(pk=event.pk).update(capacity=seats)
    event.refresh_from_db()
    return event


# ---------------------------------------------------------------- walk-ins


def test_a_walk_in_in_scope_is_added_checked_in_and_recorded_once(event, service, make_customer):
    walker = make_customer("赵路过", mobile="13900001111")

    with pytest.raises(DomainError, match="还未开始"):
        services.register_walk_in(event, actor=service, mobile="13900001111", now=at(12, 19, 14))
    result = services.register_walk_in(event, actor=service, mobile="139 0000 1111", now=ON_THE_DAY)
    again = services.register_walk_in(event, actor=service, mobile="13900001111", now=at(12, 20, 14, 5))

    invitee = result.invitee
    assert (result.was_invited, result.created_customer) == (False, False)
    assert again.was_invited
    assert again.invitee.pk == invitee.pk
    invitee.refresh_from_db()
    assert invitee.customer == walker
    assert invitee.source == Invitee.Source.WALK_IN
    assert (invitee.rsvp, invitee.attended_at, invitee.checked_in_by) == (Invitee.Rsvp.YES, ON_THE_DAY, service)
    assert invitee.invited_at is None
    assert Invitee.objects.filter(event=event).count() == 1
    summaries = list(
        TimelineEvent.objects.filter(customer=walker, kind=TimelineEvent.Kind.EVENT).values_list("summary", flat=True)
    )
    assert summaries == ["出席客户活动「业主答谢会」（现场登记）"]
    assert AuditLog.objects.filter(summary__contains="现场登记 赵路过").count() == 1
    assert selectors.counts(event).attended == 1


def test_an_invited_customer_found_by_mobile_is_checked_in_as_an_invitee(event, service, make_customer):
    guest = make_customer("钱受邀", mobile="13900002222")
    (invitee,) = _invite(event, service, guest)

    result = services.register_walk_in(event, actor=service, mobile="13900002222", now=ON_THE_DAY)

    assert result.was_invited
    assert result.invitee.pk == invitee.pk
    invitee.refresh_from_db()
    assert invitee.source == Invitee.Source.INVITED
    assert invitee.attended_at == ON_THE_DAY


def test_an_unknown_mobile_becomes_a_customer_through_the_customers_service(event, consultant, project):
    with pytest.raises(DomainError, match="请填写姓名") as no_name:
        services.register_walk_in(event, actor=consultant, mobile="13900003333", now=ON_THE_DAY)
    assert no_name.value.field == "name"

    result = services.register_walk_in(event, actor=consultant, mobile="13900003333", name=" 孙新客 ", now=ON_THE_DAY)

    customer = Customer.objects.get(mobile="13900003333")
    assert result.created_customer
    assert result.invitee.customer == customer
    assert (customer.name, customer.owner, customer.project, customer.source_channel) == (
        "孙新客",
        consultant,
        project,
        Channel.EVENT,
    )
    assert customer.number.startswith("KH")
    assert TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.CREATED).count() == 1
    # The customers app's de-duplication holds: the same number cannot be registered again.
    with pytest.raises(customer_services.DuplicateCustomer):
        customer_services.create_customer(
            actor=consultant, name="重复", mobile="13900003333", source_channel=Channel.EVENT, project=project
        )


def test_a_user_who_may_not_add_customers_is_told_so_and_nothing_is_created(event, service):
    with pytest.raises(DomainError, match="您没有新建客户的权限"):
        services.register_walk_in(event, actor=service, mobile="13900004444", name="周无权", now=ON_THE_DAY)
    assert not Customer.objects.filter(mobile="13900004444").exists()
    assert not Invitee.objects.exists()


def test_a_mobile_held_outside_the_scope_is_refused_without_naming_the_customer(
    event, consultant, teammate, make_customer
):
    hidden = make_customer("吴别人的", owner=teammate, mobile="13900005555")

    with pytest.raises(DomainError) as refused:
        services.register_walk_in(event, actor=consultant, mobile="13900005555", name="吴某", now=ON_THE_DAY)

    assert refused.value.message == guard.HIDDEN_DUPLICATE
    assert hidden.name not in refused.value.message
    assert hidden.number not in refused.value.message
    assert refused.value.field == "mobile"
    assert not Invitee.objects.exists()
    assert Customer.objects.filter(mobile="13900005555").count() == 1


def test_an_archived_customer_and_a_bad_number_are_refused(event, service, consultant, make_customer):
    gone = make_customer("郑归档", mobile="13900006666")
    customer_services.archive_customer(gone, actor=consultant, reason="not_prospect")
    with pytest.raises(DomainError, match="已归档"):
        services.register_walk_in(event, actor=service, mobile="13900006666", now=ON_THE_DAY)
    with pytest.raises(DomainError) as bad:
        services.register_walk_in(event, actor=service, mobile="12345", now=ON_THE_DAY)
    assert bad.value.field == "mobile"
    assert not Invitee.objects.exists()


# ---------------------------------------------------------------- capacity


def test_a_yes_beyond_the_capacity_is_refused_naming_it_unless_confirmed_by_an_organiser(
    event, service, consultant, make_customer
):
    event = _capacity(event, 2)
    a, b, c = _invite(event, service, *(make_customer(f"业主{i}") for i in range(3)))
    services.record_rsvp(a, actor=consultant, rsvp="yes", now=at(12, 8))
    services.record_rsvp(b, actor=consultant, rsvp="yes", now=at(12, 8))
    # Recording the same reply again (a note changed) takes no further seat.
    services.record_rsvp(b, actor=consultant, rsvp="yes", note="带家属", now=at(12, 9))

    with pytest.raises(DomainError, match="活动名额 2 人已满（已确认参加 2 人），不能再登记"):
        services.record_rsvp(c, actor=consultant, rsvp="yes", over_capacity=True, now=at(12, 9))
    with pytest.raises(DomainError, match="勾选“超出名额仍登记”"):
        services.record_rsvp(c, actor=service, rsvp="yes", now=at(12, 9))
    c.refresh_from_db()
    assert c.rsvp == Invitee.Rsvp.UNKNOWN

    services.record_rsvp(c, actor=service, rsvp="yes", over_capacity=True, now=at(12, 10))

    c.refresh_from_db()
    assert c.rsvp == Invitee.Rsvp.YES
    assert (c.over_capacity_by, c.over_capacity_at) == (service, at(12, 10))
    assert AuditLog.objects.filter(summary__contains="超出名额 2 人仍登记回执参加").count() == 1
    assert not Invitee.objects.filter(over_capacity_at__isnull=False).exclude(pk=c.pk).exists()


def test_a_decline_frees_a_seat(event, service, consultant, make_customer):
    event = _capacity(event, 1)
    a, b = _invite(event, service, make_customer("甲"), make_customer("乙"))
    services.record_rsvp(a, actor=consultant, rsvp="yes", now=at(12, 8))
    services.record_rsvp(a, actor=consultant, rsvp="no", now=at(12, 9))
    services.record_rsvp(b, actor=consultant, rsvp="yes", now=at(12, 9))
    b.refresh_from_db()
    assert b.rsvp == Invitee.Rsvp.YES
    assert b.over_capacity_at is None


def test_a_walk_in_beyond_the_capacity_is_refused_unless_confirmed(event, service, consultant, make_customer):
    event = _capacity(event, 1)
    (seated,) = _invite(event, service, make_customer("已确认"))
    services.record_rsvp(seated, actor=consultant, rsvp="yes", now=at(12, 8))
    make_customer("现场来的", mobile="13900007777")

    with pytest.raises(DomainError, match="活动名额 1 人已满"):
        services.register_walk_in(event, actor=consultant, mobile="13900007777", over_capacity=True, now=ON_THE_DAY)
    with pytest.raises(DomainError, match="超出名额仍登记"):
        services.register_walk_in(event, actor=service, mobile="13900007777", now=ON_THE_DAY)
    assert Invitee.objects.filter(event=event).count() == 1

    result = services.register_walk_in(event, actor=service, mobile="13900007777", over_capacity=True, now=ON_THE_DAY)

    result.invitee.refresh_from_db()
    assert result.invitee.over_capacity_by == service
    assert result.invitee.attended_at == ON_THE_DAY
    assert AuditLog.objects.filter(summary__contains="超出名额 1 人仍登记现场登记").count() == 1


def test_without_a_capacity_nobody_is_refused(event, service, consultant, make_customer):
    invitees = _invite(event, service, *(make_customer(f"客{i}") for i in range(3)))
    for invitee in invitees:
        services.record_rsvp(invitee, actor=consultant, rsvp="yes", now=at(12, 8))
    assert services.seats_taken(event) == 3
    assert not Invitee.objects.filter(over_capacity_at__isnull=False).exists()


# ---------------------------------------------------------------- pages


@pytest.fixture
def today_event(event: Event) -> Event:
    Event.objects.filter(pk=event.pk).update(starts_on=timezone.localdate())
    event.refresh_from_db()
    return event


def test_the_check_in_page_registers_a_walk_in_and_hides_an_outsiders_customer(
    login, consultant, teammate, today_event, make_customer
):
    make_customer("吴别人的", owner=teammate, mobile="13900008888")
    client = login(consultant)
    url = reverse("events:walk_in", args=[today_event.pk])

    refused = client.post(url, {"mobile": "13900008888", "name": "吴某"})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert guard.HIDDEN_DUPLICATE in body
    assert "吴别人的" not in body

    done = client.post(url, {"mobile": "13900009999", "name": "冯现场"}, follow=True)
    page = done.content.decode()
    assert "冯现场 已签到（新建客户 KH" in page
    assert "现场登记" in page
    invitee = Invitee.objects.get(event=today_event, customer__mobile="13900009999")
    assert invitee.is_walk_in
    assert invitee.has_attended


def test_the_over_capacity_box_is_offered_to_organisers_and_honoured(login, service, consultant, event, make_customer):
    event = _capacity(event, 1)
    first, second = _invite(event, service, make_customer("甲"), make_customer("乙"))
    services.record_rsvp(first, actor=service, rsvp="yes")
    url = reverse("events:rsvp", args=[event.pk, second.pk])

    assert "超出名额仍登记" not in login(consultant).get(reverse("events:detail", args=[event.pk])).content.decode()
    refused = login(consultant).post(url, {"rsvp": "yes", "over_capacity": "on"}, follow=True)
    assert "活动名额 1 人已满" in refused.content.decode()
    second.refresh_from_db()
    assert second.rsvp == Invitee.Rsvp.UNKNOWN

    client = login(service)
    assert "超出名额仍登记" in client.get(reverse("events:detail", args=[event.pk])).content.decode()
    client.post(url, {"rsvp": "yes", "over_capacity": "on"})
    second.refresh_from_db()
    assert second.rsvp == Invitee.Rsvp.YES
    assert second.over_capacity_by == service


def test_the_check_in_page_says_when_to_tick_the_over_capacity_box(login, service, consultant, today_event):
    event = _capacity(today_event, 1)
    url = reverse("events:checkin_page", args=[event.pk])

    assert "名额已满时，勾选“超出名额仍登记”方可登记" in login(service).get(url).content.decode()
    assert "超出名额仍登记" not in login(consultant).get(url).content.decode()
