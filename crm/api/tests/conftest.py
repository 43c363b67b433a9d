"""API test helpers: clients that authenticate with a real token, as integrations do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.models import User


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """``api(user)`` is a client sending ``Authorization: Token <key>``; ``api()`` is anonymous."""

    def client_for(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for
