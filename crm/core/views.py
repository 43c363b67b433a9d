"""Health check and the audit log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm.core.models import AuditLog


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with {"status": "ok", "database": "ok"} when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "error", "detail": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "vendor": connection.vendor})


@permission_required("customers.view_audit", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    qs = AuditLog.objects.select_related("actor")
    action = request.GET.get("action", "")
    if action in AuditLog.Action.values:
        qs = qs.filter(action=action)
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        qs = qs.filter(customer_id=int(customer_id))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_log.html",
        {"page": page, "actions": AuditLog.Action.choices, "action": action, "customer_id": customer_id},
    )
