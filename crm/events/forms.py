"""Forms of 客户活动: the event, the invitee filter, replies, gifts and cancelling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet

from crm.accounts.access import company_of
from crm.accounts.models import User as UserModel
from crm.core.forms import ListFilterForm
from crm.customers.filters import DEAL_MILESTONES
from crm.customers.models import Grade, Stage, Tag
from crm.events import selectors
from crm.events.models import Event, Invitee
from crm.projects.models import Project
from crm.projects.selectors import projects_visible_to
from crm.service import selectors as service_selectors

if TYPE_CHECKING:
    from crm.accounts.models import User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def organisers(user: User) -> QuerySet[UserModel]:
    """Staff of the user's company who may organise events."""
    return (
        UserModel.objects.filter(company_id=company_of(user), is_active=True)
        .filter(groups__permissions__codename="change_event")
        .distinct()
        .order_by("display_name", "username")
    )


class EventForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Event
        fields = (
            "project",
            "kind",
            "title",
            "starts_on",
            "starts_at_time",
            "place",
            "capacity",
            "organiser",
            "description",
        )
        widgets = {"starts_on": DATE, "starts_at_time": TIME, "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["project"].queryset = projects_visible_to(user)
        fields["organiser"].queryset = organisers(user)
        fields["organiser"].required = False
        fields["organiser"].empty_label = "（我）"
        if self.instance.pk:
            fields["project"].disabled = True
        for name, label in (
            ("project", "楼盘"),
            ("title", "活动名称"),
            ("starts_on", "活动日期"),
            ("starts_at_time", "开始时间"),
            ("place", "活动地点"),
        ):
            fields[name].error_messages["required"] = f"请填写{label}" if name != "project" else "请选择楼盘"


class EventFilterForm(ListFilterForm):
    status = forms.ChoiceField(required=False, label="状态", choices=[("", "全部状态"), *Event.Status.choices])
    kind = forms.ChoiceField(required=False, label="类型", choices=[("", "全部类型"), *Event.Kind.choices])
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    when = forms.ChoiceField(
        required=False, label="时间", choices=[("", "全部时间"), ("upcoming", "未开始"), ("past", "已过")]
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = projects_visible_to(user)  # type: ignore[attr-defined]

    def queryset(self, *, today: Any) -> QuerySet[Event]:
        qs = selectors.events_visible_to(self.user)
        for name in ("status", "kind", "project"):
            if value := self.value(name):
                qs = qs.filter(**{name: value})
        if self.value("when") == "upcoming":
            qs = qs.filter(starts_on__gte=today).order_by("starts_on", "id")
        elif self.value("when") == "past":
            qs = qs.filter(starts_on__lt=today)
        return qs


class InviteeFilterForm(forms.Form):
    """Who to invite: the customers matching these (and the user's scope) not yet invited."""

    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    stage = forms.ChoiceField(required=False, label="阶段", choices=[("", "全部阶段"), *Stage.choices])
    milestone = forms.ChoiceField(
        required=False,
        label="成交节点",
        choices=[("", "全部节点"), *((key, label) for key, (label, _) in DEAL_MILESTONES.items())],
    )
    grade = forms.ChoiceField(required=False, label="等级", choices=[("", "全部等级"), *Grade.choices])
    tag = forms.ModelChoiceField(required=False, label="标签", queryset=Tag.objects.none(), empty_label="全部标签")
    vip = forms.BooleanField(required=False, label="仅VIP")

    def __init__(self, *args: Any, user: User, event: Event, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"project": event.project_id})
        super().__init__(*args, **kwargs)
        self.user = user
        self.event = event
        fields: Any = self.fields
        fields["project"].queryset = projects_visible_to(user)
        fields["tag"].queryset = Tag.objects.filter(company_id=company_of(user))

    def candidates(self) -> Any:
        data = self.cleaned_data
        return selectors.candidates(
            self.user,
            self.event,
            project=data.get("project"),
            stage=data.get("stage") or "",
            grade=data.get("grade") or "",
            tag=data.get("tag"),
            milestone=data.get("milestone") or "",
            vip=bool(data.get("vip")),
        )


class RsvpForm(forms.Form):
    rsvp = forms.ChoiceField(label="回执", choices=Invitee.Rsvp.choices)
    note = forms.CharField(label="备注", max_length=100, required=False)
    over_capacity = forms.BooleanField(label="超出名额仍登记", required=False)


class WalkInForm(forms.Form):
    """现场登记: someone who was not invited, found (or registered) by mobile."""

    mobile = forms.CharField(
        label="手机号",
        max_length=20,
        error_messages={"required": "请填写手机号"},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    name = forms.CharField(label="姓名（新客户必填）", max_length=30, required=False)
    over_capacity = forms.BooleanField(label="超出名额仍登记", required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=100, error_messages={"required": "请填写取消原因"})


class EventGiftForm(forms.Form):
    invitee = forms.ModelChoiceField(label="受邀客户", queryset=Invitee.objects.none(), empty_label="请选择客户")
    gift = forms.ModelChoiceField(label="礼品", queryset=Invitee.objects.none(), empty_label="请选择礼品")
    quantity = forms.IntegerField(label="数量", min_value=1, max_value=1000, initial=1)

    def __init__(self, *args: Any, user: User, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["invitee"].queryset = selectors.invitees_of(event, user)
        fields["invitee"].label_from_instance = lambda i: f"{i.customer.name}（{i.customer.number}）"
        fields["gift"].queryset = service_selectors.gifts_for(user).filter(is_active=True)
        fields["invitee"].error_messages["required"] = "请选择客户"
        fields["gift"].error_messages["required"] = "请选择礼品"
        fields["quantity"].error_messages.update(required="请填写数量", min_value="数量须大于 0")
