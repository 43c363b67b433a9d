"""/api/service/: the duty roster and handovers with the same scope, services and errors as the pages."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.service.models import Handover, Shift

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_shifts_keep_to_the_scope(make_shift, duty, duty_b):
    shift = make_shift()
    assert [r["id"] for r in api(duty).get("/api/service/shifts/").json()["results"]] == [shift.pk]
    assert api(duty_b).get("/api/service/shifts/").json()["results"] == []
    assert api(duty_b).get(f"/api/service/shifts/{shift.pk}/").status_code == 404
    assert api(duty_b).post(f"/api/service/shifts/{shift.pk}/log/", {"kind": "call", "content": "x"}).status_code == 404


def test_planning_a_holiday_shift_without_manager_is_a_400_in_chinese(director, duty, manager, project):
    body = {
        "project": project.pk,
        "officer": duty.pk,
        "starts_at": "2026-10-02T08:00+08:00",
        "ends_at": "2026-10-02T20:00+08:00",
    }
    response = api(director).post("/api/service/shifts/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"manager": ["节假日班次须安排中级以上管理人员值班"]}
    response = api(director).post("/api/service/shifts/", body | {"manager": manager.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["is_holiday"] is True
    assert api(duty).post("/api/service/shifts/", body, format="json").status_code == 403
    assert Shift.objects.count() == 1


def test_the_log_through_the_api(make_shift, duty):
    shift = make_shift()
    response = api(duty).post(
        f"/api/service/shifts/{shift.pk}/log/", {"kind": "call", "content": "咨询车位"}, format="json"
    )
    assert response.status_code == 201
    assert api(duty).get(f"/api/service/shifts/{shift.pk}/log/").json()[0]["content"] == "咨询车位"


def test_the_handover_through_the_api(ready_handover, duty, duty2, duty_b):
    url = f"/api/service/handovers/{ready_handover.pk}/actions/"
    keys = ready_handover.items.get(name="钥匙")
    assert api(duty2).post(url + "item/", {"item": keys.pk, "state": "missing"}, format="json").status_code == 200
    response = api(duty2).post(url + "accept/", {"log_clear": True, "area_clean": True}, format="json")
    assert response.status_code == 400
    assert "公物缺失不接：钥匙" in response.json()["non_field_errors"][0]
    assert api(duty).post(url + "accept/", {"log_clear": True, "area_clean": True}, format="json").status_code == 403
    api(duty).post(url + "item/", {"item": keys.pk, "state": "missing", "explanation": "交物业保管"}, format="json")
    response = api(duty2).post(url + "accept/", {"log_clear": True, "area_clean": True}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == Handover.Status.ACCEPTED
    assert api(duty_b).get(f"/api/service/handovers/{ready_handover.pk}/").status_code == 404


def test_gifts_through_the_api(stocked, consultant, outsider, project, customer):
    rows = api(consultant).get("/api/service/gifts/").json()["results"]
    assert rows[0]["stocks"] == [{"project": project.pk, "project_name": "锦华苑", "quantity": 10}]
    body = {"project": project.pk, "gift": stocked.pk, "quantity": 11, "occasion": "birthday", "customer": customer.pk}
    response = api(consultant).post("/api/service/gift-issues/", body, format="json")
    assert response.status_code == 400
    assert "库存不足" in response.json()["quantity"][0]
    response = api(consultant).post("/api/service/gift-issues/", body | {"quantity": 4}, format="json")
    assert response.status_code == 201
    assert response.json()["recipient"] == customer.name
    assert len(api(consultant).get("/api/service/gift-issues/").json()["results"]) == 1
    assert api(outsider).get("/api/service/gift-issues/").json()["results"] == []
    # A customer outside the caller's scope cannot be named.
    response = api(outsider).post("/api/service/gift-issues/", body | {"quantity": 1}, format="json")
    assert response.status_code == 400


def test_birthdays_through_the_api(make_customer, consultant):
    from datetime import date, datetime

    from crm.lib.dates import CHINA_TZ
    from crm.service import jobs

    make_customer("王业主", stage="owner", birthday_on=date(1980, 10, 1), consent_care=True)
    jobs.prepare_birthday_lists(now=datetime(2026, 10, 2, 9, 0, tzinfo=CHINA_TZ))
    rows = api(consultant).get("/api/service/birthdays/", {"month": "2026-10"}).json()["results"]
    assert [r["name"] for r in rows] == ["王业主"]
    assert api(consultant).get("/api/service/birthdays/", {"month": "x"}).status_code == 400


def test_inspection_through_the_api(service, project, make_staff, project_b):
    from crm.accounts.roles import Role

    response = api(service).post("/api/service/inspections/", {"project": project.pk}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert len(body["results"]) == 8
    url = f"/api/service/inspections/{body['id']}/actions/"
    response = api(service).post(
        url + "finding/", {"area": "更衣室", "description": "", "department": "property"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"description": ["请描述问题"]}
    response = api(service).post(
        url + "finding/", {"area": "更衣室", "description": "灯坏", "department": "engineering"}, format="json"
    )
    assert response.json()["findings"][0]["department_label"] == "工程"
    response = api(service).post(url + "complete/", {}, format="json")
    assert response.status_code == 400
    other = make_staff("service_b", Role.SERVICE, projects=(project_b,))
    assert api(other).get(f"/api/service/inspections/{body['id']}/").status_code == 404
