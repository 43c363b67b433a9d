"""/api/complaints/: the same scope, services and errors as the pages."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.complaints.models import Complaint

Status = Complaint.Status
pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_list_and_detail_keep_to_the_scope(make_complaint, service, service_b):
    complaint = make_complaint()
    rows = api(service).get("/api/complaints/").json()
    assert [r["number"] for r in rows["results"]] == [complaint.number]
    assert rows["results"][0]["mobile"] == "138****1111"
    assert rows["results"][0]["actions"] == ["acknowledge", "progress"]
    assert api(service_b).get("/api/complaints/").json()["results"] == []
    response = api(service_b).get(f"/api/complaints/{complaint.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "不存在或无权查看。"}
    assert api(service_b).post(f"/api/complaints/{complaint.pk}/actions/acknowledge/").status_code == 404


def test_the_list_takes_the_pages_filters(make_complaint, director):
    make_complaint()
    assert api(director).get("/api/complaints/", {"state": "closed"}).json()["results"] == []
    assert len(api(director).get("/api/complaints/", {"state": "open"}).json()["results"]) == 1


def test_create_registers_through_the_service(project, category, duty, service):
    response = api(duty).post(
        "/api/complaints/",
        {
            "channel": "wechat",
            "complainant_name": "赵六",
            "complainant_mobile": "13500003333",
            "content": "交房时间一再推迟",
            "project": project.pk,
            "category": category.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("TS")
    assert body["status"] == Status.DISPATCHED
    assert body["assignee"] == service.pk


def test_create_errors_are_chinese_and_on_the_field(project, category, duty, consultant):
    response = api(duty).post(
        "/api/complaints/",
        {
            "channel": "phone",
            "complainant_name": "赵六",
            "complainant_mobile": "123",
            "content": "x",
            "project": project.pk,
            "category": category.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["complainant_mobile"]
    assert not Complaint.objects.exists()
    assert api(consultant).post("/api/complaints/", {}, format="json").status_code == 403


def test_actions_move_it_and_refuse_what_the_table_does_not_allow(make_complaint, service, director):
    complaint = make_complaint()
    url = f"/api/complaints/{complaint.pk}/actions"
    assert (
        api(service).post(f"{url}/acknowledge/", {"note": "收到"}, format="json").json()["status"]
        == Status.ACKNOWLEDGED
    )
    response = api(service).post(f"{url}/resolve/", {"note": "已处理"}, format="json")
    assert response.status_code == 400
    assert "投诉状态不能从" in response.json()["non_field_errors"][0]
    api(service).post(f"{url}/investigate/", format="json")
    api(service).post(f"{url}/propose/", {"plan": "赔偿并致歉"}, format="json")
    assert api(service).post(f"{url}/approve/", format="json").status_code == 403
    assert api(director).post(f"{url}/approve/", format="json").json()["status"] == Status.PLAN_APPROVED
    events = api(service).get(f"/api/complaints/{complaint.pk}/events/").json()
    assert [e["to_status"] for e in events][-1] == Status.PLAN_APPROVED
    assert events[-1]["actor_name"] == str(director)


def test_the_list_reads_a_constant_number_of_queries(make_complaint, service):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_complaint()
    client = api(service)
    client.get("/api/complaints/")  # the token and permissions are read once
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/complaints/").json()["results"]) == 1
    for _ in range(10):
        make_complaint()
    with CaptureQueriesContext(connection) as eleven:
        assert len(client.get("/api/complaints/").json()["results"]) == 11
    assert len(eleven.captured_queries) == len(one.captured_queries)
