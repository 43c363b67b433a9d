"""客服运营 pages: the duty roster and its shifts (值班), handovers (交接班), export.

Each view reads through crm.service.selectors (outside the scope: 404), binds a form,
calls one service and renders or redirects; a DomainError is shown on the field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.forms import PAGE_SIZES, ListFilterForm, apply_domain_error
from crm.customers.exporting import XLSX_CONTENT_TYPE, Export
from crm.lib.dates import local_day
from crm.service import exporting, inspection, selectors, services
from crm.service.forms import (
    AcceptForm,
    DisplayCheckForm,
    DisplayFilterForm,
    FindingForm,
    GiftIssueFilterForm,
    GiftIssueForm,
    GiftTaskFilterForm,
    HandoverContentForm,
    HandoverFilterForm,
    InspectionFilterForm,
    ItemCheckForm,
    LogEntryForm,
    MaterialFilterForm,
    MaterialForm,
    NoteForm,
    ResultForm,
    ShiftFilterForm,
    ShiftForm,
    SpotCheckForm,
    StartHandoverForm,
    StartInspectionForm,
    StockForm,
    VersionForm,
)
from crm.service.models import DisplayItem, Handover, HandoverItem, Inspection, Material, MaterialVersion, Shift


def _file(export: Export) -> FileResponse:
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{export.ascii_filename}\"; filename*=UTF-8''{quote(export.filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response


def _list_page(
    request: AuthedHttpRequest,
    template: str,
    filters: ListFilterForm,
    rows: QuerySet[Any],
    *,
    tab: str,
    items: Callable[[Page[Any]], list[dict[str, Any]]] | None = None,
    **context: Any,
) -> HttpResponse:
    """A filtered list page: ``rows`` (of ``filters``) paged at the size the user chose,
    rendered with ``filters``, ``page``, ``page_sizes`` and ``tab`` beside the view's own
    ``context``; ``items``, when given, turns the page into the template's ``items``."""
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    if items is not None:
        context["items"] = items(page)
    return render(
        request, template, {"filters": filters, "page": page, "page_sizes": PAGE_SIZES, **context, "tab": tab}
    )


@require_GET
def home(request: AuthedHttpRequest) -> HttpResponse:
    """客服运营: the first area the user may use."""
    user = request.user
    for perm, target in (
        (services.VIEW_SHIFT, "service:shift_list"),
        ("service.view_gifttask", "service:task_list"),
        (services.VIEW_ISSUES, "service:issue_list"),
        (services.VIEW_INSPECTION, "service:inspection_list"),
        (services.VIEW_MATERIAL, "service:material_list"),
        (services.VIEW_DISPLAY, "service:display_list"),
    ):
        if user.has_perm(perm):
            return redirect(target)
    raise PermissionDenied


# ---------------------------------------------------------------- the roster


