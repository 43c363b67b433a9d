"""指标看板, 顾问月度考核 and the management home (管理首页).

The figures come from crm.kpis.definitions (one function per KPI), the trends and
breakdowns from crm.kpis.dashboard, the scorecards from crm.kpis.scorecards; this module
binds the selectors, turns figures into charts (crm.core.charts) and renders.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.accounts.models import User
from crm.care import selectors as care
from crm.care import services as care_services
from crm.complaints import selectors as complaints
from crm.core.charts import Chart, Series
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.xlsx import CONTENT_TYPE
from crm.customers.export_requests import pending_for
from crm.kpis import dashboard, definitions, periods, scorecards
from crm.kpis.definitions import Figure, KpiQuery
from crm.kpis.exporting import export_dashboard, export_scorecards
from crm.kpis.forms import PeriodForm, PlanForm
from crm.kpis.periods import Period
from crm.lib.dates import local_day
from crm.visits import services as visits

VIEW = "kpis.view_kpis"
EXPORT = "kpis.export_kpis"
HOME = "kpis.view_management_home"

TREND_LABELS = {
    "visit_satisfaction": "回访满意度（%）",
    "complaint_satisfaction": "投诉处理满意度（%）",
    "complaints": "投诉（件）",
    "complaint_rate": "投诉率（件/百户）",
    "first_response_timeliness": "首次响应及时率（%）",
    "resolution_timeliness": "按时处理率（%）",
    "repeat_complaint_rate": "重复投诉率（%）",
    "visit_completion": "回访完成率（%）",
    "visit_on_time": "回访按期完成率（%）",
    "visit_reach": "回访接通率（%）",
    "care_sent": "关怀短信发出（条）",
    "care_failed": "关怀短信失败（条）",
    "gifts_issued": "礼品发放（次）",
}


def _num(value: Any) -> float | int | None:
    return None if value is None else (value if isinstance(value, int) else float(value))


def charts(
    trend: dashboard.Trend, projects: list[dashboard.ProjectRow], categories: list[dashboard.CategoryRow]
) -> list[Chart]:
    labels = trend.labels
    s = trend.series

    def line(key: str, title: str, names: list[str], unit: str) -> Chart:
        return Chart(
            key,
            title,
            "line",
            labels,
            [Series(TREND_LABELS[n].split("（")[0], [_num(v) for v in s[n]]) for n in names],
            unit=unit,
            category_label="月份",
        )

    result = [
        line("trend-satisfaction", "满意度趋势（近12个月）", ["visit_satisfaction", "complaint_satisfaction"], "%"),
        line(
            "trend-timeliness",
            "投诉处理时效与重复投诉（近12个月）",
            ["first_response_timeliness", "resolution_timeliness", "repeat_complaint_rate"],
            "%",
        ),
        line("trend-visits", "回访完成与接通（近12个月）", ["visit_completion", "visit_on_time", "visit_reach"], "%"),
        Chart(
            "trend-volume",
            "投诉、关怀短信与礼品（近12个月）",
            "bar",
            labels,
            [
                Series("投诉", [_num(v) for v in s["complaints"]]),
                Series("短信发出", [_num(v) for v in s["care_sent"]]),
                Series("短信失败", [_num(v) for v in s["care_failed"]]),
                Series("礼品发放", [_num(v) for v in s["gifts_issued"]]),
            ],
            unit="",
            category_label="月份",
        ),
    ]
    if projects:
        result.append(
            Chart(
                "by-project",
                "按楼盘：投诉率（件/百户）",
                "hbar",
                [p.name for p in projects],
                [Series("投诉率", [_num(p.complaint_rate) for p in projects])],
                category_label="楼盘",
                height=max(200, 48 * len(projects) + 60),
            )
        )
    if categories:
        result.append(
            Chart(
                "by-category",
                "按投诉类别",
                "pie",
                [c.name for c in categories],
                [Series("投诉（件）", [c.complaints for c in categories])],
                unit="件",
                category_label="类别",
            )
        )
    return result


def _scope_label(form: PeriodForm) -> str:
    project = form.cleaned_data.get("project") if form.is_bound and form.is_valid() else None
    return f"楼盘：{project.name}" if project else "楼盘：全部（您可查看的范围）"


def _dashboard_data(request: AuthedHttpRequest) -> tuple[PeriodForm, Period | None, dict[str, Any]]:
    today = local_day(timezone.now())
    form = PeriodForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None, {}
    try:
        period = form.period(today=today)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return form, None, {}
    q = KpiQuery(request.user, period.start, period.end, form.project_ids)
    months = periods.trend_months(period)
    # Complaints, visit tasks and customers counted once for the figures, the projects and
    # the trend (first: their sums are the figures' counts, handed to ``q``).
    counted = dashboard.sources(q, months)
    projects = dashboard.by_project(q, counted)
    figures = definitions.all_figures(q)
    trend = dashboard.trend(request.user, form.project_ids, months, counted)
    categories = dashboard.by_category(q)
    return (
        form,
        period,
        {
            "figures": figures,
            "trend": trend,
            "projects": projects,
            "categories": categories,
            "query": q,
            "counted_at": counted.counted_at,
        },
    )


@require_GET
@permission_required(VIEW, raise_exception=True)
def kpi_dashboard(request: AuthedHttpRequest) -> HttpResponse:
    form, period, data = _dashboard_data(request)
    context: dict[str, Any] = {"form": form, "period": period, "kinds": periods.KINDS}
    if period is not None:
        context |= data | {
            "charts": charts(data["trend"], data["projects"], data["categories"]),
            "trend_rows": [(label, data["trend"].series[key]) for key, label in TREND_LABELS.items()],
            "scope_label": _scope_label(form),
            "export_query": request.GET.urlencode(),
            "can_export": request.user.has_perm(EXPORT),
        }
    return render(request, "kpis/dashboard.html", context, status=200 if period is not None else 400)


@require_GET
@permission_required(EXPORT, raise_exception=True)
def kpi_dashboard_export(request: AuthedHttpRequest) -> HttpResponse | FileResponse:
    form, period, data = _dashboard_data(request)
    if period is None:
        return render(request, "kpis/dashboard.html", {"form": form, "period": None}, status=400)
    export = export_dashboard(
        request.user,
        period=period,
        scope_label=_scope_label(form),
        figures=data["figures"],
        trend=data["trend"],
        trend_labels=TREND_LABELS,
        projects=data["projects"],
        categories=data["categories"],
        now=timezone.now(),
        ip=request.META.get("REMOTE_ADDR"),
    )
    response = FileResponse(export.file, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    return response


# ---------------------------------------------------------------- scorecards


def _month(request: AuthedHttpRequest) -> Period:
    today = local_day(timezone.now())
    try:
        return periods.parse("month", request.GET.get("month", "") or request.POST.get("month", ""), today=today)
    except DomainError:
        return periods.month_of(today)


@require_GET
@permission_required(scorecards.VIEW, raise_exception=True)
def scorecard_list(request: AuthedHttpRequest) -> HttpResponse:
    month = _month(request)
    cards = scorecards.scorecards(request.user, month)
    return render(
        request,
        "kpis/scorecards.html",
        {
            "month": month,
            "cards": cards,
            "portraits_enabled": all(c.portraits is not None for c in cards) if cards else False,
            "can_export": request.user.has_perm(EXPORT),
        },
    )


@require_GET
@permission_required(EXPORT, raise_exception=True)
def scorecard_export(request: AuthedHttpRequest) -> HttpResponse | FileResponse:
    month = _month(request)
    export = export_scorecards(
        request.user,
        month=month,
        cards=scorecards.scorecards(request.user, month),
        now=timezone.now(),
        ip=request.META.get("REMOTE_ADDR"),
    )
    response = FileResponse(export.file, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = export.content_disposition
    return response


@require_POST
@permission_required(scorecards.VIEW, raise_exception=True)
def scorecard_plan(request: AuthedHttpRequest) -> HttpResponse:
    form = PlanForm(request.POST)
    month = _month(request)
    back = f"{reverse('kpis:scorecards')}?{urlencode({'month': month.value})}"
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    consultant = scorecards.consultants_in_scope(request.user).filter(pk=form.cleaned_data["consultant"]).first()
    if consultant is None:
        raise Http404("顾问不存在或无权查看")
    try:
        visits.save_improvement_plan(consultant, actor=request.user, month=month.start, plan=form.cleaned_data["plan"])
    except NotAllowed as exc:
        messages.error(request, exc.message)
        return redirect(back)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"已保存 {consultant} 的改进计划")
    return redirect(back)


# ---------------------------------------------------------------- management home


BREACHED_SHOWN = 10


def management_figures(user: User, today: date) -> list[Figure]:
    month = periods.month_of(today)
    return definitions.all_figures(KpiQuery(user, month.start, month.end))


@require_GET
@permission_required(HOME, raise_exception=True)
def management_home(request: AuthedHttpRequest) -> HttpResponse:
    now = timezone.now()
    user = request.user
    month = periods.month_of(local_day(now))
    breached = complaints.breached(user, now=now).select_related("project", "category", "assignee")
    approvals = [
        {
            "label": "投诉处理方案待审批",
            "count": complaints.plans_awaiting_approval(user).count(),
            "url": f"{reverse('complaints:list')}?state=plan_pending"
            if user.has_perm("complaints.view_complaint")
            else "",
        },
        {
            "label": "温馨速递待综合组审批",
            "count": care.pending_drafts(user).count(),
            # The approvals page is for the approvers and the care staff: nobody else gets a link to a 403.
            "url": reverse("care:approvals")
            if care_services.may_approve(user) or care_services.is_care_staff(user)
            else "",
        },
        {
            "label": "批量导出待审批",
            "count": pending_for(user).count() if user.has_perm("customers.approve_export") else 0,
            "url": reverse("customers:exports") if user.has_perm("customers.approve_export") else "",
        },
    ]
    return render(
        request,
        "kpis/home.html",
        {
            "month": month,
            "figures": definitions.all_figures(KpiQuery(user, month.start, month.end)),
            "breached": list(breached[:BREACHED_SHOWN]),
            "breached_count": breached.count(),
            "breached_url": f"{reverse('complaints:list')}?state=breached"
            if user.has_perm("complaints.view_complaint")
            else "",
            "approvals": approvals,
            "now": now,
        },
    )
