"""温馨速递 pages: the outbox, the approval inbox, the broadcast composer, the rules and
opt-outs.

Each view reads through crm.care.selectors (a message to a customer outside the user's
scope is a 404, like the customer), binds a form, calls one service and renders or
redirects. A DomainError from a service is shown on the form field it names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.access import widest_scope
from crm.accounts.http import AuthedHttpRequest
from crm.accounts.models import User
from crm.accounts.roles import Scope
from crm.care import resend, selectors, services, templating
from crm.care.forms import (
    BroadcastForm,
    CancelMessageForm,
    DraftForm,
    OptInForm,
    OptOutForm,
    OptOutLookupForm,
    OptOutPeriodForm,
    OutboxFilterForm,
    ResendForm,
    RuleForm,
)
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import DEFAULT_RULES, OPT_OUT_LINE, Purpose, Trigger
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.core.http import back_url
from crm.customers.models import Customer, Grade, Stage
from crm.customers.selectors import customers_visible_to, get_customer_for_user, search_customers
from crm.lib.mobile import mask_mobile
from crm.lib.numbers import parse_id

# Sample values for the rule preview, so an administrator sees a whole message.
SAMPLE_VALUES: dict[str, object] = {
    "客户": "张先生",
    "家人": "李女士",
    "签约日期": "2026年5月20日",
    "进度": "完成主体结构封顶",
    "户型": "A1",
    "面积": "118",
    "日期": "5月1日",
    "活动": "业主中秋游园会",
    "时间": "9月20日（周六）14:00",
    "原因": "寒潮来袭",
    "年数": "3",
}


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _sees_customers(user: User) -> bool:
    return widest_scope(user) > Scope.NONE and user.has_perm("customers.view_customer")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _tabs(user: User, active: str) -> list[dict[str, Any]]:
    """The 温馨速递 sub-menu: outbox, approvals, broadcasts, rules, opt-outs, per role."""
    staff, approver, sees = services.is_care_staff(user), services.may_approve(user), _sees_customers(user)
    tabs = [
        ("outbox", "发件箱", "care:outbox", sees),
        ("approvals", "综合组审批", "care:approvals", staff or approver),
        ("broadcast", "群发", "care:broadcast", staff),
        ("rules", "发送规则", "care:rules", staff or approver or services.may_edit_rules(user)),
        ("optouts", "退订管理", "care:optouts", sees),
    ]
    return [
        {"key": key, "label": label, "url": reverse(name), "active": key == active}
        for key, label, name, shown in tabs
        if shown
    ]


def _render(request: AuthedHttpRequest, template: str, tab: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"tabs": _tabs(request.user, tab), **context})


def _segments(text: str) -> list[tuple[str, bool]]:
    """The text split into (piece, is_blank_placeholder) for highlighting {进度} etc."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in templating.PLACEHOLDER.finditer(text):
        if match.start() > last:
            pieces.append((text[last : match.start()], False))
        pieces.append((match.group(0), True))
        last = match.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces


def _sms(text: str, signature: str) -> dict[str, Any]:
    """What the preview shows: the text (opt-out line apart), its length and SMS units."""
    length, units = services.sms_size(text, signature)
    body, tail = text, ""
    if text.endswith(OPT_OUT_LINE):
        body, tail = text[: -len(OPT_OUT_LINE)], OPT_OUT_LINE
    return {
        "text": text,
        "segments": _segments(body),
        "optout": tail,
        "length": length,
        "units": units,
        "signature": signature,
        "missing": list(dict.fromkeys(templating.missing_values(text))),
    }


@require_GET
def home(request: AuthedHttpRequest) -> HttpResponse:
    """The menu's 温馨速递: the outbox, or the approval inbox for approvers without customer data."""
    user = request.user
    if _sees_customers(user):
        return redirect("care:outbox")
    if services.may_approve(user) or services.is_care_staff(user):
        return redirect("care:approvals")
    raise PermissionDenied


