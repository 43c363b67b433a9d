"""Trust pages: the audit log (系统设置 › 审计日志) and its export, export approvals
(导出申请) and access alerts (异常访问告警)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crm.accounts.access import company_of
from crm.accounts.http import AuthedHttpRequest
from crm.core.audit import client_ip
from crm.core.audit_display import describe
from crm.core.errors import DomainError
from crm.core.xlsx import CONTENT_TYPE
from crm.customers import export_requests, guard
from crm.customers.auditlog import AuditFilterForm, export_audit_rows
from crm.customers.io_views import xlsx_response
from crm.customers.models import AccessAlert, ExportRequest


@require_GET
@permission_required("customers.view_audit", raise_exception=True)
def audit_log(request: AuthedHttpRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET or None, user=request.user)
    if request.GET.get("download") == "xlsx":
        file, _count = export_audit_rows(request.user, form, ip=client_ip(request))
        stamp = f"{timezone.localtime():%Y%m%d_%H%M}"
        response = FileResponse(file, content_type=CONTENT_TYPE)
        response["Content-Disposition"] = (
            f"attachment; filename=\"audit_{stamp}.xlsx\"; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97_{stamp}.xlsx"
        )
        response["Cache-Control"] = "no-store"
        return response
    page = Paginator(form.queryset(), 50).get_page(request.GET.get("page"))
    return render(request, "customers/audit_log.html", {"form": form, "page": page, "lines": describe(page)})


# ---------------------------------------------------------------- export approvals


@require_GET
@permission_required("customers.export_customers", raise_exception=True)
def export_list(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    rows = export_requests.requests_visible_to(user)
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/exports.html",
        {"page": page, "pending": list(export_requests.pending_for(user).select_related("requested_by")[:50])},
    )


def _request_for(request: AuthedHttpRequest, pk: int) -> ExportRequest:
    found = export_requests.requests_visible_to(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("导出申请不存在或无权查看")
    return found


@require_POST
@permission_required("customers.approve_export", raise_exception=True)
def export_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    export = _request_for(request, pk)
    note = request.POST.get("note", "")
    try:
        if request.POST.get("decision") == "approve":
            export_requests.approve_export(export, actor=request.user, note=note, now=timezone.now())
            messages.success(request, f"已批准 {export.requested_by} 的导出申请")
        else:
            export_requests.reject_export(export, actor=request.user, note=note, now=timezone.now())
            messages.success(request, f"已驳回 {export.requested_by} 的导出申请")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("customers:exports")


@require_POST
@permission_required("customers.export_customers", raise_exception=True)
def export_download(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    export = _request_for(request, pk)
    try:
        return xlsx_response(
            export_requests.download_export(export, actor=request.user, ip=client_ip(request), now=timezone.now())
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("customers:exports")


# ---------------------------------------------------------------- access alerts


def _alerts_allowed(request: AuthedHttpRequest) -> None:
    if not request.user.has_perm("customers.view_security_audit"):
        raise PermissionDenied


@require_GET
def alert_list(request: AuthedHttpRequest) -> HttpResponse:
    _alerts_allowed(request)
    rows = AccessAlert.objects.filter(company_id=company_of(request.user)).select_related("user", "resolved_by")
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(request, "customers/alerts.html", {"page": page})


@require_POST
def alert_resolve(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _alerts_allowed(request)
    alert = AccessAlert.objects.filter(company_id=company_of(request.user), pk=pk).first()
    if alert is None:
        raise Http404("告警不存在")
    try:
        guard.resolve_alert(alert, actor=request.user, note=request.POST.get("note", ""), now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "告警已处理")
    return redirect("customers:alerts")
