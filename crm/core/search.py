"""Searches by a full mobile or ID number never travel in a URL (docs/privacy.md).

A list's filter form posts to ``/search/`` with the list's path in ``next``; every filter
value that looks like a full number (``crm.lib.mobile.looks_like_full_number``) is kept in
the session under an opaque token and the browser is redirected to the list with
``qt=<token>`` instead. ``SearchTokenMiddleware`` puts the values back into
``request.GET`` before the list's view runs, so views, pagers and export links work as
before, and the web server's access log, the browser history and Referer headers never
carry the number.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.http import QueryDict

from crm.lib.mobile import looks_like_full_number

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

TOKENS_KEY = "search_tokens"
TOKEN_PARAM = "qt"
KEPT = 20
# What an unknown or expired token searches for: nothing (rather than everything).
EXPIRED = "（搜索已过期）"
DROPPED = ("csrfmiddlewaretoken", "page", "next", TOKEN_PARAM)


def tokenised_query(session: Any, params: QueryDict) -> str:
    """The query string of these filters, full numbers replaced by a session token."""
    params = params.copy()
    for key in DROPPED:
        params.pop(key, None)
    hidden = {key: params[key] for key in list(params) if looks_like_full_number(params.get(key, ""))}
    if hidden:
        token = secrets.token_urlsafe(9)
        tokens = dict(session.get(TOKENS_KEY, {}))
        tokens[token] = hidden
        session[TOKENS_KEY] = dict(list(tokens.items())[-KEPT:])
        for key in hidden:
            params.pop(key)
        params[TOKEN_PARAM] = token
    return params.urlencode()


def restored(session: Any, params: QueryDict) -> QueryDict:
    """The filters with the token's values put back (an unknown token: q matches nothing)."""
    token = params.get(TOKEN_PARAM)
    if not token:
        return params
    params = params.copy()
    params.pop(TOKEN_PARAM)
    stored = session.get(TOKENS_KEY, {}).get(token)
    if not isinstance(stored, dict):
        stored = {"q": EXPIRED}
    for key, value in stored.items():
        params[key] = value
    return params


class SearchTokenMiddleware:
    """Restores tokenised search values into request.GET (after the session is loaded)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if TOKEN_PARAM in request.GET and hasattr(request, "session"):
            request.GET = restored(request.session, request.GET)  # type: ignore[assignment]
            # The view may tell a restored search from a full number typed into a URL.
            request.search_restored = True  # type: ignore[attr-defined]
        return self.get_response(request)


def was_restored(request: HttpRequest) -> bool:
    """Whether the request's search values came from a token (not from its URL)."""
    return bool(getattr(request, "search_restored", False))
