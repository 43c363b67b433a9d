"""Content-Security-Policy, frame denial and HSTS; templates carry no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("crm/*/templates/**/*.html")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("url", ["/login/", "/customers/", "/no-such-page/", "/api/customers/"])
def test_every_response_carries_the_policy(client, consultant, url):
    client.force_login(consultant)
    response = client.get(url)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_no_template_has_an_inline_script_or_event_handler():
    assert len(TEMPLATES) > 50
    offenders = []
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in HANDLER_ATTRIBUTE.finditer(text)]
    assert offenders == []


def test_the_check_would_catch_an_inline_script():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/app.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script id="x" type="application/json">{}</script>')
    assert HANDLER_ATTRIBUTE.search('<button onclick="go()">')


def test_swagger_ui_has_no_inline_script(client, consultant):
    client.force_login(consultant)
    html = client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(html)
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', html)
    assert script, html
    js = client.get(script.group(1).replace("&amp;", "&"))
    assert js.status_code == 200
    assert "SwaggerUIBundle" in js.content.decode()


def test_the_policy_can_be_report_only(client, db, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = True
    response = client.get("/login/")
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in response["Content-Security-Policy-Report-Only"]
