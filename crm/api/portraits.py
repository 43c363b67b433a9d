"""客户描摹 over the API: list (the page's filters: show, quarter, project), retrieve and
submit. Rows come from crm.portraits.selectors (outside the scope: 404); a submission calls
crm.portraits.services.submit_portrait, whose DomainErrors become 400s (crm.api.errors)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.lib.dates import local_day
from crm.portraits import selectors, services
from crm.portraits.forms import PORTRAIT_FIELDS, PortraitFilterForm
from crm.portraits.models import Portrait

from .care import ActionPermission, staff
from .views import Pagination


class PortraitSerializer(serializers.ModelSerializer[Portrait]):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_number = serializers.CharField(source="customer.number", read_only=True)
    consultant_name = serializers.CharField(source="consultant.__str__", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = Portrait
        fields = (
            "id",
            "customer",
            "customer_name",
            "customer_number",
            "consultant",
            "consultant_name",
            "project",
            "project_name",
            "quarter",
            "submitted_on",
            "submitted_at",
            *PORTRAIT_FIELDS,
        )
        read_only_fields = (
            "id",
            "customer_name",
            "customer_number",
            "consultant",
            "consultant_name",
            "project",
            "project_name",
            "quarter",
            "submitted_on",
            "submitted_at",
        )
        extra_kwargs = {"customer": {"queryset": Customer.objects.none()}}


class PortraitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Portrait]):
    """客户描摹: list with the page's filters (show=mine|team|all, quarter=2026Q3, project),
    one portrait, and 提交 (create) of a customer the caller may see."""

    queryset = Portrait.objects.none()
    serializer_class = PortraitSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "create": (services.ADD,)}

    def get_queryset(self) -> QuerySet[Portrait]:
        user = staff(self.request)
        if self.action == "list":
            today = local_day(timezone.now())
            return PortraitFilterForm(self.request.query_params, user=user, today=today).queryset()
        return selectors.portraits_visible_to(user).select_related("customer", "consultant", "project")

    @extend_schema(summary="提交客户描摹", request=PortraitSerializer, responses={201: PortraitSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = PortraitSerializer(data=request.data)
        serializer.fields["customer"].queryset = customers_visible_to(user)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        try:
            portrait = services.submit_portrait(customer, actor=user, **data)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(PortraitSerializer(portrait).data, status=status.HTTP_201_CREATED)
