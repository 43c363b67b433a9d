"""客户描摹 pages: list (mine / team / all), new, detail, edit, the quarter's quota and the
analysis. Each view reads through crm.portraits.selectors (outside the scope: 404), binds a
form, calls one service and renders or redirects."""

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
from crm.core.xlsx import CONTENT_TYPE
from crm.lib.dates import local_day
from crm.portraits import exporting, selectors, services
from crm.portraits.forms import AnalysisForm, NewPortraitForm, PortraitFilterForm, PortraitForm, QuarterForm
from crm.portraits.models import Portrait
from crm.portraits.quarters import QUOTA, Quarter


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def portrait_list(request: AuthedHttpRequest) -> HttpResponse:
    today = local_day(timezone.now())
    filters = PortraitFilterForm(request.GET, user=request.user, today=today)
    page = Paginator(filters.queryset(), filters.page_size).get_page(request.GET.get("page"))
    quarter = Quarter.of(today)
    return render(
        request,
        "portraits/list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(services.ADD),
            "can_export": request.user.has_perm(services.EXPORT),
            "quarter": quarter,
            "mine": selectors.submitted_count(request.user, quarter),
            "quota": QUOTA,
            "tab": "list",
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.ADD, raise_exception=True)
def portrait_new(request: AuthedHttpRequest) -> HttpResponse:
    initial: dict[str, str] = {}
    number = request.GET.get("customer", "")
    if number:
        initial["customer_number"] = number[:20]
    form = NewPortraitForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            portrait = services.submit_portrait(
                form.cleaned_data["customer_number"], actor=request.user, **form.service_fields()
            )
        except DomainError as exc:
            if exc.field == "customer":
                exc.field = "customer_number"
            apply_domain_error(form, exc)
        else:
            done = selectors.submitted_count(request.user, Quarter.of(portrait.submitted_on))
            messages.success(request, f"客户描摹已提交（本季度 {done}/{QUOTA}）")
            return redirect("portraits:detail", portrait.pk)
    return render(request, "portraits/form.html", {"form": form, "tab": "list", "is_new": True})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def portrait_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    portrait = selectors.get_portrait_for_user(request.user, pk)
    return render(
        request,
        "portraits/detail.html",
        {
            "portrait": portrait,
            "quarter": Quarter.parse(portrait.quarter),
            "can_edit": request.user.has_perm(services.CHANGE),
            "tab": "list",
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.CHANGE, raise_exception=True)
def portrait_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    portrait: Portrait = selectors.get_portrait_for_user(request.user, pk)
    form = PortraitForm(request.POST or None, instance=Portrait.objects.get(pk=portrait.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_portrait(portrait, actor=request.user, **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "客户描摹已保存")
            return redirect("portraits:detail", portrait.pk)
    return render(request, "portraits/form.html", {"form": form, "portrait": portrait, "tab": "list"})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def quota(request: AuthedHttpRequest) -> HttpResponse:
    today = local_day(timezone.now())
    form = QuarterForm(request.GET or None, user=request.user, today=today)
    quarter = form.chosen_quarter()
    rows = selectors.quota_rows(request.user, quarter)
    return render(
        request,
        "portraits/quota.html",
        {
            "form": form,
            "quarter": quarter,
            "rows": rows,
            "quota": QUOTA,
            "short": sum(1 for r in rows if not r.is_met),
            "tab": "quota",
        },
    )


@require_GET
@permission_required(services.ANALYSE, raise_exception=True)
def analysis(request: AuthedHttpRequest) -> HttpResponse:
    today = local_day(timezone.now())
    form = AnalysisForm(request.GET or None, user=request.user, today=today)
    quarter = form.chosen_quarter()
    project = form.chosen_project()
    result = selectors.analysis(request.user, quarter, project_id=project.pk if project else None)
    return render(
        request,
        "portraits/analysis.html",
        {"form": form, "quarter": quarter, "project": project, "result": result, "tab": "analysis"},
    )


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def portrait_export(request: AuthedHttpRequest) -> FileResponse:
    now = timezone.now()
    export = exporting.export_portraits(
        request.user, request.GET, today=local_day(now), now=now, ip=request.META.get("REMOTE_ADDR")
    )
    response = FileResponse(export.file, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    response["Cache-Control"] = "no-store"
    return response
