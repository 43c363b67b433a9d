"""老带新 over the API: the same scope and rules as the pages."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from crm.customers import services as customer_services
from crm.referrals.models import Reward

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_record_propose_approve_over_the_api(consultant, director, outsider, old, new, unit):
    api = _client(consultant)
    response = api.post("/api/referrals/", {"referrer": old.pk, "referred": new.pk, "channel": "key_person"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "lead"
    assert _client(outsider).get(f"/api/referrals/{pk}/").status_code == 404
    assert api.post(f"/api/referrals/{pk}/reward/", {"kind": "cash", "amount": "500"}).status_code == 400
    customer_services.create_deal(actor=consultant, customer=new, unit=unit, subscribed_on=date(2026, 9, 20))
    assert api.get(f"/api/referrals/{pk}/").json()["status"] == "subscribed"
    reward = api.post(f"/api/referrals/{pk}/reward/", {"kind": "cash", "amount": "500"})
    assert reward.status_code == 201
    rid = reward.json()["id"]
    assert api.post(f"/api/referrals/rewards/{rid}/approve/", {}).status_code == 403
    approved = _client(director).post(f"/api/referrals/rewards/{rid}/approve/", {})
    assert approved.status_code == 200
    assert approved.json()["state"] == Reward.State.APPROVED
    stats = _client(director).get("/api/referrals/stats/", {"start": "2020-01-01", "end": "2030-12-31"})
    assert stats.status_code == 200
    assert stats.json()["total"]["referrals"] == 1
