"""回访 over the API: the task list (same filters as the page), a task with its events,
and recording a call's outcome.

Rows come from crm.visits.selectors, so a task outside the caller's scope is a 404 as on
the page; recording calls the same service, whose DomainErrors become 400s with the
Chinese message (crm.api.errors).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, views, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.accounts.models import Department
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.lib.dates import local_day
from crm.visits import campaigns, conversion, repairs, selectors, services, stats, supervision
from crm.visits.forms import IssueFilterForm, VisitFilterForm
from crm.visits.models import (
    Campaign,
    Channel,
    IssueCategory,
    IssueEvent,
    Repair,
    ReviewFlag,
    TaskKind,
    VisitEvent,
    VisitIssue,
    VisitTask,
)

from .care import ActionPermission, staff
from .views import Pagination


class VisitTaskSerializer(serializers.ModelSerializer[VisitTask]):
    """A visit task as the visitor sees it: the customer (mobile masked), the plan, the
    script with names filled in, and the outcome once recorded."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    mobile = serializers.CharField(source="customer.masked_mobile", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    plan_name = serializers.SerializerMethodField()
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    script = serializers.SerializerMethodField(help_text="回访话术（已填入客户和楼盘名称）")
    overdue = serializers.SerializerMethodField(help_text="是否已过完成期限")

    class Meta:
        model = VisitTask
        fields = (
            "id",
            "customer",
            "customer_name",
            "mobile",
            "project",
            "project_name",
            "plan",
            "plan_name",
            "kind",
            "campaign",
            "repair",
            "occasion_on",
            "purpose",
            "channel",
            "channel_label",
            "questions",
            "script",
            "assignee",
            "assignee_name",
            "status",
            "status_label",
            "start_on",
            "due_on",
            "overdue",
            "escalation_level",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "reached",
            "scores",
            "satisfaction",
            "opinions",
            "completed_at",
        )
        read_only_fields = fields

    def get_plan_name(self, obj: VisitTask) -> str:
        return obj.plan.name if obj.plan else ""

    def get_assignee_name(self, obj: VisitTask) -> str:
        return str(obj.assignee) if obj.assignee else ""

    def get_script(self, obj: VisitTask) -> str:
        return services.script_for(obj)

    def get_overdue(self, obj: VisitTask) -> bool:
        return obj.is_overdue(local_day(timezone.now()))


class VisitEventSerializer(serializers.ModelSerializer[VisitEvent]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = VisitEvent
        fields = (
            "id",
            "kind",
            "kind_label",
            "from_status",
            "to_status",
            "channel",
            "note",
            "at",
            "actor",
            "actor_name",
        )
        read_only_fields = fields

    def get_actor_name(self, obj: VisitEvent) -> str:
        return str(obj.actor) if obj.actor else "系统"


class IssueInSerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField(help_text="问题类别 id")
    department = serializers.IntegerField(required=False, allow_null=True, help_text="责任部门 id；不填按类别默认部门")
    description = serializers.CharField(max_length=1000, allow_blank=True)
    promised_on = serializers.DateField(help_text="告知客户的答复日期")


class OutcomeSerializer(serializers.Serializer[Any]):
    reached = serializers.BooleanField(help_text="是否联系上客户")
    channel = serializers.ChoiceField(choices=Channel.choices)
    scores = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=5),
        required=False,
        default=dict,
        help_text="问题 → 1–5 分；联系上客户时每个问题都要评分",
    )
    opinions = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    issues = serializers.ListField(
        child=IssueInSerializer(), required=False, default=list, help_text="回访中客户提出的问题（联系上客户时）"
    )


class VisitTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[VisitTask]):
    """回访任务: list with the page's filters (q, state, who, plan, channel, project, status)."""

    queryset = VisitTask.objects.none()
    serializer_class = VisitTaskSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (services.VIEW,), "outcome": (services.RECORD,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[VisitTask]:
        user = staff(self.request)
        if self.action == "list":
            rows = VisitFilterForm(self.request.query_params, user=user).queryset(today=local_day(timezone.now()))
        else:
            rows = selectors.tasks_visible_to(user)
        return rows.select_related("customer", "project", "plan", "assignee").order_by("due_on", "id")

    @extend_schema(summary="回访记录", responses={200: VisitEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        return Response(VisitEventSerializer(selectors.task_events(task), many=True).data)

    @extend_schema(
        summary="登记回访结果",
        description="联系上客户：每个问题 1–5 分，任务完成；未接通：记一次联系，次日换时段再拨，"
        "达到最多联系次数后结束为“多次未接通”。任务已结束或缺少评分时返回 400。",
        request=OutcomeSerializer,
        responses={200: VisitTaskSerializer},
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = staff(request)
        drafts = []
        if data["issues"]:
            categories = {c.pk: c for c in IssueCategory.objects.filter(company_id=task.company_id)}
            departments = {d.pk: d for d in Department.objects.filter(company_id=task.company_id)}
            for item in data["issues"]:
                drafts.append(
                    services.IssueDraft(
                        category=categories.get(item["category"]),
                        description=item["description"],
                        promised_on=item["promised_on"],
                        department=departments.get(item.get("department") or 0),
                    )
                )
        try:
            services.record_visit(
                task,
                actor=user,
                reached=data["reached"],
                channel=data["channel"],
                scores=data["scores"],
                opinions=data["opinions"],
                issues=drafts,
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)


# ---------------------------------------------------------------- issues raised in visits


class VisitIssueSerializer(serializers.ModelSerializer[VisitIssue]):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    late = serializers.SerializerMethodField(help_text="超过承诺日期且尚未告知客户")

    class Meta:
        model = VisitIssue
        fields = (
            "id",
            "task",
            "customer",
            "customer_name",
            "project",
            "category",
            "category_name",
            "department",
            "department_name",
            "description",
            "promised_on",
            "status",
            "status_label",
            "late",
            "raised_by",
            "raised_at",
            "resolution",
            "resolved_at",
            "informed_at",
            "closed_at",
            "complaint",
            "converted_at",
        )
        read_only_fields = fields

    def get_late(self, obj: VisitIssue) -> bool:
        return obj.is_late(local_day(timezone.now()))


class IssueEventSerializer(serializers.ModelSerializer[IssueEvent]):
    class Meta:
        model = IssueEvent
        fields = ("id", "from_status", "to_status", "note", "at", "actor")
        read_only_fields = fields


class IssueNoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class InformSerializer(IssueNoteSerializer):
    accepted = serializers.BooleanField(help_text="客户是否接受处理结果（接受则关闭，不接受退回责任部门）")


class ConvertSerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField(help_text="投诉类别 id（/api/complaints/ 的类别）")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class VisitIssueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[VisitIssue]):
    """回访问题: those in the caller's scope and those routed to the caller's department
    (``?department_queue=1``: only the department's queue); filters ``state``, ``category``,
    ``department`` as on the page. Moves go through the same services as the page."""

    queryset = VisitIssue.objects.none()
    serializer_class = VisitIssueSerializer
    pagination_class = Pagination
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[VisitIssue]:
        user = staff(self.request)
        if self.action == "list":
            department = self.request.query_params.get("department_queue") == "1"
            rows = IssueFilterForm(self.request.query_params, user=user).queryset(
                today=local_day(timezone.now()), department=department
            )
        else:
            rows = selectors.issues_visible_to(user)
        return rows.select_related("customer", "category", "department").order_by("promised_on", "id")

    @extend_schema(summary="回访问题处理记录", responses={200: IssueEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        return Response(IssueEventSerializer(selectors.issue_events(self.get_object()), many=True).data)

    def _act(self, request: Request, verb: str) -> Response:
        issue = self.get_object()
        user = staff(request)
        serializer = (InformSerializer if verb == "inform" else IssueNoteSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if verb == "start":
                services.start_issue(issue, actor=user, note=data["note"])
            elif verb == "resolve":
                services.resolve_issue(issue, actor=user, resolution=data["note"])
            else:
                services.inform_customer(issue, actor=user, accepted=data["accepted"], note=data["note"])
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=issue.pk)).data)

    @extend_schema(summary="开始处理（责任部门）", request=IssueNoteSerializer, responses={200: VisitIssueSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "start")

    @extend_schema(
        summary="处理完成（责任部门，note 为处理结果）",
        request=IssueNoteSerializer,
        responses={200: VisitIssueSerializer},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "resolve")

    @extend_schema(
        summary="告知客户处理结果（回访人）", request=InformSerializer, responses={200: VisitIssueSerializer}
    )
    @action(detail=True, methods=["post"])
    def inform(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "inform")

    @extend_schema(
        summary="转为投诉（客服中心主任、客服专员；只转一次，再次调用返回已登记的投诉）",
        request=ConvertSerializer,
        responses={200: dict, 201: dict},
    )
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        user = staff(request)
        serializer = ConvertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        category = conversion.complaint_categories(user).filter(pk=data["category"]).first()
        try:
            complaint, created = conversion.convert_to_complaint(
                issue, actor=user, category=category, note=data["note"]
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        body = {"complaint": complaint.pk, "number": complaint.number, "created": created}
        return Response(body, status=201 if created else 200)


# ---------------------------------------------------------------- repairs


class RepairSerializer(serializers.ModelSerializer[Repair]):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    unit_number = serializers.SerializerMethodField()
    callback = serializers.SerializerMethodField(help_text="报修回访任务 id（完工后生成）")

    class Meta:
        model = Repair
        fields = (
            "id",
            "customer",
            "customer_name",
            "project",
            "unit",
            "unit_number",
            "problem",
            "contractor",
            "completed_at",
            "source",
            "created_at",
            "callback",
        )
        read_only_fields = ("id", "customer_name", "project", "unit_number", "source", "created_at", "callback")

    def get_unit_number(self, obj: Repair) -> str:
        return obj.unit.number if obj.unit else ""

    def get_callback(self, obj: Repair) -> int | None:
        return next((t.pk for t in obj.tasks.all() if t.kind == TaskKind.REPAIR), None)


class CompleteSerializer(serializers.Serializer[Any]):
    completed_at = serializers.DateTimeField()


class RepairViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Repair]):
    """报修记录 in the caller's scope; POST records one (with ``completed_at``: its callback
    task is made at once), ``POST <id>/complete/`` records the completion."""

    queryset = Repair.objects.none()
    serializer_class = RepairSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (repairs.VIEW,), "create": (repairs.ADD,), "complete": (repairs.ADD,)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Repair]:
        return (
            selectors.repairs_visible_to(staff(self.request))
            .select_related("customer", "unit")
            .prefetch_related("tasks")
            .order_by("-created_at", "-id")
        )

    @extend_schema(summary="登记报修", request=RepairSerializer, responses={201: RepairSerializer})
    def create(self, request: Request) -> Response:
        from crm.customers.selectors import customers_visible_to

        serializer = RepairSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = staff(request)
        if not customers_visible_to(user).filter(pk=data["customer"].pk).exists():
            raise exceptions.NotFound("客户不存在或无权查看")
        try:
            repair = repairs.record_repair(
                actor=user,
                customer=data["customer"],
                unit=data.get("unit"),
                problem=data["problem"],
                contractor=data["contractor"],
                completed_at=data.get("completed_at"),
                source=Repair.Source.API,
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=repair.pk)).data, status=201)

    @extend_schema(
        summary="登记完工（生成报修回访任务）", request=CompleteSerializer, responses={200: RepairSerializer}
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        repair = self.get_object()
        serializer = CompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            repairs.complete_repair(
                repair, actor=staff(request), completed_at=serializer.validated_data["completed_at"]
            )
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=repair.pk)).data)


