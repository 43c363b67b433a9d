"""指标 over the API: a period's KPI values for a project (or every project in scope).

The same period form and KPI functions as the dashboard (crm.kpis), so the caller's data
scope decides what counts and the figures equal the page's; a malformed period or a
project outside the caller's scope is a 400 with the Chinese message.
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

from crm.core.errors import DomainError
from crm.kpis import definitions
from crm.kpis.definitions import Figure, KpiQuery
from crm.kpis.forms import PeriodForm
from crm.lib.dates import local_day

from .care import staff

VIEW = "kpis.view_kpis"


class KpiPermission(permissions.BasePermission):
    message = "您没有查看指标看板的权限。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(VIEW))


def figure_json(f: Figure, request: Request) -> dict[str, Any]:
    return {
        "key": f.key,
        "label": f.label,
        "value": None if f.value is None else float(f.value),
        "unit": f.unit,
        "numerator": f.numerator,
        "numerator_label": f.numerator_label,
        "denominator": f.denominator,
        "denominator_label": f.denominator_label,
        "numerator_url": request.build_absolute_uri(f.numerator_url) if f.numerator_url else None,
        "denominator_url": request.build_absolute_uri(f.denominator_url) if f.denominator_url else None,
        "note": f.note,
    }


class KpiValuesView(APIView):
    permission_classes = (KpiPermission,)

    @extend_schema(
        summary="指标值（按楼盘和期间）",
        parameters=[
            OpenApiParameter("kind", str, description="期间类型：month（默认）、week、quarter、custom"),
            OpenApiParameter("value", str, description="2026-10、2026-W41 或 2026-Q4，默认当前期间"),
            OpenApiParameter("start", str, description="自定义期间开始日期 YYYY-MM-DD"),
            OpenApiParameter("end", str, description="自定义期间结束日期 YYYY-MM-DD"),
            OpenApiParameter("project", int, description="楼盘 id（可选，默认可查看的全部楼盘）"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        user = staff(request)
        form = PeriodForm(request.query_params or None, user=user)
        if form.is_bound and not form.is_valid():
            raise exceptions.ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        try:
            period = form.period(today=local_day(timezone.now()))
        except DomainError as exc:
            raise exceptions.ValidationError({exc.field or "non_field_errors": [exc.message]}) from exc
        q = KpiQuery(user, period.start, period.end, form.project_ids)
        return Response(
            {
                "period": {"kind": period.kind, "start": period.start, "end": period.end, "label": period.label},
                "project": form.project_ids[0] if form.project_ids else None,
                "kpis": [figure_json(f, request) for f in definitions.all_figures(q)],
            }
        )


urlpatterns = [path("kpis/", KpiValuesView.as_view(), name="api-kpis")]
