"""老带新 over the API: referrals (list with the page's filters, detail with the derived
status, record one), rewards (propose, approve, reject, pay) and the statistics.

Rows come from crm.referrals.selectors, so a referral outside the caller's scope is a 404
as on the page; every write calls the same services, whose DomainErrors become 400s with
the Chinese message (crm.api.errors) and whose permission refusals become 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, views, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.lib.dates import local_day
from crm.referrals import selectors, services
from crm.referrals.forms import ReferralFilterForm, RewardFilterForm
from crm.referrals.models import Referral, ReferralChannel, ReferralStatus, Reward

from .care import ActionPermission, staff
from .views import Pagination


class ReferralSerializer(serializers.ModelSerializer[Referral]):
    referrer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), label="推荐人(老客户)")
    referred = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), label="新客户")
    referrer_name = serializers.CharField(source="referrer.name", read_only=True)
    referrer_number = serializers.CharField(source="referrer.number", read_only=True)
    referred_name = serializers.CharField(source="referred.name", read_only=True)
    referred_number = serializers.CharField(source="referred.number", read_only=True)
    status = serializers.ChoiceField(choices=ReferralStatus.choices, read_only=True, label="状态（随新客户成交）")
    status_label = serializers.SerializerMethodField()
    channel = serializers.ChoiceField(choices=ReferralChannel.choices, default=ReferralChannel.CHAIN)

    class Meta:
        model = Referral
        fields = (
            "id",
            "referrer",
            "referrer_name",
            "referrer_number",
            "referred",
            "referred_name",
            "referred_number",
            "channel",
            "status",
            "status_label",
            "visited_on",
            "created_at",
        )
        read_only_fields = ("created_at",)

    def get_status_label(self, obj: Referral) -> str:
        return str(ReferralStatus(obj.status).label)  # type: ignore[attr-defined]


class RewardSerializer(serializers.ModelSerializer[Reward]):
    referrer_name = serializers.CharField(source="referral.referrer.name", read_only=True)
    referred_name = serializers.CharField(source="referral.referred.name", read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)

    class Meta:
        model = Reward
        fields = (
            "id",
            "referral",
            "referrer_name",
            "referred_name",
            "kind",
            "amount",
            "state",
            "note",
            "decision_note",
            "proposed_at",
            "approved_at",
            "paid_at",
            "rejected_at",
        )
        read_only_fields = (
            "referral",
            "state",
            "decision_note",
            "proposed_at",
            "approved_at",
            "paid_at",
            "rejected_at",
        )


class RewardDecisionSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, label="意见（驳回时必填）")


def _denied(exc: NotAllowed) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(exc.message)


class ReferralViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Referral]
):
    """老带新: list with the page's filters (q, status, channel, project, start, end), detail,
    登记 (create: both customers by id, within the caller's scope) and 申请奖励."""

    queryset = Referral.objects.none()
    serializer_class = ReferralSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {
        "*": (services.VIEW,),
        "create": (services.ADD,),
        "reward": (services.PROPOSE_REWARD,),
    }

    def get_queryset(self) -> QuerySet[Referral]:
        user = staff(self.request)
        if self.action == "list":
            return (
                ReferralFilterForm(self.request.query_params, user=user)
                .queryset()
                .select_related("referrer", "referred")
            )
        return selectors.referrals_visible_to(user).select_related("referrer", "referred")

    @extend_schema(summary="登记老带新", request=ReferralSerializer, responses={201: ReferralSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = staff(request)
        serializer = ReferralSerializer(data=request.data)
        visible = customers_visible_to(user)
        serializer.fields["referrer"].queryset = visible  # type: ignore[attr-defined]
        serializer.fields["referred"].queryset = visible  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            referral = services.record_referral(
                data["referred"],
                actor=user,
                referrer=data["referrer"],
                channel=data.get("channel", ReferralChannel.CHAIN),
                visited_on=data.get("visited_on"),
            )
        except NotAllowed as exc:
            raise _denied(exc) from exc
        row = selectors.get_referral_for_user(user, referral.pk)
        return Response(ReferralSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="申请老带新奖励（新客户认购后）", request=RewardSerializer, responses={201: RewardSerializer}
    )
    @action(detail=True, methods=["post"])
    def reward(self, request: Request, pk: str | None = None) -> Response:
        user = staff(request)
        referral = self.get_object()
        serializer = RewardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            reward = services.propose_reward(
                referral, actor=user, kind=data["kind"], amount=data["amount"], note=data.get("note", "")
            )
        except NotAllowed as exc:
            raise _denied(exc) from exc
        return Response(RewardSerializer(reward).data, status=status.HTTP_201_CREATED)


class RewardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Reward]):
    """老带新奖励: list (``state``), detail, and 批准 / 驳回 (with a reason) / 发放."""

    queryset = Reward.objects.none()
    serializer_class = RewardSerializer
    pagination_class = Pagination
    permission_classes = (ActionPermission,)
    action_permissions = {
        "*": (services.VIEW_REWARD,),
        "approve": (services.APPROVE_REWARD,),
        "reject": (services.APPROVE_REWARD,),
        "pay": (services.PAY_REWARD,),
    }

    def get_queryset(self) -> QuerySet[Reward]:
        user = staff(self.request)
        if self.action == "list":
            rows = RewardFilterForm(self.request.query_params, user=user).queryset()
        else:
            rows = selectors.rewards_visible_to(user)
        return rows.select_related("referral__referrer", "referral__referred")

    def _decide(self, request: Request, verb: str) -> Response:
        user = staff(request)
        reward = self.get_object()
        serializer = RewardDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.validated_data.get("note", "")
        move = {"approve": services.approve_reward, "reject": services.reject_reward, "pay": services.pay_reward}[verb]
        try:
            reward = move(reward, actor=user, note=note)
        except NotAllowed as exc:
            raise _denied(exc) from exc
        return Response(RewardSerializer(self.get_queryset().get(pk=reward.pk)).data)

    @extend_schema(summary="批准奖励", request=RewardDecisionSerializer, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, "approve")

    @extend_schema(summary="驳回奖励", request=RewardDecisionSerializer, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, "reject")

    @extend_schema(summary="登记奖励已发放", request=RewardDecisionSerializer, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, "pay")


def _date(raw: str | None, default: date, name: str) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise exceptions.ValidationError({name: ["请填写正确的日期（YYYY-MM-DD）"]}) from exc


class ReferralStatsView(views.APIView):
    """老带新统计: referrals recorded in [start, end] (default: this month) in the caller's
    scope, per project and per consultant, and the share of owners who referred someone."""

    @extend_schema(summary="老带新统计（按楼盘、按置业顾问）", responses={200: dict})
    def get(self, request: Request) -> Response:
        user = staff(request)
        if not user.has_perm(services.STATS):
            raise exceptions.PermissionDenied("您没有查看老带新统计的权限。")
        today = local_day(timezone.now())
        start = _date(request.query_params.get("start"), today.replace(day=1), "start")
        end = _date(request.query_params.get("end"), today, "end")
        if start > end:
            raise exceptions.ValidationError({"end": ["结束日期不能早于开始日期"]})
        stats = selectors.stats_for(user, start=start, end=end)

        def rows(items: list[selectors.StatsRow], key: str) -> list[dict[str, Any]]:
            return [
                {
                    key: r.key,
                    "name": r.label,
                    "referrals": r.referrals,
                    "visited": r.visited,
                    "subscribed": r.subscribed,
                    "signed": r.signed,
                    "subscribe_rate": r.subscribe_rate,
                    "sign_rate": r.sign_rate,
                }
                for r in items
            ]

        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "projects": rows(stats.by_project, "project"),
                "consultants": rows(stats.by_consultant, "consultant"),
                "total": rows([stats.total], "total")[0],
                "owners": [
                    {
                        "project": o.project_id,
                        "name": o.project,
                        "owners": o.owners,
                        "referring": o.referring,
                        "rate": o.rate,
                    }
                    for o in selectors.owners_for(user, start=start, end=end)
                ],
            }
        )
