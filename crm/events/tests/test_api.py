"""/api/events/: the same services and scope as the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.models import User
from crm.care.models import OutboundMessage
from crm.events.models import Event, Invitee

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Any:
    """``api(user)``: a client sending the user's token, as integrations do."""

    def client_for(user: User) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


def test_an_organiser_creates_invites_by_filter_and_sends_over_the_api(api, service, project, make_customer):
    vip = make_customer("VIP业主", is_vip=True, consent_marketing=True)
    make_customer("普通业主", consent_marketing=True)
    client = api(service)
    day = (timezone.localdate() + timedelta(days=9)).isoformat()

    created = client.post(
        "/api/events/",
        {
            "project": project.pk,
            "kind": "vip",
            "title": "VIP品鉴会",
            "starts_on": day,
            "starts_at_time": "15:00",
            "place": "会所",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    preview = client.post(f"/api/events/{pk}/invitees/add/", {"vip": True, "preview": True}, format="json").json()
    assert preview == {"matched": 1, "unreachable": 0, "added": 0}
    assert client.post(f"/api/events/{pk}/invitees/add/", {"vip": True}, format="json").json()["added"] == 1
    sent = client.post(f"/api/events/{pk}/send-invitations/").json()

    assert sent == {"queued": 1, "not_sent": 0}
    assert OutboundMessage.objects.get(customer=vip).status == OutboundMessage.Status.SCHEDULED
    rows = client.get(f"/api/events/{pk}/invitees/").json()["results"]
    assert [(r["customer_name"], r["invite_status"]) for r in rows] == [("VIP业主", "scheduled")]
    invitee = Invitee.objects.get()
    reply = client.post(f"/api/events/{pk}/invitees/{invitee.pk}/rsvp/", {"rsvp": "yes"}, format="json")
    assert reply.json()["rsvp"] == "yes"


def test_the_outsider_gets_404_and_a_consultant_cannot_create(api, service, outsider, consultant, project):
    event = Event.objects.create(
        company=project.company,
        project=project,
        title="社区活动",
        starts_on=timezone.localdate() + timedelta(days=5),
        starts_at_time=timezone.localtime().time(),
        place="广场",
        organiser=service,
    )
    assert api(outsider).get(f"/api/events/{event.pk}/").status_code == 404
    assert api(consultant).get(f"/api/events/{event.pk}/").status_code == 200
    assert api(consultant).post("/api/events/", {}, format="json").status_code == 403


def test_a_reply_beyond_the_capacity_is_refused_over_the_api_unless_confirmed(api, service, project, make_customer):
    event = Event.objects.create(
        company=project.company,
        project=project,
        title="讲座",
        starts_on=timezone.localdate() + timedelta(days=5),
        starts_at_time=timezone.localtime().time(),
        place="售楼处",
        organiser=service,
        capacity=1,
        status=Event.Status.PUBLISHED,
    )
    first, second = (
        Invitee.objects.create(event=event, customer=make_customer(name), added_at=timezone.now())
        for name in ("甲", "乙")
    )
    client = api(service)
    first_reply = client.post(f"/api/events/{event.pk}/invitees/{first.pk}/rsvp/", {"rsvp": "yes"}, format="json")
    assert first_reply.status_code == 200

    refused = client.post(f"/api/events/{event.pk}/invitees/{second.pk}/rsvp/", {"rsvp": "yes"}, format="json")
    assert refused.status_code == 400
    assert "活动名额 1 人已满" in refused.content.decode()
    confirmed = client.post(
        f"/api/events/{event.pk}/invitees/{second.pk}/rsvp/", {"rsvp": "yes", "over_capacity": True}, format="json"
    )
    assert confirmed.json()["rsvp"] == "yes"
    second.refresh_from_db()
    assert second.over_capacity_by == service
