"""Filters of the customer and deal lists, read from the query string.

The list pages, the workbench's links and the Excel export share these, so "本周新增"
on the workbench, the list behind it and the file exported from that list agree. Every
filter starts from the user's scope (crm.customers.selectors); an invalid value is
ignored rather than an error, so a hand-edited URL never breaks the page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.accounts.access import company_of, staff_in_scope_q
from crm.accounts.models import User
from crm.core.forms import ListedModelChoiceField, ListFilterForm
from crm.customers.models import Channel, Customer, Deal, Grade, Stage, Tag
from crm.customers.selectors import KPI_MEASURES, customers_visible_to, deals_visible_to, kpi_q, search_customers
from crm.lib.dates import local_midnight, week_start
from crm.projects.models import Project
from crm.projects.selectors import projects_visible_to

if TYPE_CHECKING:
    from collections.abc import Mapping

CUSTOMER_SORTS: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "grade": ("grade", "-created_at", "-id"),
    "-grade": ("-grade", "-created_at", "-id"),
}

# Deal milestone filters, shared with the workbench counts that link to them.
DEAL_MILESTONES: dict[str, tuple[str, Q]] = {
    "awaiting_contract": ("已认购待签约", Q(contracted_on__isnull=True)),
    "awaiting_filing": ("已签约待备案", Q(contracted_on__isnull=False, filed_on__isnull=True)),
    "awaiting_payment": ("已签约待全款", Q(contracted_on__isnull=False, full_payment_on__isnull=True)),
    "awaiting_delivery": ("已签约待交房", Q(contracted_on__isnull=False, delivered_on__isnull=True)),
    "awaiting_move_in": ("已交房待入住", Q(delivered_on__isnull=False, moved_in_on__isnull=True)),
    "moved_in": ("已入住", Q(moved_in_on__isnull=False)),
}


def upcoming_mmdd(today: date, days: int) -> list[str]:
    return [(today + timedelta(days=i)).strftime("%m%d") for i in range(days)]


def owners_in_scope(user: User) -> QuerySet[User]:
    """Staff whose customers the user can see (crm.accounts.access.staff_in_scope_q)."""
    return User.objects.filter(staff_in_scope_q(user)).distinct().order_by("display_name", "username")


def _choices(choices: list[tuple[str, str]], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *choices]


class CustomerFilterForm(ListFilterForm):
    q = forms.CharField(required=False, max_length=50, label="搜索")
    stage = forms.ChoiceField(required=False, choices=_choices(Stage.choices, "全部阶段"), label="阶段")
    grade = forms.ChoiceField(required=False, choices=_choices(Grade.choices, "全部等级"), label="等级")
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="全部顾问", label="置业顾问"
    )
    project = ListedModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="全部楼盘", label="楼盘"
    )
    source_channel = forms.ChoiceField(required=False, choices=_choices(Channel.choices, "全部渠道"), label="来源渠道")
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False, empty_label="全部标签", label="标签")
    vip = forms.BooleanField(required=False, label="仅VIP")
    created = forms.ChoiceField(
        required=False,
        choices=[("", "录入时间不限"), ("today", "今天录入"), ("week", "本周新增"), ("month", "本月新增")],
        label="录入时间",
    )
    birthday = forms.ChoiceField(required=False, choices=[("", "生日不限"), ("week", "7天内生日")], label="生日")
    archived = forms.BooleanField(required=False, label="已归档的无效客户")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("-created_at", "最新录入"),
            ("created_at", "最早录入"),
            ("name", "姓名"),
            ("-name", "姓名倒序"),
            ("grade", "等级 A→C"),
            ("-grade", "等级 C→A"),
        ],
        label="排序",
    )

    # A KPI's drill-down (crm.kpis): the customers a measure counts in a period.
    measure = forms.ChoiceField(required=False, choices=[("", ""), *KPI_MEASURES.items()])
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def __init__(self, data: Mapping[str, Any] | None, *, user: User) -> None:
        super().__init__(data or {})
        self.user = user
        fields: Any = self.fields
        fields["owner"].queryset = owners_in_scope(user)
        fields["project"].queryset = projects_visible_to(user)
        fields["tag"].queryset = Tag.objects.filter(company_id=company_of(user))

    @property
    def sort_key(self) -> str:
        return self.value("sort") or "-created_at"

    @property
    def is_filtered(self) -> bool:
        return any(self.value(name) for name in self.fields if name not in {"sort", "per_page"})

    def queryset(self) -> QuerySet[Customer]:
        """The user's customers narrowed by every valid filter, in the chosen order."""
        archived = bool(self.value("archived"))
        qs = customers_visible_to(self.user, include_archived=archived)
        if archived:
            qs = qs.filter(is_archived=True)
        qs = search_customers(qs, self.value("q") or "")
        for name in ("stage", "grade", "owner", "project", "source_channel"):
            if value := self.value(name):
                qs = qs.filter(**{name: value})
        if tag := self.value("tag"):
            qs = qs.filter(tags=tag)
        if self.value("vip"):
            qs = qs.filter(is_vip=True)
        today = timezone.localdate()
        since = {"today": today, "week": week_start(today), "month": today.replace(day=1)}.get(
            self.value("created") or ""
        )
        if since is not None:
            qs = qs.filter(created_at__gte=local_midnight(since))
        if self.value("birthday") == "week":
            qs = qs.filter(birth_mmdd__in=upcoming_mmdd(today, 7))
        measure, start, end = self.value("measure"), self.value("start"), self.value("end")
        if measure and start and end:
            qs = qs.filter(kpi_q(measure, start=start, end=end))
        return qs.order_by(*CUSTOMER_SORTS[self.sort_key])

    @property
    def kpi_label(self) -> str:
        """The KPI drill-down in words (shown above the list), or "" when there is none."""
        measure, start, end = self.value("measure"), self.value("start"), self.value("end")
        if not (measure and start and end):
            return ""
        return f"{KPI_MEASURES[measure]}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"


class DealFilterForm(ListFilterForm):
    q = forms.CharField(required=False, max_length=50, label="客户姓名")
    project = ListedModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="全部楼盘", label="楼盘"
    )
    milestone = forms.ChoiceField(
        required=False,
        choices=[("", "全部节点"), *((key, label) for key, (label, _) in DEAL_MILESTONES.items())],
        label="节点",
    )
    consultant = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="全部顾问", label="置业顾问"
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "有效成交"), ("cancelled", "已退房"), ("all", "全部")], label="状态"
    )

    def __init__(self, data: Mapping[str, Any] | None, *, user: User) -> None:
        super().__init__(data or {})
        self.user = user
        fields: Any = self.fields
        fields["project"].queryset = projects_visible_to(user)
        consultant_ids = deals_visible_to(user).values("consultant_id")
        fields["consultant"].queryset = User.objects.filter(pk__in=consultant_ids).order_by("display_name", "username")

    def queryset(self) -> QuerySet[Deal]:
        qs = deals_visible_to(self.user)
        status = self.value("status")
        if status == "cancelled":
            qs = qs.filter(status=Deal.Status.CANCELLED)
        elif status != "all":
            qs = qs.filter(status=Deal.Status.ACTIVE)
        if q := (self.value("q") or "").strip():
            qs = qs.filter(customer__name__contains=q)
        if project := self.value("project"):
            qs = qs.filter(project=project)
        if consultant := self.value("consultant"):
            qs = qs.filter(consultant=consultant)
        if milestone := self.value("milestone"):
            qs = qs.filter(DEAL_MILESTONES[milestone][1])
        return qs.order_by("-subscribed_on", "-id")
