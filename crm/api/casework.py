"""咨询, 首问事项 and 媒体监督 over the API: list (the pages' filters), detail and create.

Rows come from crm.complaints.selectors (outside the scope: 404, as on the pages); create
calls the same services, whose DomainErrors become 400s with the Chinese message
(crm.api.errors)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crm.accounts.models import User
from crm.complaints import consultations, issues, media, selectors
from crm.complaints.casework_forms import ConsultationFilterForm, FindingFilterForm, IssueFilterForm
from crm.complaints.models import (
    Consultation,
    ConsultationChannel,
    ConsultationTopic,
    CustomerIssue,
    IssueHandOff,
    MediaFinding,
    Medium,
    Sentiment,
)
from crm.projects.models import Project

from .care import ActionPermission, staff
from .views import Pagination


def _name(user: User | None) -> str:
    return str(user) if user else ""


# ---------------------------------------------------------------- consultations


class ConsultationSerializer(serializers.ModelSerializer[Consultation]):
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    topic_name = serializers.CharField(source="topic.name", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    mobile = serializers.CharField(source="masked_mobile", read_only=True)
    answered_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Consultation
        fields = (
            "id",
            "channel",
            "channel_label",
            "topic",
            "topic_name",
            "question",
            "answer",
            "contact_name",
            "mobile",
            "customer",
            "project",
            "project_name",
            "answered_by",
            "answered_by_name",
            "asked_at",
            "needs_follow_up",
            "complaint",
        )
        read_only_fields = fields

    def get_answered_by_name(self, obj: Consultation) -> str:
        return _name(obj.answered_by)


class ConsultationCreateSerializer(serializers.Serializer[Any]):
    channel = serializers.ChoiceField(choices=ConsultationChannel.choices)
    topic = serializers.PrimaryKeyRelatedField(queryset=ConsultationTopic.objects.none())
    question = serializers.CharField(max_length=2000)
    answer = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=50)
    contact_mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
    needs_follow_up = serializers.BooleanField(required=False, default=False)
    asked_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is None:
            return
        self.fields["topic"].queryset = ConsultationTopic.objects.filter(  # type: ignore[attr-defined]
            company_id=user.company_id or 0, is_active=True
        )
        self.fields["project"].queryset = selectors.projects_for_intake(user)  # type: ignore[attr-defined]


class ConsultationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Consultation]
):
    """咨询: list with the page's filters (q, channel, topic, project, follow_up, date_from, date_to)."""

    queryset = Consultation.objects.none()
    serializer_class = ConsultationSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (consultations.VIEW,), "create": (consultations.ADD,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Consultation]:
        user = staff(self.request)
        if self.action == "list":
            rows = ConsultationFilterForm(self.request.query_params, user=user).queryset()
        else:
            rows = selectors.consultations_visible_to(user)
        return rows.select_related("topic", "project", "answered_by").order_by("-asked_at", "-id")

    @extend_schema(summary="登记咨询", request=ConsultationCreateSerializer, responses={201: ConsultationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        if user.company is not None:
            consultations.ensure_default_topics(user.company)
        serializer = ConsultationCreateSerializer(data=request.data, user=user)
        serializer.is_valid(raise_exception=True)
        consultation = consultations.register_consultation(
            consultations.ConsultationIntake(**serializer.validated_data), actor=user
        )
        return Response(self.get_serializer(consultation).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- first-responder issues


class HandOffSerializer(serializers.ModelSerializer[IssueHandOff]):
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = IssueHandOff
        fields = (
            "id",
            "department",
            "department_name",
            "to_user",
            "asked",
            "handed_at",
            "respond_by",
            "answer",
            "answered_at",
        )
        read_only_fields = fields


class IssueSerializer(serializers.ModelSerializer[CustomerIssue]):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    mobile = serializers.CharField(source="masked_mobile", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    first_responder_name = serializers.SerializerMethodField()
    hand_offs = HandOffSerializer(many=True, read_only=True)

    class Meta:
        model = CustomerIssue
        fields = (
            "id",
            "number",
            "status",
            "status_label",
            "source",
            "source_label",
            "subject",
            "description",
            "contact_name",
            "mobile",
            "customer",
            "project",
            "project_name",
            "first_responder",
            "first_responder_name",
            "received_at",
            "closed_at",
            "hand_offs",
        )
        read_only_fields = fields

    def get_first_responder_name(self, obj: CustomerIssue) -> str:
        return _name(obj.first_responder)


class IssueCreateSerializer(serializers.Serializer[Any]):
    subject = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=5000)
    contact_name = serializers.CharField(max_length=50)
    contact_mobile = serializers.CharField(max_length=20)
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is None:
            return
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]


class IssueViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[CustomerIssue]
):
    """首问事项: list with the page's filters (q, state, status, project); the caller
    becomes the first responder of what they create."""

    queryset = CustomerIssue.objects.none()
    serializer_class = IssueSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (issues.VIEW,), "create": (issues.ADD,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[CustomerIssue]:
        user = staff(self.request)
        if self.action == "list":
            rows = IssueFilterForm(self.request.query_params, user=user).queryset(now=timezone.now())
        else:
            rows = selectors.issues_visible_to(user)
        return (
            rows.select_related("project", "first_responder")
            .prefetch_related("hand_offs__department")
            .order_by("-received_at", "-id")
        )

    @extend_schema(summary="登记首问事项", request=IssueCreateSerializer, responses={201: IssueSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = IssueCreateSerializer(data=request.data, user=user)
        serializer.is_valid(raise_exception=True)
        issue = issues.register_issue(issues.IssueIntake(**serializer.validated_data), actor=user)
        return Response(self.get_serializer(self.get_queryset().get(pk=issue.pk)).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- media findings


class FindingSerializer(serializers.ModelSerializer[MediaFinding]):
    medium_name = serializers.CharField(source="medium.name", read_only=True)
    sentiment_label = serializers.CharField(source="get_sentiment_display", read_only=True)
    responded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = MediaFinding
        fields = (
            "id",
            "medium",
            "medium_name",
            "project",
            "found_at",
            "link",
            "summary",
            "sentiment",
            "sentiment_label",
            "response",
            "responded_by",
            "responded_by_name",
            "responded_at",
            "complaint",
        )
        read_only_fields = fields

    def get_responded_by_name(self, obj: MediaFinding) -> str:
        return _name(obj.responded_by)


class FindingCreateSerializer(serializers.Serializer[Any]):
    medium = serializers.PrimaryKeyRelatedField(queryset=Medium.objects.none())
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none(), required=False, allow_null=True)
    link = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    summary = serializers.CharField(max_length=5000)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices)
    found_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is None:
            return
        self.fields["medium"].queryset = selectors.media_for(user)  # type: ignore[attr-defined]
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]


class FindingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[MediaFinding]
):
    """媒体监督记录: list with the page's filters (q, sentiment, medium, unanswered)."""

    queryset = MediaFinding.objects.none()
    serializer_class = FindingSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (media.VIEW,), "create": (media.ADD,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[MediaFinding]:
        user = staff(self.request)
        if self.action == "list":
            rows = FindingFilterForm(self.request.query_params, user=user).queryset()
        else:
            rows = selectors.findings_visible_to(user)
        return rows.select_related("medium", "responded_by").order_by("-found_at", "-id")

    @extend_schema(summary="登记媒体监督记录", request=FindingCreateSerializer, responses={201: FindingSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = FindingCreateSerializer(data=request.data, user=user)
        serializer.is_valid(raise_exception=True)
        finding = media.record_finding(media.FindingIntake(**serializer.validated_data), actor=user)
        return Response(self.get_serializer(finding).data, status=status.HTTP_201_CREATED)