# ---------------------------------------------------------------- outbox


# Statuses whose reason (``error``) the outbox list shows under the status.
WITH_REASON = (*resend.RESENDABLE, OutboundMessage.Status.UNDELIVERED, OutboundMessage.Status.CANCELLED)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def outbox(request: AuthedHttpRequest) -> HttpResponse:
    filters = OutboxFilterForm(request.GET, user=request.user)
    rows = filters.queryset().select_related("customer", "project")
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    can_resend = resend.may_resend(request.user)
    labels = selectors.occasion_labels(page)
    items = [
        {
            "message": m,
            "occasion": labels[m.pk],
            "reason": m.error if m.status in WITH_REASON else "",
            "hint": _hint(m, can_resend, brief=True),
            "resendable": can_resend and resend.is_resendable(m),
        }
        for m in page
    ]
    return _render(
        request,
        "care/outbox.html",
        "outbox",
        {
            "filters": filters,
            "page": page,
            "items": items,
            "page_sizes": PAGE_SIZES,
            "any_resendable": any(item["resendable"] for item in items),
        },
    )


def _hint(message: OutboundMessage, can_resend: bool, *, brief: bool = False) -> str:
    """What to do about a message that did not go; who may not resend is told who can."""
    if can_resend or message.status in (OutboundMessage.Status.HELD, OutboundMessage.Status.UNDELIVERED):
        return resend.fix_hint(message, brief=brief)
    if resend.is_resendable(message):
        return "可请客服人员补发"
    return ""


def _message_context(request: AuthedHttpRequest, message: OutboundMessage, **extra: Any) -> dict[str, Any]:
    user = request.user
    occasion = selectors.occasion_labels([message])[message.pk]
    # Audit summaries name the outbox's key of the occasion; staff read what it stands for.
    history = [
        {"at": h.at, "actor": h.actor, "summary": h.summary.replace(message.occasion, occasion), "reason": h.reason}
        for h in selectors.message_history(message)[:20]
    ]
    return {
        "message": message,
        "customer": message.customer,
        "occasion": occasion,
        "receipts": list(message.receipts.order_by("-created_at")[:20]),
        "history": history,
        "can_cancel": services.is_care_staff(user) and message.status == OutboundMessage.Status.SCHEDULED,
        "cancel_form": extra.get("cancel_form") or CancelMessageForm(),
        "cancel_open": extra.get("cancel_open", False),
        "hint": _hint(message, resend.may_resend(user)),
        "can_resend": resend.may_resend(user) and resend.is_resendable(message),
        "needs_check": resend.outcome_unknown(message),
        "resend_form": extra.get("resend_form") or ResendForm(),
        "fix_settings": user.is_staff and message.status == OutboundMessage.Status.HELD,
        "sms": _sms(message.text, services.signature_of(message.project)),
    }


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def message_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    message = selectors.get_message_for_user(request.user, pk)
    return _render(request, "care/message.html", "outbox", _message_context(request, message))


