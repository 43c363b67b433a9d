"""培训 over the API: plans and sessions (list, retrieve, create), each session with its
attendances. Rows come from crm.training.selectors (outside the scope: 404); writes call
crm.training.services, whose DomainErrors become 400s (crm.api.errors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crm.accounts.models import User
from crm.core.errors import PermissionDenied as NotAllowed
from crm.training import selectors, services
from crm.training.forms import SessionFilterForm
from crm.training.models import Attendance, TrainingPlan, TrainingSession

from .care import ActionPermission, staff
from .views import Pagination


class TrainingPlanSerializer(serializers.ModelSerializer[TrainingPlan]):
    topic_label = serializers.CharField(source="get_topic_display", read_only=True)

    class Meta:
        model = TrainingPlan
        fields = ("id", "title", "topic", "topic_label", "starts_on", "ends_on", "audience", "description")
        read_only_fields = ("id", "topic_label")


class AttendanceSerializer(serializers.ModelSerializer[Attendance]):
    attendee_name = serializers.CharField(source="attendee.__str__", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Attendance
        fields = ("id", "attendee", "attendee_name", "status", "status_label", "score", "summary", "summary_at")
        read_only_fields = fields


class TrainingSessionSerializer(serializers.ModelSerializer[TrainingSession]):
    plan_title = serializers.CharField(source="plan.title", read_only=True)
    trainer_label = serializers.CharField(read_only=True)
    attendances = AttendanceSerializer(many=True, read_only=True)
    attendees = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), many=True, write_only=True, help_text="参训人员（员工 id）"
    )

    class Meta:
        model = TrainingSession
        fields = (
            "id",
            "plan",
            "plan_title",
            "topic",
            "trainer",
            "trainer_name",
            "trainer_label",
            "starts_at",
            "hours",
            "location",
            "attendees",
            "attendances",
        )
        read_only_fields = ("id", "plan_title", "trainer_label", "attendances")
        extra_kwargs = {
            "plan": {"queryset": TrainingPlan.objects.none()},
            "trainer": {"queryset": User.objects.none(), "required": False, "allow_null": True},
            "hours": {"required": False},
        }


class TrainingPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[TrainingPlan]
):
    """培训计划: the plans the caller may see; 制定 (create) for planners."""

    queryset = TrainingPlan.objects.none()
    serializer_class = TrainingPlanSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "create": (services.PLAN,)}

    def get_queryset(self) -> QuerySet[TrainingPlan]:
        return selectors.plans_visible_to(staff(self.request)).order_by("-starts_on", "-id")

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.instance = services.create_plan(actor=staff(self.request), **serializer.validated_data)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc


class TrainingSessionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[TrainingSession]
):
    """培训场次: the sessions the caller attends, teaches or (planners, leaders) oversees,
    with the page's filters (when=upcoming|past|mine, topic); 安排 (create) for planners."""

    queryset = TrainingSession.objects.none()
    serializer_class = TrainingSessionSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "create": (services.PLAN,)}

    def get_queryset(self) -> QuerySet[TrainingSession]:
        user = staff(self.request)
        rows = (
            SessionFilterForm(self.request.query_params, user=user, now=timezone.now()).queryset()
            if self.action == "list"
            else selectors.sessions_visible_to(user)
        )
        return rows.select_related("plan", "trainer").prefetch_related("attendances__attendee")

    @extend_schema(summary="安排培训", request=TrainingSessionSerializer, responses={201: TrainingSessionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = TrainingSessionSerializer(data=request.data)
        staff_rows = User.objects.filter(company_id=user.company_id or 0, is_active=True)
        serializer.fields["plan"].queryset = selectors.plans_visible_to(user)  # type: ignore[attr-defined]
        serializer.fields["trainer"].queryset = staff_rows  # type: ignore[attr-defined]
        serializer.fields["attendees"].child_relation.queryset = staff_rows  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            session = services.schedule_session(
                data["plan"],
                actor=user,
                topic=data["topic"],
                starts_at=data["starts_at"],
                attendees=data["attendees"],
                trainer=data.get("trainer"),
                trainer_name=data.get("trainer_name", ""),
                hours=data.get("hours") or Decimal(2),
                location=data.get("location", ""),
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(TrainingSessionSerializer(session).data, status=status.HTTP_201_CREATED)
