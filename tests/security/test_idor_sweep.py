"""IDOR sweep: outsiders try every URL pattern and API operation on a victim's rows.

The routes come from the URL resolver and the operations from the OpenAPI schema, so a new
page or endpoint is swept without editing this test. The personas: another company's
行政主管 (company-wide scope, in the wrong company), the 综合组 approver (no customer
scope) and a 置业顾问 of another team and project. Expected: 0 responses showing the
victim's name, mobile (full or masked), customer number, family or address, and 0 changed
rows in any table (counts and values, updated_at included). Figures in docs/reliability.md.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from crm.accounts.models import Company
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.care.services import ensure_rules
from crm.projects.models import Project

from .sweep import PUBLIC, Route, body_text, concrete, ids_of, routes, snapshot, swept_routes
from .victims import build_victim

pytestmark = pytest.mark.django_db

# Findings reported but not failing the sweep (none open: the audit log is separated by
# company since issue 14 item 2).
KNOWN_OPEN: dict[str, str] = {}


@pytest.fixture
def victim(company, project, consultant, service, director):
    return build_victim(company=company, project=project, owner=consultant, service=service, director=director)


@pytest.fixture
def personas(approver, outsider):
    other = Company.objects.create(name="别家地产", sms_signature="别家地产")
    supervisor_b = create_staff("supervisor_b", company=other, roles=(Role.SUPERVISOR,), password="x-Pass-12345")
    return {"另一公司行政主管": supervisor_b, "综合组审批人": approver, "其他组置业顾问": outsider}


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _api_url(path: str, ids: tuple[int, ...]) -> list[str]:
    names = re.findall(r"\{(\w+)\}", path)
    route = Route(path, path.lstrip("/"), tuple(names), True)
    return concrete(route, ids)


def _leaks(response: Any, markers: tuple[str, ...]) -> list[str]:
    text = body_text(response)
    return [m for m in markers if m in text]


def test_the_sweep_covers_every_route_and_schema_operation():
    names = {r.name for r in routes()}
    assert names | {"api-root"} >= PUBLIC, PUBLIC - names  # the allow-list names real routes
    swept = swept_routes()
    assert len(swept) > 100
    assert any(r.template.startswith("privacy/") for r in swept)
    assert len(schema_operations()) > 50


def test_outsiders_see_and_change_nothing_of_the_victim(client, victim, personas, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    # Care pages create a project's default rules on first use: let that happen before.
    for project in Project.objects.all():
        ensure_rules(project)
    rows = [victim.customer, *victim.rows.values()]
    ids = ids_of(rows)
    before = snapshot()
    leaks: list[str] = []
    tried = 0
    statuses: dict[int, int] = {}
    for label, persona in personas.items():
        client.force_login(persona)
        for route in swept_routes():
            for url in concrete(route, ids):
                for method in ("get", "post"):
                    response = getattr(client, method)(url, **({"data": {}} if method == "post" else {}))
                    tried += 1
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    found = _leaks(response, victim.markers)
                    if found:
                        leaks.append(f"{label} {method.upper()} {url} {response.status_code}: {found}")
        for path, method in schema_operations():
            for url in _api_url(path, ids):
                response = getattr(client, method)(url, data={}, content_type="application/json")
                tried += 1

                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                found = _leaks(response, victim.markers)
                if found:
                    leaks.append(f"{label} {method.upper()} {url} {response.status_code}: {found}")
    after = snapshot()
    changed = {label: (before[label], after[label]) for label in before if before[label] != after[label]}
    print(f"IDOR sweep: {tried} requests, statuses {dict(sorted(statuses.items()))}")
    known = [leak for leak in leaks if any(f" {url} " in leak for url in KNOWN_OPEN)]
    if known:
        warnings_text = "\n".join(known)
        print(f"IDOR sweep: known open findings (see KNOWN_OPEN):\n{warnings_text}")
    assert [leak for leak in leaks if leak not in known] == []
    assert changed == {}
    assert tried > 1000
    # The sweep really ran as logged-in staff: pages answered, not only redirects to login.
    assert statuses.get(200, 0) > 50
