"""回访 pages: the task list (my queue and the scope's), the task page with its script and
the outcome form, assigning, cancelling, reopening and the Excel export.

Each view reads through crm.visits.selectors (outside the scope: 404), binds a form, calls
one service and renders or redirects; a DomainError is shown on the field it names.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.core.templatetags.form_tags import option_tags
from crm.customers.exporting import XLSX_CONTENT_TYPE
from crm.customers.views import CappedPaginator
from crm.lib.dates import local_day
from crm.visits import campaigns, conversion, repairs, selectors, services, stats, supervision
from crm.visits import repair_import as repair_import_module
from crm.visits.exporting import (
    export_issues,
    export_repairs,
    export_review,
    export_scores,
    export_stats,
    export_visits,
)
from crm.visits.forms import (
    AnswerForm,
    AssignForm,
    CampaignForm,
    CompleteRepairForm,
    ConvertForm,
    FlagForm,
    ImprovementPlanForm,
    InformForm,
    IssueFilterForm,
    IssueNoteForm,
    NoteForm,
    OutcomeForm,
    RepairForm,
    ReviewFilterForm,
    SampleForm,
    VisitFilterForm,
)
from crm.visits.models import Channel, VisitIssue, VisitTask

_STATUS_LABELS = dict(VisitTask.Status.choices)
_CHANNEL_LABELS = dict(Channel.choices)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One row of the list, its labels and dates ready to print: the template engine's
    ``|date`` and ``|truncatechars`` filters, ``get_FOO_display`` and ``{% url %}`` cost
    ~0.1 ms each, per row (docs/performance.md, the work queue 2026-12-06). ``{% visit_rows %}`` writes them.
    Plain values rather than a VisitTask with its customer, project, plan and assignee
    instances: five model objects per row cost more than the row's SQL."""

    url: str
    customer: str
    project: str
    plan: str
    assignee: str  # as str(User), or "" when unassigned
    purpose: str  # the plan's name or the task's purpose, cut to 24 characters
    status_code: str
    attempts: int
    channel: str
    status: str
    is_open: bool
    overdue: bool
    due_on: str
    next_attempt: str  # 12-06 14:00, local time, when a retry is scheduled


# The columns the queue shows ({% visit_rows %}) in this order: a task's questions, scores
# and opinions, the customer's 40-odd columns and the plan's settings are not read for a
# page of rows (bench visits: the floor reads these columns alone).
QUEUE_COLUMNS = (
    "pk",
    "status",
    "attempts",
    "due_on",
    "next_attempt_at",
    "purpose",
    "channel",
    "customer__name",
    "project__name",
    "plan__name",
    "assignee__username",
    "assignee__display_name",
)


def _queue_rows(page: Iterable[tuple[Any, ...]], today: date) -> list[QueueRow]:
    """The page's rows from a ``values_list(*QUEUE_COLUMNS)`` slice."""
    # One reverse() for the page: the detail URL with a placeholder id, filled per row.
    head, tail = reverse("visits:detail", args=[0]).rsplit("/0/", 1)
    rows = []
    for pk, status, attempts, due_on, next_attempt_at, purpose, channel, *names in page:
        customer, project, plan, username, display_name = names
        is_open = status in VisitTask.OPEN
        rows.append(
            QueueRow(
                url=f"{head}/{pk}/{tail}",
                customer=customer,
                project=project,
                plan=plan or "",
                assignee=display_name or username or "",
                purpose=Truncator(plan or purpose).chars(24),
                status_code=status,
                attempts=attempts,
                channel=_CHANNEL_LABELS.get(channel, channel),
                status=_STATUS_LABELS.get(status, status),
                is_open=is_open,
                overdue=is_open and due_on < today,
                due_on=f"{due_on:%Y-%m-%d}",
                next_attempt=f"{timezone.localtime(next_attempt_at):%m-%d %H:%M}" if next_attempt_at else "",
            )
        )
    return rows


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def task_list(request: AuthedHttpRequest) -> HttpResponse:
    today = local_day(timezone.now())
    params = _queue_params(request)
    filters = VisitFilterForm(params, user=request.user)
    tasks = filters.queryset(today=today)
    rows = tasks.values_list(*QUEUE_COLUMNS)
    # The page first; its total follows from the last page, else task_list_count fetches
    # it (capped, "1000+") once the rows are shown, as the customer list (decision 0011).
    page = CappedPaginator(rows, filters.page_size).peek(request.GET.get("page"), keys=tasks)
    return render(
        request,
        "visits/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": _queue_rows(page, today),
            "page_sizes": PAGE_SIZES,
            "can_export": request.user.has_perm(services.EXPORT),
            "query": params.urlencode(),
            **_TOTAL_WORDS,
        },
    )


