"""Content-Security-Policy on every response (Django 5.2 has none built in).

Scripts only from this site: no inline <script> and no on…= attributes in our templates
(static/js/app.js binds their behaviour; tests/test_csp.py keeps it so). Styles allow
'unsafe-inline' for two computed sizes (a progress bar, a chart's height) and the style
blocks of Swagger UI; style injection cannot run code. Frames: none (clickjacking, with
X-Frame-Options DENY). settings.CONTENT_SECURITY_POLICY replaces the policy;
CONTENT_SECURITY_POLICY_REPORT_ONLY sends it as a report-only header first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "") or DEFAULT_POLICY
        header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        response.headers.setdefault(header, policy)
        return response
