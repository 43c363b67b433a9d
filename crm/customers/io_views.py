"""Excel import and export pages.

Import: upload → validation report → confirm. Between the steps the file stays under
MEDIA_ROOT/imports/<token>.xlsx (crm.customers.importing); the session remembers which
token belongs to which numbered upload of this user, so the URL carries only that number.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from crm.accounts.http import AuthedHttpRequest
from crm.core.audit import client_ip
from crm.core.errors import DomainError
from crm.customers import exporting, importing

SESSION_KEY = "customer_imports"
SESSION_SEQ = "customer_imports_seq"
# Uploads remembered per session; older ones are discarded with their files.
KEEP_UPLOADS = 5
# Bad rows listed on the report page; the full list is a download.
SHOWN_ERRORS = 500


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="导入内容", choices=list(importing.KINDS.items()), widget=forms.RadioSelect)
    file = forms.FileField(
        label="Excel 文件",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        error_messages={"required": "请选择要上传的 Excel 文件"},
    )


def _imports(request: HttpRequest) -> dict[str, dict[str, Any]]:
    return dict(request.session.get(SESSION_KEY, {}))


def _remember(request: HttpRequest, entry: dict[str, Any]) -> int:
    imports = _imports(request)
    seq = int(request.session.get(SESSION_SEQ, 0)) + 1
    imports[str(seq)] = entry
    while len(imports) > KEEP_UPLOADS:
        oldest = min(imports, key=int)
        importing.discard_upload(imports.pop(oldest)["token"])
    request.session[SESSION_KEY] = imports
    request.session[SESSION_SEQ] = seq
    return seq


def _forget(request: HttpRequest, pk: int) -> None:
    imports = _imports(request)
    entry = imports.pop(str(pk), None)
    if entry is not None:
        importing.discard_upload(entry["token"])
    request.session[SESSION_KEY] = imports


def _entry(request: HttpRequest, pk: int) -> dict[str, Any] | None:
    entry = _imports(request).get(str(pk))
    if entry is None or entry.get("user_id") != request.user.pk:
        return None
    return entry


def xlsx_response(export: exporting.Export) -> FileResponse:
    response = FileResponse(export.file, content_type=exporting.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(export.filename, export.ascii_filename)
    response["Cache-Control"] = "no-store"
    return response


def content_disposition(filename: str, fallback: str = "export.xlsx") -> str:
    """An attachment with an ASCII fallback name and the Chinese name per RFC 5987/6266."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _may_import(user: Any, kind: str) -> bool:
    return kind == importing.CUSTOMERS or user.has_perm("customers.add_deal")


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request: AuthedHttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial={"kind": importing.CUSTOMERS})
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        upload = form.cleaned_data["file"]
        if not _may_import(request.user, kind):
            form.add_error("kind", "您没有导入成交记录的权限")
        else:
            importing.purge_stale_uploads()
            token = ""
            try:
                token = importing.store_upload(upload)
                validation = importing.validate_file(
                    importing.upload_path(token), kind, user=request.user, filename=upload.name
                )
            except DomainError as exc:
                if token:
                    importing.discard_upload(token)
                form.add_error("file", exc.message)
            else:
                importing.save_report(token, validation.report, validation.rows)
                pk = _remember(
                    request,
                    {
                        "token": token,
                        "kind": kind,
                        "filename": upload.name,
                        "user_id": request.user.pk,
                        "uploaded_at": timezone.now().isoformat(),
                    },
                )
                return redirect("customers:import_review", pk=pk)
    user = request.user
    return render(
        request,
        "customers/import.html",
        {
            "form": form,
            "max_mb": settings.IMPORT_MAX_BYTES // (1024 * 1024),
            "customer_columns": importing.CUSTOMER_COLUMNS,
            "deal_columns": importing.DEAL_COLUMNS,
            "may_export": user.has_perm("customers.export_customers"),
            "may_import_deals": user.has_perm("customers.add_deal"),
        },
    )


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_review(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    entry = _entry(request, pk)
    report = importing.load_report(entry["token"]) if entry else None
    if entry is None or report is None:
        messages.error(request, "导入文件已失效（可能已导入或超过保留时间），请重新上传")
        return redirect("customers:import")
    kind = entry["kind"]

    if request.method == "GET" and request.GET.get("download") == "problems":
        return xlsx_response(exporting.build_problem_list(report))

    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "cancel":
            _forget(request, pk)
            messages.info(request, "已取消本次导入，上传的文件已删除")
            return redirect("customers:import")
        only_valid = action == "import_valid"
        if action not in {"import", "import_valid"} or not _may_import(request.user, kind):
            raise PermissionDenied
        try:
            with importing.claim_upload(entry["token"]):
                result = importing.import_file(
                    importing.upload_path(entry["token"]),
                    kind,
                    user=request.user,
                    filename=entry["filename"],
                    batch=entry["token"],
                    only_valid=only_valid,
                    ip=client_ip(request),
                    prevalidated=importing.load_validation(entry["token"]),
                )
        except importing.ImportBlocked as exc:
            importing.save_report(entry["token"], exc.report, exc.valid_rows)
            messages.error(request, f"{exc.message}：文件中的数据与现有数据有冲突，请查看下面的问题清单")
            return redirect("customers:import_review", pk=pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("customers:import_review", pk=pk)
        _forget(request, pk)
        text = f"已导入{importing.KINDS[kind]} {result.imported} 条"
        if kind == importing.CUSTOMERS:
            text += f"（客户编号 {result.first_number} – {result.last_number}）"
        if result.skipped:
            text += f"，有问题的 {result.skipped} 行未导入"
        messages.success(request, text)
        return redirect("customers:import")

    return render(
        request,
        "customers/import_review.html",
        {
            "pk": pk,
            "entry": entry,
            "report": report,
            "errors": report.errors[:SHOWN_ERRORS],
            "errors_truncated": len(report.errors) > SHOWN_ERRORS,
            "shown_errors": SHOWN_ERRORS,
            "problems_url": f"{reverse('customers:import_review', args=[pk])}?download=problems",
        },
    )


@permission_required("customers.import_customers", raise_exception=True)
@require_GET
def import_template(request: AuthedHttpRequest, kind: str) -> HttpResponseBase:
    if kind not in importing.KINDS:
        raise Http404("没有这种导入模板")
    return xlsx_response(exporting.build_template(kind, request.user))


@permission_required("customers.export_customers", raise_exception=True)
@require_GET
def export_customers(request: AuthedHttpRequest) -> HttpResponseBase:
    return xlsx_response(exporting.export_customers(request.user, request.GET, ip=client_ip(request)))


@permission_required("customers.export_customers", raise_exception=True)
@require_GET
def export_deals(request: AuthedHttpRequest) -> HttpResponseBase:
    return xlsx_response(exporting.export_deals(request.user, request.GET, ip=client_ip(request)))