_TOTAL_WORDS = {"unit": "条", "count_hint": "请用筛选条件缩小范围"}  # partials/list_total.html


def _queue_params(request: AuthedHttpRequest) -> QueryDict:
    params = request.GET.copy()
    if "state" not in params:
        # A visitor opens their own queue; whoever assigns sees everything open in scope.
        params["state"] = "open" if request.user.has_perm(services.ASSIGN) else "mine"
    return params


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def task_list_count(request: AuthedHttpRequest) -> HttpResponse:
    """The list's capped total for its filters and scope, fetched by the list page once its
    rows are shown (hx-get on load, CappedPaginator.peek); also fills in the pager's page count."""
    filters = VisitFilterForm(_queue_params(request), user=request.user)
    paginator = CappedPaginator(filters.queryset(today=local_day(timezone.now())), filters.page_size)
    return render(request, "partials/list_count.html", {"paginator": paginator, **_TOTAL_WORDS})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def list_options(request: AuthedHttpRequest, field: str) -> HttpResponse:
    """The <option>s of the list's plan or project filter, fetched by hx-get when the
    dropdown is first reached for ({% lazy_select %}); the chosen one stays selected."""
    if field not in ("plan", "project"):
        raise Http404
    choices = VisitFilterForm(None, user=request.user).fields[field].choices  # type: ignore[attr-defined]
    chosen = request.GET.get(field, "")
    return HttpResponse(option_tags(choices, {chosen} if chosen else set()))


def _detail_context(request: AuthedHttpRequest, task: VisitTask, **forms: Any) -> dict[str, Any]:
    user = request.user
    can_assign = user.has_perm(services.ASSIGN)
    return {
        "task": task,
        "today": local_day(timezone.now()),
        "script": services.script_for(task),
        "events": selectors.task_events(task),
        "issues": task.issues.select_related("category", "department").order_by("raised_at", "id"),
        "can_record": task.is_open and services.may_record(task, user),
        "can_assign": can_assign and task.is_open,
        "can_cancel": can_assign and services.allowed(task.status, VisitTask.Status.CANCELLED),
        "can_reopen": can_assign and services.allowed(task.status, VisitTask.Status.PENDING),
        "outcome_form": forms.get("outcome_form") or OutcomeForm(task=task),
        "assign_form": forms.get("assign_form") or AssignForm(user=user, initial={"assignee": task.assignee_id}),
        "note_form": forms.get("note_form") or NoteForm(),
        "failed": forms.get("failed", ""),
        "flags": [
            (flag, flag.events.select_related("actor").order_by("at", "id"))
            for flag in selectors.flags_of_task(user, task)
        ],
        "can_flag": task.status in supervision.ENDED and supervision.may_review(user, task),
        "can_review": supervision.may_review(user, task),
        "flag_form": forms.get("flag_form") or FlagForm(),
        "answer_form": forms.get("answer_form") or AnswerForm(),
        "reopen_form": forms.get("reopen_form") or FlagForm(),
        "failed_flag": forms.get("failed_flag"),
    }


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def task_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    return render(request, "visits/detail.html", _detail_context(request, task))


@require_POST
@permission_required(services.RECORD, raise_exception=True)
def task_record(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    form = OutcomeForm(request.POST, task=task)
    if form.is_valid():
        try:
            _, raised = services.record_visit(task, actor=request.user, **form.outcome())
        except DomainError as exc:
            apply_domain_error(form, exc, aliases=form.aliases())
        else:
            task.refresh_from_db()
            if task.status == VisitTask.Status.DONE:
                extra = f"，登记问题 {len(raised)} 个并已转责任部门" if raised else ""
                messages.success(request, f"已记录{task.customer.name}的回访{extra}")
            else:
                messages.info(request, f"已记录未接通（第 {task.attempts} 次）")
            return redirect(f"{reverse('visits:list')}?state=today")
    task.refresh_from_db()
    context = _detail_context(request, task, outcome_form=form, failed="record")
    return render(request, "visits/detail.html", context, status=400)


@require_POST
@permission_required(services.ASSIGN, raise_exception=True)
def task_assign(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.assign_task(
                task, actor=request.user, assignee=form.cleaned_data["assignee"], note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已分派给 {form.cleaned_data['assignee']}")
            return redirect("visits:detail", task.pk)
    return render(
        request, "visits/detail.html", _detail_context(request, task, assign_form=form, failed="assign"), status=400
    )


def _note_verb(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        action = services.cancel_task if verb == "cancel" else services.reopen_task
        try:
            action(task, actor=request.user, note=form.cleaned_data["note"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "回访任务已取消" if verb == "cancel" else "回访任务已重新安排")
            return redirect("visits:detail", task.pk)
    task.refresh_from_db()
    return render(
        request, "visits/detail.html", _detail_context(request, task, note_form=form, failed=verb), status=400
    )


@require_POST
@permission_required(services.ASSIGN, raise_exception=True)
def task_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _note_verb(request, pk, "cancel")


@require_POST
@permission_required(services.ASSIGN, raise_exception=True)
def task_reopen(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _note_verb(request, pk, "reopen")


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def task_export(request: AuthedHttpRequest) -> FileResponse:
    if not request.user.has_perm(services.VIEW):
        raise PermissionDenied
    export = export_visits(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{export.ascii_filename}\"; filename*=UTF-8''{quote(export.filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response


def _file(export: Any) -> FileResponse:
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{export.ascii_filename}\"; filename*=UTF-8''{quote(export.filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def issue_list(request: AuthedHttpRequest) -> HttpResponse:
    """Issues raised in visits in the user's scope, and those routed to the user's
    department (a department member without visit roles sees only those)."""
    return _issues(request, department=False)


@require_GET
@login_required
def department_queue(request: AuthedHttpRequest) -> HttpResponse:
    """本部门回访问题: the issues routed to the user's department, to be worked."""
    if request.user.department_id is None:
        messages.info(request, "您的账号还没有所属部门，请联系管理员在“员工”中设置")
    return _issues(request, department=True)


def _issues(request: AuthedHttpRequest, *, department: bool) -> HttpResponse:
    user = request.user
    if not department and not user.has_perm(services.VIEW_ISSUES) and user.department_id is None:
        raise PermissionDenied
    today = local_day(timezone.now())
    params = request.GET.copy()
    params.setdefault("state", "working" if department else "open")
    filters = IssueFilterForm(params, user=user)
    rows = filters.queryset(today=today, department=department).select_related(
        "customer", "category", "department", "raised_by"
    )
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "visits/issues.html",
        {
            "filters": filters,
            "page": page,
            "today": today,
            "department": department,
            "department_name": user.department.name if department and user.department is not None else "",
            "can_export": user.has_perm(services.EXPORT) or department,
            "query": params.urlencode(),
        },
    )


@require_GET
@login_required
def issue_export(request: AuthedHttpRequest) -> FileResponse:
    """The issue list (or the department's queue with ``queue=1``) as Excel."""
    department = request.GET.get("queue") == "1"
    if not department and not request.user.has_perm(services.EXPORT):
        raise PermissionDenied
    export = export_issues(
        request.user, request.GET, department=department, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")
    )
    return _file(export)


def _issue_context(request: AuthedHttpRequest, issue: VisitIssue, **forms: Any) -> dict[str, Any]:
    user = request.user
    status = VisitIssue.Status(issue.status)
    handles = services.may_handle_issue(issue, user)
    return {
        "issue": issue,
        "today": local_day(timezone.now()),
        "events": selectors.issue_events(issue),
        "can_start": handles and status == VisitIssue.Status.OPEN,
        "can_resolve": handles and VisitIssue.Status.RESOLVED in VisitIssue.ALLOWED_MOVES[status],
        "can_inform": services.may_inform(issue, user) and status == VisitIssue.Status.RESOLVED,
        "note_form": forms.get("note_form") or IssueNoteForm(),
        "inform_form": forms.get("inform_form") or InformForm(),
        "failed": forms.get("failed", ""),
        "can_convert": issue.complaint_id is None and conversion.may_convert(issue, user),
        "convert_form": forms.get("convert_form")
        or (ConvertForm(user=user, issue=issue) if issue.complaint_id is None else None),
    }


@require_GET
@login_required
def issue_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    issue = selectors.get_issue_for_user(request.user, pk)
    return render(request, "visits/issue.html", _issue_context(request, issue))


@require_POST
@login_required
def issue_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    """开始处理 (start), 处理完成 (resolve), 告知客户 (inform): one service each."""
    issue = selectors.get_issue_for_user(request.user, pk)
    form: IssueNoteForm | InformForm = InformForm(request.POST) if verb == "inform" else IssueNoteForm(request.POST)
    if form.is_valid():
        note = form.cleaned_data.get("note") or ""
        try:
            if verb == "start":
                services.start_issue(issue, actor=request.user, note=note)
                done = "已开始处理"
            elif verb == "resolve":
                services.resolve_issue(issue, actor=request.user, resolution=note)
                done = "已记录处理结果，等待回访人告知客户"
            else:
                accepted = form.cleaned_data["accepted"] == "yes"
                services.inform_customer(issue, actor=request.user, accepted=accepted, note=note)
                done = "已告知客户，问题已关闭" if accepted else "客户不接受处理结果，已退回责任部门"
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("visits:issue", issue.pk)
    issue.refresh_from_db()
    key = "inform_form" if verb == "inform" else "note_form"
    context = _issue_context(request, issue, **{key: form, "failed": verb})
    return render(request, "visits/issue.html", context, status=400)


@require_POST
@permission_required(conversion.CONVERT, raise_exception=True)
def issue_convert(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """转为投诉: registers the complaint once; a second click lands on the same one."""
    issue = selectors.get_issue_for_user(request.user, pk)
    if issue.complaint_id is not None:
        messages.info(request, "该问题已转为投诉，以下是已登记的投诉")
        return redirect("complaints:detail", issue.complaint_id)
    form = ConvertForm(request.POST, user=request.user, issue=issue)
    if form.is_valid():
        try:
            complaint, created = conversion.convert_to_complaint(
                issue, actor=request.user, category=form.cleaned_data["category"], note=form.cleaned_data["note"]
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            if created:
                messages.success(request, f"已转为投诉 {complaint.number}")
            else:
                messages.info(request, "该问题已转为投诉，以下是已登记的投诉")
            return redirect("complaints:detail", complaint.pk)
    context = _issue_context(request, issue, convert_form=form, failed="convert")
    return render(request, "visits/issue.html", context, status=400)


# ---------------------------------------------------------------- supervision (回访督查)


@require_GET
@permission_required(supervision.REVIEW, raise_exception=True)
def review_list(request: AuthedHttpRequest) -> HttpResponse:
    """回访督查: ended visits in scope, filtered; ``?sample=N&seed=S`` draws N of them at
    random (the seed is shown and kept in the link, so the same sample can be drawn again)."""
    filters = ReviewFilterForm(request.GET, user=request.user)
    rows = filters.queryset()
    sample_form = SampleForm(request.GET if "size" in request.GET else None)
    sample: dict[str, Any] | None = None
    if sample_form.is_bound and sample_form.is_valid():
        seed_text = request.GET.get("seed", "")
        if not seed_text.isdigit():
            params = request.GET.copy()
            params["seed"] = str(secrets.randbelow(10**9))
            return redirect(f"{reverse('visits:review')}?{params.urlencode()}")
        ids = supervision.draw_sample(
            list(rows.values_list("pk", flat=True)), sample_form.cleaned_data["size"], int(seed_text)
        )
        rows = rows.filter(pk__in=ids)
        sample = {"size": len(ids), "seed": seed_text, "asked": sample_form.cleaned_data["size"]}
    rows = rows.select_related("customer", "project", "completed_by", "plan").annotate(
        flag_count=Count("flags"), open_flags=Count("flags", filter=Q(flags__status="open"))
    )
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    params = request.GET.copy()
    for key in ("size", "seed", "page"):
        params.pop(key, None)
    return render(
        request,
        "visits/review.html",
        {
            "filters": filters,
            "page": page,
            "sample_form": sample_form if sample_form.is_bound else SampleForm(),
            "sample": sample,
            "query": params.urlencode(),
            "can_export": request.user.has_perm(services.EXPORT),
        },
    )


@require_GET
@permission_required([supervision.REVIEW, services.EXPORT], raise_exception=True)
def review_export(request: AuthedHttpRequest) -> FileResponse:
    params = request.GET.copy()
    for key in ("size", "seed", "page"):
        params.pop(key, None)
    return _file(export_review(request.user, params, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")))


@require_POST
@permission_required(supervision.REVIEW, raise_exception=True)
def task_flag(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    form = FlagForm(request.POST)
    if form.is_valid():
        try:
            supervision.flag_record(task, actor=request.user, comment=form.cleaned_data["comment"])
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "已标记，等待回访人答复")
            return redirect(f"{reverse('visits:detail', args=[task.pk])}#flags")
    context = _detail_context(request, task, flag_form=form, failed_flag="flag")
    return render(request, "visits/detail.html", context, status=400)


@require_POST
@login_required
def flag_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    """答复 (the visitor), 认可 / 重新打开 (the supervisor): one service each."""
    flag = selectors.get_flag_for_user(request.user, pk)
    form: AnswerForm | FlagForm | IssueNoteForm
    if verb == "answer":
        form = AnswerForm(request.POST)
    elif verb == "reopen":
        form = FlagForm(request.POST)
    else:
        form = IssueNoteForm(request.POST)
    if form.is_valid():
        try:
            if verb == "answer":
                supervision.answer_flag(flag, actor=request.user, answer=form.cleaned_data["answer"])
                done = "已答复，督查标记已关闭"
            elif verb == "accept":
                supervision.accept_flag(flag, actor=request.user, note=form.cleaned_data.get("note") or "")
                done = "已认可答复"
            else:
                supervision.reopen_flag(flag, actor=request.user, comment=form.cleaned_data["comment"])
                done = "已重新打开，等待回访人再次答复"
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect(f"{reverse('visits:detail', args=[flag.task_id])}#flags")
    if not request.user.has_perm(services.VIEW):
        raise PermissionDenied
    task = selectors.get_task_for_user(request.user, flag.task_id)
    if verb == "accept":
        messages.error(request, "; ".join(str(e) for e in form.non_field_errors()) or "操作未完成")
        return redirect(f"{reverse('visits:detail', args=[flag.task_id])}#flags")
    key = "answer_form" if verb == "answer" else "reopen_form"
    context = _detail_context(request, task, **{key: form, "failed_flag": f"{verb}:{flag.pk}"})
    return render(request, "visits/detail.html", context, status=400)


# ---------------------------------------------------------------- repairs and the re-check


def _repairs_context(request: AuthedHttpRequest, **forms: Any) -> dict[str, Any]:
    rows = (
        selectors.repairs_visible_to(request.user)
        .select_related("customer", "project", "unit", "unit__building", "recorded_by")
        .prefetch_related("tasks")
        .order_by("-created_at", "-id")
    )
    state = request.GET.get("state", "")
    if state == "open":
        rows = rows.filter(completed_at__isnull=True)
    elif state == "done":
        rows = rows.filter(completed_at__isnull=False)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return {
        "page": page,
        "state": state,
        "form": forms.get("form") or RepairForm(user=request.user),
        "complete_form": CompleteRepairForm(),
        "failed_complete": forms.get("failed_complete"),
        "can_add": request.user.has_perm(repairs.ADD),
        "can_export": request.user.has_perm(repairs.EXPORT),
    }


@permission_required(repairs.VIEW, raise_exception=True)
def repair_list(request: AuthedHttpRequest) -> HttpResponse:
    """报修记录: the list and the form to record one (a completed repair gets its callback)."""
    if request.method != "POST":
        return render(request, "visits/repairs.html", _repairs_context(request))
    if not request.user.has_perm(repairs.ADD):
        raise PermissionDenied
    form = RepairForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            repair = repairs.record_repair(
                actor=request.user,
                customer=data["customer"],
                unit=data["unit"],
                problem=data["problem"],
                contractor=data["contractor"],
                completed_at=data["completed_at"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            extra = "，已生成报修回访任务" if repair.completed_at else ""
            messages.success(request, f"已登记{repair.customer.name}的报修{extra}")
            return redirect("visits:repairs")
    return render(request, "visits/repairs.html", _repairs_context(request, form=form), status=400)


@require_POST
@permission_required(repairs.ADD, raise_exception=True)
def repair_complete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    repair = selectors.repairs_visible_to(request.user).filter(pk=pk).first()
    if repair is None:
        raise Http404("报修记录不存在或无权查看")
    form = CompleteRepairForm(request.POST)
    if form.is_valid():
        try:
            repairs.complete_repair(repair, actor=request.user, completed_at=form.cleaned_data["completed_at"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已登记完工，已生成报修回访任务")
    else:
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("visits:repairs")


@require_GET
@permission_required(repairs.EXPORT, raise_exception=True)
def repair_export(request: AuthedHttpRequest) -> FileResponse:
    return _file(export_repairs(request.user, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")))


@require_GET
@permission_required("visits.view_rechecksample", raise_exception=True)
def sample_list(request: AuthedHttpRequest) -> HttpResponse:
    """季度抽查: each quarter's sample (seed, per project), its progress and average scores."""
    samples = [repairs.sample_progress(s) for s in selectors.samples_visible_to(request.user)[:12]]
    return render(request, "visits/samples.html", {"samples": samples})


# ---------------------------------------------------------------- special campaigns


@require_GET
@permission_required(campaigns.MANAGE, raise_exception=True)
def campaign_list(request: AuthedHttpRequest) -> HttpResponse:
    today = local_day(timezone.now())
    rows = list(selectors.campaigns_visible_to(request.user).select_related("project", "created_by")[:100])
    done = campaigns.progress_of([c.pk for c in rows], today=today)
    empty = campaigns.Progress(0, 0, 0, 0, 0, 0, None)
    return render(request, "visits/campaigns.html", {"rows": [(c, done.get(c.pk, empty)) for c in rows]})


@permission_required(campaigns.MANAGE, raise_exception=True)
def campaign_new(request: AuthedHttpRequest) -> HttpResponse:
    """新建专项回访; 预览人数 shows how many customers match without saving."""
    if request.method != "POST":
        return render(request, "visits/campaign_new.html", {"form": CampaignForm(user=request.user)})
    form = CampaignForm(request.POST, user=request.user)
    preview = None
    if form.is_valid():
        if "preview" in request.POST:
            preview = campaigns.audience(request.user, form.audience()).count()
            return render(request, "visits/campaign_new.html", {"form": form, "preview": preview})
        data = form.cleaned_data
        try:
            campaign = campaigns.create_campaign(
                actor=request.user,
                name=data["name"],
                purpose=data["purpose"],
                script=data["script"],
                questions=data["questions"],
                channel=data["channel"],
                project=data["project"],
                stage=data["stage"],
                grade=data["grade"],
                registered_from=data["registered_from"],
                registered_to=data["registered_to"],
                complaint_category=data["complaint_category"],
                complaints_from=data["complaints_from"],
                complaints_to=data["complaints_to"],
                milestone=data["milestone"],
                tags=data["tags"],
                start_on=data["start_on"],
                due_on=data["due_on"],
                assign=data["assign"],
                assignees=list(data["assignees"]),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "专项回访已保存，确认人数后点“下发任务”")
            return redirect("visits:campaign", campaign.pk)
    return render(request, "visits/campaign_new.html", {"form": form, "preview": preview}, status=400)


@require_GET
@permission_required(campaigns.MANAGE, raise_exception=True)
def campaign_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.get_campaign_for_user(request.user, pk)
    today = local_day(timezone.now())
    spec = campaigns.Audience.of(campaign)
    matching = campaigns.audience(request.user, spec).count()
    by_assignee = (
        campaign.tasks.values("assignee__display_name", "assignee__username")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(status=VisitTask.Status.DONE)))
        .order_by("assignee__display_name")
    )
    return render(
        request,
        "visits/campaign.html",
        {
            "campaign": campaign,
            "progress": campaigns.progress(campaign, today=today),
            "matching": matching,
            "by_assignee": by_assignee,
            "today": today,
        },
    )


@require_POST
@permission_required(campaigns.MANAGE, raise_exception=True)
def campaign_launch(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.get_campaign_for_user(request.user, pk)
    try:
        made = campaigns.launch(campaign, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已下发 {made} 个回访任务" if made else "没有新增的客户，未生成新任务")
    return redirect("visits:campaign", campaign.pk)


# ---------------------------------------------------------------- monthly statistics


def _may_see_stats(user: Any) -> bool:
    return bool(user.has_perm(services.VIEW) and (user.has_perm(services.EXPORT) or user.has_perm(services.ASSIGN)))


@require_GET
@login_required
def stats_page(request: AuthedHttpRequest) -> HttpResponse:
    """回访统计: per visitor for a month (tasks in the user's scope)."""
    if not _may_see_stats(request.user):
        raise PermissionDenied
    today = local_day(timezone.now())
    month_text = request.GET.get("month", "")
    error = ""
    try:
        year, month = stats.parse_month(month_text, today=today)
    except DomainError as exc:
        error = exc.message
        year, month = today.year, today.month
    rows = stats.monthly(request.user, year, month)
    categories = sorted({name for r in rows for name in r.issues})
    return render(
        request,
        "visits/stats.html",
        {
            "rows": rows,
            "departments": stats.issues_by_department(request.user, year, month, today=today),
            "questions": stats.question_averages(request.user, year, month),
            "categories": categories,
            "month": f"{year}-{month:02d}",
            "typed": month_text,
            "error": error,
            "can_export": request.user.has_perm(services.EXPORT),
        },
        status=400 if error else 200,
    )


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def stats_export(request: AuthedHttpRequest) -> HttpResponse | FileResponse:
    today = local_day(timezone.now())
    try:
        year, month = stats.parse_month(request.GET.get("month"), today=today)
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    return _file(export_stats(request.user, year, month, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")))


@require_POST
@permission_required(repairs.ADD, raise_exception=True)
def repair_import(request: AuthedHttpRequest) -> HttpResponse:
    """导入报修 (.xlsx): every row checked first; one wrong row imports nothing and every
    wrong row is listed with its line number."""
    import tempfile
    from pathlib import Path

    from django.conf import settings

    upload = request.FILES.get("file")
    problems: list[tuple[int, str]] = []
    error = ""
    if upload is None:
        error = "请选择要导入的 Excel 文件（.xlsx）"
    elif upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
        error = f"文件太大：最大 {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB"
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "repairs.xlsx"
            with path.open("wb") as f:
                for chunk in upload.chunks():
                    f.write(chunk)
            try:
                result = repair_import_module.import_repairs(path, actor=request.user)
            except DomainError as exc:
                error = exc.message
            else:
                problems = result.errors
                if not problems:
                    messages.success(request, f"已导入 {result.created} 条报修，已完工的已生成回访任务")
                    return redirect("visits:repairs")
                error = f"有 {len(problems)} 行不正确，未导入任何报修；请改正后重新导入"
    context = _repairs_context(request) | {"import_error": error, "import_problems": problems}
    return render(request, "visits/repairs.html", context, status=400)


# ---------------------------------------------------------------- per-consultant scores


def _month_of(request: AuthedHttpRequest, value: str) -> tuple[int, int, str]:
    today = local_day(timezone.now())
    try:
        year, month = stats.parse_month(value, today=today)
    except DomainError as exc:
        return today.year, today.month, exc.message
    return year, month, ""


def _scores_page(
    request: AuthedHttpRequest, month_text: str, *, plan_form: ImprovementPlanForm | None = None, status: int = 200
) -> HttpResponse:
    year, month, error = _month_of(request, month_text)
    rows = stats.consultant_scores(request.user, year, month)
    return render(
        request,
        "visits/scores.html",
        {
            "rows": rows,
            "month": f"{year}-{month:02d}",
            "typed": month_text,
            "error": error,
            "formula": stats.SCORE_FORMULA,
            "plan_form": plan_form,
            "can_export": request.user.has_perm(services.EXPORT),
        },
        status=400 if error else status,
    )


@require_GET
@login_required
def scores_page(request: AuthedHttpRequest) -> HttpResponse:
    """回访人月度得分: the score with its formula, and the team leader's improvement plan."""
    if not _may_see_stats(request.user):
        raise PermissionDenied
    return _scores_page(request, request.GET.get("month", ""))


@require_POST
@login_required
def scores_plan(request: AuthedHttpRequest) -> HttpResponse:
    if not _may_see_stats(request.user):
        raise PermissionDenied
    form = ImprovementPlanForm(request.POST)
    month_text = request.POST.get("month", "")
    if form.is_valid():
        year, month, error = _month_of(request, form.cleaned_data["month"])
        from crm.accounts.models import User as UserModel

        consultant = UserModel.objects.filter(
            pk=form.cleaned_data["consultant"], company_id=request.user.company_id or 0
        ).first()
        if consultant is None or error:
            raise Http404("回访人不存在")
        try:
            services.save_improvement_plan(
                consultant, actor=request.user, month=date(year, month, 1), plan=form.cleaned_data["plan"]
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已保存{consultant}的改进计划")
            return redirect(f"{reverse('visits:scores')}?month={year}-{month:02d}")
    return _scores_page(request, month_text, plan_form=form, status=400)


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def scores_export(request: AuthedHttpRequest) -> HttpResponse | FileResponse:
    year, month, error = _month_of(request, request.GET.get("month", ""))
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    return _file(export_scores(request.user, year, month, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")))
