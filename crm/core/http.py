"""Request helpers shared by the apps' views."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def back_url(request: HttpRequest, default: str) -> str:
    """The posted (or queried) "next" URL when it points into this site, else ``default``:
    where a form returns to without becoming an open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
