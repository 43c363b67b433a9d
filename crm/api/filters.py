"""Query-string filters of the list endpoints (django-filter).

A malformed value (an unknown stage, a project outside the caller's reach) is a 400 with
the field's Chinese message, never an empty page that looks like "no customers".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django_filters import rest_framework as filters

from crm.care import selectors as care_selectors
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.customers import selectors
from crm.customers.models import Customer, Deal, Grade, Stage
from crm.projects.models import Project, Unit

from .scope import projects_visible_to

User = get_user_model()


def _visible_projects(request: Any) -> QuerySet[Project]:
    if request is None:
        return Project.objects.none()
    return projects_visible_to(request.user)


def _colleagues(request: Any) -> QuerySet[Any]:
    if request is None:
        return User.objects.none()
    return User.objects.filter(company_id=request.user.company_id)


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter without its browsable-API form.

    The form's template ships with the ``django_filters`` app, which is not in
    INSTALLED_APPS; rendering it would turn every browsable-API page into a 500.
    """

    def to_html(self, request: Any, queryset: Any, view: Any) -> None:
        return None


class UnitFilter(filters.FilterSet):
    project = filters.ModelChoiceFilter(label="楼盘", queryset=_visible_projects)
    status = filters.ChoiceFilter(label="状态", choices=Unit.Status.choices)

    class Meta:
        model = Unit
        fields = ["project", "status"]


class CustomerFilter(filters.FilterSet):
    search = filters.CharFilter(
        label="搜索", method="filter_search", help_text="客户编号、手机号片段（如尾号4位）或姓名"
    )
    stage = filters.ChoiceFilter(label="客户阶段", choices=Stage.choices)
    grade = filters.ChoiceFilter(label="客户等级", choices=Grade.choices)
    project = filters.ModelChoiceFilter(label="意向楼盘", queryset=_visible_projects)
    owner = filters.ModelChoiceFilter(label="置业顾问", queryset=_colleagues)

    class Meta:
        model = Customer
        fields = ["search", "stage", "grade", "project", "owner"]

    def filter_search(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return selectors.search_customers(queryset, value)


def _visible_customers(request: Any) -> QuerySet[Customer]:
    if request is None:
        return Customer.objects.none()
    return selectors.customers_visible_to(request.user, include_archived=True)


class DealFilter(filters.FilterSet):
    customer = filters.ModelChoiceFilter(label="客户", queryset=_visible_customers)
    project = filters.ModelChoiceFilter(label="楼盘", queryset=_visible_projects)
    status = filters.ChoiceFilter(label="状态", choices=Deal.Status.choices)

    class Meta:
        model = Deal
        fields = ["customer", "project", "status"]


# ---------------------------------------------------------------- 温馨速递


class MessageFilter(filters.FilterSet):
    customer = filters.ModelChoiceFilter(label="客户", queryset=_visible_customers)
    status = filters.ChoiceFilter(
        label="状态",
        method="filter_status",
        choices=[
            *OutboundMessage.Status.choices,
            *((key, label) for key, (label, _) in care_selectors.STATUS_GROUPS.items()),
        ],
        help_text="一个状态，或分组：planned 待发送（含提交中）、sent_any 已发出、failed_any 失败或未送达、"
        "attention 待处理（失败、过期、暂缓）",
    )
    trigger = filters.ChoiceFilter(label="类型", choices=Trigger.choices)
    project = filters.ModelChoiceFilter(label="楼盘", queryset=_visible_projects)
    date = filters.DateFilter(label="计划发送日期", method="filter_date")
    date_from = filters.DateFilter(label="计划发送日期从", method="filter_date_from")
    date_to = filters.DateFilter(label="计划发送日期至", method="filter_date_to")

    class Meta:
        model = OutboundMessage
        fields = ["customer", "status", "trigger", "project", "date", "date_from", "date_to"]

    def filter_status(self, queryset: QuerySet[OutboundMessage], name: str, value: str) -> QuerySet[OutboundMessage]:
        return queryset.filter(care_selectors.status_q(value))

    def filter_date(self, queryset: QuerySet[OutboundMessage], name: str, value: Any) -> QuerySet[OutboundMessage]:
        return queryset.filter(care_selectors.day_range_q(value, value))

    def filter_date_from(self, queryset: QuerySet[OutboundMessage], name: str, value: Any) -> QuerySet[OutboundMessage]:
        return queryset.filter(care_selectors.day_range_q(value, None))

    def filter_date_to(self, queryset: QuerySet[OutboundMessage], name: str, value: Any) -> QuerySet[OutboundMessage]:
        return queryset.filter(care_selectors.day_range_q(None, value))


class RuleFilter(filters.FilterSet):
    project = filters.ModelChoiceFilter(label="楼盘", queryset=_visible_projects)
    trigger = filters.ChoiceFilter(label="类型", choices=Trigger.choices)

    class Meta:
        model = CareRule
        fields = ["project", "trigger"]


class DraftFilter(filters.FilterSet):
    status = filters.ChoiceFilter(label="状态", choices=Draft.Status.choices)
    project = filters.ModelChoiceFilter(label="楼盘", queryset=_visible_projects)

    class Meta:
        model = Draft
        fields = ["status", "project"]
