"""客户活动 over the API (/api/events/): the same selectors and services as the pages.

An event outside the caller's scope is a 404; its invitees are those the caller may see.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.customers.filters import DEAL_MILESTONES
from crm.customers.models import Grade, Stage, Tag
from crm.events import selectors, services
from crm.events.forms import EventFilterForm
from crm.events.models import Event, Invitee
from crm.lib.dates import local_day
from crm.projects.models import Project
from crm.projects.selectors import projects_visible_to

from .care import ActionPermission, staff
from .views import Pagination


class CustomerEventSerializer(serializers.ModelSerializer[Event]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = Event
        fields = (
            "id",
            "project",
            "project_name",
            "kind",
            "kind_label",
            "title",
            "starts_on",
            "starts_at_time",
            "place",
            "capacity",
            "description",
            "organiser",
            "status",
            "status_label",
            "invitations_sent_at",
        )
        read_only_fields = ("id", "status", "organiser", "invitations_sent_at")
        extra_kwargs = {"project": {"queryset": Project.objects.none()}}


class EventInviteeSerializer(serializers.ModelSerializer[Invitee]):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_number = serializers.CharField(source="customer.number", read_only=True)
    mobile = serializers.CharField(source="customer.masked_mobile", read_only=True)
    invite_status = serializers.CharField(source="invite_message.status", read_only=True, default="")
    invite_reason = serializers.CharField(source="invite_message.error", read_only=True, default="")
    notice_status = serializers.CharField(source="notice_message.status", read_only=True, default="")
    notice_reason = serializers.CharField(source="notice_message.error", read_only=True, default="")

    class Meta:
        model = Invitee
        fields = (
            "id",
            "customer",
            "customer_name",
            "customer_number",
            "mobile",
            "invited_at",
            "invite_status",
            "invite_reason",
            "notice_status",
            "notice_reason",
            "rsvp",
            "rsvp_note",
            "attended_at",
        )
        read_only_fields = fields


class EventInviteFilterSerializer(serializers.Serializer[Any]):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none(), required=False, allow_null=True)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False, allow_blank=True)
    grade = serializers.ChoiceField(choices=Grade.choices, required=False, allow_blank=True)
    tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.none(), required=False, allow_null=True)
    milestone = serializers.ChoiceField(
        choices=[(key, label) for key, (label, _) in DEAL_MILESTONES.items()], required=False, allow_blank=True
    )
    vip = serializers.BooleanField(required=False, default=False)
    preview = serializers.BooleanField(required=False, default=False, help_text="只返回人数，不加入名单")


class EventInviteResultSerializer(serializers.Serializer[Any]):
    matched = serializers.IntegerField()
    unreachable = serializers.IntegerField(help_text="未同意营销短信或已退订的人数")
    added = serializers.IntegerField()


class EventSendResultSerializer(serializers.Serializer[Any]):
    queued = serializers.IntegerField()
    not_sent = serializers.IntegerField()


class EventRsvpSerializer(serializers.Serializer[Any]):
    rsvp = serializers.ChoiceField(choices=Invitee.Rsvp.choices)
    note = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    over_capacity = serializers.BooleanField(
        required=False, default=False, help_text="超出名额仍登记（需活动管理权限）"
    )


class EventCancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=100)


class EventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Event],
):
    """客户活动: list (filters status, kind, project, when=upcoming|past), create, update;
    invitees by filter, invitations, replies, check-in, publish, finish, cancel."""

    queryset = Event.objects.none()
    serializer_class = CustomerEventSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    http_method_names = ("get", "post", "patch", "head", "options")
    action_permissions = {
        "*": (services.VIEW,),
        "create": (services.ADD,),
        "partial_update": (services.CHANGE,),
        "add_invitees": (services.CHANGE,),
        "send_invitations": (services.CHANGE,),
        "publish": (services.CHANGE,),
        "finish": (services.CHANGE,),
        "cancel": (services.CHANGE,),
        "rsvp": (services.MANAGE_INVITEES,),
        "check_in": (services.MANAGE_INVITEES,),
    }

    def get_queryset(self) -> QuerySet[Event]:
        user = staff(self.request)
        if self.action == "list":
            form = EventFilterForm(self.request.query_params, user=user)
            return form.queryset(today=local_day(timezone.now())).select_related("project")
        return selectors.events_visible_to(user).select_related("project")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        serializer = super().get_serializer(*args, **kwargs)
        if hasattr(serializer, "fields") and "project" in serializer.fields:
            serializer.fields["project"].queryset = projects_visible_to(staff(self.request))
        return serializer

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = services.create_event(data.pop("project"), actor=staff(self.request), **data)

    @extend_schema(summary="修改活动（改期时待发短信随之调整）")
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        serializer = self.get_serializer(event, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k in services.EDITABLE}
        result = services.update_event(event, actor=staff(request), **changes)
        return Response(CustomerEventSerializer(result.event).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(summary="受邀客户", responses={200: EventInviteeSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="invitees")
    def invitees(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.invitees_of(event, staff(request)), request, view=self)
        return paginator.get_paginated_response(EventInviteeSerializer(page, many=True).data)

    @extend_schema(
        summary="按条件邀请客户（preview=true 只预览人数）",
        request=EventInviteFilterSerializer,
        responses={200: EventInviteResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="invitees/add")
    def add_invitees(self, request: Request, pk: str | None = None) -> Response:
        user = staff(request)
        event = self.get_object()
        serializer = EventInviteFilterSerializer(data=request.data)
        serializer.fields["project"].queryset = projects_visible_to(user)  # type: ignore[attr-defined]
        serializer.fields["tag"].queryset = Tag.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        candidates = selectors.candidates(
            user,
            event,
            project=data.get("project"),
            stage=data.get("stage", ""),
            grade=data.get("grade", ""),
            tag=data.get("tag"),
            milestone=data.get("milestone", ""),
            vip=data.get("vip", False),
        )
        matched, unreachable = candidates.count(), selectors.unreachable(candidates)
        added = 0 if data.get("preview") else services.add_invitees(event, candidates, actor=user)
        return Response({"matched": matched, "unreachable": unreachable, "added": added})

    @extend_schema(summary="发送邀请短信", request=None, responses={200: EventSendResultSerializer})
    @action(detail=True, methods=["post"], url_path="send-invitations")
    def send_invitations(self, request: Request, pk: str | None = None) -> Response:
        sent = services.send_invitations(self.get_object(), actor=staff(request))
        return Response({"queued": sent.queued, "not_sent": sent.not_sent})

    @extend_schema(summary="发布活动", request=None, responses={200: CustomerEventSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        return Response(CustomerEventSerializer(services.publish_event(self.get_object(), actor=staff(request))).data)

    @extend_schema(summary="结束活动", request=None, responses={200: CustomerEventSerializer})
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        return Response(CustomerEventSerializer(services.finish_event(self.get_object(), actor=staff(request))).data)

    @extend_schema(
        summary="取消活动（撤回未发出的短信）", request=EventCancelSerializer, responses={200: CustomerEventSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        serializer = EventCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.cancel_event(
            self.get_object(), actor=staff(request), reason=serializer.validated_data["reason"]
        )
        return Response(CustomerEventSerializer(event).data)

    @extend_schema(summary="登记回执", request=EventRsvpSerializer, responses={200: EventInviteeSerializer})
    @action(detail=True, methods=["post"], url_path=r"invitees/(?P<invitee_pk>\d+)/rsvp")
    def rsvp(self, request: Request, pk: str | None = None, invitee_pk: str | None = None) -> Response:
        user = staff(request)
        invitee = selectors.get_invitee_for_user(user, self.get_object(), int(invitee_pk or 0))
        serializer = EventRsvpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invitee = services.record_rsvp(
            invitee, actor=user, rsvp=data["rsvp"], note=data["note"], over_capacity=data["over_capacity"]
        )
        return Response(EventInviteeSerializer(invitee).data)

    @extend_schema(summary="签到", request=None, responses={200: EventInviteeSerializer})
    @action(detail=True, methods=["post"], url_path=r"invitees/(?P<invitee_pk>\d+)/check-in")
    def check_in(self, request: Request, pk: str | None = None, invitee_pk: str | None = None) -> Response:
        user = staff(request)
        invitee = selectors.get_invitee_for_user(user, self.get_object(), int(invitee_pk or 0))
        return Response(EventInviteeSerializer(services.check_in(invitee, actor=user)).data, status=status.HTTP_200_OK)
