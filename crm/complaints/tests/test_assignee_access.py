"""An assignee outside the complaint's data scope sees and handles the complaints assigned
to them (page, list, API), and nothing else of that scope."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.complaints import selectors, services
from crm.complaints.models import Complaint

Status = Complaint.Status
pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def mine_and_other(make_complaint, service_b):
    """Two complaints of project A (service_b works on project B): one assigned to service_b."""
    mine = make_complaint(assignee=service_b, complainant_mobile="13900001111")
    other = make_complaint(complainant_mobile="13900002222")
    return mine, other


def test_the_assignee_sees_only_the_complaint_assigned_to_them(mine_and_other, service_b):
    mine, _other = mine_and_other
    assert list(selectors.complaints_visible_to(service_b)) == [mine]


def test_the_assignee_opens_and_handles_it_on_the_page(client, mine_and_other, service_b):
    mine, other = mine_and_other
    client.force_login(service_b)
    assert client.get(reverse("complaints:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("complaints:detail", args=[other.pk])).status_code == 404
    response = client.post(reverse("complaints:act", args=[mine.pk, "acknowledge"]), {"note": "已接收"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Status.ACKNOWLEDGED
    listing = client.get(reverse("complaints:list")).content.decode()
    assert mine.number in listing
    assert other.number not in listing
    assert client.post(reverse("complaints:act", args=[other.pk, "acknowledge"])).status_code == 404


def test_the_assignee_reaches_it_through_the_api_only(mine_and_other, service_b):
    mine, other = mine_and_other
    client = api(service_b)
    rows = client.get("/api/complaints/").json()["results"]
    assert [r["number"] for r in rows] == [mine.number]
    assert client.get(f"/api/complaints/{mine.pk}/").status_code == 200
    assert client.get(f"/api/complaints/{other.pk}/").status_code == 404
    assert client.get(f"/api/complaints/{mine.pk}/events/").status_code == 200
    assert client.post(f"/api/complaints/{mine.pk}/actions/acknowledge/").status_code == 200
    assert client.post(f"/api/complaints/{other.pk}/actions/acknowledge/").status_code == 404


def test_a_reassigned_complaint_leaves_the_former_assignees_view(mine_and_other, service_b, service, director):
    mine, _other = mine_and_other
    services.reassign_complaint(mine, actor=director, assignee=service)
    assert not selectors.complaints_visible_to(service_b).exists()


def test_an_assignee_of_another_company_sees_nothing(mine_and_other, service_b):
    service_b.company_id = None
    assert not selectors.complaints_visible_to(service_b).exists()
