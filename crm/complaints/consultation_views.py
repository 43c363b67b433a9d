"""咨询 pages: the list with filters and search, registration (phone-friendly), the detail
page (turn into a complaint), the quarterly summary and the exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.complaints import consultations, selectors, services
from crm.complaints.casework_exporting import export_consultations, export_quarter_summary
from crm.complaints.casework_forms import ConsultationFilterForm, ConsultationForm, QuarterForm, ToComplaintForm
from crm.complaints.models import Consultation, CustomerIssue
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.customers.exporting import XLSX_CONTENT_TYPE, Export
from crm.lib.dates import local_day, quarter_of


def file_response(export: Export) -> FileResponse:
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(consultations.VIEW, raise_exception=True)
def consultation_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = ConsultationFilterForm(request.GET, user=request.user)
    rows = filters.queryset().select_related("topic", "project", "answered_by", "customer")
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/consultations/list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(consultations.ADD),
            "can_export": request.user.has_perm(consultations.EXPORT),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(consultations.ADD, raise_exception=True)
def consultation_new(request: AuthedHttpRequest) -> HttpResponse:
    if request.user.company is not None:
        consultations.ensure_default_topics(request.user.company)
    form = ConsultationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = consultations.register_consultation(form.intake(), actor=request.user)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            issue = CustomerIssue.objects.filter(consultation=consultation).first()
            if issue is not None:
                messages.success(request, f"咨询已登记，已生成跟进事项 {issue.number}，您是首问责任人")
                return redirect("complaints:issue_detail", issue.pk)
            messages.success(request, "咨询已登记")
            return redirect("complaints:consultation_detail", consultation.pk)
    return render(request, "complaints/consultations/form.html", {"form": form})


def _detail(
    request: AuthedHttpRequest, consultation: Consultation, form: ToComplaintForm | None = None
) -> dict[str, object]:
    return {
        "c": consultation,
        "issue": CustomerIssue.objects.filter(consultation=consultation).first(),
        "to_complaint": form or ToComplaintForm(user=request.user),
        "can_to_complaint": request.user.has_perm(services.ADD) and consultation.complaint_id is None,
    }


@require_GET
@permission_required(consultations.VIEW, raise_exception=True)
def consultation_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.get_consultation_for_user(request.user, pk)
    return render(request, "complaints/consultations/detail.html", _detail(request, consultation))


@require_POST
@permission_required(services.ADD, raise_exception=True)
def consultation_to_complaint(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.get_consultation_for_user(request.user, pk)
    if request.user.company is not None:
        services.ensure_default_categories(request.user.company)
    form = ToComplaintForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            complaint = consultations.consultation_to_complaint(
                consultation,
                actor=request.user,
                category=form.cleaned_data["category"],
                complainant_mobile=form.cleaned_data.get("complainant_mobile") or "",
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已转为投诉，编号 {complaint.number}")
            return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/consultations/detail.html", _detail(request, consultation, form), status=400)


@require_GET
@permission_required(consultations.EXPORT, raise_exception=True)
def consultation_export(request: AuthedHttpRequest) -> FileResponse:
    return file_response(
        export_consultations(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )


def _quarter(request: AuthedHttpRequest) -> tuple[int, int]:
    form = QuarterForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["year"], form.cleaned_data["quarter"]
    return quarter_of(local_day(timezone.now()))


@require_GET
@permission_required(consultations.VIEW, raise_exception=True)
def consultation_summary(request: AuthedHttpRequest) -> HttpResponse:
    year, quarter = _quarter(request)
    summary = consultations.quarterly_summary(
        selectors.consultations_visible_to(request.user), year=year, quarter=quarter
    )
    previous = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    following = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    return render(
        request,
        "complaints/consultations/summary.html",
        {
            "summary": summary,
            "previous": previous,
            "following": following,
            "can_export": request.user.has_perm(consultations.EXPORT),
        },
    )


@require_GET
@permission_required(consultations.EXPORT, raise_exception=True)
def consultation_summary_export(request: AuthedHttpRequest) -> FileResponse:
    year, quarter = _quarter(request)
    summary = consultations.quarterly_summary(
        selectors.consultations_visible_to(request.user), year=year, quarter=quarter
    )
    return file_response(
        export_quarter_summary(request.user, summary, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )
