"""导出申请 over the API: the same requests, decisions and one-time download as the page
(crm.customers.export_requests), in the same scope: one's own requests, and for approvers
every request of their company.

- ``POST /api/export-requests/`` {kind, filters, purpose}: files a request when the export
  needs approval (400 otherwise: export directly);
- ``POST …/<id>/approve/`` and ``…/<id>/reject/`` {note}; ``POST …/<id>/download/``: the
  workbook, once, for the requester.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.audit import client_ip
from crm.core.errors import DomainError
from crm.customers import export_requests, exporting
from crm.customers.models import ExportRequest

from .care import ActionPermission, staff
from .views import Pagination


class ExportRequestSerializer(serializers.ModelSerializer[ExportRequest]):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.__str__", read_only=True)
    decided_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ExportRequest
        fields = (
            "id",
            "kind",
            "count",
            "with_contact",
            "purpose",
            "filters_text",
            "status",
            "status_label",
            "requested_by_name",
            "requested_at",
            "decided_by_name",
            "decided_at",
            "decision_note",
            "downloaded_at",
        )
        read_only_fields = fields

    def get_decided_by_name(self, obj: ExportRequest) -> str:
        return str(obj.decided_by) if obj.decided_by else ""


class ExportRequestCreateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ExportRequest.Kind.choices)
    filters = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    purpose = serializers.CharField(max_length=200)


class DecisionSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ExportRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ExportRequest]):
    """Bulk exports waiting for, or given, a supervisor's approval."""

    queryset = ExportRequest.objects.none()
    serializer_class = ExportRequestSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {
        "*": ("customers.export_customers",),
        "approve": ("customers.approve_export",),
        "reject": ("customers.approve_export",),
    }

    def get_queryset(self) -> Any:
        return export_requests.requests_visible_to(staff(self.request))

    @extend_schema(summary="申请导出", request=ExportRequestCreateSerializer, responses={201: ExportRequestSerializer})
    def create(self, request: Request) -> Response:
        user = staff(request)
        serializer = ExportRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        build = exporting.export_customers if data["kind"] == ExportRequest.Kind.CUSTOMERS else exporting.export_deals
        try:
            export = build(user, data["filters"], ip=client_ip(request))
        except exporting.ApprovalRequired as exc:
            created = export_requests.request_export(exc, actor=user, purpose=data["purpose"], now=timezone.now())
            return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)
        export.file.close()
        raise DomainError("本次导出未超过审批阈值，无需申请，请直接导出")

    @extend_schema(summary="批准导出", request=DecisionSerializer, responses={200: ExportRequestSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = export_requests.approve_export(
            self.get_object(), actor=staff(request), note=serializer.validated_data["note"], now=timezone.now()
        )
        return Response(self.get_serializer(done).data)

    @extend_schema(summary="驳回导出", request=DecisionSerializer, responses={200: ExportRequestSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = export_requests.reject_export(
            self.get_object(), actor=staff(request), note=serializer.validated_data["note"], now=timezone.now()
        )
        return Response(self.get_serializer(done).data)

    @extend_schema(
        summary="下载已批准的导出（仅一次）",
        request=None,
        responses={(200, exporting.XLSX_CONTENT_TYPE): OpenApiResponse(description="Excel 工作簿")},
    )
    @action(detail=True, methods=["post"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        export = export_requests.download_export(
            self.get_object(), actor=staff(request), ip=client_ip(request), now=timezone.now()
        )
        response = FileResponse(export.file, content_type=exporting.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = export.content_disposition
        response["Cache-Control"] = "no-store"
        return response
