"""媒体监督 pages: the week's review checklist, the findings (list, record, detail with the
response and the turn into a complaint or an issue) and the export."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.complaints import issues, media, selectors, services
from crm.complaints.casework_exporting import export_findings
from crm.complaints.casework_forms import (
    CheckForm,
    FindingFilterForm,
    FindingForm,
    FindingToIssueForm,
    ResponseForm,
    ToComplaintForm,
)
from crm.complaints.consultation_views import file_response
from crm.complaints.models import CustomerIssue, MediaFinding
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.lib.dates import week_start


@require_GET
@permission_required(media.VIEW, raise_exception=True)
def media_review(request: AuthedHttpRequest) -> HttpResponse:
    if request.user.company is not None:
        media.ensure_default_media(request.user.company)
    this_week = media.week_of(timezone.now())
    asked = parse_date(request.GET.get("week") or "") if request.GET.get("week") else None
    week_on = week_start(asked) if asked else this_week
    review = media.weekly_review(request.user.company_id or 0, week_on)
    return render(
        request,
        "complaints/media/review.html",
        {
            "review": review,
            "is_this_week": week_on == this_week,
            "previous": week_on - timedelta(days=7),
            "following": week_on + timedelta(days=7) if week_on < this_week else None,
            "can_check": request.user.has_perm(media.CHECK) and week_on == this_week,
        },
    )


@require_POST
@permission_required(media.CHECK, raise_exception=True)
def media_check(request: AuthedHttpRequest, medium_pk: int) -> HttpResponse:
    medium = get_object_or_404(selectors.media_for(request.user), pk=medium_pk)
    form = CheckForm(request.POST)
    form.is_valid()
    try:
        media.check_medium(medium, actor=request.user, note=form.cleaned_data.get("note") or "")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{medium.name}：本周已浏览")
    return redirect("complaints:media_review")


@require_GET
@permission_required(media.VIEW, raise_exception=True)
def finding_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = FindingFilterForm(request.GET, user=request.user)
    rows = filters.queryset().select_related("medium", "project", "responded_by")
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/media/list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(media.ADD),
            "can_export": request.user.has_perm(media.EXPORT),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(media.ADD, raise_exception=True)
def finding_new(request: AuthedHttpRequest) -> HttpResponse:
    if request.user.company is not None:
        media.ensure_default_media(request.user.company)
    form = FindingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            finding = media.record_finding(form.intake(), actor=request.user)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "媒体监督记录已登记")
            return redirect("complaints:finding_detail", finding.pk)
    return render(request, "complaints/media/form.html", {"form": form})


def _context(request: AuthedHttpRequest, finding: MediaFinding, **bound: Any) -> dict[str, Any]:
    user = request.user
    return {
        "f": finding,
        "issue": CustomerIssue.objects.filter(media_finding=finding).first(),
        "can_respond": user.has_perm(media.HANDLE),
        "can_to_complaint": user.has_perm(services.ADD) and finding.complaint_id is None,
        "can_to_issue": user.has_perm(issues.ADD) and user.has_perm(issues.ANY_CUSTOMER),
        "response_form": bound.get("response") or ResponseForm(initial={"response": finding.response}),
        "complaint_form": bound.get("complaint") or ToComplaintForm(user=user, auto_id="id_complaint_%s"),
        "issue_form": bound.get("issue") or FindingToIssueForm(auto_id="id_issue_%s"),
        "failed": next(iter(bound), ""),
    }


@require_GET
@permission_required(media.VIEW, raise_exception=True)
def finding_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    finding = selectors.get_finding_for_user(request.user, pk)
    return render(request, "complaints/media/detail.html", _context(request, finding))


@require_POST
@permission_required(media.HANDLE, raise_exception=True)
def finding_respond(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    finding = selectors.get_finding_for_user(request.user, pk)
    form = ResponseForm(request.POST)
    if form.is_valid():
        try:
            media.respond_to_finding(finding, actor=request.user, response=form.cleaned_data["response"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "回应已登记")
            return redirect("complaints:finding_detail", finding.pk)
    return render(request, "complaints/media/detail.html", _context(request, finding, response=form), status=400)


@require_POST
@permission_required(services.ADD, raise_exception=True)
def finding_to_complaint(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    finding = selectors.get_finding_for_user(request.user, pk)
    if request.user.company is not None:
        services.ensure_default_categories(request.user.company)
    form = ToComplaintForm(request.POST, user=request.user, auto_id="id_complaint_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            complaint = media.finding_to_complaint(
                finding,
                actor=request.user,
                category=data["category"],
                complainant_name=data.get("complainant_name") or "",
                complainant_mobile=data.get("complainant_mobile") or "",
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已转为投诉，编号 {complaint.number}")
            return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/media/detail.html", _context(request, finding, complaint=form), status=400)


@require_POST
@permission_required(issues.ADD, raise_exception=True)
def finding_to_issue(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    finding = selectors.get_finding_for_user(request.user, pk)
    form = FindingToIssueForm(request.POST, auto_id="id_issue_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            issue = media.finding_to_issue(
                finding,
                actor=request.user,
                subject=data["subject"],
                contact_name=data.get("contact_name") or "",
                contact_mobile=data.get("contact_mobile") or "",
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已转为首问事项 {issue.number}，您是首问责任人")
            return redirect("complaints:issue_detail", issue.pk)
    return render(request, "complaints/media/detail.html", _context(request, finding, issue=form), status=400)


@require_GET
@permission_required(media.EXPORT, raise_exception=True)
def finding_export(request: AuthedHttpRequest) -> FileResponse:
    return file_response(
        export_findings(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )
