"""首问事项 pages: the list (the workbench's 待回复客户 links here), registration, the
detail page with its hand-offs, answers, escalations and the callback, and the export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.complaints import issues, selectors
from crm.complaints.casework_exporting import export_issues
from crm.complaints.casework_forms import (
    AnswerForm,
    CallbackForm,
    EscalateForm,
    HandOffForm,
    IssueFilterForm,
    IssueForm,
    NoteForm,
)
from crm.complaints.consultation_views import file_response
from crm.complaints.models import CustomerIssue
from crm.complaints.selectors import get_complaint_for_user
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error


@require_GET
@permission_required(issues.VIEW, raise_exception=True)
def issue_list(request: AuthedHttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = IssueFilterForm(request.GET, user=request.user)
    rows = filters.queryset(now=now).select_related("project", "first_responder")
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/issues/list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(issues.ADD),
            "can_export": request.user.has_perm(issues.EXPORT),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(issues.ADD, raise_exception=True)
def issue_new(request: AuthedHttpRequest) -> HttpResponse:
    form = IssueForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            issue = issues.register_issue(form.intake(), actor=request.user)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"事项已登记，编号 {issue.number}，您是首问责任人")
            return redirect("complaints:issue_detail", issue.pk)
    return render(request, "complaints/issues/form.html", {"form": form})


def _may_act(issue: CustomerIssue, user: Any) -> bool:
    return bool(
        issue.is_open
        and user.has_perm(issues.HANDLE)
        and (issue.first_responder_id == user.pk or user.has_perm(issues.MANAGE))
    )


def _context(
    request: AuthedHttpRequest, issue: CustomerIssue, *, answer_for: int | None = None, **bound: forms.Form
) -> dict[str, Any]:
    """The detail page; ``bound`` holds the one form that failed (by its name)."""
    now = timezone.now()
    user = request.user
    hand_offs = list(issue.hand_offs.select_related("department", "to_user", "answered_by").order_by("handed_at"))
    escalated = set(issue.escalations.values_list("hand_off_id", flat=True))
    may_act = _may_act(issue, user)
    rows = [
        {
            "h": h,
            "overdue": h.is_overdue(now),
            "escalated": h.pk in escalated,
            "may_answer": issue.is_open
            and h.is_pending
            and user.has_perm(issues.HANDLE)
            and (user.pk in (issue.first_responder_id, h.to_user_id) or user.has_perm(issues.MANAGE)),
            "may_escalate": may_act and h.is_overdue(now) and h.pk not in escalated,
            "answer_form": bound["answer"]
            if answer_for == h.pk and "answer" in bound
            else AnswerForm(auto_id=f"id_answer{h.pk}_%s"),
        }
        for h in hand_offs
    ]
    return {
        "issue": issue,
        "hand_offs": rows,
        "callbacks": issue.callbacks.select_related("called_by"),
        "escalations": issue.escalations.select_related("hand_off__department", "escalated_by"),
        "events": selectors.issue_events(issue),
        "may_act": may_act,
        "may_cancel": issue.is_open and user.has_perm(issues.MANAGE),
        "hand_off_form": bound.get("hand_off") or HandOffForm(user=user, auto_id="id_handoff_%s"),
        "callback_form": bound.get("callback") or CallbackForm(auto_id="id_callback_%s"),
        "escalate_form": EscalateForm(auto_id="id_escalate_%s"),
        "cancel_form": bound.get("cancel") or NoteForm(auto_id="id_cancel_%s"),
        "failed": next(iter(bound), ""),
    }


@require_GET
@permission_required(issues.VIEW, raise_exception=True)
def issue_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    issue = selectors.get_issue_for_user(request.user, pk)
    return render(request, "complaints/issues/detail.html", _context(request, issue))


def _fail(request: AuthedHttpRequest, issue: CustomerIssue, **bound: Any) -> HttpResponse:
    issue.refresh_from_db()
    return render(request, "complaints/issues/detail.html", _context(request, issue, **bound), status=400)


@require_POST
@permission_required(issues.HANDLE, raise_exception=True)
def issue_hand_off(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    issue = selectors.get_issue_for_user(request.user, pk)
    form = HandOffForm(request.POST, user=request.user, auto_id="id_handoff_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            issues.hand_off(
                issue,
                actor=request.user,
                department=data["department"],
                to_user=data.get("to_user"),
                asked=data["asked"],
                hours=data["hours"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已转交{data['department']}，您仍是首问责任人")
            return redirect("complaints:issue_detail", issue.pk)
    return _fail(request, issue, hand_off=form)


@require_POST
@permission_required(issues.HANDLE, raise_exception=True)
def issue_answer(request: AuthedHttpRequest, pk: int, hand_off_pk: int) -> HttpResponse:
    issue = selectors.get_issue_for_user(request.user, pk)
    record = selectors.get_hand_off(issue, hand_off_pk)
    form = AnswerForm(request.POST, auto_id=f"id_answer{record.pk}_%s")
    if form.is_valid():
        try:
            issues.record_answer(record, actor=request.user, answer=form.cleaned_data["answer"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "部门答复已登记")
            return redirect("complaints:issue_detail", issue.pk)
    return _fail(request, issue, answer=form, answer_for=record.pk)


@require_POST
@permission_required(issues.HANDLE, raise_exception=True)
def issue_escalate(request: AuthedHttpRequest, pk: int, hand_off_pk: int) -> HttpResponse:
    issue = selectors.get_issue_for_user(request.user, pk)
    record = selectors.get_hand_off(issue, hand_off_pk)
    form = EscalateForm(request.POST)
    form.is_valid()
    try:
        issues.escalate_hand_off(record, actor=request.user, reason=form.cleaned_data.get("reason") or "")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已向客服中心主任投诉该部门超时未答复")
    return redirect("complaints:issue_detail", issue.pk)


@require_POST
@permission_required(issues.HANDLE, raise_exception=True)
def issue_callback(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    issue = selectors.get_issue_for_user(request.user, pk)
    form = CallbackForm(request.POST, auto_id="id_callback_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            issues.record_callback(
                issue,
                actor=request.user,
                result=data["result"],
                is_reached=bool(data["is_reached"]),
                called_at=data.get("called_at"),
                close=bool(data.get("close")),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            issue.refresh_from_db()
            closed = issue.status == CustomerIssue.Status.CLOSED
            messages.success(request, "已回复客户，事项已结案" if closed else "回复记录已登记")
            return redirect("complaints:issue_detail", issue.pk)
    return _fail(request, issue, callback=form)


@require_POST
@permission_required(issues.HANDLE, raise_exception=True)
def issue_move(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    """The small verbs: 已有答复 (the owner knows the answer) and 撤销 (the director)."""
    issue = selectors.get_issue_for_user(request.user, pk)
    verbs = {"answered": issues.mark_answered, "cancel": issues.cancel_issue}
    if verb not in verbs:
        raise Http404("未知的操作")
    form = NoteForm(request.POST, auto_id=f"id_{verb}_%s")
    form.is_valid()
    try:
        verbs[verb](issue, actor=request.user, note=form.cleaned_data.get("note") or "")
    except DomainError as exc:
        apply_domain_error(form, exc)
        messages.error(request, exc.message)
        return _fail(request, issue, cancel=form)
    messages.success(request, "已完成")
    return redirect("complaints:issue_detail", issue.pk)


@require_GET
@permission_required(issues.EXPORT, raise_exception=True)
def issue_export(request: AuthedHttpRequest) -> FileResponse:
    return file_response(
        export_issues(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )


@require_POST
@permission_required(issues.ADD, raise_exception=True)
def issue_from_complaint(request: AuthedHttpRequest, complaint_pk: int) -> HttpResponse:
    """The complaint's receiver records it as their issue: they call the customer back."""
    complaint = get_complaint_for_user(request.user, complaint_pk)
    existing = CustomerIssue.objects.filter(complaint=complaint, first_responder=request.user).first()
    if existing is not None:
        return redirect("complaints:issue_detail", existing.pk)
    try:
        issue = issues.issue_from_complaint(complaint, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("complaints:detail", complaint.pk)
    messages.success(request, f"已生成首问事项 {issue.number}，您是首问责任人")
    return redirect("complaints:issue_detail", issue.pk)
