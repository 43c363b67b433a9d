"""客户活动 pages as the organiser, a consultant and an outsider use them."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.care.models import OutboundMessage
from crm.care.services import opt_out
from crm.customers.models import TimelineEvent
from crm.events import services
from crm.events.models import Event, EventGift, Invitee
from crm.service import services as service_services
from crm.service.models import Gift, GiftStock


@pytest.fixture
def event(service: Any, project: Any) -> Event:
    return services.create_event(
        project,
        actor=service,
        title="工地开放日",
        starts_on=timezone.localdate() + timedelta(days=10),
        starts_at_time=time(9, 30),
        place="锦华苑工地",
        kind=Event.Kind.SITE_TOUR,
    )


def test_the_organiser_creates_an_event_and_is_taken_to_choose_invitees(login, service, project):
    client = login(service)
    day = timezone.localdate() + timedelta(days=20)
    response = client.post(
        reverse("events:new"),
        {
            "project": project.pk,
            "kind": "seminar",
            "title": "购房政策讲座",
            "starts_on": day.isoformat(),
            "starts_at_time": "14:00",
            "place": "售楼处二楼",
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("events:invite", args=[event.pk])
    assert event.organiser == service
    assert event.status == Event.Status.DRAFT


def test_a_past_date_is_refused_on_the_form(login, service, project):
    response = login(service).post(
        reverse("events:new"),
        {
            "project": project.pk,
            "kind": "seminar",
            "title": "讲座",
            "starts_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "starts_at_time": "14:00",
            "place": "售楼处",
        },
    )
    assert response.status_code == 200
    assert "活动日期不能早于今天" in response.content.decode()
    assert not Event.objects.exists()


def test_invitees_are_previewed_by_filter_then_added(login, service, event, make_customer):
    vip = make_customer("VIP业主", is_vip=True, consent_marketing=True)
    make_customer("普通业主", consent_marketing=True)
    client = login(service)

    preview = client.get(reverse("events:invite", args=[event.pk]), {"preview": "1", "vip": "on"})
    body = preview.content.decode()
    assert '<span class="preview-count">1</span>' in body
    assert "VIP业主" in body
    assert "普通业主" not in body
    assert not Invitee.objects.exists()

    added = client.post(reverse("events:invite", args=[event.pk]), {"vip": "on"})
    assert added.status_code == 302
    assert list(Invitee.objects.values_list("customer", flat=True)) == [vip.pk]


def test_an_empty_list_offers_no_send_button_that_would_do_nothing(login, service, event, make_customer):
    client = login(service)
    empty = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "邀请名单为空，请先选择邀请客户" in empty
    assert reverse("events:send", args=[event.pk]) not in empty

    services.add_invitees(event, type(make_customer("业主")).objects.all(), actor=service)
    listed = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert reverse("events:send", args=[event.pk]) in listed
    assert "邀请名单为空" not in listed


def test_sending_invitations_shows_why_an_opted_out_customer_got_none(login, service, event, make_customer):
    ok = make_customer("愿意的业主", consent_marketing=True)
    out = make_customer("退订的业主", consent_marketing=True)
    opt_out(out, actor=service, source="回复TD")
    services.add_invitees(event, type(ok).objects.filter(pk__in=[ok.pk, out.pk]), actor=service)
    client = login(service)

    client.post(reverse("events:send", args=[event.pk]))
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert OutboundMessage.objects.get(customer=ok).status == OutboundMessage.Status.SCHEDULED
    assert OutboundMessage.objects.get(customer=out).status == OutboundMessage.Status.CANCELLED
    assert "客户已退订" in page


def test_staff_record_a_reply_and_check_the_customer_in(login, service, consultant, event, customer):
    services.add_invitees(event, type(customer).objects.filter(pk=customer.pk), actor=service)
    services.send_invitations(event, actor=service)
    invitee = Invitee.objects.get()
    client = login(consultant)

    client.post(reverse("events:rsvp", args=[event.pk, invitee.pk]), {"rsvp": "yes", "note": "带家属2人"})
    invitee.refresh_from_db()
    assert (invitee.rsvp, invitee.rsvp_note) == ("yes", "带家属2人")

    Event.objects.filter(pk=event.pk).update(starts_on=timezone.localdate())
    page = client.get(reverse("events:checkin_page", args=[event.pk]), {"q": customer.mobile[-4:]})
    assert customer.name in page.content.decode()
    client.post(reverse("events:checkin", args=[event.pk, invitee.pk]))
    invitee.refresh_from_db()
    assert invitee.attended_at is not None
    assert TimelineEvent.objects.filter(customer=customer, summary="出席客户活动「工地开放日」").exists()


def test_a_gift_issued_on_the_event_page_is_linked_and_taken_from_stock(
    login, service, director, event, customer, project
):
    gift = Gift.objects.create(company=project.company, name="保温杯")
    service_services.stock_in(gift, actor=director, project=project, quantity=2)
    services.add_invitees(event, type(customer).objects.filter(pk=customer.pk), actor=service)
    services.publish_event(event, actor=service)
    invitee = Invitee.objects.get()

    login(service).post(
        reverse("events:gift", args=[event.pk]), {"invitee": invitee.pk, "gift": gift.pk, "quantity": 1}
    )

    assert EventGift.objects.get(event=event).issue.customer == customer
    assert GiftStock.objects.get(gift=gift, project=project).quantity == 1


def test_the_invitee_list_exports_to_excel(login, service, event, customer):
    services.add_invitees(event, type(customer).objects.filter(pk=customer.pk), actor=service)
    response = login(service).get(reverse("events:export", args=[event.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_the_outsider_gets_404_and_a_consultant_cannot_organise(login, outsider, consultant, event):
    assert login(outsider).get(reverse("events:detail", args=[event.pk])).status_code == 404
    client = login(consultant)
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 200
    assert client.get(reverse("events:new")).status_code == 403
    assert client.post(reverse("events:send", args=[event.pk])).status_code == 403


def test_the_workbench_shows_upcoming_events_and_the_menu_entry(login, service, event):
    body = login(service).get(reverse("workbench")).content.decode()
    assert "近期客户活动" in body
    assert "工地开放日" in body
    assert reverse("events:list") in body
