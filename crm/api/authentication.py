"""API authentication: tokens that expire, and CSRF refusals in Chinese.

A token is valid for API_TOKEN_DAYS after it was issued (``Token.created``); the token
endpoint replaces an expired one. Tokens are deleted when their user changes password or is
deactivated (crm.accounts.security), or revoked by the user (账号安全) or an
administrator (系统设置 → 令牌).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular import authentication as spectacular_auth
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from crm.accounts.security import token_is_expired


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        try:
            token = Token.objects.select_related("user").get(key=key)
        except Token.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed("令牌无效或已被吊销，请重新获取。") from exc
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("账号已停用。")
        if token_is_expired(token, now=timezone.now()):
            raise exceptions.AuthenticationFailed("令牌已过期，请重新获取。")
        return token.user, token


class SessionAuthentication(authentication.SessionAuthentication):
    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            # DRF's message is "CSRF Failed: <Django's English reason>".
            raise exceptions.PermissionDenied("页面已过期或来源无法验证（CSRF），请返回上一页刷新后重试。") from exc


class SessionScheme(spectacular_auth.SessionScheme):  # type: ignore[no-untyped-call]
    """The OpenAPI description of the session cookie, for the subclass above."""

    target_class = "crm.api.authentication.SessionAuthentication"
    priority = 0