# ---------------------------------------------------------------- special campaigns


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    progress = serializers.SerializerMethodField(
        help_text="total, done, reached, unreachable, open, overdue, satisfaction"
    )

    class Meta:
        model = Campaign
        fields = (
            "id",
            "name",
            "purpose",
            "questions",
            "channel",
            "project",
            "stage",
            "milestone",
            "complaint_category",
            "complaints_from",
            "complaints_to",
            "start_on",
            "due_on",
            "assign",
            "launched_at",
            "progress",
        )
        read_only_fields = fields

    def get_progress(self, obj: Campaign) -> dict[str, Any]:
        if "progress" in self.context:  # the list: read for the whole page at once
            p = self.context["progress"].get(obj.pk) or campaigns.Progress(0, 0, 0, 0, 0, 0, None)
        else:
            p = campaigns.progress(obj, today=local_day(timezone.now()))
        return {
            "total": p.total,
            "done": p.done,
            "reached": p.reached,
            "unreachable": p.unreachable,
            "open": p.open,
            "overdue": p.overdue,
            "satisfaction": p.satisfaction,
        }


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Campaign]):
    """专项回访 with their progress (read-only; created and launched on the page)."""

    queryset = Campaign.objects.none()
    serializer_class = CampaignSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {"*": (campaigns.MANAGE,)}

    def get_queryset(self) -> QuerySet[Campaign]:
        return selectors.campaigns_visible_to(staff(self.request)).order_by("-created_at", "-id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page's campaigns with their progress read in one grouped query."""
        page = self.paginate_queryset(self.get_queryset())
        rows = list(page if page is not None else self.get_queryset())
        known = campaigns.progress_of([c.pk for c in rows], today=local_day(timezone.now()))
        data = CampaignSerializer(rows, many=True, context={**self.get_serializer_context(), "progress": known}).data
        return self.get_paginated_response(data) if page is not None else Response(data)


# ---------------------------------------------------------------- monthly statistics


class VisitStatsView(views.APIView):
    """回访统计: per visitor for ``month`` (YYYY-MM; default the current month), the tasks in
    the caller's scope due in the month (crm.visits.stats); who exports or assigns visits."""

    @extend_schema(summary="月度回访统计（按回访人）", responses={200: dict})
    def get(self, request: Request) -> Response:
        user = staff(request)
        if not (user.has_perm(services.VIEW) and (user.has_perm(services.EXPORT) or user.has_perm(services.ASSIGN))):
            raise exceptions.PermissionDenied("您没有查看回访统计的权限。")
        try:
            year, month = stats.parse_month(request.query_params.get("month"), today=local_day(timezone.now()))
        except DomainError as exc:
            raise exceptions.ValidationError({"month": [exc.message]}) from exc
        rows = stats.monthly(user, year, month)
        departments = stats.issues_by_department(user, year, month, today=local_day(timezone.now()))
        return Response(
            {
                "month": f"{year}-{month:02d}",
                "departments": [
                    {
                        "department": d.department_id,
                        "name": d.name,
                        "raised": d.raised,
                        "resolved": d.resolved,
                        "closed": d.closed,
                        "kept": d.kept,
                        "missed": d.missed,
                        "kept_rate": d.kept_rate,
                    }
                    for d in departments
                ],
                "questions": [
                    {"question": q.question, "answered": q.answered, "average": q.average, "low": q.low}
                    for q in stats.question_averages(user, year, month)
                ],
                "results": [
                    {
                        "assignee": r.assignee_id,
                        "name": r.name,
                        "due": r.due,
                        "done": r.done,
                        "on_time": r.on_time,
                        "reached": r.reached,
                        "unreachable": r.unreachable,
                        "open": r.open,
                        "reach_rate": r.reach_rate,
                        "on_time_rate": r.on_time_rate,
                        "satisfaction": r.satisfaction,
                        "issues": r.issues,
                    }
                    for r in rows
                ],
            }
        )


class VisitScoresView(views.APIView):
    """回访人月度得分 for ``month`` (crm.visits.stats.consultant_scores; the formula is
    returned with the rows), with the improvement plans; same people as the statistics."""

    @extend_schema(summary="回访人月度得分与改进计划", responses={200: dict})
    def get(self, request: Request) -> Response:
        user = staff(request)
        if not (user.has_perm(services.VIEW) and (user.has_perm(services.EXPORT) or user.has_perm(services.ASSIGN))):
            raise exceptions.PermissionDenied("您没有查看回访统计的权限。")
        try:
            year, month = stats.parse_month(request.query_params.get("month"), today=local_day(timezone.now()))
        except DomainError as exc:
            raise exceptions.ValidationError({"month": [exc.message]}) from exc
        rows = stats.consultant_scores(user, year, month)
        return Response(
            {
                "month": f"{year}-{month:02d}",
                "formula": stats.SCORE_FORMULA,
                "results": [
                    {
                        "consultant": s.row.assignee_id,
                        "name": s.row.name,
                        "due": s.row.due,
                        "reach_rate": s.row.reach_rate,
                        "on_time_rate": s.row.on_time_rate,
                        "satisfaction": s.row.satisfaction,
                        "issues_raised": s.issues_raised,
                        "issues_closed": s.issues_closed,
                        "score": float(s.score) if s.score is not None else None,
                        "improvement_plan": s.plan,
                        "may_edit_plan": s.may_edit,
                    }
                    for s in rows
                ],
            }
        )


# ---------------------------------------------------------------- supervision (回访督查)


class ReviewFlagSerializer(serializers.ModelSerializer[ReviewFlag]):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    customer_name = serializers.CharField(source="task.customer.name", read_only=True)

    class Meta:
        model = ReviewFlag
        fields = (
            "id",
            "task",
            "customer_name",
            "visitor",
            "source",
            "phrase",
            "comment",
            "status",
            "status_label",
            "flagged_by",
            "flagged_at",
            "answer",
            "answered_at",
            "closed_at",
        )
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer[Any]):
    answer = serializers.CharField(max_length=1000, allow_blank=True)


class ReopenSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(max_length=1000, allow_blank=True)


class ReviewFlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ReviewFlag]):
    """督查标记: the caller's own (``?mine=1``: those waiting for the caller's answer) and,
    for a supervisor, those on visits in scope. Answering, accepting and re-opening go
    through crm.visits.supervision as on the page."""

    queryset = ReviewFlag.objects.none()
    serializer_class = ReviewFlagSerializer
    pagination_class = Pagination
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[ReviewFlag]:
        user = staff(self.request)
        if self.action == "list" and self.request.query_params.get("mine") == "1":
            rows = selectors.open_flags_for_visitor(user)
        else:
            rows = selectors.flags_visible_to(user)
        return rows.select_related("task", "task__customer").order_by("-flagged_at", "-id")

    def _act(self, request: Request, verb: str) -> Response:
        flag = self.get_object()
        user = staff(request)
        try:
            if verb == "answer":
                data = AnswerSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                supervision.answer_flag(flag, actor=user, answer=data.validated_data["answer"])
            elif verb == "accept":
                supervision.accept_flag(flag, actor=user)
            else:
                reopen = ReopenSerializer(data=request.data)
                reopen.is_valid(raise_exception=True)
                supervision.reopen_flag(flag, actor=user, comment=reopen.validated_data["comment"])
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(exc.message) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=flag.pk)).data)

    @extend_schema(
        summary="答复督查意见（回访人；答复后标记关闭）",
        request=AnswerSerializer,
        responses={200: ReviewFlagSerializer},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "answer")

    @extend_schema(summary="认可答复（督查人）", request=None, responses={200: ReviewFlagSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "accept")

    @extend_schema(
        summary="重新打开（督查人，comment 为新的督查意见）",
        request=ReopenSerializer,
        responses={200: ReviewFlagSerializer},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "reopen")
