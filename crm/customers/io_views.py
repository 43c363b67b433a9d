"""Import and export pages.

Import: upload → review (what the file is, its encoding, its columns, values for the whole
file, every bad row) → import. Each upload is an ImportJob row owned by the uploader
(crm.customers.importing.jobs): the review URL carries the row's number, and any login of
the same user can resume it until it expires; anyone else gets the "expired" answer. A
small file is checked and imported within the request; a large one by the job runner
while the page shows its progress, which a reload finds again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from crm.accounts.http import AuthedHttpRequest
from crm.core.audit import client_ip
from crm.core.errors import DomainError
from crm.customers import export_requests, exporting, importing
from crm.customers.importing import validating
from crm.customers.models import ImportJob
from crm.customers.views import search_params
from crm.lib.textfile import ENCODINGS

# Bad rows listed on the report page; the full list is a download.
SHOWN_ERRORS = 500
EXPIRED = "导入文件已失效（可能已导入、已取消或超过保留时间），请重新上传"
ENCODING_CHOICES = [("", "自动识别"), *ENCODINGS.items()]
Status = ImportJob.Status


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="导入内容", choices=list(importing.KINDS.items()), widget=forms.RadioSelect)
    file = forms.FileField(
        label="文件",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv,.txt"}),
        error_messages={"required": "请选择要上传的 Excel 或 CSV 文件"},
    )
    encoding = forms.ChoiceField(label="文件编码（CSV/文本文件）", choices=ENCODING_CHOICES, required=False)


class ImportOptionsForm(forms.Form):
    """The review's settings: a text file's encoding, values for the whole file, and which
    column each header the synonyms did not recognise is (``column_<n>`` fields)."""

    encoding = forms.ChoiceField(label="文件编码", choices=ENCODING_CHOICES, required=False)

    def __init__(self, *args: Any, job: ImportJob, report: importing.Report | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        stored = job.options or {}
        values = stored.get("values", {})
        self.initial.setdefault("encoding", stored.get("encoding", ""))
        self.value_fields: list[str] = []
        labels = {"project": "楼盘", "source_channel": "来源渠道", "owner": "置业顾问"}
        for key, options in validating.file_value_choices(job.owner, job.kind).items():
            column = importing.column_of(job.kind, key)
            self.fields[key] = forms.ChoiceField(
                label=labels.get(key, column.header),
                choices=[("", "按文件中的内容"), *options],
                required=False,
            )
            self.initial.setdefault(key, values.get(key, ""))
            self.value_fields.append(key)
        self.column_fields: list[tuple[str, str, str]] = []  # (field name, header, how)
        columns = [("", "不导入"), *((c.key, c.header) for c in importing.COLUMNS[job.kind])]
        for i, (header, key, how) in enumerate(report.headers if report else []):
            if how == "auto":
                continue
            name = f"column_{i}"
            self.fields[name] = forms.ChoiceField(label=header, choices=columns, required=False, initial=key)
            self.column_fields.append((name, header, how))

    def options(self) -> importing.Options:
        data = self.cleaned_data
        values = {key: data[key] for key in self.value_fields if data.get(key)}
        return importing.Options(encoding=data.get("encoding") or "", values=values)

    def choices(self) -> dict[str, str]:
        """{normalised header: column key or ""} to remember: the headers the user assigned a
        column, and those assigned before (so that "不导入" can undo an earlier choice)."""
        return {
            importing.normalise_header(header): self.cleaned_data.get(name) or ""
            for name, header, how in self.column_fields
            if self.cleaned_data.get(name) or how == "chosen"
        }


def xlsx_response(export: exporting.Export) -> FileResponse:
    response = FileResponse(export.file, content_type=exporting.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    response["Cache-Control"] = "no-store"
    return response


def _job(request: AuthedHttpRequest, pk: int) -> ImportJob | None:
    """The user's own upload, while it is kept."""
    return (
        ImportJob.objects.select_related("owner")
        .filter(pk=pk, owner=request.user, expires_at__gt=timezone.now())
        .first()
    )


