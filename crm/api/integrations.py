"""Complaints from the website and the WeChat official account (接入方).

No user signs in: each integration sends its own key (``X-Integration-Key: ek_…`` or
``Authorization: Key ek_…``), made in 系统设置 → 投诉接入方 and stored only as a hash
(crm.complaints.integrations). A missing, wrong or disabled key is a 401 with the same
message. Registration goes through the same service as the public page, stamped with
the client's channel (官网 → 网站, 微信公众号 → 微信) and limited per client per hour.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.complaints import integrations, public, services
from crm.complaints.models import Category, IntegrationClient
from crm.projects.models import Project

from .serializers import ErrorSerializer


class IntegrationKeyAuthentication(BaseAuthentication):
    """DRF authentication by an integration key; ``request.auth`` is the client."""

    def authenticate(self, request: Request) -> tuple[Any, IntegrationClient] | None:
        key = request.META.get("HTTP_X_INTEGRATION_KEY", "")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not key and header.startswith("Key "):
            key = header[4:]
        client = integrations.authenticate(key) if key else None
        if client is None:
            raise exceptions.AuthenticationFailed("接入密钥无效或已停用。")
        return (None, client)

    def authenticate_header(self, request: Request) -> str:
        return "Key"


class IntegrationKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The key in the OpenAPI document (Swagger UI's 授权 button)."""

    target_class = "crm.api.integrations.IntegrationKeyAuthentication"
    name = "IntegrationKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-Integration-Key"}


class HasIntegrationClient(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, IntegrationClient)


class IntegrationComplaintSerializer(serializers.Serializer[Any]):
    complainant_name = serializers.CharField(max_length=50)
    complainant_mobile = serializers.CharField(max_length=20)
    content = serializers.CharField(max_length=5000)
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.none(), required=False, allow_null=True, default=None
    )
    unit = serializers.CharField(max_length=50, required=False, allow_blank=True, default="", help_text="房号（文字）")
    event_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    event_place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="图片（multipart/form-data，可多个）"
    )

    def __init__(self, *args: Any, client: IntegrationClient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if client is None:  # the schema generator
            return
        self.fields["project"].queryset = public.public_projects(client.company)  # type: ignore[attr-defined]
        self.fields["category"].queryset = public.public_categories(client.company)  # type: ignore[attr-defined]


class IntegrationView(APIView):
    authentication_classes = (IntegrationKeyAuthentication,)
    permission_classes = (HasIntegrationClient,)
    # Limited per integration key (COMPLAINT_INTEGRATION_PER_HOUR), not by DRF's anon rate.
    throttle_classes = ()

    @property
    def client(self) -> IntegrationClient:
        auth = self.request.auth
        assert isinstance(auth, IntegrationClient)
        return auth


class ComplaintIntake(IntegrationView):
    @extend_schema(
        summary="接入方提交投诉",
        request=IntegrationComplaintSerializer,
        responses={
            201: inline_serializer(
                "IntegrationComplaintCreated",
                {"number": serializers.CharField(), "status": serializers.CharField()},
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        client = self.client
        serializer = IntegrationComplaintSerializer(data=request.data, client=client)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        complaint = integrations.submit(
            client,
            services.Intake(
                channel=client.channel,
                complainant_name=data["complainant_name"],
                complainant_mobile=data["complainant_mobile"],
                content=data["content"],
                project=data["project"],
                category=data["category"] or services.unsorted_category(client.company),
                unit_text=data["unit"],
                event_at=data["event_at"],
                event_place=data["event_place"],
                attachments=tuple(data["attachments"]),
            ),
            now=timezone.now(),
        )
        return Response(
            {"number": complaint.number, "status": public.PUBLIC_STATUS[complaint.status][0]},
            status=status.HTTP_201_CREATED,
        )


class Choices(IntegrationView):
    @extend_schema(
        summary="接入方可选的楼盘和投诉类别",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 401: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        company = self.client.company
        return Response(
            {
                "projects": [{"id": p.pk, "name": p.name} for p in public.public_projects(company)],
                "categories": [{"id": c.pk, "name": c.name} for c in public.public_categories(company)],
            }
        )
