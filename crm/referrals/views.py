"""老带新 pages: the list, recording a referral (the referrer searched within the scope),
the detail with its chain and rewards, the rewards list with approve/reject/pay, the
statistics and the Excel export.

Each view reads through crm.referrals.selectors (outside the scope: 404), binds a form,
calls one service and renders or redirects; a DomainError is shown on its field.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.customers.exporting import XLSX_CONTENT_TYPE
from crm.lib.dates import local_day
from crm.referrals import exporting, selectors, services
from crm.referrals.forms import (
    ChangeReferralForm,
    DecisionForm,
    ReferralFilterForm,
    ReferralForm,
    ReferrerSearchForm,
    RewardFilterForm,
    RewardForm,
    StatsForm,
)


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def referral_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = ReferralFilterForm(request.GET, user=request.user)
    rows = filters.queryset().select_related("referrer", "referred", "referred__project", "referred__owner")
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/referral_list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(services.ADD),
            "can_export": request.user.has_perm(services.EXPORT),
            "tab": "list",
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.ADD, raise_exception=True)
def referral_new(request: AuthedHttpRequest) -> HttpResponse:
    initial = {
        "referred_number": request.GET.get("referred", ""),
        "referrer_number": request.GET.get("referrer", ""),
    }
    form = ReferralForm(request.POST or None, user=request.user, initial=initial)
    search = ReferrerSearchForm(request.GET)
    results = search.results(request.user) if request.method == "GET" else []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.record_referral(
                data["referred_number"],
                actor=request.user,
                referrer=data["referrer_number"],
                channel=data["channel"],
                visited_on=data.get("visited_on"),
            )
        except DomainError as exc:
            if exc.field == "referrer":
                exc.field = "referrer_number"
            elif exc.field == "referred":
                exc.field = "referred_number"
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已登记：{referral.referrer.name} 推荐 {referral.referred.name}")
            return redirect("referrals:detail", pk=referral.pk)
    return render(
        request,
        "referrals/referral_form.html",
        {"form": form, "search": search, "results": results, "initial": initial, "tab": "list"},
    )


def _detail_context(request: AuthedHttpRequest, pk: int) -> dict[str, Any]:
    referral = selectors.get_referral_for_user(request.user, pk)
    # Above: who brought the referrer in (the new customer's 2nd level and up); below:
    # whom the new customer brought in; beside: the referrer's other new customers.
    _up, downwards = selectors.chain_for(request.user, referral.referred)
    upwards, referrer_down = selectors.chain_for(request.user, referral.referrer, max_depth=5)
    user = request.user
    return {
        "referral": referral,
        "referred_visible": selectors.customer_visible(user, referral.referred_id),
        "referrer_visible": selectors.customer_visible(user, referral.referrer_id),
        "upwards": upwards,
        "downwards": downwards,
        "siblings": [n for n in referrer_down if n.depth == 1 and n.customer_id != referral.referred_id],
        "rewards": selectors.rewards_visible_to(user)
        .filter(referral=referral)
        .select_related("proposed_by", "approved_by", "paid_by", "rejected_by"),
        "can_change": user.has_perm(services.CHANGE),
        "can_propose": user.has_perm(services.PROPOSE_REWARD) and cast(Any, referral).status in services.REWARDABLE,
        "can_approve": user.has_perm(services.APPROVE_REWARD),
        "can_pay": user.has_perm(services.PAY_REWARD),
        "change_form": ChangeReferralForm(initial={"channel": referral.channel, "visited_on": referral.visited_on}),
        "reward_form": RewardForm(),
        "tab": "list",
    }


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def referral_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return render(request, "referrals/referral_detail.html", _detail_context(request, pk))


@require_POST
@permission_required(services.VIEW, raise_exception=True)
def referral_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    referral = selectors.get_referral_for_user(request.user, pk)
    context = _detail_context(request, pk)
    try:
        if verb == "change":
            form: ChangeReferralForm | RewardForm = ChangeReferralForm(request.POST)
            context["change_form"] = form
            if form.is_valid():
                services.change_referral(
                    referral,
                    actor=request.user,
                    channel=form.cleaned_data["channel"],
                    visited_on=form.cleaned_data.get("visited_on"),
                )
                messages.success(request, "已保存")
                return redirect("referrals:detail", pk=pk)
        elif verb == "reward":
            form = RewardForm(request.POST)
            context["reward_form"] = form
            if form.is_valid():
                services.propose_reward(
                    referral,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    amount=form.cleaned_data["amount"],
                    note=form.cleaned_data.get("note") or "",
                )
                messages.success(request, "奖励申请已提交，等待审批")
                return redirect("referrals:detail", pk=pk)
        else:
            raise Http404("没有这个操作")
    except DomainError as exc:
        apply_domain_error(form, exc)
    return render(request, "referrals/referral_detail.html", context, status=400)


@require_GET
@permission_required(services.VIEW_REWARD, raise_exception=True)
def reward_list(request: AuthedHttpRequest) -> HttpResponse:
    filters = RewardFilterForm(request.GET, user=request.user)
    rows = filters.queryset().select_related(
        "referral", "referral__referrer", "referral__referred", "proposed_by", "approved_by", "paid_by"
    )
    page = Paginator(rows, filters.page_size).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/reward_list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_approve": request.user.has_perm(services.APPROVE_REWARD),
            "can_pay": request.user.has_perm(services.PAY_REWARD),
            "tab": "rewards",
        },
    )


REWARD_VERBS = {
    "approve": (services.approve_reward, "已批准", services.APPROVE_REWARD),
    "reject": (services.reject_reward, "已驳回", services.APPROVE_REWARD),
    "pay": (services.pay_reward, "已登记发放", services.PAY_REWARD),
}


@require_POST
@permission_required(services.VIEW_REWARD, raise_exception=True)
def reward_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    if verb not in REWARD_VERBS:
        raise Http404("没有这个操作")
    action, done, needed = REWARD_VERBS[verb]
    if not request.user.has_perm(needed):
        raise PermissionDenied
    reward = selectors.get_reward_for_user(request.user, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        action(reward, actor=request.user, note=note)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"奖励{done}")
    back = request.POST.get("next", "")
    if back == "detail":
        return redirect("referrals:detail", pk=reward.referral_id)
    return redirect("referrals:rewards")


def _period(request: AuthedHttpRequest) -> tuple[StatsForm, date, date]:
    today = local_day(timezone.now())
    default_start = today.replace(day=1)
    form = StatsForm(request.GET or None, initial={"start": default_start, "end": today})
    if form.is_bound and form.is_valid() and form.cleaned_data["start"] <= form.cleaned_data["end"]:
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return StatsForm(initial={"start": default_start, "end": today}), default_start, today


@require_GET
@permission_required(services.STATS, raise_exception=True)
def referral_stats(request: AuthedHttpRequest) -> HttpResponse:
    form, start, end = _period(request)
    stats = selectors.stats_for(request.user, start=start, end=end)
    owners = selectors.owners_for(request.user, start=start, end=end)
    return render(
        request,
        "referrals/stats.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "stats": stats,
            "owners": owners,
            "chart": selectors.stats_chart(stats),
            "can_export": request.user.has_perm(services.EXPORT),
            "tab": "stats",
        },
    )


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def referral_export(request: AuthedHttpRequest) -> FileResponse:
    export = exporting.export_referrals(
        request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR")
    )
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    response["Cache-Control"] = "no-store"
    return response
