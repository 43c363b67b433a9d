"""个人信息申请 pages: the list, registration from a customer's page, the detail with its
actions (start, complete, refuse, erase, download the copy), legal holds, the erasure
ledger and the retention runs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.core.audit import client_ip
from crm.core.errors import DomainError
from crm.core.forms import apply_domain_error
from crm.customers.selectors import get_customer_for_user
from crm.lib.dates import local_day
from crm.privacy import cards, selectors, services
from crm.privacy.forms import FilterForm, HoldForm, OutcomeForm, RequestForm
from crm.privacy.models import DataSubjectRequest, LegalHold, RequestKind


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def request_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = FilterForm(request.GET)
    rows = selectors.requests_visible_to(request.user).select_related("customer", "handler")
    today = local_day(timezone.now())
    if filters.is_valid():
        status, kind = filters.cleaned_data["status"], filters.cleaned_data["kind"]
        if status == "open":
            rows = rows.filter(status__in=DataSubjectRequest.OPEN)
        elif status == "due":
            rows = rows.filter(selectors.due_q(today, within=cards.soon(today)))
        elif status == "overdue":
            rows = rows.filter(selectors.overdue_q(today))
        elif status:
            rows = rows.filter(status=status)
        if kind:
            rows = rows.filter(kind=kind)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "privacy/list.html", {"filters": filters, "page": page, "today": today})


@require_http_methods(["GET", "POST"])
@permission_required(services.ADD, raise_exception=True)
def request_new(request: AuthedHttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, customer_pk)
    initial = {"received_on": local_day(timezone.now())}
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dsr = services.create_request(customer, actor=request.user, now=timezone.now(), **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已受理申请 {dsr.number}，答复期限 {dsr.deadline_on:%Y-%m-%d}")
            return redirect("privacy:detail", dsr.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "privacy/form.html", {"form": form, "customer": customer}, status=status)


def _detail(
    request: AuthedHttpRequest, dsr: DataSubjectRequest, outcome: OutcomeForm | None = None
) -> dict[str, object]:
    user = request.user
    return {
        "r": dsr,
        "outcome_form": outcome or OutcomeForm(),
        "can_handle": user.has_perm(services.HANDLE) and dsr.is_open,
        "can_erase": user.has_perm(services.ERASE) and dsr.is_open and dsr.kind == RequestKind.ERASE,
        "can_copy": dsr.is_open and dsr.kind in (RequestKind.ACCESS, RequestKind.COPY),
        "hold": services.active_hold(dsr.customer),
        "can_hold": user.has_perm(services.HOLD),
        "hold_form": HoldForm(),
    }


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def request_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.get_request_for_user(request.user, pk)
    return render(request, "privacy/detail.html", _detail(request, dsr))


@require_POST
@permission_required(services.HANDLE, raise_exception=True)
def request_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    dsr = selectors.get_request_for_user(request.user, pk)
    form = OutcomeForm(request.POST)
    now = timezone.now()
    try:
        if action == "start":
            services.start_request(dsr, actor=request.user, now=now)
            messages.success(request, "已开始处理")
        elif action == "erase":
            if request.POST.get("confirm") != "1":
                raise DomainError("请勾选确认后再执行删除")
            record = services.erase_for_request(dsr, actor=request.user, now=now)
            messages.success(request, f"已{record.get_kind_display()}：客户 {record.customer_number}")
        elif action in ("complete", "refuse"):
            if not form.is_valid():
                return render(request, "privacy/detail.html", _detail(request, dsr, form), status=400)
            verb = services.complete_request if action == "complete" else services.refuse_request
            verb(dsr, actor=request.user, outcome=form.cleaned_data["outcome"], now=now)
            messages.success(request, "申请已办结")
        else:
            raise DomainError("未知操作")
    except DomainError as exc:
        apply_domain_error(form, exc)
        return render(request, "privacy/detail.html", _detail(request, dsr, form), status=400)
    return redirect("privacy:detail", dsr.pk)


@require_POST
@permission_required(services.HANDLE, raise_exception=True)
def request_copy(request: AuthedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    dsr = selectors.get_request_for_user(request.user, pk)
    try:
        body = services.produce_copy(dsr, actor=request.user, fmt=fmt, ip=client_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("privacy:detail", dsr.pk)
    content_type = "application/json" if fmt == "json" else "text/csv"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="personal-data-{dsr.number}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required(services.HOLD, raise_exception=True)
def hold_set(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.get_request_for_user(request.user, pk)
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            services.set_legal_hold(
                dsr.customer, actor=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已设置法律保留")
    else:
        messages.error(request, "请填写法律保留的依据")
    return redirect("privacy:detail", dsr.pk)


@require_POST
@permission_required(services.HOLD, raise_exception=True)
def hold_release(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.get_request_for_user(request.user, pk)
    hold = LegalHold.objects.filter(customer_id=dsr.customer_id, released_at__isnull=True).first()
    if hold is None:
        messages.error(request, "该客户没有生效的法律保留")
    else:
        services.release_legal_hold(hold, actor=request.user, now=timezone.now())
        messages.success(request, "已解除法律保留")
    return redirect("privacy:detail", dsr.pk)


@require_GET
@permission_required("privacy.view_erasurerecord", raise_exception=True)
def erasure_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.erasures_visible_to(request.user).select_related("erased_by"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "privacy/erasures.html", {"page": page})


@require_GET
@permission_required("privacy.view_retentionrun", raise_exception=True)
def run_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.runs_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "privacy/runs.html", {"page": page})
