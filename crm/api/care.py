"""温馨速递 over the API: the outbox and resend (补发), rules, drafts and their approval,
opt-outs.

The same scope and the same services as the pages (crm.care.views): rows come from
crm.care.selectors, so a message of a customer outside the caller's scope is a 404 like
the customer; each action asks for the permission the page asks for and calls the same
service, whose DomainErrors become 400s with the Chinese message (crm.api.errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db.models import Count, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.care import resend, selectors, services, templating
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import DEFAULT_RULES, Trigger
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.lib.numbers import MAX_ID

from . import filters
from .serializers import ErrorSerializer
from .views import Pagination

if TYPE_CHECKING:
    from crm.accounts.models import User

Status = OutboundMessage.Status

VIEW_CUSTOMERS = "customers.view_customer"
CHANGE_CUSTOMERS = "customers.change_customer"
# The 温馨速递 pages' rules of who may read drafts and rules (crm.care.views).
CARE_READERS = (services.MANAGE, services.APPROVE, services.EDIT_RULES)


def staff(request: Request) -> User:
    return cast("User", request.user)


class ActionPermission(permissions.BasePermission):
    """The caller needs any one of the permissions the view names for the action
    (``action_permissions[action]``, else ``action_permissions["*"]``)."""

    message = "您没有执行该操作的权限。"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        table: dict[str, tuple[str, ...]] = view.action_permissions
        needed = table.get(view.action or "", table.get("*", ()))
        return not needed or any(user.has_perm(perm) for perm in needed)


# ---------------------------------------------------------------- the outbox


class MessageSerializer(serializers.ModelSerializer[OutboundMessage]):
    """A message as staff see it on the outbox: the mobile masked, the occasion in words,
    why it did not go (``reason``) and what to do about it (``fix``)."""

    customer_name = serializers.CharField(source="recipient_name", read_only=True)
    customer_number = serializers.CharField(source="customer.number", read_only=True, default="")
    mobile = serializers.CharField(source="masked_recipient_mobile", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    purpose_label = serializers.CharField(source="get_purpose_display", read_only=True)
    occasion_label = serializers.SerializerMethodField(help_text="场合的业务说明，如 成交 锦华苑 1号楼-1301 · 认购")
    reason = serializers.CharField(source="error", read_only=True, help_text="未发出或失败的原因")
    fix = serializers.SerializerMethodField(help_text="如何处理（补发、先填写楼盘电话等）")
    can_resend = serializers.SerializerMethodField(help_text="当前用户能否补发这条短信")

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "customer",
            "customer_name",
            "customer_number",
            "mobile",
            "project",
            "project_name",
            "trigger",
            "trigger_label",
            "occasion",
            "occasion_label",
            "purpose",
            "purpose_label",
            "text",
            "status",
            "status_label",
            "reason",
            "error_code",
            "fix",
            "can_resend",
            "scheduled_at",
            "window_ends_at",
            "next_attempt_at",
            "attempts",
            "gateway",
            "submitted_at",
            "delivered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_occasion_label(self, message: OutboundMessage) -> str:
        labels: dict[int, str] | None = self.context.get("occasions")
        if labels is None or message.pk not in labels:
            return selectors.occasion_labels([message])[message.pk]
        return labels[message.pk]

    @extend_schema_field(OpenApiTypes.STR)
    def get_fix(self, message: OutboundMessage) -> str:
        return resend.fix_hint(message)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_can_resend(self, message: OutboundMessage) -> bool:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return user is not None and resend.may_resend(user) and resend.is_resendable(message)


class ResendSerializer(serializers.Serializer[Any]):
    confirmed = serializers.BooleanField(
        label="已核实",
        required=False,
        default=False,
        help_text="发送结果不明的短信（客户可能已收到）须核实客户未收到后传 true 才能补发",
    )


class BulkResendSerializer(ResendSerializer):
    ids = serializers.ListField(
        label="短信ID",
        # Ids beyond 64 bits would reach the database and fail there (SQLite: OverflowError).
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=resend.BULK_LIMIT,
        error_messages={"min_length": "请至少选择一条短信", "max_length": f"一次最多补发 {resend.BULK_LIMIT} 条"},
    )


class RefusalSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class BulkResendResultSerializer(serializers.Serializer[Any]):
    resent = MessageSerializer(many=True, help_text="已补发的短信（已回到待发送，附新的发送时段）")
    refused = RefusalSerializer(many=True, help_text="未补发的短信及原因")


@extend_schema_view(
    list=extend_schema(
        summary="发件箱",
        description="当前用户数据范围内客户的温馨速递短信，计划发送时间新的在前；手机号脱敏。"
        "可按客户、状态（或分组）、类型、楼盘和计划发送日期筛选；每条带短信内容、发送时段、状态和原因。",
    ),
    retrieve=extend_schema(summary="短信详情", description="范围外客户的短信返回 404。"),
)
class MessageViewSet(viewsets.ReadOnlyModelViewSet[OutboundMessage]):
    """The outbox of the customers in the caller's scope; 补发 for those with the permission."""

    queryset = OutboundMessage.objects.none()
    serializer_class = MessageSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (VIEW_CUSTOMERS,), "resend": (resend.RESEND,), "resend_many": (resend.RESEND,)}
    filter_backends = (filters.FilterBackend,)
    filterset_class = filters.MessageFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        return (
            selectors.messages_visible_to(staff(self.request))
            .select_related("customer", "project__company", "rule")
            .order_by("-scheduled_at", "-id")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        context = {**self.get_serializer_context(), "occasions": selectors.occasion_labels(rows)}
        data = MessageSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        operation_id="care_messages_resend",
        summary="补发一条短信",
        description="发送失败、过期未发或暂缓发送的短信回到待发送，按该类短信的发送时段今天或下一天发出；"
        "仍是同一条短信（同一场合只发一次）。客户已退订、未同意、规则停用、内容仍有未填写项时返回 400 及原因。"
        "需要“补发温馨速递”权限；范围外客户的短信返回 404。",
        request=ResendSerializer,
        responses={200: MessageSerializer, 400: OpenApiResponse(ErrorSerializer, description="不能补发的原因")},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        message = self.get_object()
        serializer = ResendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = resend.resend_message(message, actor=staff(request), confirmed=serializer.validated_data["confirmed"])
        return Response(self.get_serializer(self.get_queryset().get(pk=message.pk)).data)

    @extend_schema(
        operation_id="care_messages_resend_many",
        summary="批量补发",
        description="逐条补发所列短信：能补发的补发，不能补发的（含不存在或无权查看的）逐条列出原因。",
        request=BulkResendSerializer,
        responses={200: BulkResendResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="resend")
    def resend_many(self, request: Request) -> Response:
        serializer = BulkResendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids: list[int] = list(dict.fromkeys(serializer.validated_data["ids"]))
        visible = {m.pk: m for m in self.get_queryset().filter(pk__in=ids)}
        result = resend.resend_messages(
            [visible[pk] for pk in ids if pk in visible],
            actor=staff(request),
            confirmed=serializer.validated_data["confirmed"],
        )
        refused = [{"id": m.pk, "reason": why} for m, why in result.refused]
        refused += [{"id": pk, "reason": "不存在或无权查看"} for pk in ids if pk not in visible]
        resent = list(self.get_queryset().filter(pk__in=[m.pk for m in result.resent]))
        context = {**self.get_serializer_context(), "occasions": selectors.occasion_labels(resent)}
        return Response(
            {"resent": MessageSerializer(resent, many=True, context=context).data, "refused": refused},
            status=status.HTTP_200_OK,
        )


# ---------------------------------------------------------------- rules


class RuleSerializer(serializers.ModelSerializer[CareRule]):
    project_name = serializers.CharField(source="project.name", read_only=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    when = serializers.SerializerMethodField(help_text="标准发送时机")
    updated_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = CareRule
        fields = [
            "id",
            "project",
            "project_name",
            "trigger",
            "trigger_label",
            "is_enabled",
            "template",
            "purpose",
            "audience",
            "window_start",
            "window_end",
            "offset_days",
            "needs_approval",
            "catch_up_days",
            "working_days_only",
            "gateway_template_code",
            "when",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_when(self, rule: CareRule) -> str:
        return DEFAULT_RULES[Trigger(rule.trigger)].when


class RuleUpdateSerializer(serializers.Serializer[Any]):
    """What an administrator may change; placeholders and the window are checked by the service."""

    is_enabled = serializers.BooleanField(label="启用", required=False)
    template = serializers.CharField(label="短信模板", max_length=500, required=False)
    window_start = serializers.TimeField(label="发送开始", required=False)
    window_end = serializers.TimeField(label="发送截止", required=False)
    offset_days = serializers.IntegerField(label="相对天数", min_value=-30, max_value=30, required=False)
    needs_approval = serializers.BooleanField(label="需综合组审批", required=False)
    catch_up_days = serializers.IntegerField(label="补发期限（天）", min_value=0, max_value=30, required=False)
    working_days_only = serializers.BooleanField(label="仅在工作日发送", required=False)
    gateway_template_code = serializers.CharField(label="网关模板编号", max_length=40, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rule: CareRule | None = self.context.get("rule")
        start = attrs.get("window_start", rule.window_start if rule else None)
        end = attrs.get("window_end", rule.window_end if rule else None)
        if start and end and start >= end:
            raise serializers.ValidationError({"window_end": "发送截止时间应晚于开始时间"})
        return attrs


@extend_schema_view(
    list=extend_schema(summary="发送规则", description="当前用户负责的楼盘的温馨速递规则（每个楼盘每类短信一条）。"),
    retrieve=extend_schema(summary="规则详情"),
    partial_update=extend_schema(
        summary="修改规则",
        description="需要“修改温馨速递规则”权限（系统管理员）；占位符和发送时段由系统检查，修改写入审计日志。",
        request=RuleUpdateSerializer,
        responses={200: RuleSerializer},
    ),
)
class RuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[CareRule]):
    queryset = CareRule.objects.none()
    serializer_class = RuleSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": CARE_READERS, "partial_update": (services.EDIT_RULES,)}
    filter_backends = (filters.FilterBackend,)
    filterset_class = filters.RuleFilter
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[CareRule]:
        user = staff(self.request)
        # A project created since the defaults last changed gets its missing rules (as the page).
        incomplete = selectors.care_projects(user).annotate(n=Count("care_rules")).filter(n__lt=len(Trigger))
        for project in incomplete:
            services.ensure_rules(project)
        return selectors.rules_visible_to(user).select_related("project", "updated_by").order_by("project", "trigger")

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        serializer = RuleUpdateSerializer(data=request.data, partial=True, context={"rule": rule})
        serializer.is_valid(raise_exception=True)
        services.update_rule(rule, actor=staff(request), **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=rule.pk)).data)


# ---------------------------------------------------------------- drafts and approval


class DraftSerializer(serializers.ModelSerializer[Draft]):
    project_name = serializers.CharField(source="project.name", read_only=True)
    trigger = serializers.CharField(source="rule.trigger", read_only=True)
    trigger_label = serializers.CharField(source="rule.get_trigger_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    window_start = serializers.TimeField(source="rule.window_start", read_only=True)
    window_end = serializers.TimeField(source="rule.window_end", read_only=True)
    missing = serializers.SerializerMethodField(help_text="批准前必须填写的占位符，如 进度")
    created_by = serializers.CharField(read_only=True, allow_null=True)
    decided_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Draft
        fields = [
            "id",
            "project",
            "project_name",
            "rule",
            "trigger",
            "trigger_label",
            "send_on",
            "window_start",
            "window_end",
            "text",
            "missing",
            "audience_filter",
            "recipient_count",
            "status",
            "status_label",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing(self, draft: Draft) -> list[str]:
        return list(dict.fromkeys(templating.missing_values(draft.text)))


class DraftEditSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(label="短信内容", max_length=500)


class ApproveSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(
        label="短信内容", max_length=500, required=False, help_text="批准前的最后修改（如填好 进度）；不传则按原文批准"
    )
    comment = serializers.CharField(label="审批意见", max_length=200, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(label="驳回意见", max_length=200, allow_blank=True)


class ApprovedSerializer(serializers.Serializer[Any]):
    draft = DraftSerializer()
    queued = serializers.IntegerField(help_text="排入发件箱的短信条数")


@extend_schema_view(
    list=extend_schema(
        summary="待审批短信",
        description="工程进度、节日问候和群发短信的审批单：综合组看本公司全部，客服人员看所负责楼盘的。",
    ),
    retrieve=extend_schema(summary="审批单详情"),
    partial_update=extend_schema(
        summary="修改待审批短信",
        description="修改待审批短信的全文（如填好 进度），仍待审批。",
        request=DraftEditSerializer,
        responses={200: DraftSerializer},
    ),
)
class DraftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Draft]):
    queryset = Draft.objects.none()
    serializer_class = DraftSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {
        "*": (services.MANAGE, services.APPROVE),
        "approve": (services.APPROVE,),
        "reject": (services.APPROVE,),
    }
    filter_backends = (filters.FilterBackend,)
    filterset_class = filters.DraftFilter
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Draft]:
        return (
            selectors.drafts_visible_to(staff(self.request))
            .select_related("rule", "project", "created_by", "decided_by")
            .order_by("-send_on", "-id")
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object()
        serializer = DraftEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.edit_draft(draft, actor=staff(request), text=serializer.validated_data["text"])
        return Response(self.get_serializer(self.get_queryset().get(pk=draft.pk)).data)

    @extend_schema(
        summary="批准并排入发件箱",
        description="综合组批准：每位可接收的收件人一条短信，按发送日期的时段发送。"
        "还有未填写的占位符或已过发送时段时返回 400；带 text 时修改和批准作为一个决定，批准不成则修改也不保存。",
        request=ApproveSerializer,
        responses={200: ApprovedSerializer},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "text" in data:
            queued = services.edit_and_approve_draft(
                draft, actor=staff(request), text=data["text"], comment=data["comment"]
            )
        else:
            queued = services.approve_draft(draft, actor=staff(request), comment=data["comment"])
        draft = self.get_queryset().get(pk=draft.pk)
        return Response({"draft": self.get_serializer(draft).data, "queued": queued})

    @extend_schema(
        summary="驳回",
        description="综合组驳回，须填写意见；驳回的短信不会发送。",
        request=RejectSerializer,
        responses={200: DraftSerializer},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.reject_draft(draft, actor=staff(request), comment=serializer.validated_data["comment"])
        return Response(self.get_serializer(self.get_queryset().get(pk=draft.pk)).data)


# ---------------------------------------------------------------- opt-outs


class OptOutSerializer(serializers.ModelSerializer[Customer]):
    """An opted-out customer: from when, and how the opt-out came (a reply, the gateway, staff)."""

    customer = serializers.IntegerField(source="pk", read_only=True)
    mobile = serializers.CharField(source="masked_mobile", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = Customer
        fields = ["customer", "number", "name", "mobile", "project", "project_name", "opted_out_at"]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # A field named "source" cannot be declared as a class attribute (Field.source).
        fields = super().get_fields()
        fields["source"] = serializers.SerializerMethodField(help_text="退订来源，如 短信回复“TD”、客户来电要求")
        return fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_source(self, customer: Customer) -> str:
        return selectors.opt_out_source(getattr(customer, "opt_out_source", "") or "")


class OptOutCreateSerializer(serializers.Serializer[Any]):
    customer = serializers.PrimaryKeyRelatedField(label="客户", queryset=Customer.objects.none())

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["source"] = serializers.CharField(
            label="客户告知方式", max_length=50, help_text="如 客户来电要求、微信公众号退订"
        )
        request = self.context.get("request")
        if request is not None:
            customer: Any = fields["customer"]
            customer.queryset = customers_visible_to(request.user, include_archived=True)
        return fields

    def validate_customer(self, customer: Customer) -> Customer:
        if customer.has_opted_out:
            raise serializers.ValidationError("该客户已经退订，无需重复登记")
        return customer


class OptInSerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["source"] = serializers.CharField(
            label="客户重新同意的方式", max_length=50, help_text="如 客户到访签署同意书"
        )
        return fields


class OptedInSerializer(serializers.Serializer[Any]):
    customer = serializers.IntegerField()
    has_opted_out = serializers.BooleanField()


class OptedOutSerializer(OptOutSerializer):
    cancelled = serializers.SerializerMethodField(help_text="随退订取消的待发短信条数")

    class Meta(OptOutSerializer.Meta):
        fields = [*OptOutSerializer.Meta.fields, "cancelled"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_cancelled(self, customer: Customer) -> int:
        return int(self.context.get("cancelled", 0))


@extend_schema_view(
    list=extend_schema(summary="退订客户", description="数据范围内已退订的客户，新退订的在前；手机号脱敏。"),
    create=extend_schema(
        summary="登记退订",
        description="客户通过电话、到访、微信等要求不再接收短信：立即生效，已排队的短信一并取消。需要修改客户的权限。",
        request=OptOutCreateSerializer,
        responses={201: OptedOutSerializer},
    ),
)
class OptOutViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Customer]):
    """Opted-out customers; register an opt-out, or withdraw it (the customer agreed again)."""

    queryset = Customer.objects.none()
    serializer_class = OptOutSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (VIEW_CUSTOMERS,), "create": (CHANGE_CUSTOMERS,), "withdraw": (CHANGE_CUSTOMERS,)}
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Customer]:
        user = staff(self.request)
        if self.action == "withdraw":
            return customers_visible_to(user, include_archived=True).select_related("project")
        return selectors.opted_out_customers(user).select_related("project")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OptOutCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        customer: Customer = serializer.validated_data["customer"]
        cancelled = services.opt_out(customer, actor=staff(request), source=serializer.validated_data["source"])
        customer = selectors.opted_out_customers(staff(request)).select_related("project").get(pk=customer.pk)
        context = {**self.get_serializer_context(), "cancelled": cancelled}
        return Response(OptedOutSerializer(customer, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="撤销退订（恢复接收短信）",
        description="客户重新同意接收短信时登记，须写明同意的方式。未退订的客户返回 400；范围外的客户返回 404。",
        request=OptInSerializer,
        responses={200: OptedInSerializer, 400: OpenApiResponse(description="未退订的客户，或未写明同意方式")},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        customer = self.get_object()
        serializer = OptInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not customer.has_opted_out:
            raise serializers.ValidationError({"customer": ["该客户没有退订，无需恢复"]})
        services.opt_in_again(customer, actor=staff(request), source=serializer.validated_data["source"])
        return Response({"customer": customer.pk, "has_opted_out": False})
