"""客服运营 over the API: the duty roster (班次, with its log and spot checks) and handovers.

Rows come from crm.service.selectors, so a shift or handover outside the caller's scope is
a 404 as on the page; every write calls the same services, whose DomainErrors become 400s
with the Chinese message (crm.api.errors) and whose "not your signature" errors become 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.accounts.models import User
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.lib.dates import local_day
from crm.projects.models import Project
from crm.service import inspection, selectors, services
from crm.service.forms import (
    DisplayFilterForm,
    GiftIssueFilterForm,
    GiftTaskFilterForm,
    HandoverFilterForm,
    InspectionFilterForm,
    MaterialFilterForm,
    ShiftFilterForm,
)
from crm.service.models import (
    BirthdayEntry,
    DisplayCheck,
    DisplayItem,
    DisplayStatus,
    DutyCheck,
    DutyLogEntry,
    Finding,
    Gift,
    GiftIssue,
    GiftStock,
    GiftTask,
    Handover,
    HandoverItem,
    Inspection,
    InspectionResult,
    Material,
    MaterialKind,
    MaterialVersion,
    Shift,
)

from .care import ActionPermission, staff
from .views import Pagination


class ShiftSerializer(serializers.ModelSerializer[Shift]):
    project_name = serializers.CharField(source="project.name", read_only=True)
    officer_name = serializers.CharField(source="officer.__str__", read_only=True)
    manager_name = serializers.SerializerMethodField()

    class Meta:
        model = Shift
        fields = (
            "id",
            "project",
            "project_name",
            "officer",
            "officer_name",
            "starts_at",
            "ends_at",
            "is_holiday",
            "manager",
            "manager_name",
            "note",
        )
        read_only_fields = fields

    def get_manager_name(self, obj: Shift) -> str:
        return str(obj.manager) if obj.manager else ""


class ShiftCreateSerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField()
    officer = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    manager = serializers.IntegerField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LogEntrySerializer(serializers.ModelSerializer[DutyLogEntry]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = DutyLogEntry
        fields = ("id", "kind", "kind_label", "at", "content", "customer", "caller_name", "is_escalated")
        read_only_fields = ("id", "kind_label")
        extra_kwargs = {"customer": {"queryset": Customer.objects.none()}, "at": {"required": False}}


class SpotCheckSerializer(serializers.ModelSerializer[DutyCheck]):
    class Meta:
        model = DutyCheck
        fields = ("id", "result", "note", "checked_at", "checked_by")
        read_only_fields = ("id", "checked_at", "checked_by")


def _user_in_company(user: User, pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    found = User.objects.filter(company_id=user.company_id or 0, pk=pk).first()
    if found is None:
        raise serializers.ValidationError({field: ["人员不存在"]})
    return found


class ShiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Shift]):
    """值班表: list with the page's filters (state, project, day); 排班 (create); the duty
    log and spot checks of one shift."""

    queryset = Shift.objects.none()
    serializer_class = ShiftSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW_SHIFT,), "create": (services.PLAN,)}

    def get_queryset(self) -> QuerySet[Shift]:
        user = staff(self.request)
        if self.action == "list":
            rows = ShiftFilterForm(self.request.query_params, user=user).queryset(now=timezone.now())
        else:
            rows = selectors.shifts_visible_to(user)
        return rows.select_related("project", "officer", "manager").order_by("-starts_at", "-id")

    @extend_schema(summary="排班", request=ShiftCreateSerializer, responses={201: ShiftSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = ShiftCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = selectors.projects_for_duty(user).filter(pk=data["project"]).first()
        if project is None:
            raise serializers.ValidationError({"project": ["楼盘不存在或无权操作"]})
        officer = _user_in_company(user, data["officer"], "officer")
        assert officer is not None
        try:
            shift = services.plan_shift(
                actor=user,
                project=project,
                officer=officer,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                manager=_user_in_company(user, data["manager"], "manager"),
                note=data["note"],
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(ShiftSerializer(shift).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="值班记录", request=LogEntrySerializer, responses={200: LogEntrySerializer(many=True)})
    @action(detail=True, methods=["get", "post"])
    def log(self, request: Request, pk: str | None = None) -> Response:
        shift = self.get_object()
        if request.method == "POST":
            user = staff(request)
            serializer = LogEntrySerializer(data=request.data)
            serializer.fields["customer"].queryset = customers_visible_to(user)  # type: ignore[attr-defined]
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            try:
                entry = services.log_duty(
                    shift,
                    actor=user,
                    kind=data["kind"],
                    content=data["content"],
                    at=data.get("at"),
                    customer=data.get("customer"),
                    caller_name=data.get("caller_name", ""),
                    is_escalated=data.get("is_escalated", False),
                )
            except NotAllowed as exc:
                raise exceptions.PermissionDenied(exc.message) from exc
            return Response(LogEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        return Response(LogEntrySerializer(selectors.shift_log(shift), many=True).data)

    @extend_schema(summary="值班抽查", request=SpotCheckSerializer, responses={201: SpotCheckSerializer})
    @action(detail=True, methods=["post"])
    def checks(self, request: Request, pk: str | None = None) -> Response:
        shift = self.get_object()
        serializer = SpotCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            check = services.record_spot_check(shift, actor=staff(request), **serializer.validated_data)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(SpotCheckSerializer(check).data, status=status.HTTP_201_CREATED)


class HandoverItemSerializer(serializers.ModelSerializer[HandoverItem]):
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = HandoverItem
        fields = ("id", "name", "state", "state_label", "explanation")
        read_only_fields = fields


class HandoverSerializer(serializers.ModelSerializer[Handover]):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    items = HandoverItemSerializer(many=True, read_only=True)

    class Meta:
        model = Handover
        fields = (
            "id",
            "project",
            "shift",
            "outgoing",
            "incoming",
            "status",
            "status_label",
            "log_summary",
            "open_matters",
            "major_repair_open",
            "major_repair_note",
            "submitted_at",
            "accepted_at",
            "refused_at",
            "refusal_reasons",
            "items",
        )
        read_only_fields = fields


class HandoverActionSerializer(serializers.Serializer[Any]):
    log_clear = serializers.BooleanField(required=False, default=False)
    area_clean = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    item = serializers.IntegerField(required=False, allow_null=True, default=None)
    state = serializers.ChoiceField(choices=HandoverItem.State.choices, required=False, default="ok")
    explanation = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class HandoverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Handover]):
    """交接班: list (state, project), detail with the item checklist, and the actions."""

    queryset = Handover.objects.none()
    serializer_class = HandoverSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW_HANDOVER,)}

    def get_queryset(self) -> QuerySet[Handover]:
        user = staff(self.request)
        if self.action == "list":
            rows = HandoverFilterForm(self.request.query_params, user=user).queryset()
        else:
            rows = selectors.handovers_visible_to(user)
        return rows.prefetch_related("items").order_by("-created_at", "-id")

    @extend_schema(
        summary="交接操作",
        description="verb 为 submit（交班确认）、accept（接班确认，需 log_clear、area_clean；四不接时返回 400 并列出原因）、"
        "return（退回，需 note）、item（清点物品：item、state、explanation）、repair（重大维修完成，需 note）之一。",
        request=HandoverActionSerializer,
        responses={200: HandoverSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<verb>[a-z]+)")
    def act(self, request: Request, pk: str | None = None, verb: str = "") -> Response:
        handover = self.get_object()
        user = staff(request)
        serializer = HandoverActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if verb == "submit":
                services.submit_handover(handover, actor=user)
            elif verb == "accept":
                services.accept_handover(
                    handover, actor=user, log_clear=data["log_clear"], area_clean=data["area_clean"], note=data["note"]
                )
            elif verb == "return":
                services.return_handover(handover, actor=user, note=data["note"])
            elif verb == "repair":
                services.finish_repair(handover, actor=user, note=data["note"])
            elif verb == "item":
                item = handover.items.filter(pk=data["item"] or 0).first()
                if item is None:
                    raise serializers.ValidationError({"item": ["物品不存在"]})
                services.check_item(item, actor=user, state=data["state"], explanation=data["explanation"])
            else:
                raise exceptions.NotFound("未知的操作")
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(HandoverSerializer(self.get_queryset().get(pk=handover.pk)).data)


# ---------------------------------------------------------------- gifts


class GiftStockSerializer(serializers.ModelSerializer[GiftStock]):
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = GiftStock
        fields = ("project", "project_name", "quantity")
        read_only_fields = fields


class GiftSerializer(serializers.ModelSerializer[Gift]):
    stocks = serializers.SerializerMethodField(help_text="当前用户所辖楼盘的库存")

    class Meta:
        model = Gift
        fields = ("id", "name", "unit", "price", "is_active", "stocks")
        read_only_fields = fields

    def get_stocks(self, obj: Gift) -> list[dict[str, Any]]:
        user = self.context["request"].user
        rows = selectors.stocks_visible_to(user).filter(gift=obj).select_related("project")
        return list(GiftStockSerializer(rows, many=True).data)


class GiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Gift]):
    """礼品目录 with each visible project's stock."""

    queryset = Gift.objects.none()
    serializer_class = GiftSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW_GIFT,)}

    def get_queryset(self) -> QuerySet[Gift]:
        return selectors.gifts_for(staff(self.request)).order_by("name", "id")


