"""客户活动 pages: the list, an event's page (invitees, replies, gifts), the invitee
filter with its preview, the check-in page used on a phone at the door, the export.

Each view reads through crm.events.selectors (outside the scope: 404), binds a form,
calls one service and renders or redirects; a DomainError is shown as a message or on the
field it names.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.customers.exporting import XLSX_CONTENT_TYPE
from crm.events import exporting, selectors, services
from crm.events.forms import (
    CancelForm,
    EventFilterForm,
    EventForm,
    EventGiftForm,
    InviteeFilterForm,
    RsvpForm,
    WalkInForm,
)
from crm.events.models import Event
from crm.lib.dates import local_day

PREVIEW_ROWS = 20


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def event_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = EventFilterForm(request.GET, user=request.user)
    rows = filters.queryset(today=local_day(timezone.now())).select_related("project", "organiser")
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "events/list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(services.ADD),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.ADD, raise_exception=True)
def event_new(request: AuthedHttpRequest) -> HttpResponse:
    form = EventForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = services.create_event(
                data["project"],
                actor=request.user,
                title=data["title"],
                starts_on=data["starts_on"],
                starts_at_time=data["starts_at_time"],
                place=data["place"],
                kind=data["kind"],
                capacity=data.get("capacity"),
                description=data.get("description") or "",
                organiser=data.get("organiser"),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已创建活动：{event.title}。下一步：按条件选择邀请客户。")
            return redirect("events:invite", event.pk)
    return render(request, "events/form.html", {"form": form, "event": None})


@require_http_methods(["GET", "POST"])
@permission_required(services.CHANGE, raise_exception=True)
def event_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    form = EventForm(request.POST or None, instance=Event.objects.get(pk=event.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in services.EDITABLE}
        changes["organiser"] = changes["organiser"] or event.organiser
        try:
            result = services.update_event(event, actor=request.user, **changes)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            note = f"，已调整待发短信 {result.moved} 条" if result.moved else ""
            if result.already_sent:
                note += f"；{result.already_sent} 条活动通知已发出，无法撤回，请电话告知客户"
            messages.success(request, f"活动已保存{note}")
            return redirect("events:detail", event.pk)
    return render(request, "events/form.html", {"form": form, "event": event})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def event_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    invitees = selectors.invitees_of(event, request.user)
    page = Paginator(invitees, 50).get_page(request.GET.get("page"))
    user = request.user
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "page": page,
            "counts": selectors.counts(event),
            "gifts": selectors.gifts_of(event, user),
            "gift_form": EventGiftForm(user=user, event=event),
            "cancel_form": CancelForm(),
            "rsvp_choices": RsvpForm.base_fields["rsvp"].choices,  # type: ignore[attr-defined]
            "can_change": user.has_perm(services.CHANGE) and event.is_open,
            "can_manage": user.has_perm(services.MANAGE_INVITEES) and event.status != Event.Status.CANCELLED,
            "can_gift": user.has_perm("service.add_giftissue")
            and event.status in (Event.Status.PUBLISHED, Event.Status.DONE),
            "can_export": user.has_perm(services.EXPORT),
            "can_exceed": user.has_perm(services.CHANGE) and event.capacity is not None,
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.CHANGE, raise_exception=True)
def event_invite(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """选择邀请客户: the filter, a preview (how many, how many cannot get an SMS, the
    first rows), then 加入邀请名单 with the same filter."""
    event = selectors.get_event_for_user(request.user, pk)
    data = request.POST if request.method == "POST" else (request.GET if "preview" in request.GET else None)
    form = InviteeFilterForm(data, user=request.user, event=event)
    context: dict[str, Any] = {"event": event, "form": form, "counts": selectors.counts(event)}
    if data is not None and form.is_valid():
        candidates = form.candidates()
        if request.method == "POST":
            try:
                added = services.add_invitees(event, candidates, actor=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已加入邀请名单 {added} 人")
                return redirect("events:detail", event.pk)
        context.update(
            preview=True,
            total=candidates.count(),
            unreachable=selectors.unreachable(candidates),
            sample=candidates.select_related("project").order_by("name", "id")[:PREVIEW_ROWS],
        )
    return render(request, "events/invite.html", context)


@require_POST
@permission_required(services.CHANGE, raise_exception=True)
def event_send(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    try:
        sent = services.send_invitations(event, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        note = f"，{sent.not_sent} 人不发送（已退订、未授权营销短信等，原因见名单）" if sent.not_sent else ""
        if sent.awaiting_approval:
            note += f"，{sent.awaiting_approval} 条已提交综合组审批，批准后发送"
        messages.success(request, f"已排入发件箱邀请短信 {sent.queued} 条{note}")
    return redirect("events:detail", event.pk)


@require_POST
@permission_required(services.CHANGE, raise_exception=True)
def event_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    try:
        if verb == "publish":
            services.publish_event(event, actor=request.user)
            messages.success(request, "活动已发布")
        elif verb == "finish":
            services.finish_event(event, actor=request.user)
            messages.success(request, "活动已结束")
        elif verb == "cancel":
            form = CancelForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.cancel_event(event, actor=request.user, reason=reason)
            messages.success(request, "活动已取消，未发出的短信已撤回")
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("events:detail", event.pk)


@require_POST
@permission_required(services.MANAGE_INVITEES, raise_exception=True)
def invitee_rsvp(request: AuthedHttpRequest, pk: int, invitee_pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    invitee = selectors.get_invitee_for_user(request.user, event, invitee_pk)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择回执")
    else:
        try:
            services.record_rsvp(
                invitee,
                actor=request.user,
                rsvp=form.cleaned_data["rsvp"],
                note=form.cleaned_data["note"],
                over_capacity=form.cleaned_data["over_capacity"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已登记 {invitee.customer.name} 的回执：{invitee.get_rsvp_display()}")
    return redirect("events:checkin_page" if request.POST.get("back") == "checkin" else "events:detail", event.pk)


@require_POST
@permission_required(services.CHANGE, raise_exception=True)
def invitee_remove(request: AuthedHttpRequest, pk: int, invitee_pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    invitee = selectors.get_invitee_for_user(request.user, event, invitee_pk)
    try:
        services.remove_invitee(invitee, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已将 {invitee.customer.name} 移出邀请名单")
    return redirect("events:detail", event.pk)


def _checkin_page(
    request: AuthedHttpRequest, event: Event, *, q: str = "", walk_in: WalkInForm | None = None, status: int = 200
) -> HttpResponse:
    invitees = selectors.invitees_of(event, request.user)
    if q:
        invitees = invitees.filter(customer__name__contains=q) | invitees.filter(customer__mobile__endswith=q)
    return render(
        request,
        "events/checkin.html",
        {
            "event": event,
            "invitees": invitees[:200],
            "q": q,
            "counts": selectors.counts(event),
            "walk_in": walk_in or WalkInForm(),
            "can_exceed": request.user.has_perm(services.CHANGE) and event.capacity is not None,
        },
        status=status,
    )


@require_GET
@permission_required(services.MANAGE_INVITEES, raise_exception=True)
def checkin_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """签到: one large button per invitee, searchable by name or the mobile's last digits,
    and 现场登记 for someone who was not invited."""
    event = selectors.get_event_for_user(request.user, pk)
    return _checkin_page(request, event, q=(request.GET.get("q") or "").strip())


@require_POST
@permission_required(services.MANAGE_INVITEES, raise_exception=True)
def walk_in(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """现场登记: found or registered by mobile, added to the list and checked in."""
    event = selectors.get_event_for_user(request.user, pk)
    form = WalkInForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = services.register_walk_in(
                event,
                actor=request.user,
                mobile=data["mobile"],
                name=data["name"],
                over_capacity=data["over_capacity"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            customer = result.invitee.customer
            if result.was_invited:
                note = "（已在邀请名单中）"
            elif result.created_customer:
                note = f"（新建客户 {customer.number}）"
            else:
                note = "（现场登记）"
            messages.success(request, f"{customer.name} 已签到{note}")
            return redirect("events:checkin_page", event.pk)
    return _checkin_page(request, event, walk_in=form, status=400)


@require_POST
@permission_required(services.MANAGE_INVITEES, raise_exception=True)
def checkin(request: AuthedHttpRequest, pk: int, invitee_pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    invitee = selectors.get_invitee_for_user(request.user, event, invitee_pk)
    try:
        if request.POST.get("undo"):
            services.undo_check_in(invitee, actor=request.user)
            messages.success(request, f"已撤销 {invitee.customer.name} 的签到")
        else:
            services.check_in(invitee, actor=request.user)
            messages.success(request, f"{invitee.customer.name} 已签到")
    except DomainError as exc:
        messages.error(request, exc.message)
    url = reverse("events:checkin_page", args=[event.pk])
    q = request.POST.get("q", "")
    return redirect(f"{url}?{urlencode({'q': q})}" if q else url)


@require_POST
@permission_required("service.add_giftissue", raise_exception=True)
def event_gift(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    event = selectors.get_event_for_user(request.user, pk)
    form = EventGiftForm(request.POST, user=request.user, event=event)
    if form.is_valid():
        data = form.cleaned_data
        try:
            link = services.issue_event_gift(
                event, actor=request.user, invitee=data["invitee"], gift=data["gift"], quantity=data["quantity"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request, f"已发放活动礼品：{link.issue.gift.name} ×{link.issue.quantity}（{link.issue.recipient}）"
            )
            return redirect("events:detail", event.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect("events:detail", event.pk)


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def event_export(request: AuthedHttpRequest, pk: int) -> FileResponse:
    event = selectors.get_event_for_user(request.user, pk)
    export = exporting.export_invitees(event, request.user, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{export.ascii_filename}\"; filename*=UTF-8''{quote(export.filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response
