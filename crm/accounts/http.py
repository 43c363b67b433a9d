"""Request type for views behind LoginRequiredMiddleware: ``request.user`` is a staff User.

It lives here, not in crm.core, because it names the user model and core stands below
accounts (docs/architecture.md).
"""

from __future__ import annotations

from django.http import HttpRequest

from crm.accounts.models import User


class AuthedHttpRequest(HttpRequest):
    user: User
