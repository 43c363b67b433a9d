"""Request type for views behind LoginRequiredMiddleware: ``request.user`` is a staff User."""

from __future__ import annotations

from django.http import HttpRequest

from crm.accounts.models import User


class AuthedHttpRequest(HttpRequest):
    user: User
