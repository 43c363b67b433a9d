"""培训 pages: sessions (list, detail with attendance and scores, new, edit), plans (list,
detail, new, edit), the per-person training record, and the export. Each view reads through
crm.training.selectors (outside the scope: 404), binds a form, calls one service and renders
or redirects."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.core.xlsx import CONTENT_TYPE
from crm.lib.numbers import parse_id
from crm.training import exporting, selectors, services
from crm.training.forms import PlanForm, RecordForm, SessionFilterForm, SessionForm, SummaryForm
from crm.training.models import Attendance, TrainingSession


def _counted(rows: Any) -> Any:
    return rows.annotate(
        expected=Count("attendances", distinct=True),
        attended=Count("attendances", filter=Q(attendances__status=Attendance.Status.ATTENDED), distinct=True),
    )


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def session_list(request: AuthedHttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = SessionFilterForm(request.GET, user=request.user, now=now)
    page = Paginator(_counted(filters.queryset()), filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "training/session_list.html",
        {
            "filters": filters,
            "page": page,
            "now": now,
            "page_sizes": PAGE_SIZES,
            "can_plan": request.user.has_perm(services.PLAN),
            "can_export": request.user.has_perm(services.EXPORT),
            "tab": "sessions",
        },
    )


def _session_page(
    request: AuthedHttpRequest,
    session: TrainingSession,
    *,
    record_form: RecordForm | None = None,
    summary_form: SummaryForm | None = None,
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    attendances = list(selectors.attendances_of(session))
    mine = next((a for a in attendances if a.attendee_id == user.pk), None)
    can_record = services.may_record(user, session)
    can_summarise = (
        mine is not None
        and session.starts_at <= now
        and mine.status not in (Attendance.Status.ABSENT, Attendance.Status.LEAVE)
    )
    return render(
        request,
        "training/session_detail.html",
        {
            "session": session,
            "attendances": attendances,
            "mine": mine,
            "started": session.starts_at <= now,
            "can_record": can_record,
            "can_plan": user.has_perm(services.PLAN),
            "record_form": record_form or (RecordForm(attendances=attendances) if can_record else None),
            "can_summarise": can_summarise,
            "summary_form": summary_form or SummaryForm(initial={"summary": mine.summary if mine else ""}),
            "tab": "sessions",
        },
    )


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def session_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, selectors.get_session_for_user(request.user, pk))


@require_POST
@permission_required(services.VIEW, raise_exception=True)
def session_record(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    form = RecordForm(request.POST, attendances=list(selectors.attendances_of(session)))
    if form.is_valid():
        try:
            changed = services.record_attendance(session, actor=request.user, entries=form.entries())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已保存出勤与成绩（{changed} 人有变更）")
            return redirect("training:session_detail", session.pk)
    return _session_page(request, session, record_form=form)


@require_POST
@permission_required(services.VIEW, raise_exception=True)
def session_summary(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    form = SummaryForm(request.POST)
    mine = session.attendances.filter(attendee_id=request.user.pk).select_related("session").first()
    if mine is None:
        messages.error(request, "您不在本次培训的参训人员中")
        return redirect("training:session_detail", session.pk)
    if form.is_valid():
        try:
            services.write_summary(mine, actor=request.user, text=form.cleaned_data["summary"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "培训总结已保存")
            return redirect("training:session_detail", session.pk)
    return _session_page(request, session, summary_form=form)


def _session_fields(form: SessionForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "topic": data["topic"],
        "starts_at": data["starts_at"],
        "attendees": list(data["attendees"]),
        "trainer": data.get("trainer"),
        "trainer_name": data.get("trainer_name") or "",
        "hours": data["hours"],
        "location": data.get("location") or "",
    }


@require_http_methods(["GET", "POST"])
@permission_required(services.PLAN, raise_exception=True)
def session_new(request: AuthedHttpRequest) -> HttpResponse:
    plan_id = parse_id(request.GET.get("plan"))
    initial = {"plan": plan_id} if plan_id else {}
    form = SessionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.schedule_session(form.cleaned_data["plan"], actor=request.user, **_session_fields(form))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已安排培训：{session.topic}")
            return redirect("training:session_detail", session.pk)
    return render(request, "training/session_form.html", {"form": form, "tab": "sessions"})


@require_http_methods(["GET", "POST"])
@permission_required(services.PLAN, raise_exception=True)
def session_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    form = SessionForm(request.POST or None, user=request.user, initial=SessionForm.initial_for(session))
    form.fields["plan"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.update_session(session, actor=request.user, **_session_fields(form))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "培训已保存")
            return redirect("training:session_detail", session.pk)
    return render(request, "training/session_form.html", {"form": form, "session": session, "tab": "sessions"})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def plan_list(request: AuthedHttpRequest) -> HttpResponse:
    plans = selectors.plans_visible_to(request.user).annotate(session_count=Count("sessions")).order_by("-starts_on")
    page = Paginator(plans, PAGE_SIZES[0]).get_page(request.GET.get("page"))
    return render(
        request,
        "training/plan_list.html",
        {"page": page, "page_sizes": PAGE_SIZES, "can_plan": request.user.has_perm(services.PLAN), "tab": "plans"},
    )


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def plan_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan_for_user(request.user, pk)
    sessions = _counted(selectors.sessions_visible_to(request.user).filter(plan=plan)).order_by("starts_at")
    return render(
        request,
        "training/plan_detail.html",
        {"plan": plan, "sessions": sessions, "can_plan": request.user.has_perm(services.PLAN), "tab": "plans"},
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.PLAN, raise_exception=True)
def plan_new(request: AuthedHttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.create_plan(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已制定培训计划：{plan.title}")
            return redirect("training:plan_detail", plan.pk)
    return render(request, "training/plan_form.html", {"form": form, "tab": "plans"})


@require_http_methods(["GET", "POST"])
@permission_required(services.PLAN, raise_exception=True)
def plan_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan_for_user(request.user, pk)
    form = PlanForm(request.POST or None, instance=type(plan).objects.get(pk=plan.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_plan(plan, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "培训计划已保存")
            return redirect("training:plan_detail", plan.pk)
    return render(request, "training/plan_form.html", {"form": form, "plan": plan, "tab": "plans"})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def my_record(request: AuthedHttpRequest) -> HttpResponse:
    return redirect("training:person_record", request.user.pk)


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def person_record(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_person_for_user(request.user, pk)
    return render(
        request,
        "training/person_record.html",
        {
            "person": person,
            "rows": selectors.record_of(person),
            "summary": selectors.record_summary(person),
            "people": selectors.people_visible_to(request.user).filter(is_active=True).order_by("username")
            if request.user.has_perm(services.VIEW_RECORDS)
            else None,
            "tab": "record",
        },
    )


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def training_export(request: AuthedHttpRequest) -> FileResponse:
    now = timezone.now()
    export = exporting.export_attendance(request.user, request.GET, now=now, ip=request.META.get("REMOTE_ADDR"))
    response = FileResponse(export.file, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    response["Cache-Control"] = "no-store"
    return response
