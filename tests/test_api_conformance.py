"""Schemathesis over the whole OpenAPI schema: no server error, every answer as documented.

Every operation of the schema drf-spectacular generates is called in-process (the WSGI
application, the test database) with cases schemathesis derives from the schema: valid
ones (positive) and ones that break it (negative: wrong types, missing fields, bad
enums). The caller is the 系统管理员 persona with a token, over a company with a customer
in every app (tests/security/victims.py), so ids the generator picks hit real rows.

Checked on every response: not a 5xx (``not_a_server_error``), a status code the
operation documents (``status_code_conformance``), a body matching the documented schema
for that status (``response_schema_conformance``) and a documented content type.
Examples are bounded (``MAX_EXAMPLES`` per operation and mode, a fixed seed) so the module
runs in about a minute on SQLite; figures in docs/reliability.md.
"""

from __future__ import annotations

import gc
import os
import time
import warnings
from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.care.services import ensure_rules
from crm.projects.models import Project

from .security.victims import build_victim

pytestmark = [
    pytest.mark.django_db,
    # schemathesis's WSGI transport reads a workbook response but never calls its close(),
    # which a real server does (the export's temporary file is closed there).
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

# Cases per operation: valid ones, then ones that break the schema.
MAX_EXAMPLES = {"positive": 5, "negative": 3}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def _schema() -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(raw)


@pytest.fixture
def seeded(company, project, project_b, consultant, service, director, admin_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    for p in Project.objects.all():
        ensure_rules(p)
    build_victim(company=company, project=project, owner=consultant, service=service, director=director)
    token, _ = Token.objects.get_or_create(user=admin_user)
    return {"Authorization": f"Token {token.key}"}


def _short(text: str) -> str:
    return " ".join(text.split())[:300]


def _run_operation(operation: Any, app: Any, headers: dict[str, str], findings: list[str], statuses: Counter) -> int:
    calls = 0
    for mode in MODES:
        calls += _run_mode(operation, mode, app, headers, findings, statuses)
    return calls


def _run_mode(
    operation: Any, mode: Any, app: Any, headers: dict[str, str], findings: list[str], statuses: Counter
) -> int:
    calls = 0

    @settings(
        max_examples=MAX_EXAMPLES[mode.value],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def probe(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call(app=app, headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.append(
                    f"{operation.label} [{mode.value}] {response.status_code} {failure.title}: {_short(failure.message)} <- {case.as_curl_command()[-120:]}"
                )

    try:
        probe()
    except hypothesis.errors.Unsatisfiable:
        # Nothing in this operation can be made invalid (no parameters, no body).
        assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
    return calls


@pytest.fixture
def in_test_transaction():
    """Keep the test's connection across requests, as Django's test client does: the WSGI
    handler's request signals would close it (it is inside the test's transaction), and on
    PostgreSQL every later query would fail."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_operation_answers_as_documented(seeded, in_test_transaction):
    schema = _schema()
    app = get_wsgi_application()
    findings: list[str] = []
    statuses: Counter = Counter()
    calls = 0
    durations: dict[str, float] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    # CONFORMANCE_ONLY=/api/auth/ narrows the run to operations whose label contains it.
    only = os.environ.get("CONFORMANCE_ONLY", "")
    operations = [op for op in operations if only in op.label]
    try:
        for operation in operations:
            started = time.monotonic()
            calls += _run_operation(operation, app, seeded, findings, statuses)
            durations[operation.label] = time.monotonic() - started
    finally:
        # The workbook responses schemathesis never closed (see pytestmark): collected here,
        # not in whichever later test the collector happens to run in (with "error" for
        # warnings, their ResourceWarning would fail that unrelated test).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    slowest = sorted(durations.items(), key=lambda item: -item[1])[:3]
    print(f"{len(operations)} operations, {calls} calls, statuses {sorted(statuses.items())}, slowest {slowest}")
    assert only or len(operations) > 50
    assert not findings, "\n".join(findings)
