"""报告 over the API: the report packs (list, retrieve with their sections) and generation
on demand. Rows come from crm.reports.selectors (a pack outside the caller's scope is a
404, as on the page); generation calls the same service as the page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crm.reports import selectors, services
from crm.reports.forms import PackFilterForm, period_of
from crm.reports.models import Kind, ReportPack

from .care import ActionPermission, staff
from .views import Pagination


class ReportPackSerializer(serializers.ModelSerializer[ReportPack]):
    scope = serializers.CharField(source="scope_label", read_only=True)
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = ReportPack
        fields: tuple[str, ...] = (
            "id",
            "kind",
            "project",
            "scope",
            "period_start",
            "period_end",
            "version",
            "status",
            "generated_at",
            "author_name",
            "summary",
            "next_focus",
            "submitted_at",
            # Changed by an erasure (crm.reports.erasure): how often and when last.
            "erasure_count",
            "erased_at",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_author_name(self, obj: ReportPack) -> str:
        return str(obj.author) if obj.author else ""


class ReportPackDetailSerializer(ReportPackSerializer):
    snapshot = serializers.JSONField(
        source="data", read_only=True, help_text="快照：sections → figures、tables（columns、rows）"
    )

    class Meta(ReportPackSerializer.Meta):
        fields = (*ReportPackSerializer.Meta.fields, "snapshot")
        read_only_fields = fields


class GenerateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=Kind.choices)
    project = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="空：全部楼盘")
    day = serializers.DateField(help_text="期间内任一天：周报取所在周，月度报告取所在月，巡查报告取当日")


class ReportPackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ReportPack]):
    """报告: list (kind, project, day, status), detail with the snapshot, generate (create)."""

    queryset = ReportPack.objects.none()
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "create": (services.GENERATE,)}

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return ReportPackSerializer if self.action == "list" else ReportPackDetailSerializer

    def get_queryset(self) -> QuerySet[ReportPack]:
        user = staff(self.request)
        if self.action == "list":
            return PackFilterForm(self.request.query_params, user=user).queryset()
        return selectors.packs_visible_to(user).select_related("project", "author")

    @extend_schema(summary="生成报告", request=GenerateSerializer, responses={201: ReportPackDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = GenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = None
        if data["project"] is not None:
            project = selectors.projects_for_reports(user).filter(pk=data["project"]).first()
            if project is None:
                raise serializers.ValidationError({"project": ["楼盘不存在或无权操作"]})
        elif not selectors.may_report_all_projects(user):
            raise serializers.ValidationError({"project": ["请选择楼盘（全部楼盘的报告仅限全公司范围的角色）"]})
        if data["kind"] == Kind.DAILY_INSPECTION and project is None:
            raise serializers.ValidationError({"project": ["每日巡查报告按楼盘生成，请选择楼盘"]})
        first, last = period_of(data["kind"], data["day"])
        pack = services.generate_pack(
            data["kind"],
            company_id=user.company_id or 0,
            project=project,
            first=first,
            last=last,
            now=timezone.now(),
            actor=user,
        )
        return Response(ReportPackDetailSerializer(pack).data, status=status.HTTP_201_CREATED)
