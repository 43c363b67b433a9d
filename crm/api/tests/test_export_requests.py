"""导出申请 over the API: the same threshold, four eyes, company scope and one download."""

from __future__ import annotations

import pytest

from crm.accounts.models import Company
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.customers.models import CompanyPrivacy, ExportRequest

URL = "/api/export-requests/"


@pytest.fixture
def three(company, make_customer):
    CompanyPrivacy.objects.create(company=company, export_approval_threshold=2)
    return [make_customer(f"接口导出{i}") for i in range(3)]


def test_an_export_above_the_threshold_is_refused_with_where_to_ask(api, consultant, three):
    response = api(consultant).get("/api/customers/export/")
    assert response.status_code == 403
    assert response.json()["threshold"] == 2
    assert "需主管审批" in response.json()["detail"]


def test_request_approve_and_download_once(api, consultant, supervisor, three):
    response = api(consultant).post(URL, {"kind": "customers", "filters": {}, "purpose": "年终回访"}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    assert response.json()["count"] == 3
    assert api(consultant).post(f"{URL}{pk}/approve/", {}, format="json").status_code == 403
    approved = api(supervisor).post(f"{URL}{pk}/approve/", {"note": "同意"}, format="json")
    assert approved.json()["status"] == "approved"
    download = api(consultant).post(f"{URL}{pk}/download/")
    assert download.status_code == 200
    b"".join(download.streaming_content)
    again = api(consultant).post(f"{URL}{pk}/download/")
    assert again.status_code == 400
    assert ExportRequest.objects.get().status == "downloaded"


def test_a_request_needs_a_purpose_and_a_reason_to_reject(api, consultant, supervisor, three):
    assert api(consultant).post(URL, {"kind": "customers", "purpose": "."}, format="json").status_code == 400
    pk = api(consultant).post(URL, {"kind": "customers", "purpose": "年终回访"}, format="json").json()["id"]
    response = api(supervisor).post(f"{URL}{pk}/reject/", {"note": ""}, format="json")
    assert response.status_code == 400
    assert "驳回时请填写原因" in str(response.json())


def test_below_the_threshold_there_is_nothing_to_request(api, consultant, company, make_customer):
    make_customer("一位")
    response = api(consultant).post(URL, {"kind": "customers", "purpose": "年终回访"}, format="json")
    assert response.status_code == 400
    assert "无需申请" in str(response.json())


def test_another_companys_supervisor_gets_404(api, consultant, three):
    pk = api(consultant).post(URL, {"kind": "customers", "purpose": "年终回访"}, format="json").json()["id"]
    other = Company.objects.create(name="第二置业")
    stranger = create_staff("sup2", company=other, roles=[Role.SUPERVISOR], password="Zz-test-2026")
    assert api(stranger).get(f"{URL}{pk}/").status_code == 404
    assert api(stranger).post(f"{URL}{pk}/approve/", {}, format="json").status_code == 404


def test_a_teammate_does_not_see_anothers_request(api, consultant, teammate, three):
    api(consultant).post(URL, {"kind": "customers", "purpose": "年终回访"}, format="json")
    assert api(teammate).get(URL).json()["count"] == 0


# ---------------------------------------------------------------- searching by full mobile


def test_a_get_search_by_full_mobile_is_refused_with_where_to_post(api, consultant, customer):
    response = api(consultant).get("/api/customers/", {"search": "13812345678"})
    assert response.status_code == 400
    assert "POST /api/customers/search/" in response.json()["search"][0]
    assert api(consultant).get("/api/customers/", {"search": "5678"}).json()["count"] == 1


def test_a_post_search_finds_by_full_mobile_in_scope(api, consultant, outsider, customer):
    response = api(consultant).post("/api/customers/search/", {"search": "13812345678"}, format="json")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["张三"]
    assert "13812345678" not in str(response.json())
    assert api(outsider).post("/api/customers/search/", {"search": "13812345678"}, format="json").json()["count"] == 0
