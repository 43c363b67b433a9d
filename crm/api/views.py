"""The JSON API: thin views over the same selectors and services as the pages.

Each view fetches through a selector (so data scope is decided in crm.core.scope and an
object outside it is a 404), checks the model permission of the caller's roles, binds an
explicit serializer and calls one service. Business rules live in the services; their
DomainErrors become 400s in crm.api.errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, parsers, permissions, renderers, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.accounts import security
from crm.core.errors import DomainError
from crm.customers import guard, selectors, services
from crm.customers.models import Customer, Deal
from crm.lib.mobile import looks_like_full_number
from crm.projects.models import Project, Unit

from . import filters
from .parsers import BoundedJSONParser
from .scope import UNIT_ORDER, projects_visible_to, units_visible_to
from .serializers import (
    CustomerCreateSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    DealCreateSerializer,
    DealSerializer,
    DealUpdateSerializer,
    ErrorSerializer,
    ProjectSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnitSerializer,
)

if TYPE_CHECKING:
    from crm.accounts.models import User


def staff(request: Request) -> User:
    """The caller; every view here but the token one requires an authenticated user."""
    return cast("User", request.user)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions of the caller's roles, reads included (view_<model>)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> QuerySet[Any]:
        # Only the model is needed; get_queryset() would run the scope queries again.
        queryset: QuerySet[Any] = view.queryset
        return queryset


class AccountLocked(exceptions.APIException):
    # The same status as the login page's lockout (axes' setting, 429 by default).
    status_code = getattr(settings, "AXES_HTTP_RESPONSE_CODE", status.HTTP_429_TOO_MANY_REQUESTS)
    default_code = "locked_out"


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (``Authorization: Token <token>``).

    Authentication goes through Django's ``authenticate`` with the DRF request, so
    django-axes counts every failure here together with those of the login page and
    refuses a locked username even with the right password.
    """

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)
    parser_classes = (BoundedJSONParser, parsers.FormParser, parsers.MultiPartParser)
    renderer_classes = (renderers.JSONRenderer,)

    @extend_schema(
        operation_id="auth_token_create",
        summary="获取接口令牌",
        description="用用户名和密码换取令牌，之后的请求带上请求头 `Authorization: Token <令牌>`。"
        "连续登录失败达到上限（默认 5 次，与网页登录合并计算）后账号锁定（默认 30 分钟），锁定期间返回 429。"
        "令牌在签发后 API_TOKEN_DAYS 天（默认 30 天）过期，修改密码或账号停用时吊销；过期后再次调用本接口获取新令牌。"
        "已启用动态验证码的账号须同时提交 otp。",
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="用户名或密码错误"),
            429: OpenApiResponse(ErrorSerializer, description="登录失败次数过多，账号已锁定"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # axes flags the object passed to authenticate(). Passing the DRF request (not
        # the HttpRequest inside it) keeps AxesMiddleware from swapping this JSON answer
        # for its HTML lockout page; the failure is counted either way.
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            minutes = int(cool_off.total_seconds() // 60) if (cool_off := get_cool_off(request)) else 0
            wait = f"请 {minutes} 分钟后再试" if minutes else "请联系系统管理员解锁"
            raise AccountLocked(f"登录失败次数过多，账号已被锁定，{wait}。")
        if user is None:
            raise serializers.ValidationError({"non_field_errors": ["用户名或密码错误，或账号已停用。"]})
        now = timezone.now()
        # The second factor of the login page applies here too (a wrong code is a failure).
        if user.has_totp and not security.check_totp(user, serializer.validated_data.get("otp", ""), now=now):
            user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
            raise serializers.ValidationError(
                {"otp": ["此账号已启用动态验证码：请在 otp 中填写应用当前显示的 6 位数字。"]}
            )
        # A token login is a login: resets axes' failure count and records last_login.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        if security.token_is_expired(token, now=now):
            token.delete()  # expired (API_TOKEN_DAYS): a new one, with a new key
            token = Token.objects.create(user=user)
        return Response({"token": token.key, "expires_at": security.token_expires_at(token)})


@extend_schema_view(
    list=extend_schema(summary="楼盘列表", description="本公司中当前用户所属的楼盘（公司级角色可见全部楼盘）。"),
    retrieve=extend_schema(summary="楼盘详情", description="不在可见范围内的楼盘返回 404。"),
)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet[Project]):
    """Projects (楼盘) of the caller's company that the caller works on."""

    queryset = Project.objects.none()
    serializer_class = ProjectSerializer
    permission_classes = (ModelPermissions,)
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Project]:
        return projects_visible_to(staff(self.request)).order_by("name", "id")


