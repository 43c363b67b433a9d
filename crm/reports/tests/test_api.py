"""/api/reports/: the packs with the same scope and service as the pages."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.reports import services
from crm.reports.models import Kind, ReportPack

from .conftest import MONDAY, SUNDAY, cst

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_list_and_retrieve_keep_to_the_scope(company, project, project_b, service, service_b):
    a = services.generate_pack(
        Kind.WEEKLY, company_id=company.pk, project=project, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
    )
    services.generate_pack(
        Kind.WEEKLY, company_id=company.pk, project=None, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
    )
    assert [r["id"] for r in api(service).get("/api/reports/").json()["results"]] == [a.pk]
    detail = api(service).get(f"/api/reports/{a.pk}/").json()
    assert detail["snapshot"]["sections"][4]["title"] == "本周礼品发放情况"
    assert api(service_b).get(f"/api/reports/{a.pk}/").status_code == 404


def test_generate_over_the_api(project, service):
    response = api(service).post(
        "/api/reports/", {"kind": "weekly", "project": project.pk, "day": "2026-09-23"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["period_start"], response.json()["period_end"]) == ("2026-09-21", "2026-09-27")
    assert ReportPack.objects.get().generated_by == service
    refused = api(service).post(
        "/api/reports/", {"kind": "weekly", "project": None, "day": "2026-09-23"}, format="json"
    )
    assert refused.status_code == 400
