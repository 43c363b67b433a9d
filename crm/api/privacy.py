"""个人信息申请 over the API (PIPL 44–47): list, detail, register, and the copy as JSON.

Rows come from crm.privacy.selectors (a request about a customer outside the caller's
scope is a 404, as on the pages); writes call crm.privacy.services, whose DomainErrors
become 400s with the Chinese message (crm.api.errors)."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.audit import client_ip
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.privacy import selectors, services
from crm.privacy.models import DataSubjectRequest, ReceivedVia, RequestKind

from .care import ActionPermission, staff
from .views import Pagination


class RequestSerializer(serializers.ModelSerializer[DataSubjectRequest]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    customer_number = serializers.CharField(source="customer.number", read_only=True)

    class Meta:
        model = DataSubjectRequest
        fields = (
            "id",
            "number",
            "customer",
            "customer_number",
            "kind",
            "kind_label",
            "received_via",
            "received_on",
            "identity_check",
            "details",
            "deadline_on",
            "deadline_is_estimate",
            "status",
            "status_label",
            "handler",
            "outcome",
            "created_at",
            "closed_at",
        )
        read_only_fields = fields


class RequestCreateSerializer(serializers.Serializer[Any]):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    received_via = serializers.ChoiceField(choices=ReceivedVia.choices)
    received_on = serializers.DateField()
    identity_check = serializers.CharField(max_length=200)
    details = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            # Outside the scope a customer "does not exist", as everywhere else.
            self.fields["customer"].queryset = customers_visible_to(user, include_archived=True)  # type: ignore[attr-defined]


class RequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[DataSubjectRequest],
):
    """个人信息权利申请 (查阅/复制/更正/删除), newest deadline first."""

    queryset = DataSubjectRequest.objects.none()
    serializer_class = RequestSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "create": (services.ADD,), "copy": (services.HANDLE,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[DataSubjectRequest]:
        return (
            selectors.requests_visible_to(staff(self.request)).select_related("customer").order_by("deadline_on", "id")
        )

    @extend_schema(summary="受理个人信息申请", request=RequestCreateSerializer, responses={201: RequestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = RequestCreateSerializer(data=request.data, user=user)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        dsr = services.create_request(customer, actor=user, now=timezone.now(), **data)
        return Response(self.get_serializer(dsr).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="个人信息副本（JSON，记入审计日志）",
        request=None,
        responses={200: OpenApiResponse(description="客户全部个人信息，按类别分组")},
    )
    @action(detail=True, methods=["post"])
    def copy(self, request: Request, pk: str | None = None) -> Response:
        dsr = self.get_object()
        body = services.produce_copy(dsr, actor=staff(request), fmt="json", ip=client_ip(request._request))
        return Response(json.loads(body))