@extend_schema_view(
    list=extend_schema(summary="房源列表", description="可见楼盘的房源，可按楼盘和状态筛选。"),
    retrieve=extend_schema(summary="房源详情", description="不在可见范围内的房源返回 404。"),
)
class UnitViewSet(viewsets.ReadOnlyModelViewSet[Unit]):
    queryset = Unit.objects.none()
    serializer_class = UnitSerializer
    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    filter_backends = (filters.FilterBackend,)
    filterset_class = filters.UnitFilter

    def get_queryset(self) -> QuerySet[Unit]:
        return units_visible_to(staff(self.request)).select_related("building").order_by(*UNIT_ORDER)


class CustomerSearchSerializer(serializers.Serializer[Any]):
    search = serializers.CharField(max_length=50, required=False, allow_blank=True)
    stage = serializers.CharField(max_length=12, required=False, allow_blank=True)
    grade = serializers.CharField(max_length=1, required=False, allow_blank=True)
    project = serializers.IntegerField(required=False, allow_null=True)
    owner = serializers.IntegerField(required=False, allow_null=True)


@extend_schema_view(
    list=extend_schema(
        summary="客户列表",
        description="当前用户数据范围内的有效客户，新录入的在前；手机号一律脱敏显示。"
        "`search` 可按客户编号、手机号片段（如尾号4位）或姓名查找。",
    ),
    retrieve=extend_schema(summary="客户详情", description="范围外的客户返回 404；手机号脱敏显示。"),
    create=extend_schema(
        summary="新建客户",
        description="手机号统一为标准格式后查重：号码已属于本公司客户时返回 400，"
        "有权查看该客户时附带其 id 和编号。置业顾问默认为当前用户。",
        request=CustomerCreateSerializer,
        responses={201: CustomerSerializer},
    ),
    partial_update=extend_schema(
        summary="修改客户",
        description="修改客户主档；归属和短信授权不在此修改。原样提交脱敏号码视为未修改。",
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer},
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Customer]):
    """Customers in the caller's data scope; mobiles are always masked."""

    queryset = Customer.objects.none()
    serializer_class = CustomerSerializer
    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    filter_backends = (filters.FilterBackend,)
    filterset_class = filters.CustomerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Customer]:
        # Lists show active customers, as the pages do; an archived one stays reachable
        # by id (e.g. from a duplicate-mobile error), like selectors.get_customer_for_user.
        qs = selectors.customers_visible_to(staff(self.request), include_archived=self.action != "list")
        return qs.prefetch_related("tags").order_by("-created_at", "-id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.method == "GET" and looks_like_full_number(request.query_params.get("search", "")):
            # A full number in a URL ends up in every access log on the way (docs/privacy.md).
            raise DomainError("按完整手机号或身份证号搜索请用 POST /api/customers/search/", field="search")
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="按完整号码搜索客户",
        description="与列表相同的筛选，放在请求体中（完整手机号不进入网址和访问日志）。",
        request=CustomerSearchSerializer,
        responses={200: CustomerSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], url_path="search")
    def search(self, request: Request) -> Response:
        body = CustomerSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filterset = filters.CustomerFilter(
            {k: v for k, v in body.validated_data.items() if v not in (None, "")},
            queryset=self.get_queryset(),
            request=request,
        )
        if not filterset.is_valid():
            return Response(filterset.errors, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        # The same hourly limit as the 360° page (crm.customers.guard): 429 beyond it.
        guard.check_open(staff(request), customer.pk, now=timezone.now())
        return Response(self.get_serializer(customer).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        if user.company is None:
            raise exceptions.PermissionDenied("您的账号未关联公司，不能录入客户。")
        serializer = CustomerCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        customer = services.create_customer(actor=user, default_consent_source="接口", **serializer.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        serializer = CustomerUpdateSerializer(
            customer, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.update_customer(customer, actor=staff(request), **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="成交列表", description="数据范围内客户的成交记录。"),
    retrieve=extend_schema(summary="成交详情", description="范围外的成交返回 404。"),
    create=extend_schema(
        summary="登记认购",
        description="房源须未被认购；各节点日期须符合先后顺序且不晚于今天。",
        request=DealCreateSerializer,
        responses={201: DealSerializer},
    ),
    partial_update=extend_schema(
        summary="登记成交节点",
        description="登记或清除（null）签约、全款到账、备案、交房、入住等日期，房源状态随之更新。",
        request=DealUpdateSerializer,
        responses={200: DealSerializer},
    ),
)
class DealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Deal]):
    """Deals (成交) of customers in the caller's data scope and their milestone dates."""

    queryset = Deal.objects.none()
    serializer_class = DealSerializer
    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    filter_backends = (filters.FilterBackend,)
    filterset_class = filters.DealFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Deal]:
        return (
            selectors.deals_visible_to(staff(self.request))
            .select_related("customer", "unit__building")
            .order_by("-subscribed_on", "-id")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DealCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        deal = services.create_deal(actor=staff(request), **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=deal.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deal = self.get_object()
        serializer = DealUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.update_deal(deal, actor=staff(request), **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=deal.pk)).data)
