"""报告 pages: the list of packs, generation on demand, a pack's sections, the author's
text and submission, and the Excel and PDF exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from crm.accounts.http import AuthedHttpRequest
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.customers.exporting import Export
from crm.reports import exporting, selectors, services
from crm.reports.building import text_labels
from crm.reports.exporting import section_heading, section_text
from crm.reports.forms import GenerateForm, PackFilterForm, TextForm


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def pack_list(request: AuthedHttpRequest) -> HttpResponse:
    form = PackFilterForm(request.GET, user=request.user)
    page = Paginator(form.queryset(), form.page_size).get_page(request.GET.get("page"))
    return render(request, "reports/pack_list.html", {"form": form, "page": page, "page_sizes": PAGE_SIZES})


@require_http_methods(["GET", "POST"])
@permission_required(services.GENERATE, raise_exception=True)
def pack_generate(request: AuthedHttpRequest) -> HttpResponse:
    form = GenerateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        first, last = form.period
        try:
            pack = services.generate_pack(
                form.cleaned_data["kind"],
                company_id=request.user.company_id or 0,
                project=form.project,
                first=first,
                last=last,
                now=timezone.now(),
                actor=request.user,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已生成 {pack}（第{pack.version}版）")
            return redirect("reports:pack_detail", pk=pack.pk)
    return render(request, "reports/pack_generate.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required(services.VIEW, raise_exception=True)
def pack_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    pack = selectors.get_pack_for_user(request.user, pk)
    labels = text_labels(pack.kind)
    may_write = request.user.has_perm(services.WRITE) and not pack.is_submitted
    initial = {"summary": pack.summary, "next_focus": pack.next_focus}
    form = TextForm(request.POST or None, initial=initial, labels=labels)
    if request.method == "POST":
        if not may_write:
            messages.error(request, "报告已提交或无权修改")
            return redirect("reports:pack_detail", pk=pack.pk)
        if form.is_valid():
            text = {"summary": form.cleaned_data["summary"], "next_focus": form.cleaned_data["next_focus"]}
            try:
                if request.POST.get("action") == "submit":
                    services.submit_pack(pack, actor=request.user, now=timezone.now(), **text)
                    messages.success(request, "报告已提交，内容已锁定")
                else:
                    services.save_text(pack, actor=request.user, **text)
                    messages.success(request, "已保存")
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                return redirect("reports:pack_detail", pk=pack.pk)
    sections = [
        {**s, "heading": section_heading(s), "text_value": section_text(pack, s)} for s in pack.data.get("sections", [])
    ]
    other_versions = (
        selectors.packs_visible_to(request.user)
        .filter(
            company_id=pack.company_id,
            kind=pack.kind,
            project=pack.project,
            period_start=pack.period_start,
            period_end=pack.period_end,
        )
        .exclude(pk=pack.pk)
        .order_by("-version")
    )
    return render(
        request,
        "reports/pack_detail.html",
        {
            "pack": pack,
            "sections": sections,
            "form": form,
            "may_write": may_write,
            "may_export": request.user.has_perm(services.EXPORT),
            "may_generate": request.user.has_perm(services.GENERATE),
            "labels": labels,
            "other_versions": other_versions,
        },
    )


def _file(export: Export, content_type: str) -> FileResponse:
    response = FileResponse(export.file, content_type=content_type)
    response["Content-Disposition"] = export.content_disposition
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def pack_export(request: AuthedHttpRequest, pk: int, fmt: str) -> FileResponse:
    from crm.core.xlsx import CONTENT_TYPE

    pack = selectors.get_pack_for_user(request.user, pk)
    ip = request.META.get("REMOTE_ADDR")
    if fmt == "pdf":
        return _file(exporting.export_pdf(pack, request.user, now=timezone.now(), ip=ip), exporting.PDF_CONTENT_TYPE)
    return _file(exporting.export_excel(pack, request.user, now=timezone.now(), ip=ip), CONTENT_TYPE)
