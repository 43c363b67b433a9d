"""API errors: business-rule errors become 400 with the Chinese message on the field."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.core.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        key = exc.field or "non_field_errors"
        return Response({key: [exc.message]}, status=400)
    return drf_exception_handler(exc, context)