def _check_now(job: ImportJob) -> None:
    """Check a small file within the request; a large one waits for the job runner."""
    if job.size <= settings.IMPORT_INLINE_BYTES:
        importing.process_job(job.pk, now=timezone.now())
        job.refresh_from_db()


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request: AuthedHttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial={"kind": importing.CUSTOMERS})
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        upload = form.cleaned_data["file"]
        if not importing.may_import(request.user, kind):
            form.add_error("kind", "您没有导入成交记录的权限")
        else:
            options = importing.Options(encoding=form.cleaned_data["encoding"])
            try:
                job = importing.start_import(upload, kind=kind, actor=request.user, options=options, now=timezone.now())
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                _check_now(job)
                if job.status == Status.FAILED:
                    # Refused as a whole on the first reading: say so on the form, keep nothing.
                    form.add_error("file", job.message)
                    importing.cancel_import(job)
                else:
                    return redirect("customers:import_review", pk=job.pk)
    user = request.user
    pending = ImportJob.objects.filter(owner=user, expires_at__gt=timezone.now()).exclude(status=Status.DONE)
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
            "pending": pending[:10],
            "keep_hours": settings.IMPORT_KEEP_HOURS,
        },
    )


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_review(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    if job is None:
        messages.error(request, EXPIRED)
        return redirect("customers:import")
    report = importing.load_report(job.token) if job.status == Status.REVIEW else None
    if job.status == Status.REVIEW and report is None:
        messages.error(request, EXPIRED)
        return redirect("customers:import")

    if request.method == "GET" and request.GET.get("download") == "problems" and report is not None:
        return xlsx_response(exporting.build_problem_list(report))

    if request.method == "POST":
        return _review_action(request, job, report)

    return render(request, "customers/import_review.html", _review_context(request, job, report))


def _review_action(request: AuthedHttpRequest, job: ImportJob, report: importing.Report | None) -> HttpResponseBase:
    action = request.POST.get("action", "")
    here = reverse("customers:import_review", args=[job.pk])
    now = timezone.now()
    try:
        if action == "cancel":
            importing.cancel_import(job)
            messages.info(request, "已取消本次导入，上传的文件已删除")
            return redirect("customers:import")
        if action == "options":
            form = ImportOptionsForm(request.POST, job=job, report=report)
            if not form.is_valid():
                messages.error(request, "所选的设置无效，请重新选择")
                return redirect(here)
            importing.remember_choices(request.user, job.kind, form.choices())
            importing.change_options(job, options=form.options(), now=now)
            _check_now(job)
            return redirect(here)
        if action in {"import", "import_valid"}:
            if not importing.may_import(request.user, job.kind):
                raise DomainError("您没有导入此类数据的权限")
            importing.confirm_import(job, only_valid=action == "import_valid", now=now, ip=client_ip(request))
            if report is not None and report.valid <= settings.IMPORT_INLINE_ROWS:
                importing.process_job(job.pk, now=now)
                job.refresh_from_db()
            if job.status == Status.DONE:
                messages.success(request, job.message)
                return redirect("customers:import")
            return redirect(here)  # the review shows why it stopped, or the progress
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(here)
    return redirect(here)


def _review_context(request: AuthedHttpRequest, job: ImportJob, report: importing.Report | None) -> dict[str, Any]:
    review_url = reverse("customers:import_review", args=[job.pk])
    context: dict[str, Any] = {
        "job": job,
        "report": report,
        "progress_url": reverse("customers:import_progress", args=[job.pk]),
        "keep_hours": settings.IMPORT_KEEP_HOURS,
    }
    if job.status in (Status.REVIEW, Status.FAILED):
        form = ImportOptionsForm(job=job, report=report)
        context["options_form"] = form
        context["value_fields"] = [form[name] for name in form.value_fields]
        context["column_fields"] = [(form[name], header, how) for name, header, how in form.column_fields]
        context["recognised"] = [
            (h, importing.column_of(job.kind, k).header)
            for h, k, how in (report.headers if report else [])
            if how == "auto"
        ]
    if report is not None:
        context.update(
            {
                "errors": report.errors[:SHOWN_ERRORS],
                "errors_truncated": len(report.errors) > SHOWN_ERRORS,
                "shown_errors": SHOWN_ERRORS,
                "problems_url": f"{review_url}?download=problems",
                "is_text": report.file is not None and report.file.format == "text",
            }
        )
    return context


@permission_required("customers.import_customers", raise_exception=True)
@require_GET
def import_progress(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The progress box, polled by the page (HTMX) while the file is checked or imported;
    once it is done the page reloads itself into the review or the result."""
    job = _job(request, pk)
    if job is None or not job.is_working:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(
        request,
        "customers/_import_progress.html",
        {"job": job, "progress_url": reverse("customers:import_progress", args=[job.pk])},
    )


@permission_required("customers.import_customers", raise_exception=True)
@require_GET
def import_template(request: AuthedHttpRequest, kind: str) -> HttpResponseBase:
    if kind not in importing.KINDS:
        raise Http404("没有这种导入模板")
    return xlsx_response(exporting.build_template(kind, request.user))


@permission_required("customers.export_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def export_customers(request: AuthedHttpRequest) -> HttpResponseBase:
    return _export(request, exporting.export_customers)


@permission_required("customers.export_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def export_deals(request: AuthedHttpRequest) -> HttpResponseBase:
    return _export(request, exporting.export_deals)


def _export(request: AuthedHttpRequest, build: Callable[..., exporting.Export]) -> HttpResponseBase:
    """The workbook at once, or, above the company's threshold, the approval request form
    (GET) and the request filed (POST with the kept filters and a purpose)."""
    if request.method == "POST":
        params: Mapping[str, str] = QueryDict(request.POST.get("params", ""))
    else:
        params = search_params(request)
    try:
        return xlsx_response(build(request.user, params, ip=client_ip(request)))
    except exporting.ApprovalRequired as exc:
        context = {"exc": exc, "params": urlencode(exc.params), "purpose": "", "error": ""}
        if request.method == "POST":
            purpose = request.POST.get("purpose", "")
            try:
                export_requests.request_export(exc, actor=request.user, purpose=purpose, now=timezone.now())
            except DomainError as err:
                context.update(purpose=purpose, error=err.message)
            else:
                messages.success(request, "已提交导出申请，主管批准后可在“导出申请”中下载（仅可下载一次）")
                return redirect("customers:exports")
        return render(request, "customers/export_request.html", context)
