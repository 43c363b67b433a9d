"""投诉 over the API: the list (same filters as the page), detail, registration, the
events and the lifecycle actions.

Rows come from crm.complaints.selectors, so a complaint outside the caller's scope is a
404 as on the page; registration and every action call the same services, whose
DomainErrors become 400s with the Chinese message (crm.api.errors).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.accounts.models import User
from crm.complaints import selectors, services
from crm.complaints.forms import ComplaintFilterForm
from crm.complaints.models import Category, Channel, Complaint, ComplaintAttachment, ComplaintEvent
from crm.core.errors import PermissionDenied as NotAllowed
from crm.projects.models import Project, Unit

from .care import ActionPermission, staff
from .views import Pagination


class AttachmentSerializer(serializers.ModelSerializer[ComplaintAttachment]):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintAttachment
        fields = ("id", "content_type", "size", "width", "height", "uploaded_at", "url", "thumbnail_url")
        read_only_fields = fields

    def get_url(self, obj: ComplaintAttachment) -> str:
        return reverse("complaints:attachment", args=(obj.complaint_id, obj.pk))

    def get_thumbnail_url(self, obj: ComplaintAttachment) -> str | None:
        """A JPEG at most 320 px on its longer side; none for HEIC stored before Pillow."""
        if not obj.is_inline:
            return None
        return reverse("complaints:attachment_thumbnail", args=(obj.complaint_id, obj.pk))


class ComplaintSerializer(serializers.ModelSerializer[Complaint]):
    """A complaint as staff see it: the mobile masked, deadlines, whether it is breached and
    the actions the caller may take now."""

    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    mobile = serializers.CharField(source="masked_mobile", read_only=True)
    email = serializers.CharField(source="masked_email", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    breached = serializers.SerializerMethodField(help_text="是否已超过首次响应或处理期限")
    attachments = serializers.SerializerMethodField(help_text="图片附件（地址需登录且有权查看该投诉）")
    actions = serializers.SerializerMethodField(help_text="当前用户现在可执行的操作")

    class Meta:
        model = Complaint
        fields = (
            "id",
            "number",
            "channel",
            "channel_label",
            "status",
            "status_label",
            "complainant_name",
            "mobile",
            "email",
            "content",
            "event_at",
            "event_place",
            "project",
            "project_name",
            "unit",
            "unit_text",
            "customer",
            "category",
            "category_name",
            "assignee",
            "assignee_name",
            "is_special",
            "is_important",
            "is_repeat",
            "repeat_of",
            "plan",
            "satisfaction",
            "registered_at",
            "first_response_due_at",
            "resolution_due_at",
            "acknowledged_at",
            "resolved_at",
            "confirmed_at",
            "escalation_level",
            "breached",
            "attachments",
            "actions",
        )
        read_only_fields = fields

    def get_assignee_name(self, obj: Complaint) -> str:
        return str(obj.assignee) if obj.assignee else ""

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj: Complaint) -> list[dict[str, Any]]:
        return AttachmentSerializer(obj.attachments.all(), many=True).data  # type: ignore[return-value]

    def get_breached(self, obj: Complaint) -> bool:
        return obj.is_breached(timezone.now())

    def get_actions(self, obj: Complaint) -> list[str]:
        return services.available_verbs(obj, self.context["request"].user)


class ComplaintCreateSerializer(serializers.Serializer[Any]):
    channel = serializers.ChoiceField(choices=Channel.choices)
    complainant_name = serializers.CharField(max_length=50)
    complainant_mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    complainant_email = serializers.EmailField(required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=5000)
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.none())
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), required=False, allow_null=True)
    event_at = serializers.DateTimeField(required=False, allow_null=True)
    event_place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_special = serializers.BooleanField(required=False, default=False)
    is_important = serializers.BooleanField(required=False, default=False)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="图片（multipart/form-data，可多个）"
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is None:  # the schema generator
            return
        projects = selectors.projects_for_intake(user)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.fields["category"].queryset = selectors.categories_for(user)  # type: ignore[attr-defined]
        self.fields["unit"].queryset = Unit.objects.filter(project__in=projects)  # type: ignore[attr-defined]


class ComplaintEventSerializer(serializers.ModelSerializer[ComplaintEvent]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintEvent
        fields = ("id", "kind", "kind_label", "from_status", "to_status", "note", "at", "actor", "actor_name")
        read_only_fields = fields

    def get_actor_name(self, obj: ComplaintEvent) -> str:
        return str(obj.actor) if obj.actor else "系统"


class ActionSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    plan = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    satisfaction = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=5)
    # progress: tell the complainant by SMS (投诉进度)
    notify = serializers.BooleanField(required=False, default=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="分派时可改类别；待分类的投诉分派时必填",
    )


class ComplaintViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Complaint]
):
    """投诉: list with the page's filters (q, state, status, category, channel, project)."""

    queryset = Complaint.objects.none()
    serializer_class = ComplaintSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "create": (services.ADD,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Complaint]:
        user = staff(self.request)
        if self.action == "list":
            rows = ComplaintFilterForm(self.request.query_params, user=user).queryset(now=timezone.now())
        else:
            rows = selectors.complaints_visible_to(user)
        return (
            rows.select_related("project", "category", "assignee")
            .prefetch_related("attachments")
            .order_by("-registered_at", "-id")
        )

    @extend_schema(summary="登记投诉", request=ComplaintCreateSerializer, responses={201: ComplaintSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        if user.company is not None:
            services.ensure_default_categories(user.company)
        serializer = ComplaintCreateSerializer(data=request.data, user=user)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = services.register_complaint(
            services.Intake(
                channel=data["channel"],
                complainant_name=data["complainant_name"],
                complainant_mobile=data["complainant_mobile"],
                complainant_email=data["complainant_email"],
                content=data["content"],
                project=data["project"],
                category=data["category"],
                unit=data.get("unit"),
                event_at=data.get("event_at"),
                event_place=data["event_place"],
                is_special=data["is_special"],
                is_important=data["is_important"],
                attachments=tuple(data["attachments"]),
            ),
            actor=user,
        )
        return Response(self.get_serializer(complaint).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="处理记录", responses={200: ComplaintEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        return Response(ComplaintEventSerializer(selectors.complaint_events(complaint), many=True).data)

    @extend_schema(
        summary="办理（状态流转）",
        description="verb 为 dispatch、acknowledge、investigate、propose、approve、reject、start、progress、"
        "resolve、confirm、archive、wait、resume、reopen、cancel、reassign 之一；"
        "不允许的流转或缺少必填内容时返回 400。",
        request=ActionSerializer,
        responses={200: ComplaintSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<verb>[a-z]+)")
    def act(self, request: Request, pk: str | None = None, verb: str = "") -> Response:
        complaint = self.get_object()
        serializer = ActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.perform(complaint, verb, actor=staff(request), **data)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=complaint.pk)).data)