@require_POST
@permission_required("customers.view_customer", raise_exception=True)
def message_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    message = selectors.get_message_for_user(request.user, pk)
    _require(services.is_care_staff(request.user))
    form = CancelMessageForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_message(message, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.field != "reason":  # no longer scheduled: nothing left to cancel
                messages.error(request, exc.message)
                return redirect("care:message", message.pk)
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已取消发给 {message.recipient_name} 的{message.get_trigger_display()}短信")
            return redirect("care:message", message.pk)
    context = _message_context(request, message, cancel_form=form, cancel_open=True)
    return _render(request, "care/message.html", "outbox", context)


@require_POST
@permission_required(resend.RESEND, raise_exception=True)
def message_resend(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """补发 one failed, expired or held message (the same row, a fresh window)."""
    message = selectors.get_message_for_user(request.user, pk)
    form = ResendForm(request.POST)
    form.is_valid()
    try:
        message = resend.resend_message(
            message, actor=request.user, confirmed=form.cleaned_data.get("confirmed", False)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"已补发：发给 {message.recipient_name} 的{message.get_trigger_display()}短信"
            f"将于 {_when(message.scheduled_at)} 按时段发送",
        )
    return redirect("care:message", message.pk)


@require_POST
@permission_required(resend.RESEND, raise_exception=True)
def outbox_resend(request: AuthedHttpRequest) -> HttpResponse:
    """补发 the messages ticked on the outbox list; each refused one is named with its reason."""
    back = back_url(request, reverse("care:outbox"))
    ids = [i for raw in request.POST.getlist("ids") if (i := parse_id(raw)) is not None][: resend.BULK_LIMIT]
    chosen = list(
        selectors.messages_visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("customer", "rule", "project__company")
        .order_by("scheduled_at", "id")
    )
    if not chosen:
        messages.error(request, "请先勾选要补发的短信")
        return redirect(back)
    result = resend.resend_messages(chosen, actor=request.user)
    if result.resent:
        first = min(m.scheduled_at for m in result.resent)
        messages.success(request, f"已补发 {len(result.resent)} 条短信，最早于 {_when(first)} 按时段发送")
    if result.refused:
        shown = "；".join(f"{m.recipient_name}（{m.get_trigger_display()}）：{why}" for m, why in result.refused[:5])
        more = f"等 {len(result.refused)} 条" if len(result.refused) > 5 else ""
        messages.error(request, f"未补发{more}：{shown}")
    return redirect(back)


def _when(moment: Any) -> str:
    local = timezone.localtime(moment)
    day = "今天" if local.date() == timezone.localdate() else _day(local.date())
    return f"{day} {local:%H:%M}"


# ---------------------------------------------------------------- approvals


def _approvals_context(request: AuthedHttpRequest, bound: DraftForm | None = None) -> dict[str, Any]:
    user = request.user
    drafts = selectors.drafts_visible_to(user).select_related("rule", "project__company", "created_by")
    pending = []
    for draft in drafts.filter(status=Draft.Status.PENDING).order_by("send_on", "id"):
        form = bound if bound is not None and bound.draft.pk == draft.pk else DraftForm(draft=draft)
        kind = services.event_draft_kind(draft)
        pending.append(
            {
                "draft": draft,
                "form": form,
                "sms": _sms(draft.text, services.signature_of(draft.project)),
                "filters": _audience_filter_labels(draft.audience_filter),
                "event_kind": services.EVENT_KINDS.get(kind or ""),
                "window": services.EVENT_INVITE_WINDOW
                if kind == "invite"
                else (draft.rule.window_start, draft.rule.window_end),
            }
        )
    decided = (
        drafts.exclude(status=Draft.Status.PENDING)
        .select_related("decided_by")
        .annotate(queued=Count("messages"))
        .order_by("-decided_at", "-id")[:30]
    )
    return {
        "pending": pending,
        "decided": list(decided),
        "can_approve": services.may_approve(user),
    }


def _audience_filter_labels(flt: dict[str, Any]) -> list[str]:
    labels = []
    if flt.get("stage"):
        labels.append("阶段：" + "、".join(str(Stage(s).label) for s in flt["stage"] if s in Stage.values))
    if flt.get("grade"):
        labels.append("等级：" + "、".join(f"{g}级" for g in flt["grade"] if g in Grade.values))
    if flt.get("tag"):
        labels.append("标签：" + "、".join(flt["tag"]))
    return labels


@require_GET
def approvals(request: AuthedHttpRequest) -> HttpResponse:
    _require(services.may_approve(request.user) or services.is_care_staff(request.user))
    return _render(request, "care/approvals.html", "approvals", _approvals_context(request))


@require_POST
def draft_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Save the text (filling blanks such as {进度}), approve and queue, or reject with a comment."""
    user = request.user
    _require(services.may_approve(user) or services.is_care_staff(user))
    draft = selectors.get_draft_for_user(user, pk)
    action = request.POST.get("action", "save")
    if action not in {"save", "approve", "reject"}:
        action = "save"
    if action != "save":
        _require(services.may_approve(user))
    form = DraftForm(request.POST, draft=draft)
    if form.is_valid() and action == "approve":
        form.require_fills()
    if form.is_valid():
        try:
            if action == "reject":
                services.reject_draft(draft, actor=user, comment=form.cleaned_data["comment"])
                done = f"已驳回：{draft.rule.get_trigger_display()}（{draft.project.name}）"
            elif action == "approve":
                # A refused approval also undoes the edit; the form below shows what was typed.
                queued = services.edit_and_approve_draft(
                    draft, actor=user, text=form.filled_text(), comment=form.cleaned_data["comment"]
                )
                done = (
                    f"已批准：{draft.rule.get_trigger_display()}（{draft.project.name}），"
                    f"已排入发件箱 {queued} 条，{_day(draft.send_on)}按时段发送"
                )
            else:
                services.edit_draft(draft, actor=user, text=form.filled_text())
                done = "修改已保存，仍待审批"
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, done)
            anchor = "decided" if action != "save" else f"draft-{draft.pk}"
            return redirect(f"{reverse('care:approvals')}#{anchor}")
    return _render(request, "care/approvals.html", "approvals", _approvals_context(request, bound=form))


# ---------------------------------------------------------------- broadcasts


@require_http_methods(["GET", "POST"])
def broadcast(request: AuthedHttpRequest) -> HttpResponse:
    """Compose → preview (recipient count and text, nothing written) → submit for approval."""
    user = request.user
    _require(services.is_care_staff(user))
    if request.method == "GET" and getattr(request, "htmx", False) and "project" in request.GET:
        # The value boxes follow the chosen project and type, keeping what was typed and
        # showing no error before the user submits.
        form = BroadcastForm(user=user, typed=request.GET)
        return render(request, "care/_broadcast_values.html", {"form": form})
    form = BroadcastForm(request.POST if request.method == "POST" else None, user=user)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "submit":
                draft = services.compose_broadcast(
                    data["project"],
                    actor=user,
                    trigger=data["trigger"],
                    send_on=data.get("send_on"),
                    event_on=data.get("event_on"),
                    values=form.values(),
                    audience_filter=form.audience_filter(),
                )
            else:
                result = services.preview_broadcast(
                    data["project"],
                    trigger=data["trigger"],
                    values=form.values(),
                    audience_filter=form.audience_filter(),
                    event_on=data.get("event_on"),
                )
        except DomainError as exc:
            apply_domain_error(form, exc)
            result = None
        else:
            if result is None and draft.status != Draft.Status.PENDING:
                messages.success(
                    request,
                    f"已排入发件箱：{draft.rule.get_trigger_display()}（{draft.project.name}，"
                    f"{_day(draft.send_on)}，{draft.recipient_count} 人）。该类短信无需审批。",
                )
                return redirect(reverse("care:outbox"))
            if result is None:
                messages.success(
                    request,
                    f"已提交综合组审批：{draft.rule.get_trigger_display()}（{draft.project.name}，"
                    f"{_day(draft.send_on)}，预计 {draft.recipient_count} 人）。批准后才会排入发件箱。",
                )
                return redirect(f"{reverse('care:approvals')}#draft-{draft.pk}")
    preview = None
    if result is not None:
        rule = result.rule
        preview = {
            "rule": rule,
            "recipients": result.recipients,
            "sms": _sms(result.text, services.signature_of(rule.project)),
            "window": f"{rule.window_start:%H:%M}–{rule.window_end:%H:%M}",
            "send_on": result.send_on or form.cleaned_data.get("send_on"),
            "needs_approval": result.needs_approval,
            "filters": _audience_filter_labels(form.audience_filter()),
        }
    return _render(request, "care/broadcast.html", "broadcast", {"form": form, "preview": preview})


# ---------------------------------------------------------------- rules


def _offset_label(days: int) -> str:
    if days == 0:
        return "当天"
    return f"{days} 天后" if days > 0 else f"{-days} 天前"


@require_GET
def rules(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    can_edit = services.may_edit_rules(user)
    _require(can_edit or services.is_care_staff(user) or services.may_approve(user))
    projects = list(selectors.care_projects(user).order_by("name"))
    raw = request.GET.get("project", "")
    project = next((p for p in projects if str(p.pk) == raw), projects[0] if projects else None)
    rows = []
    if project is not None:
        for rule in sorted(services.ensure_rules(project), key=lambda r: list(DEFAULT_RULES).index(Trigger(r.trigger))):
            rows.append(
                {
                    "rule": rule,
                    "when": DEFAULT_RULES[Trigger(rule.trigger)].when,
                    "offset": _offset_label(rule.offset_days),
                }
            )
    return _render(
        request,
        "care/rules.html",
        "rules",
        {"projects": projects, "project": project, "rows": rows, "can_edit": can_edit},
    )


def _rule_for_admin(request: AuthedHttpRequest, pk: int) -> CareRule:
    _require(services.may_edit_rules(request.user))
    rule = (
        CareRule.objects.select_related("project__company", "updated_by")
        .filter(pk=pk, project__in=selectors.care_projects(request.user))
        .first()
    )
    if rule is None:
        raise Http404("规则不存在")
    return rule


def _rule_preview(rule: CareRule, template: str, user: User) -> dict[str, Any]:
    """The template rendered for a sample customer of the project, or the placeholder error."""
    sample = customers_visible_to(user).filter(project=rule.project).order_by("id").first()
    trial = CareRule(project=rule.project, trigger=rule.trigger, purpose=rule.purpose, template=template)
    error = ""
    try:
        templating.check_template(template)
    except DomainError as exc:
        error = exc.message
    values = {k: v for k, v in SAMPLE_VALUES.items() if k != "客户" or sample is None}
    text = services.preview(trial, sample, values) if template.strip() else ""
    used = [name for name in dict.fromkeys(templating.placeholders(template)) if name in values]
    return {
        "sms": _sms(text, services.signature_of(rule.project)),
        "error": error,
        "sample": sample,
        "samples": [(name, values[name]) for name in used],
        "adds_optout": rule.purpose in (Purpose.CARE, Purpose.MARKETING),
    }


@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rule = _rule_for_admin(request, pk)
    form = RuleForm(request.POST or None, rule=rule)
    form.fields["template"].widget.attrs.update(
        {
            "hx-post": reverse("care:rule_preview", args=[rule.pk]),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": "#rule-preview",
            "hx-swap": "outerHTML",
        }
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rule(rule, actor=request.user, **form.changes())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已保存规则：{rule.get_trigger_display()}（{rule.project.name}）")
            return redirect(f"{reverse('care:rules')}?project={rule.project_id}")
    template = form.data.get("template", rule.template) if form.is_bound else rule.template
    return _render(
        request,
        "care/rule_edit.html",
        "rules",
        {
            "rule": rule,
            "form": form,
            "spec": DEFAULT_RULES[Trigger(rule.trigger)],
            "known": templating.KNOWN,
            "preview": _rule_preview(rule, str(template), request.user),
        },
    )


@require_POST
def rule_preview(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """HTMX: the preview panel for the template being typed (nothing is saved)."""
    rule = _rule_for_admin(request, pk)
    template = request.POST.get("template", "")[:500]
    return render(
        request, "care/_rule_preview.html", {"rule": rule, "preview": _rule_preview(rule, template, request.user)}
    )


# ---------------------------------------------------------------- opt-outs


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def optouts(request: AuthedHttpRequest) -> HttpResponse:
    return _render(request, "care/optouts.html", "optouts", _optouts_context(request))


def _optouts_context(request: AuthedHttpRequest, lookup: OptOutLookupForm | None = None) -> dict[str, Any]:
    user = request.user
    customers = selectors.opted_out_customers(user).select_related("project")
    q = request.GET.get("q", "").strip()[:50]
    if q:
        customers = search_customers(customers, q)
    # A KPI's drill-down (crm.kpis): the opt-outs of a period, optionally of one project.
    period = OptOutPeriodForm(request.GET)
    kpi_label = ""
    if period.is_valid() and (period.cleaned_data["start"] or period.cleaned_data["end"]):
        start, end = period.cleaned_data["start"], period.cleaned_data["end"]
        customers = customers.filter(selectors.opted_out_q(start, end))
        kpi_label = f"退订于 {start or '…'} 至 {end or '…'}"
    if period.is_valid() and period.cleaned_data["project"]:
        customers = customers.filter(project_id=period.cleaned_data["project"])
    page = Paginator(customers, 25).get_page(request.GET.get("page"))
    replies = list(selectors.replies_visible_to(user)[:20])
    mobiles = {r.mobile for r in replies}
    holders: dict[str, Customer] = {}
    if mobiles:
        for c in (
            customers_visible_to(user, include_archived=True).filter(mobile__in=mobiles).only("pk", "name", "mobile")
        ):
            holders[c.mobile] = c
    return {
        "page": page,
        "rows": [
            {"customer": c, "source": selectors.opt_out_source(getattr(c, "opt_out_source", "") or "")} for c in page
        ],
        "page_sizes": (25,),
        "q": q,
        "kpi_label": kpi_label,
        "replies": [{"reply": r, "masked": mask_mobile(r.mobile), "customer": holders.get(r.mobile)} for r in replies],
        "can_change": user.has_perm("customers.change_customer"),
        "lookup": lookup or OptOutLookupForm(user=user),
        "opt_in_form": OptInForm(),
    }


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def opt_out_lookup(request: AuthedHttpRequest) -> HttpResponse:
    """From the opt-out page: find the customer by number or mobile and opt them out."""
    form = OptOutLookupForm(request.POST, user=request.user)
    if form.is_valid() and form.found is not None:
        customer = form.found
        if customer.has_opted_out:
            messages.info(request, f"{customer.name} 已经退订，无需重复登记")
        else:
            cancelled = services.opt_out(customer, actor=request.user, source=form.cleaned_data["source"])
            messages.success(request, f"已为 {customer.name} 登记退订，立即生效，取消待发短信 {cancelled} 条")
        return redirect("care:optouts")
    return _render(request, "care/optouts.html", "optouts", _optouts_context(request, lookup=form))


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def opt_out(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """On the customer's request (phone, visit, letter): stop every SMS at once."""
    customer = get_customer_for_user(request.user, pk)
    back = back_url(request, reverse("customers:detail", args=[customer.pk]) + "#optout")
    form = OptOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择客户告知方式")
    elif customer.has_opted_out:
        messages.info(request, f"{customer.name} 已经退订，无需重复登记")
    else:
        cancelled = services.opt_out(customer, actor=request.user, source=form.cleaned_data["source"])
        messages.success(request, f"已登记退订，立即生效：不再向 {customer.name} 发送短信，取消待发短信 {cancelled} 条")
    return redirect(back)


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def opt_in(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Restore SMS after an opt-out, recording how the customer agreed again."""
    customer = get_customer_for_user(request.user, pk)
    back = back_url(request, reverse("customers:detail", args=[customer.pk]) + "#optout")
    form = OptInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写客户重新同意的方式，再恢复接收短信")
        return redirect(back)
    try:
        services.opt_in_again(customer, actor=request.user, source=form.cleaned_data["source"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已恢复向 {customer.name} 发送短信（{form.cleaned_data['source']}）")
    return redirect(back)