class GiftIssueSerializer(serializers.ModelSerializer[GiftIssue]):
    occasion_label = serializers.CharField(source="get_occasion_display", read_only=True)
    gift_name = serializers.CharField(source="gift.name", read_only=True)
    recipient = serializers.CharField(read_only=True)

    class Meta:
        model = GiftIssue
        fields = (
            "id",
            "project",
            "gift",
            "gift_name",
            "quantity",
            "occasion",
            "occasion_label",
            "customer",
            "visitor_name",
            "recipient",
            "reason",
            "task",
            "issuer",
            "issued_at",
        )
        read_only_fields = ("id", "gift_name", "occasion_label", "recipient", "issuer", "issued_at")
        extra_kwargs = {
            "project": {"queryset": Project.objects.none()},
            "gift": {"queryset": Gift.objects.none()},
            "customer": {"queryset": Customer.objects.none(), "required": False, "allow_null": True},
            "task": {"queryset": GiftTask.objects.none(), "required": False, "allow_null": True},
        }


class GiftIssueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[GiftIssue]):
    """礼品发放: list with the page's filters (occasion, project, start, end) and 发放 (create)."""

    queryset = GiftIssue.objects.none()
    serializer_class = GiftIssueSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW_ISSUES,), "create": (services.ISSUE_GIFT,)}

    def get_queryset(self) -> QuerySet[GiftIssue]:
        user = staff(self.request)
        if self.action == "list":
            return (
                GiftIssueFilterForm(self.request.query_params, user=user).queryset().select_related("gift", "customer")
            )
        return selectors.issues_visible_to(user).select_related("gift", "customer")

    @extend_schema(summary="发放礼品", request=GiftIssueSerializer, responses={201: GiftIssueSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = GiftIssueSerializer(data=request.data)
        serializer.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        serializer.fields["gift"].queryset = selectors.gifts_for(user)  # type: ignore[attr-defined]
        serializer.fields["customer"].queryset = customers_visible_to(user)  # type: ignore[attr-defined]
        serializer.fields["task"].queryset = selectors.tasks_visible_to(user)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            issue = services.issue_gift(
                data["gift"],
                actor=user,
                project=data["project"],
                quantity=data["quantity"],
                occasion=data["occasion"],
                customer=data.get("customer"),
                visitor_name=data.get("visitor_name", ""),
                reason=data.get("reason", ""),
                task=data.get("task"),
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(GiftIssueSerializer(issue).data, status=status.HTTP_201_CREATED)


class GiftTaskSerializer(serializers.ModelSerializer[GiftTask]):
    occasion_label = serializers.CharField(source="get_occasion_display", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = GiftTask
        fields = (
            "id",
            "project",
            "deal",
            "customer",
            "customer_name",
            "consultant",
            "occasion",
            "occasion_label",
            "milestone_on",
            "status",
        )
        read_only_fields = fields


class GiftTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[GiftTask]):
    """待送礼品 in the caller's scope (state: open, mine, done, cancelled)."""

    queryset = GiftTask.objects.none()
    serializer_class = GiftTaskSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": ("service.view_gifttask",)}

    def get_queryset(self) -> QuerySet[GiftTask]:
        user = staff(self.request)
        if self.action == "list":
            return GiftTaskFilterForm(self.request.query_params, user=user).queryset().select_related("customer")
        return selectors.tasks_visible_to(user).select_related("customer")


class BirthdaySerializer(serializers.ModelSerializer[BirthdayEntry]):
    class Meta:
        model = BirthdayEntry
        fields = (
            "id",
            "month",
            "consultant",
            "project",
            "customer",
            "member",
            "name",
            "relation",
            "birthday_on",
            "is_lunar",
        )
        read_only_fields = fields


class BirthdayViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[BirthdayEntry]):
    """本月生日名单 (``month=YYYY-MM``, default this month) in the caller's scope."""

    queryset = BirthdayEntry.objects.none()
    serializer_class = BirthdaySerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": ("service.view_birthdayentry",)}

    def get_queryset(self) -> QuerySet[BirthdayEntry]:
        param = self.request.query_params.get("month", "")
        try:
            month = date.fromisoformat(f"{param}-01") if param else local_day(timezone.now()).replace(day=1)
        except ValueError as exc:
            raise serializers.ValidationError({"month": ["月份格式应为 YYYY-MM"]}) from exc
        return selectors.birthdays_visible_to(staff(self.request)).filter(month=month).order_by("birthday_on", "id")


# ---------------------------------------------------------------- daily inspection


class InspectionResultSerializer(serializers.ModelSerializer[InspectionResult]):
    class Meta:
        model = InspectionResult
        fields = ("id", "area", "result", "note")
        read_only_fields = fields


class InspectionFindingSerializer(serializers.ModelSerializer[Finding]):
    department_label = serializers.CharField(source="get_department_display", read_only=True)
    overdue = serializers.SerializerMethodField(help_text="超过处理时限仍未处理")

    class Meta:
        model = Finding
        fields = (
            "id",
            "area",
            "description",
            "department",
            "department_label",
            "found_at",
            "due_at",
            "handled_at",
            "handled_note",
            "overdue",
        )
        read_only_fields = fields

    def get_overdue(self, obj: Finding) -> bool:
        return obj.is_overdue(timezone.now())


class InspectionDisplaySerializer(serializers.ModelSerializer[DisplayCheck]):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DisplayCheck
        fields = ("id", "name", "status", "status_label", "note", "checked_at", "finding")
        read_only_fields = fields


class InspectionSerializer(serializers.ModelSerializer[Inspection]):
    results = InspectionResultSerializer(many=True, read_only=True)
    displays = InspectionDisplaySerializer(source="display_checks", many=True, read_only=True)
    findings = InspectionFindingSerializer(many=True, read_only=True)
    late = serializers.SerializerMethodField(help_text="未在 10:00 前完成")

    class Meta:
        model = Inspection
        fields = (
            "id",
            "project",
            "day",
            "inspector",
            "started_at",
            "completed_at",
            "late",
            "results",
            "displays",
            "findings",
        )
        read_only_fields = fields

    def get_late(self, obj: Inspection) -> bool:
        return inspection.inspection_is_late(obj.day, obj.completed_at, timezone.now())


class InspectionActionSerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField(required=False, allow_null=True, default=None)
    target = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="区域结果或问题的 id")
    result = serializers.ChoiceField(choices=("ok", "problem"), required=False, default="ok")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    area = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    department = serializers.ChoiceField(choices=Finding.Department.choices, required=False, default="service")
    photo = serializers.FileField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(
        choices=DisplayStatus.choices,
        required=False,
        default=DisplayStatus.DISPLAYED,
        help_text="现场公示：displayed 已公示、missing 缺失、outdated 内容过期",
    )


class InspectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Inspection]):
    """日常巡查: list (project, day), detail with results and findings, 开始 (create) and
    the actions result, finding, handle, complete."""

    queryset = Inspection.objects.none()
    serializer_class = InspectionSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW_INSPECTION,), "create": (services.INSPECT,)}

    def get_queryset(self) -> QuerySet[Inspection]:
        user = staff(self.request)
        rows = (
            InspectionFilterForm(self.request.query_params, user=user).queryset()
            if self.action == "list"
            else selectors.inspections_visible_to(user)
        )
        return rows.prefetch_related("results", "display_checks", "findings")

    @extend_schema(summary="开始今日巡查", request=InspectionActionSerializer, responses={201: InspectionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = InspectionActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = selectors.projects_for_duty(user).filter(pk=serializer.validated_data["project"] or 0).first()
        if project is None:
            raise serializers.ValidationError({"project": ["楼盘不存在或无权操作"]})
        try:
            row = services.start_inspection(project, actor=user)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(InspectionSerializer(self.get_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="巡查操作",
        description="verb 为 result（target、result、note）、display（target、status、note：现场公示）、"
        "finding（area、description、department、photo）、handle（target、note）、complete 之一。",
        request=InspectionActionSerializer,
        responses={200: InspectionSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<verb>[a-z]+)")
    def act(self, request: Request, pk: str | None = None, verb: str = "") -> Response:
        row = self.get_object()
        user = staff(request)
        serializer = InspectionActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if verb == "result":
                result = row.results.filter(pk=data["target"] or 0).first()
                if result is None:
                    raise serializers.ValidationError({"target": ["区域不存在"]})
                services.record_result(result, actor=user, value=data["result"], note=data["note"])
            elif verb == "display":
                check = row.display_checks.filter(pk=data["target"] or 0).first()
                if check is None:
                    raise serializers.ValidationError({"target": ["公示项不存在"]})
                services.record_display(check, actor=user, status=data["status"], note=data["note"])
            elif verb == "finding":
                if data["area"] not in row.results.values_list("area", flat=True):
                    raise serializers.ValidationError({"area": ["区域不存在"]})
                services.report_finding(
                    row,
                    actor=user,
                    area=data["area"],
                    description=data["description"],
                    department=data["department"],
                    photo=data["photo"],
                )
            elif verb == "handle":
                finding = row.findings.filter(pk=data["target"] or 0).first()
                if finding is None:
                    raise serializers.ValidationError({"target": ["问题不存在"]})
                services.handle_finding(finding, actor=user, note=data["note"])
            elif verb == "complete":
                services.complete_inspection(row, actor=user, note=data["note"])
            else:
                raise exceptions.NotFound("未知的操作")
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(InspectionSerializer(self.get_queryset().get(pk=row.pk)).data)


# ---------------------------------------------------------------- project materials and displays


class MaterialVersionSerializer(serializers.ModelSerializer[MaterialVersion]):
    url = serializers.SerializerMethodField(help_text="文件（按权限提供）")
    uploaded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = MaterialVersion
        fields = (
            "id",
            "number",
            "original_name",
            "content_type",
            "size",
            "note",
            "is_current",
            "uploaded_by_name",
            "uploaded_at",
            "url",
        )
        read_only_fields = fields

    def get_url(self, obj: MaterialVersion) -> str:
        return reverse("service:material_file", args=[obj.pk])

    def get_uploaded_by_name(self, obj: MaterialVersion) -> str:
        return str(obj.uploaded_by) if obj.uploaded_by else ""


class MaterialSerializer(serializers.ModelSerializer[Material]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    versions = MaterialVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Material
        fields = ("id", "project", "project_name", "kind", "kind_label", "title", "is_active", "updated_at", "versions")
        read_only_fields = fields


class MaterialUploadSerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="新建资料时必填")
    kind = serializers.ChoiceField(choices=MaterialKind.choices, required=False, default=MaterialKind.OTHER)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    file = serializers.FileField(help_text="PDF 或图片（JPG、PNG、WebP）")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class MaterialViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Material]):
    """项目资料: list (the page's filters: project, kind, q, inactive), detail with every
    version, 上传资料 (create, multipart) and 上传新版本 (``versions``)."""

    queryset = Material.objects.none()
    serializer_class = MaterialSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {
        "*": (services.VIEW_MATERIAL,),
        "create": (services.MANAGE_MATERIAL,),
        "versions": (services.MANAGE_MATERIAL,),
    }

    def get_queryset(self) -> QuerySet[Material]:
        user = staff(self.request)
        rows = (
            MaterialFilterForm(self.request.query_params, user=user).queryset()
            if self.action == "list"
            else selectors.materials_visible_to(user)
        )
        return rows.select_related("project").prefetch_related(
            Prefetch("versions", MaterialVersion.objects.select_related("uploaded_by").order_by("-number"))
        )

    @extend_schema(summary="上传项目资料", request=MaterialUploadSerializer, responses={201: MaterialSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = MaterialUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = selectors.projects_for_duty(user).filter(pk=data["project"] or 0).first()
        if project is None:
            raise serializers.ValidationError({"project": ["楼盘不存在或无权操作"]})
        try:
            material = services.add_material(
                project, actor=user, kind=data["kind"], title=data["title"], upload=data["file"], note=data["note"]
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(
            MaterialSerializer(self.get_queryset().get(pk=material.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(summary="上传新版本", request=MaterialUploadSerializer, responses={201: MaterialSerializer})
    @action(detail=True, methods=["post"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        material = self.get_object()
        user = staff(request)
        serializer = MaterialUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.add_version(
                material, actor=user, upload=serializer.validated_data["file"], note=serializer.validated_data["note"]
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(
            MaterialSerializer(self.get_queryset().get(pk=material.pk)).data, status=status.HTTP_201_CREATED
        )


class DisplayItemSerializer(serializers.ModelSerializer[DisplayItem]):
    project_name = serializers.CharField(source="project.name", read_only=True)
    last_status_label = serializers.CharField(source="get_last_status_display", read_only=True)
    last_checked_by_name = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField(help_text="超过 DISPLAY_CHECK_STALE_DAYS 天未检查")

    class Meta:
        model = DisplayItem
        fields = (
            "id",
            "project",
            "project_name",
            "name",
            "standard",
            "last_checked_on",
            "last_checked_by_name",
            "last_status",
            "last_status_label",
            "stale",
        )
        read_only_fields = fields

    def get_last_checked_by_name(self, obj: DisplayItem) -> str:
        return str(obj.last_checked_by) if obj.last_checked_by else ""

    def get_stale(self, obj: DisplayItem) -> bool:
        return obj.is_stale(local_day(timezone.now()), services.display_stale_days())


class DisplayItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[DisplayItem]):
    """现场公示: each project's checklist with the last check (``?project=``, ``?stale=on``);
    items are confirmed through the inspection's ``display`` action."""

    queryset = DisplayItem.objects.none()
    serializer_class = DisplayItemSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW_DISPLAY,)}

    def get_queryset(self) -> QuerySet[DisplayItem]:
        user = staff(self.request)
        rows = DisplayFilterForm(self.request.query_params, user=user).queryset(today=local_day(timezone.now()))
        return rows.select_related("project", "last_checked_by")
