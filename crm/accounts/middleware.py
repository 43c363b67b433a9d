"""等保 password rotation: a user whose password has expired can only change it (or log out)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from crm.accounts.passwords import password_is_expired


class PasswordExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.PASSWORD_MAX_AGE_DAYS
            and user is not None
            and user.is_authenticated
            and request.path not in (reverse("accounts:password_change"), reverse("logout"))
            and not request.path.startswith((settings.STATIC_URL, "/api/"))
            and password_is_expired(user, now=timezone.now())
        ):
            return redirect("accounts:password_change")
        return self.get_response(request)
