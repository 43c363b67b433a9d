"""客户描摹 forms: shapes and choices; the rules are in crm.portraits.services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet

from crm.accounts import access
from crm.accounts.roles import Scope
from crm.core.forms import ListFilterForm
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.portraits import selectors
from crm.portraits.models import CHOICE_FIELDS, Portrait
from crm.portraits.quarters import Quarter, recent_quarters
from crm.projects.models import Project

if TYPE_CHECKING:
    from datetime import date

    from crm.accounts.models import User

PORTRAIT_FIELDS = (
    "industry",
    "occupation",
    "family_structure",
    "family_note",
    "hobby",
    "interests",
    "living_situation",
    "living_note",
    "purchase_motive",
    "decision_maker",
    "notes",
)
# The customer picker's suggestions: the consultant's own customers, newest first.
SUGGESTIONS = 200


class PortraitForm(forms.ModelForm[Portrait]):
    """The portrait's own fields (the edit page); ``NewPortraitForm`` adds the customer."""

    class Meta:
        model = Portrait
        fields: tuple[str, ...] = PORTRAIT_FIELDS
        widgets = {"interests": forms.Textarea(attrs={"rows": 3}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label, _choices in CHOICE_FIELDS:
            field = self.fields[name]
            field.error_messages["required"] = f"请选择{label}"
            field.error_messages["invalid_choice"] = f"请选择{label}"

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) or "" for name in PORTRAIT_FIELDS}


class NewPortraitForm(PortraitForm):
    """提交客户描摹: the customer by number, among the customers the user may see."""

    customer_number = forms.CharField(
        label="客户编号",
        max_length=20,
        help_text="输入客户编号或从列表中选择（仅限您名下可查看的客户）",
        widget=forms.TextInput(attrs={"list": "my-customers", "autocomplete": "off"}),
    )

    class Meta(PortraitForm.Meta):
        fields = ("customer_number", *PORTRAIT_FIELDS)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["customer_number"].error_messages["required"] = "请填写客户编号"

    def clean_customer_number(self) -> Customer:
        number = (self.cleaned_data.get("customer_number") or "").strip()
        customer = customers_visible_to(self.user).filter(number=number).select_related("project").first()
        if customer is None:
            raise forms.ValidationError("没有找到这个客户编号，或该客户不在您的客户范围内")
        return customer

    def suggestions(self) -> QuerySet[Customer]:
        own = Q(owner_id=self.user.pk) | Q(advisor_id=self.user.pk)
        return customers_visible_to(self.user).filter(own).only("number", "name").order_by("-id")[:SUGGESTIONS]


def quarter_choices(today: date) -> list[tuple[str, str]]:
    return [(q.key, q.label) for q in recent_quarters(today)]


SHOW_CHOICES = {"mine": "我的描摹", "team": "本组描摹", "all": "全部"}


def show_choices(user: User) -> list[tuple[str, str]]:
    """我的 / 本组 / 全部 by the user's widest scope: a consultant has only their own."""
    scope = access.widest_scope(user)
    keys = ["mine"]
    if scope >= Scope.TEAM and user.team_id is not None:
        keys.append("team")
    if scope >= Scope.TEAM:
        keys.append("all")
    return [(key, SHOW_CHOICES[key]) for key in keys]


class PortraitFilterForm(ListFilterForm):
    show = forms.ChoiceField(required=False, label="范围")
    quarter = forms.ChoiceField(required=False, label="季度")
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )

    def __init__(self, *args: Any, user: User, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["show"].choices = show_choices(user)  # type: ignore[attr-defined]
        self.fields["quarter"].choices = [("", "全部季度"), *quarter_choices(today)]  # type: ignore[attr-defined]
        self.fields["project"].queryset = Project.objects.filter(  # type: ignore[attr-defined]
            access.project_q(user)
        ).order_by("name")

    @property
    def chosen_show(self) -> str:
        value: str = self.value("show") or show_choices(self.user)[-1][0]
        return value

    def queryset(self) -> QuerySet[Portrait]:
        rows = selectors.portraits_visible_to(self.user)
        show = self.chosen_show
        if show == "mine":
            rows = rows.filter(consultant_id=self.user.pk)
        elif show == "team":
            rows = rows.filter(consultant_id__in=access.team_member_ids(self.user))
        quarter = Quarter.parse(self.value("quarter"))
        if quarter is not None:
            rows = rows.filter(quarter=quarter.key)
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        return rows.select_related("customer", "consultant", "project")


class QuarterForm(forms.Form):
    """A quarter picker (the quota page); an unknown value falls back to this quarter."""

    quarter = forms.ChoiceField(required=False, label="季度")

    def __init__(self, *args: Any, user: User, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.today = today
        self.fields["quarter"].choices = quarter_choices(today)  # type: ignore[attr-defined]

    def chosen_quarter(self) -> Quarter:
        if self.is_valid():
            chosen = Quarter.parse(self.cleaned_data.get("quarter"))
            if chosen is not None:
                return chosen
        return Quarter.of(self.today)


class AnalysisForm(QuarterForm):
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )

    def __init__(self, *args: Any, user: User, today: date, **kwargs: Any) -> None:
        super().__init__(*args, user=user, today=today, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(  # type: ignore[attr-defined]
            access.project_q(user)
        ).order_by("name")

    def chosen_project(self) -> Project | None:
        if self.is_valid():
            project: Project | None = self.cleaned_data.get("project")
            return project
        return None