@require_GET
@permission_required(services.VIEW_SHIFT, raise_exception=True)
def shift_list(request: AuthedHttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = ShiftFilterForm(request.GET, user=request.user)
    return _list_page(
        request,
        "service/shift_list.html",
        filters,
        filters.queryset(now=now).select_related("project", "officer", "manager", "handover"),
        tab="duty",
        now=now,
        can_plan=request.user.has_perm(services.PLAN),
        can_export=request.user.has_perm(services.EXPORT_DUTY),
        gaps=selectors.roster_gaps(request.user, now=now) if request.user.has_perm(services.PLAN) else [],
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.PLAN, raise_exception=True)
def shift_new(request: AuthedHttpRequest) -> HttpResponse:
    form = ShiftForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            shift = services.plan_shift(
                actor=request.user,
                project=data["project"],
                officer=data["officer"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                manager=data.get("manager"),
                note=data.get("note") or "",
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "已排班" + ("（节假日班次）" if shift.is_holiday else ""))
            return redirect("service:shift_detail", shift.pk)
    return render(request, "service/shift_form.html", {"form": form, "tab": "duty"})


def _shift_context(request: AuthedHttpRequest, shift: Shift, **forms: Any) -> dict[str, Any]:
    user = request.user
    is_officer = user.pk == shift.officer_id
    handover = Handover.objects.filter(shift=shift).first()
    return {
        "shift": shift,
        "entries": selectors.shift_log(shift),
        "checks": selectors.shift_checks(shift),
        "handover": handover,
        "can_log": user.has_perm(services.KEEP_LOG) and (is_officer or user.has_perm(services.CHECK)),
        "can_check": user.has_perm(services.CHECK),
        "can_start": is_officer and handover is None and user.has_perm(services.KEEP_LOG),
        "log_form": forms.get("log_form") or LogEntryForm(user=user),
        "check_form": forms.get("check_form") or SpotCheckForm(),
        "start_form": forms.get("start_form") or StartHandoverForm(user=user, shift=shift),
        "tab": "duty",
    }


@require_GET
@permission_required(services.VIEW_SHIFT, raise_exception=True)
def shift_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    shift = selectors.get_shift_for_user(request.user, pk)
    return render(request, "service/shift_detail.html", _shift_context(request, shift))


@require_POST
@permission_required(services.VIEW_SHIFT, raise_exception=True)
def shift_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    shift = selectors.get_shift_for_user(request.user, pk)
    user = request.user
    form: Any
    try:
        if verb == "log":
            form = LogEntryForm(request.POST, user=user)
            if form.is_valid():
                data = form.cleaned_data
                services.log_duty(
                    shift,
                    actor=user,
                    kind=data["kind"],
                    content=data["content"],
                    at=form.entry_at(),
                    customer=data.get("customer_number"),
                    caller_name=data.get("caller_name") or "",
                    is_escalated=bool(data.get("is_escalated")),
                )
                messages.success(request, "值班记录已保存")
                return redirect("service:shift_detail", shift.pk)
            context = _shift_context(request, shift, log_form=form)
        elif verb == "check":
            form = SpotCheckForm(request.POST)
            if form.is_valid():
                services.record_spot_check(
                    shift, actor=user, result=form.cleaned_data["result"], note=form.cleaned_data["note"]
                )
                messages.success(request, "抽查已记录")
                return redirect("service:shift_detail", shift.pk)
            context = _shift_context(request, shift, check_form=form)
        elif verb == "handover":
            form = StartHandoverForm(request.POST, user=user, shift=shift)
            if form.is_valid():
                handover = services.start_handover(shift, actor=user, incoming=form.cleaned_data["incoming"])
                messages.success(request, "已开始交班，请填写交班内容并清点物品")
                return redirect("service:handover_detail", handover.pk)
            context = _shift_context(request, shift, start_form=form)
        else:
            raise Http404("未知的操作")
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
        context = _shift_context(request, shift, **{f"{verb if verb != 'handover' else 'start'}_form": form})
    return render(request, "service/shift_detail.html", context, status=400)


@require_GET
@permission_required(services.EXPORT_DUTY, raise_exception=True)
def shift_export(request: AuthedHttpRequest) -> FileResponse:
    export = exporting.export_shifts(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    return _file(export)


# ---------------------------------------------------------------- handovers


@require_GET
@permission_required(services.VIEW_HANDOVER, raise_exception=True)
def handover_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = HandoverFilterForm(request.GET, user=request.user)
    return _list_page(
        request,
        "service/handover_list.html",
        filters,
        filters.queryset().select_related("project", "outgoing", "incoming", "shift"),
        tab="handover",
        can_export=request.user.has_perm(services.EXPORT_DUTY),
    )


def _handover_context(request: AuthedHttpRequest, handover: Handover, **forms: Any) -> dict[str, Any]:
    user = request.user
    is_out, is_in = user.pk == handover.outgoing_id, user.pk == handover.incoming_id
    open_ = handover.is_open
    items = list(handover.items.all())
    return {
        "handover": handover,
        "items": [
            {
                "item": item,
                "form": forms.get(f"item_{item.pk}")
                or ItemCheckForm(
                    initial={"state": item.state, "explanation": item.explanation}, auto_id=f"id_item{item.pk}_%s"
                ),
            }
            for item in items
        ],
        "events": selectors.handover_events(handover),
        "is_outgoing": is_out,
        "is_incoming": is_in,
        "can_edit": is_out and handover.status == Handover.Status.OPEN,
        "can_check_items": (is_out or is_in) and open_,
        "can_submit": is_out and handover.status == Handover.Status.OPEN,
        "can_accept": is_in and handover.status == Handover.Status.SUBMITTED,
        "can_repair": (is_out or is_in) and open_ and handover.major_repair_open,
        "content_form": forms.get("content_form") or HandoverContentForm(instance=handover),
        "accept_form": forms.get("accept_form") or AcceptForm(),
        "submit_form": forms.get("submit_form"),
        "return_form": forms.get("return_form") or NoteForm(auto_id="id_return_%s"),
        "repair_form": forms.get("repair_form") or NoteForm(auto_id="id_repair_%s"),
        "unexplained": [i for i in items if i.needs_explanation],
        "tab": "handover",
    }


@require_GET
@permission_required(services.VIEW_HANDOVER, raise_exception=True)
def handover_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    handover = selectors.get_handover_for_user(request.user, pk)
    return render(request, "service/handover_detail.html", _handover_context(request, handover))


@require_POST
@permission_required(services.VIEW_HANDOVER, raise_exception=True)
def handover_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    handover = selectors.get_handover_for_user(request.user, pk)
    user = request.user
    form: Any
    key = ""
    try:
        if verb == "content":
            form, key = HandoverContentForm(request.POST, instance=Handover()), "content_form"
            if form.is_valid():
                data = form.cleaned_data
                services.update_handover(
                    handover,
                    actor=user,
                    log_summary=data["log_summary"],
                    open_matters=data["open_matters"],
                    major_repair_open=data["major_repair_open"],
                    major_repair_note=data["major_repair_note"],
                )
                messages.success(request, "交班内容已保存")
                return redirect("service:handover_detail", handover.pk)
        elif verb == "item":
            item_id = request.POST.get("item", "")
            item = get_object_or_404(HandoverItem, handover=handover, pk=int(item_id) if item_id.isdigit() else 0)
            form, key = ItemCheckForm(request.POST, auto_id=f"id_item{item.pk}_%s"), f"item_{item.pk}"
            if form.is_valid():
                services.check_item(
                    item, actor=user, state=form.cleaned_data["state"], explanation=form.cleaned_data["explanation"]
                )
                messages.success(request, f"{item.name}：已更新")
                return redirect(reverse("service:handover_detail", args=[handover.pk]) + "#items")
        elif verb == "submit":
            form, key = NoteForm(request.POST, auto_id="id_submit_%s"), "submit_form"
            form.is_valid()
            services.submit_handover(handover, actor=user)
            messages.success(request, "已确认交班，等待接班人确认")
            return redirect("service:handover_detail", handover.pk)
        elif verb == "accept":
            form, key = AcceptForm(request.POST), "accept_form"
            if form.is_valid():
                data = form.cleaned_data
                services.accept_handover(
                    handover, actor=user, log_clear=data["log_clear"], area_clean=data["area_clean"], note=data["note"]
                )
                messages.success(request, "已确认接班")
                return redirect("service:handover_detail", handover.pk)
        elif verb == "return":
            form, key = NoteForm(request.POST, auto_id="id_return_%s"), "return_form"
            if form.is_valid():
                services.return_handover(handover, actor=user, note=form.cleaned_data["note"])
                messages.success(request, "已退回交班人")
                return redirect("service:handover_detail", handover.pk)
        elif verb == "repair":
            form, key = NoteForm(request.POST, auto_id="id_repair_%s"), "repair_form"
            if form.is_valid():
                services.finish_repair(handover, actor=user, note=form.cleaned_data["note"])
                messages.success(request, "已记录维修完成")
                return redirect("service:handover_detail", handover.pk)
        else:
            raise Http404("未知的操作")
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except services.HandoverRefused as exc:
        for reason in exc.reasons:
            form.add_error(None, reason)
    except DomainError as exc:
        apply_domain_error(form, exc)
    handover.refresh_from_db()
    return render(
        request, "service/handover_detail.html", _handover_context(request, handover, **{key: form}), status=400
    )


@require_GET
@permission_required(services.EXPORT_DUTY, raise_exception=True)
def handover_export(request: AuthedHttpRequest) -> FileResponse:
    export = exporting.export_handovers(
        request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")
    )
    return _file(export)


# ---------------------------------------------------------------- gifts


@require_GET
@permission_required(services.VIEW_GIFT, raise_exception=True)
def gift_list(request: AuthedHttpRequest) -> HttpResponse:
    """The catalogue with each project's stock, and the stock form for managers."""
    gifts = list(selectors.gifts_for(request.user).order_by("-is_active", "name"))
    stocks = selectors.stocks_visible_to(request.user).select_related("project")
    by_gift: dict[int, list[Any]] = {}
    for stock in stocks:
        by_gift.setdefault(stock.gift_id, []).append(stock)
    can_manage = request.user.has_perm(services.MANAGE_STOCK)
    return render(
        request,
        "service/gift_list.html",
        {
            "rows": [
                {
                    "gift": g,
                    "stocks": by_gift.get(g.pk, []),
                    "form": StockForm(user=request.user, auto_id=f"id_g{g.pk}_%s"),
                }
                for g in gifts
            ],
            "can_manage": can_manage,
            "can_issue": request.user.has_perm(services.ISSUE_GIFT),
            "tab": "gifts",
        },
    )


@require_POST
@permission_required(services.MANAGE_STOCK, raise_exception=True)
def gift_stock(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    gift = get_object_or_404(selectors.gifts_for(request.user), pk=pk)
    form = StockForm(request.POST, user=request.user, auto_id=f"id_g{gift.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        mover = services.stock_in if data["direction"] == "in" else services.stock_out
        try:
            movement = mover(
                gift, actor=request.user, project=data["project"], quantity=data["quantity"], note=data["note"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"{gift.name}：{movement.get_kind_display()} {abs(movement.quantity)}{gift.unit}，结存 {movement.balance}",
            )
            return redirect("service:gift_list")
    messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("service:gift_list")


@require_GET
@permission_required(services.VIEW_ISSUES, raise_exception=True)
def issue_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = GiftIssueFilterForm(request.GET, user=request.user)
    return _list_page(
        request,
        "service/issue_list.html",
        filters,
        filters.queryset().select_related("project", "gift", "customer", "issuer"),
        tab="issues",
        can_issue=request.user.has_perm(services.ISSUE_GIFT),
        can_export=request.user.has_perm(services.EXPORT_GIFTS),
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.ISSUE_GIFT, raise_exception=True)
def issue_new(request: AuthedHttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    task_id = request.GET.get("task", "")
    if request.method == "GET" and task_id.isdigit():
        task = selectors.get_task_for_user(request.user, int(task_id))
        initial = {
            "task": task.pk,
            "occasion": task.occasion,
            "project": task.project_id,
            "customer_number": task.customer.number,
        }
    form = GiftIssueForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issue = services.issue_gift(
                data["gift"],
                actor=request.user,
                project=data["project"],
                quantity=data["quantity"],
                occasion=data["occasion"],
                customer=data.get("customer_number"),
                visitor_name=data.get("visitor_name") or "",
                reason=data.get("reason") or "",
                task=data.get("task"),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已发放：{issue.gift.name} ×{issue.quantity}（{issue.recipient}）")
            return redirect("service:issue_list")
    return render(request, "service/issue_form.html", {"form": form, "tab": "issues"})


@require_GET
@permission_required(services.EXPORT_GIFTS, raise_exception=True)
def issue_export(request: AuthedHttpRequest) -> FileResponse:
    return _file(
        exporting.export_issues(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )


@require_GET
@permission_required("service.view_gifttask", raise_exception=True)
def task_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = GiftTaskFilterForm(request.GET, user=request.user)
    return _list_page(
        request,
        "service/task_list.html",
        filters,
        filters.queryset().select_related("project", "customer", "consultant"),
        tab="tasks",
        can_issue=request.user.has_perm(services.ISSUE_GIFT),
    )


@require_GET
@permission_required("service.view_birthdayentry", raise_exception=True)
def birthday_list(request: AuthedHttpRequest) -> HttpResponse:
    today = local_day(timezone.now())
    month_param = request.GET.get("month", "")
    try:
        month = date.fromisoformat(f"{month_param}-01") if month_param else today.replace(day=1)
    except ValueError:
        month = today.replace(day=1)
    rows = (
        selectors.birthdays_visible_to(request.user)
        .filter(month=month)
        .select_related("customer", "consultant", "project")
        .order_by("birthday_on", "id")
    )
    return render(
        request,
        "service/birthday_list.html",
        {"rows": rows, "month": month, "today": today, "tab": "birthdays"},
    )


@require_GET
@permission_required(services.VIEW_ISSUES, raise_exception=True)
def gift_stats(request: AuthedHttpRequest) -> HttpResponse:
    """礼品发放情况 for the weekly (Monday–Sunday) and monthly reports."""
    period = "month" if request.GET.get("period") == "month" else "week"
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = local_day(timezone.now())
    first, last = selectors.period_bounds(period, day)
    rows = selectors.gift_stats(request.user, first=first, last=last)
    return render(
        request,
        "service/gift_stats.html",
        {
            "rows": rows,
            "period": period,
            "first": first,
            "last": last,
            "day": day,
            "total": sum(r["quantity"] for r in rows),
            "can_export": request.user.has_perm(services.EXPORT_GIFTS),
            "tab": "stats",
        },
    )


# ---------------------------------------------------------------- daily inspection


@require_GET
@permission_required(services.VIEW_INSPECTION, raise_exception=True)
def inspection_list(request: AuthedHttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = InspectionFilterForm(request.GET, user=request.user)
    rows = (
        filters.queryset()
        .select_related("project", "inspector")
        .annotate(
            open_findings=Count("findings", filter=Q(findings__handled_at__isnull=True)),
            overdue_findings=Count("findings", filter=Q(findings__handled_at__isnull=True, findings__due_at__lt=now)),
        )
    )
    return _list_page(
        request,
        "service/inspection_list.html",
        filters,
        rows,
        tab="inspection",
        items=lambda page: [
            {"row": r, "late": inspection.inspection_is_late(r.day, r.completed_at, now)} for r in page
        ],
        late_projects=selectors.late_inspections(request.user, now=now),
        overdue=selectors.findings_visible_to(request.user).filter(selectors.overdue_findings_q(now)).count(),
        start_form=StartInspectionForm(user=request.user),
        can_inspect=request.user.has_perm(services.INSPECT),
        can_export=request.user.has_perm(services.EXPORT_INSPECTION),
    )


@require_POST
@permission_required(services.INSPECT, raise_exception=True)
def inspection_start(request: AuthedHttpRequest) -> HttpResponse:
    form = StartInspectionForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            row = services.start_inspection(form.cleaned_data["project"], actor=request.user)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("service:inspection_detail", row.pk)
    else:
        messages.error(request, "请选择楼盘")
    return redirect("service:inspection_list")


def _inspection_context(request: AuthedHttpRequest, row: Inspection, **forms: Any) -> dict[str, Any]:
    now = timezone.now()
    results = list(row.results.all())
    is_inspector = request.user.pk == row.inspector_id and row.completed_at is None
    findings = list(row.findings.select_related("handled_by"))
    return {
        "inspection": row,
        "late": inspection.inspection_is_late(row.day, row.completed_at, now),
        "results": [
            {
                "result": r,
                "form": forms.get(f"result_{r.pk}")
                or ResultForm(
                    initial={"result": r.result if r.result != "pending" else "ok", "note": r.note},
                    auto_id=f"id_r{r.pk}_%s",
                ),
            }
            for r in results
        ],
        "findings": [
            {
                "finding": f,
                "overdue": f.is_overdue(now),
                "form": forms.get(f"handle_{f.pk}") or NoteForm(auto_id=f"id_f{f.pk}_%s"),
            }
            for f in findings
        ],
        "displays": [
            {
                "check": d,
                "form": forms.get(f"display_{d.pk}")
                or DisplayCheckForm(
                    initial={"status": d.status if d.status != "pending" else "displayed", "note": d.note},
                    auto_id=f"id_d{d.pk}_%s",
                ),
            }
            for d in row.display_checks.select_related("item")
        ],
        "is_inspector": is_inspector,
        "can_handle": request.user.has_perm(services.HANDLE_FINDING) or request.user.pk == row.inspector_id,
        "finding_form": forms.get("finding_form") or FindingForm(areas=[r.area for r in results]),
        "complete_form": forms.get("complete_form"),
        "tab": "inspection",
    }


@require_GET
@permission_required(services.VIEW_INSPECTION, raise_exception=True)
def inspection_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    row = selectors.get_inspection_for_user(request.user, pk)
    return render(request, "service/inspection_detail.html", _inspection_context(request, row))


@require_POST
@permission_required(services.VIEW_INSPECTION, raise_exception=True)
def inspection_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    row = selectors.get_inspection_for_user(request.user, pk)
    user = request.user
    form: Any = NoteForm(request.POST)
    key = "complete_form"
    try:
        if verb == "result":
            result_id = request.POST.get("target", "")
            result = get_object_or_404(row.results.all(), pk=int(result_id) if result_id.isdigit() else 0)
            form, key = ResultForm(request.POST, auto_id=f"id_r{result.pk}_%s"), f"result_{result.pk}"
            if form.is_valid():
                services.record_result(
                    result, actor=user, value=form.cleaned_data["result"], note=form.cleaned_data["note"]
                )
                return redirect(reverse("service:inspection_detail", args=[row.pk]) + "#areas")
        elif verb == "display":
            target = request.POST.get("target", "")
            check = get_object_or_404(row.display_checks.all(), pk=int(target) if target.isdigit() else 0)
            form, key = DisplayCheckForm(request.POST, auto_id=f"id_d{check.pk}_%s"), f"display_{check.pk}"
            if form.is_valid():
                services.record_display(
                    check, actor=user, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
                )
                if check.finding_id:
                    messages.warning(request, f"现场公示缺失：{check.name}，已记为巡查问题")
                return redirect(reverse("service:inspection_detail", args=[row.pk]) + "#displays")
        elif verb == "finding":
            form = FindingForm(request.POST, request.FILES, areas=list(row.results.values_list("area", flat=True)))
            key = "finding_form"
            if form.is_valid():
                data = form.cleaned_data
                finding = services.report_finding(
                    row,
                    actor=user,
                    area=data["area"],
                    description=data["description"],
                    department=data["department"],
                    photo=data.get("photo"),
                )
                if finding.is_engineering:
                    messages.warning(request, "工程问题：已在站内通知工程对接人；紧急时请同时电话告知工程部")
                messages.success(request, "问题已记录")
                return redirect(reverse("service:inspection_detail", args=[row.pk]) + "#findings")
        elif verb == "handle":
            target = request.POST.get("target", "")
            finding = get_object_or_404(row.findings.all(), pk=int(target) if target.isdigit() else 0)
            form, key = NoteForm(request.POST, auto_id=f"id_f{finding.pk}_%s"), f"handle_{finding.pk}"
            if form.is_valid():
                services.handle_finding(finding, actor=user, note=form.cleaned_data["note"])
                messages.success(request, "已记录处理情况")
                return redirect(reverse("service:inspection_detail", args=[row.pk]) + "#findings")
        elif verb == "complete":
            form.is_valid()
            services.complete_inspection(row, actor=user, note=form.cleaned_data.get("note") or "")
            messages.success(request, "巡查已完成")
            return redirect("service:inspection_detail", row.pk)
        else:
            raise Http404("未知的操作")
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
    row.refresh_from_db()
    return render(
        request, "service/inspection_detail.html", _inspection_context(request, row, **{key: form}), status=400
    )


@require_GET
@permission_required(services.VIEW_INSPECTION, raise_exception=True)
def report_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible_to(request.user).select_related("project"), pk=pk)
    return render(
        request, "service/inspection_report.html", {"report": report, "s": report.summary, "tab": "inspection"}
    )


@require_GET
@permission_required(services.VIEW_INSPECTION, raise_exception=True)
def report_list(request: AuthedHttpRequest) -> HttpResponse:
    rows = selectors.reports_visible_to(request.user).select_related("project").order_by("-day", "project_id")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(
        request, "service/inspection_reports.html", {"page": page, "page_sizes": PAGE_SIZES, "tab": "inspection"}
    )


@require_GET
@permission_required(services.EXPORT_INSPECTION, raise_exception=True)
def inspection_export(request: AuthedHttpRequest) -> FileResponse:
    return _file(
        exporting.export_inspections(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )


@require_GET
@permission_required(services.VIEW_INSPECTION, raise_exception=True)
def finding_photo(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """A finding's photo, served to whoever may see the inspection (media files are not
    served publicly)."""
    finding = get_object_or_404(selectors.findings_visible_to(request.user).exclude(photo=""), pk=pk)
    response = FileResponse(finding.photo.open("rb"))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@permission_required(services.ISSUE_GIFT, raise_exception=True)
def task_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A gift that will not be handed over (the deal fell through, the customer declined)."""
    task = selectors.get_task_for_user(request.user, pk)
    services.cancel_gift_task(task, actor=request.user)
    messages.success(request, f"已取消：{task.customer.name} 的{task.get_occasion_display()}")
    return redirect(reverse("service:task_list") + "?state=open")


# ---------------------------------------------------------------- project materials (项目资料)


@require_GET
@permission_required(services.VIEW_MATERIAL, raise_exception=True)
def material_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = MaterialFilterForm(request.GET, user=request.user)
    rows = (
        filters.queryset()
        .select_related("project")
        .annotate(version_count=Count("versions"))
        .prefetch_related(Prefetch("versions", MaterialVersion.objects.filter(is_current=True), to_attr="current"))
    )
    return _list_page(
        request,
        "service/material_list.html",
        filters,
        rows,
        tab="materials",
        can_manage=request.user.has_perm(services.MANAGE_MATERIAL),
        can_export=request.user.has_perm(services.EXPORT_MATERIALS),
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.MANAGE_MATERIAL, raise_exception=True)
def material_new(request: AuthedHttpRequest) -> HttpResponse:
    form = MaterialForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            material = services.add_material(
                data["project"],
                actor=request.user,
                kind=data["kind"],
                title=data["title"],
                upload=data["file"],
                note=data.get("note") or "",
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已上传：{material}")
            return redirect("service:material_detail", material.pk)
    return render(
        request, "service/material_form.html", {"form": form, "tab": "materials"}, status=400 if form.errors else 200
    )


def _material_context(request: AuthedHttpRequest, material: Material, **forms: Any) -> dict[str, Any]:
    return {
        "material": material,
        "versions": material.versions.select_related("uploaded_by").order_by("-number"),
        "can_manage": request.user.has_perm(services.MANAGE_MATERIAL),
        "version_form": forms.get("version_form") or VersionForm(),
        "tab": "materials",
    }


@require_GET
@permission_required(services.VIEW_MATERIAL, raise_exception=True)
def material_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    material = selectors.get_material_for_user(request.user, pk)
    return render(request, "service/material_detail.html", _material_context(request, material))


@require_POST
@permission_required(services.MANAGE_MATERIAL, raise_exception=True)
def material_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    material = selectors.get_material_for_user(request.user, pk)
    user = request.user
    form = VersionForm(request.POST, request.FILES)
    try:
        if verb == "version":
            if form.is_valid():
                version = services.add_version(
                    material, actor=user, upload=form.cleaned_data["file"], note=form.cleaned_data.get("note") or ""
                )
                messages.success(request, f"已上传新版本 v{version.number}，旧版本保留")
                return redirect("service:material_detail", material.pk)
        elif verb == "current":
            target = request.POST.get("version", "")
            version = get_object_or_404(material.versions.all(), pk=int(target) if target.isdigit() else 0)
            services.make_current(version, actor=user)
            messages.success(request, f"当前版本改为 v{version.number}")
            return redirect("service:material_detail", material.pk)
        elif verb in ("archive", "restore"):
            services.set_material_active(material, actor=user, active=verb == "restore")
            messages.success(request, "已停用" if verb == "archive" else "已启用")
            return redirect("service:material_detail", material.pk)
        else:
            raise Http404("未知的操作")
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
    return render(
        request, "service/material_detail.html", _material_context(request, material, version_form=form), status=400
    )


@require_GET
@permission_required(services.VIEW_MATERIAL, raise_exception=True)
def material_file(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """A version's file, served to whoever may see the material (media files are not
    served publicly). Images (re-encoded on upload) open in the browser; a PDF, stored as
    uploaded, is a download, never rendered inside the site's origin."""
    version = get_object_or_404(selectors.versions_visible_to(request.user).select_related("material"), pk=pk)
    response = FileResponse(
        version.file.open("rb"),
        content_type=version.content_type,
        as_attachment=not version.is_image,
        filename=version.download_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@permission_required(services.EXPORT_MATERIALS, raise_exception=True)
def material_export(request: AuthedHttpRequest) -> FileResponse:
    return _file(
        exporting.export_materials(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    )


# ---------------------------------------------------------------- on-site disclosures (现场公示)


@require_GET
@permission_required(services.VIEW_DISPLAY, raise_exception=True)
def display_list(request: AuthedHttpRequest) -> HttpResponse:
    """现场公示: each project's checklist with the last check; items not checked for more
    than DISPLAY_CHECK_STALE_DAYS days are flagged."""
    today = local_day(timezone.now())
    filters = DisplayFilterForm(request.GET, user=request.user)
    days = services.display_stale_days()
    return _list_page(
        request,
        "service/display_list.html",
        filters,
        filters.queryset(today=today).select_related("project", "last_checked_by"),
        tab="displays",
        items=lambda page: [{"item": i, "stale": i.is_stale(today, days)} for i in page],
        days=days,
        can_export=request.user.has_perm(services.EXPORT_MATERIALS),
        can_configure=request.user.has_perm("service.change_displayitem") and request.user.is_staff,
        # Projects without a checklist yet (made at the first inspection, or here).
        without=selectors.projects_for_duty(request.user)
        .exclude(pk__in=DisplayItem.objects.values("project_id"))
        .order_by("id"),
        can_create=request.user.has_perm(services.INSPECT) or request.user.has_perm(services.MANAGE_MATERIAL),
    )


@require_POST
@permission_required(services.VIEW_DISPLAY, raise_exception=True)
def display_defaults(request: AuthedHttpRequest) -> HttpResponse:
    """生成公示清单: the seed's list for a project of the user that has none yet."""
    if not (request.user.has_perm(services.INSPECT) or request.user.has_perm(services.MANAGE_MATERIAL)):
        raise PermissionDenied
    project_id = request.POST.get("project", "")
    project = get_object_or_404(
        selectors.projects_for_duty(request.user), pk=int(project_id) if project_id.isdigit() else 0
    )
    made = services.ensure_display_items(project)
    messages.success(request, f"{project.name}：已生成 {made} 项公示清单" if made else f"{project.name} 已有公示清单")
    return redirect("service:display_list")
