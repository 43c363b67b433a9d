"""投诉分析报告 over the API: the monthly figures as JSON, for dashboards elsewhere.

The same selector (crm.complaints.analysis.monthly_report) and the same filter form as the
page, so the scope and the numbers are the page's; a bad month or a project outside the
caller's scope is a 400 with the Chinese message.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.complaints import analysis
from crm.complaints.analysis import Breakdown, Figures
from crm.complaints.forms import MonthlyReportForm
from crm.lib.dates import local_day

from .care import staff


class ReportPermission(permissions.BasePermission):
    message = "您没有查看投诉分析报告的权限。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(analysis.REPORT))


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "total": f.total,
        "active": f.active,
        "acknowledged_in_time": f.acknowledged_in_time,
        "first_response_rate": f.first_response_rate,
        "resolved": f.resolved,
        "resolved_in_time": f.resolved_in_time,
        "resolution_rate": f.resolution_rate,
        "rated": f.rated,
        "satisfaction_avg": f.satisfaction_avg,
        "ratings": {str(k): v for k, v in f.ratings.items()},
        "satisfied_rate": f.satisfied_rate,
        "repeats": f.repeats,
        "repeat_rate": f.repeat_rate,
        "escalated": f.escalated,
        "escalated_twice": f.escalated_twice,
        "cancelled": f.cancelled,
    }


def _rows(rows: list[Breakdown]) -> list[dict[str, Any]]:
    return [{"key": b.key, "label": b.label, "current": b.current, "previous": b.previous} for b in rows]


class MonthlyReportView(APIView):
    permission_classes = (ReportPermission,)

    @extend_schema(
        summary="投诉分析报告（月度）",
        parameters=[
            OpenApiParameter("month", str, description="月份 YYYY-MM，默认本月"),
            OpenApiParameter("project", int, description="楼盘 id（可选）"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        form = MonthlyReportForm(
            request.query_params or None, user=staff(request), default_month=local_day(now).replace(day=1)
        )
        if form.is_bound and not form.is_valid():
            raise exceptions.ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        month = form.cleaned_data["month"] if form.is_bound else form.default_month
        project = form.cleaned_data.get("project") if form.is_bound else None
        report = analysis.monthly_report(staff(request), month, now=now, project=project)
        return Response(
            {
                "month": f"{report.month:%Y-%m}",
                "previous_month": f"{report.previous_month:%Y-%m}",
                "project": report.project.pk if report.project else None,
                "current": _figures(report.current),
                "previous": _figures(report.previous),
                "by_category": _rows(report.by_category),
                "by_channel": _rows(report.by_channel),
                "by_project": _rows(report.by_project),
                "open_at_month_end": {
                    "cutoff": report.cutoff,
                    "count": report.open_count,
                    "items": [
                        {
                            "id": c.pk,
                            "number": c.number,
                            "status": c.status,
                            "status_label": c.get_status_display(),
                            "project_name": c.project.name,
                            "category_name": c.category.name,
                            "registered_at": c.registered_at,
                            "resolution_due_at": c.resolution_due_at,
                        }
                        for c in report.open_items
                    ],
                },
            }
        )


urlpatterns = [
    path("complaints/reports/monthly/", MonthlyReportView.as_view(), name="api-complaint-report-monthly"),
]
