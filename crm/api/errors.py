"""API errors: business-rule errors become 400 with the Chinese message on the field."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.core.errors import DomainError
from crm.customers import exporting, guard
from crm.customers.selectors import visible_holders
from crm.customers.services import DuplicateCustomer

from .parsers import JSONTooDeep


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DuplicateCustomer):
        return _duplicate_response(exc, context)
    if isinstance(exc, guard.AccessStopped):
        return Response({"detail": exc.message}, status=429)
    if isinstance(exc, exporting.ApprovalRequired):
        # An export above the threshold: file a request at /api/export-requests/.
        return Response(
            {
                "detail": exc.message,
                "count": exc.count,
                "threshold": exc.threshold,
                "request_url": "/api/export-requests/",
            },
            status=403,
        )
    if isinstance(exc, DomainError):
        key = exc.field or "non_field_errors"
        return Response({key: [exc.message]}, status=400)
    if isinstance(exc, Http404):
        # Django's own message is English ("No Customer matches the given query."), and
        # "missing" and "outside your scope" must read the same (crm.core.scope).
        return Response({"detail": "不存在或无权查看。"}, status=404)
    if isinstance(exc, JSONTooDeep):
        return Response({"detail": str(exc.detail)}, status=400)
    if isinstance(exc, ParseError):
        # DRF's message embeds the parser's English explanation.
        return Response({"detail": "请求内容不是有效的 JSON。"}, status=400)
    if isinstance(exc, UnsupportedMediaType):
        view = context.get("view")
        accepted = [parser.media_type for parser in getattr(view, "parser_classes", ())] or ["application/json"]
        return Response({"detail": f"不支持的请求格式，请使用 {' 或 '.join(accepted)}。"}, status=415)
    return drf_exception_handler(exc, context)


def _duplicate_response(exc: DuplicateCustomer, context: dict[str, Any]) -> Response:
    """The mobile belongs to a customer already; name that customer only to those who may see it.

    The message of DuplicateCustomer names the existing customer, which must not reach
    a caller outside that customer's data scope (another team's customer).
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    existing = exc.existing
    field = exc.field or "mobile"
    if user is not None and visible_holders(user, [existing.pk]).exists():
        return Response(
            {field: [exc.message], "existing_customer": {"id": existing.pk, "number": existing.number}}, status=400
        )
    message = guard.hidden_duplicate_message(user, customer_id=existing.pk, now=timezone.now()) if user else ""
    return Response({field: [message or guard.HIDDEN_DUPLICATE]}, status=400)
