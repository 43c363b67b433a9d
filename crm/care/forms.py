"""Forms of the 温馨速递 pages. They decide whether input is acceptable; crm.care.services
decides what happens (placeholders, windows, approval) and re-checks the business rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from crm.accounts.access import company_of
from crm.accounts.models import User
from crm.care import services, templating
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.care.selectors import STATUS_GROUPS, care_projects, day_range_q, messages_visible_to, status_q
from crm.core.forms import ListFilterForm
from crm.customers.models import Customer, Grade, Stage, Tag
from crm.customers.selectors import customers_visible_to, search_customers
from crm.lib.numbers import parse_id
from crm.projects.models import Project
from crm.projects.selectors import projects_visible_to

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
Status = OutboundMessage.Status


class OutboxFilterForm(ListFilterForm):
    q = forms.CharField(required=False, max_length=50, label="客户")
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "全部状态"),
            *Status.choices,
            *((key, label) for key, (label, _) in STATUS_GROUPS.items()),
        ],
        label="状态",
    )
    trigger = forms.ChoiceField(required=False, choices=[("", "全部类型"), *Trigger.choices], label="类型")
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="全部楼盘", label="楼盘"
    )
    date_from = forms.DateField(required=False, label="计划发送日期从", widget=DATE)
    date_to = forms.DateField(required=False, label="至", widget=DATE)

    def __init__(self, data: Mapping[str, Any] | None, *, user: User) -> None:
        super().__init__(data or {})
        self.user = user
        fields: Any = self.fields
        fields["project"].queryset = projects_visible_to(user)

    def queryset(self) -> QuerySet[OutboundMessage]:
        qs = messages_visible_to(self.user)
        if text := (self.value("q") or "").strip():
            found = search_customers(customers_visible_to(self.user, include_archived=True), text)
            qs = qs.filter(customer__in=found.values("pk"))
        if status := self.value("status"):
            qs = qs.filter(status_q(status))
        if trigger := self.value("trigger"):
            qs = qs.filter(trigger=trigger)
        if project := self.value("project"):
            qs = qs.filter(project=project)
        qs = qs.filter(day_range_q(self.value("date_from"), self.value("date_to")))
        return qs.order_by("-scheduled_at", "-id")


class OptOutPeriodForm(forms.Form):
    """退订管理's period filter (a KPI's drill-down): opted out between two local days."""

    start = forms.DateField(required=False)
    end = forms.DateField(required=False)
    project = forms.IntegerField(required=False, min_value=1)


class CancelMessageForm(forms.Form):
    reason = forms.CharField(
        label="取消原因",
        max_length=200,
        error_messages={"required": "请填写取消原因"},
        widget=forms.TextInput(attrs={"placeholder": "如 客户来电说明已不需要"}),
    )


class ResendForm(forms.Form):
    confirmed = forms.BooleanField(required=False, label="已核实客户没有收到这条短信（发送结果不明的短信补发前须核实）")


# ------------------------------------------------------------------ rules


class RuleForm(forms.Form):
    """A plain form (not a ModelForm): the rule is changed only by services.update_rule,
    which validates placeholders and audits the change."""

    is_enabled = forms.BooleanField(required=False, label="启用")
    template = forms.CharField(
        label="短信模板",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写短信模板"},
        help_text="关怀、营销类短信发送时会自动在末尾加上“拒收请回复R”，网关自动加签名【】",
    )
    window_start = forms.TimeField(label="发送开始", widget=TIME, error_messages={"invalid": "请填写时间，如 10:00"})
    window_end = forms.TimeField(label="发送截止", widget=TIME, error_messages={"invalid": "请填写时间，如 10:30"})
    offset_days = forms.IntegerField(
        label="相对天数",
        min_value=-30,
        max_value=30,
        help_text="相对触发日期，如 认购次日为 1，活动前三天为 -3",
        error_messages={"invalid": "请填写整数天数", "min_value": "最少 -30 天", "max_value": "最多 30 天"},
    )
    needs_approval = forms.BooleanField(
        required=False, label="发送前需综合组审批", help_text="节日、工程进度类默认需要审批；其他类默认不需要"
    )
    catch_up_days = forms.IntegerField(
        label="补发期限（天）",
        required=False,
        min_value=0,
        max_value=30,
        help_text="错过发送时段（如下午才录入、服务器停机）后，在此天数内的下一个发送时段补发一次；0 表示不补发",
        error_messages={"invalid": "请填写整数天数", "min_value": "不能小于 0", "max_value": "最多 30 天"},
    )
    working_days_only = forms.BooleanField(required=False, label="仅在工作日发送", help_text="按工作日历，含调休上班日")
    gateway_template_code = forms.CharField(
        label="网关模板编号",
        max_length=40,
        required=False,
        help_text="阿里云 SMS_… / 腾讯云模板ID，控制台审核通过后填写",
    )

    FIELDS = (
        "is_enabled",
        "template",
        "window_start",
        "window_end",
        "offset_days",
        "needs_approval",
        "catch_up_days",
        "working_days_only",
        "gateway_template_code",
    )

    def __init__(self, data: Mapping[str, Any] | None = None, *, rule: CareRule) -> None:
        super().__init__(data, initial={name: getattr(rule, name) for name in self.FIELDS})
        self.rule = rule

    def changes(self) -> dict[str, Any]:
        """The submitted settings; a number left empty keeps the rule's current value."""
        return {name: value for name in self.FIELDS if (value := self.cleaned_data[name]) is not None}


# ------------------------------------------------------------------ drafts


def _fill_name(placeholder: str) -> str:
    return f"fill_{placeholder}"


class DraftForm(forms.Form):
    """The approver's (or author's) view of a pending draft: the text, one box per blank
    placeholder such as {进度}, and the approval comment."""

    text = forms.CharField(
        label="短信内容",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "短信内容不能为空"},
    )
    comment = forms.CharField(
        label="审批意见", max_length=200, required=False, widget=forms.TextInput(attrs={"placeholder": "驳回时必填"})
    )

    def __init__(self, data: Mapping[str, Any] | None = None, *, draft: Draft) -> None:
        super().__init__(data, initial={"text": draft.text}, prefix=f"d{draft.pk}")
        self.draft = draft
        self.missing = list(dict.fromkeys(templating.missing_values(draft.text)))
        for name in self.missing:
            self.fields[_fill_name(name)] = forms.CharField(
                label=name,
                max_length=100,
                required=False,
                help_text=templating.KNOWN.get(name, ""),
                widget=forms.TextInput(attrs={"placeholder": f"填写{name}，替换短信中的 {{{name}}}"}),
            )

    @property
    def fills(self) -> list[forms.BoundField]:
        return [self[_fill_name(name)] for name in self.missing]

    def require_fills(self) -> None:
        """Before approval: every blank still in the text needs its box filled."""
        left = set(templating.missing_values(self.filled_text()))
        for name in self.missing:
            if name in left:
                self.add_error(_fill_name(name), f"请填写{name}，批准前不能留空")

    def filled_text(self) -> str:
        """The posted text with every filled placeholder replaced by its value."""
        text = str(self.cleaned_data["text"])
        for name in self.missing:
            value = (self.cleaned_data.get(_fill_name(name)) or "").strip()
            if value:
                text = text.replace(f"{{{name}}}", value)
        return text


# ------------------------------------------------------------------ broadcasts

# Example values shown in the composer's inputs.
EXAMPLES = {
    "户型": "如 A1 三室两厅",
    "面积": "如 118",
    "日期": "如 5月1日",
    "活动": "如 业主中秋游园会",
    "时间": "如 9月20日（周六）14:00",
    "原因": "如 寒潮来袭",
}


VALUE_PREFIX = "val_"


def _value_name(placeholder: str) -> str:
    return f"{VALUE_PREFIX}{placeholder}"


class BroadcastForm(forms.Form):
    """群发: project, type, send date, the values the rule's template needs and an audience filter.

    The value boxes follow the chosen rule's template: {户型}/{面积}/{日期} for show flats,
    {活动}/{时间} for events, {原因} for bad weather. An event notice asks for the event's
    date instead of a send date: it goes the rule's offset before it (活动前三天).
    """

    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), label="楼盘", empty_label=None, error_messages={"required": "请选择楼盘"}
    )
    trigger = forms.ChoiceField(label="群发类型", choices=[(t.value, t.label) for t in services.BROADCAST_TRIGGERS])
    send_on = forms.DateField(
        label="发送日期",
        required=False,
        widget=DATE,
        error_messages={"invalid": "请填写正确的日期"},
    )
    event_on = forms.DateField(
        label="活动日期",
        required=False,
        widget=DATE,
        error_messages={"invalid": "请填写正确的日期"},
    )
    stage = forms.MultipleChoiceField(
        label="客户阶段", required=False, choices=Stage.choices, widget=forms.CheckboxSelectMultiple
    )
    grade = forms.MultipleChoiceField(
        label="客户等级", required=False, choices=Grade.choices, widget=forms.CheckboxSelectMultiple
    )
    tag = forms.ModelMultipleChoiceField(
        label="标签", required=False, queryset=Tag.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, user: User, typed: Mapping[str, Any] | None = None
    ) -> None:
        """``data``: a submitted form (validated). ``typed``: what is in the boxes while the
        user is still choosing 楼盘 and 类型 (HTMX): shown as typed, never validated, so no
        error appears before the user submits."""
        typed = typed if data is None and typed is not None else None
        initial: dict[str, Any] = {"send_on": timezone.localdate() + timedelta(days=1)}
        if typed is not None:
            initial |= {name: typed.get(name) for name in typed if name.startswith(VALUE_PREFIX)}
        super().__init__(data, initial=initial)
        self.user = user
        fields: Any = self.fields
        projects = care_projects(user).filter(is_active=True).select_related("company").order_by("name")
        fields["project"].queryset = projects
        fields["tag"].queryset = Tag.objects.filter(company_id=company_of(user)).order_by("name")
        for name in ("project", "trigger"):
            # The value boxes below follow the chosen project and type (HTMX swaps them in).
            fields[name].widget.attrs.update(
                {"hx-get": reverse("care:broadcast"), "hx-target": "#values", "hx-include": "#broadcast-form"}
            )
        chosen = data if data is not None else (typed or {})
        self.rule = self._chosen_rule(projects, chosen)
        self.is_event = self.rule is not None and self.rule.trigger == Trigger.EVENT
        if self.rule is not None and self.is_event:
            rule = self.rule
            fields["event_on"].help_text = (
                f"通知在活动前 {-rule.offset_days} 天 {rule.window_start:%H:%M}–{rule.window_end:%H:%M} 发送，"
                "活动改期时随之调整"
            )
        self.placeholders: list[str] = []
        if self.rule is not None:
            base = set(services.base_values(self.rule.project)) | {"客户"}
            self.placeholders = [
                name for name in dict.fromkeys(templating.placeholders(self.rule.template)) if name not in base
            ]
        for name in self.placeholders:
            self.fields[_value_name(name)] = forms.CharField(
                label=name,
                max_length=50,
                error_messages={"required": f"请填写{name}"},
                widget=forms.TextInput(attrs={"placeholder": EXAMPLES.get(name, "")}),
                help_text="" if templating.KNOWN.get(name, name) == name else templating.KNOWN[name],
            )
        # Values typed for another type's boxes ride along hidden, so switching 类型 back
        # and forth loses nothing.
        shown = {_value_name(name) for name in self.placeholders}
        self.carried = [
            (name, str(value))
            for name, value in chosen.items()
            if name.startswith(VALUE_PREFIX) and name not in shown and str(value or "").strip()
        ]

    def _chosen_rule(self, projects: QuerySet[Any], chosen: Mapping[str, Any]) -> CareRule | None:
        """The rule the value boxes follow: the chosen project and type, else the first ones."""
        raw_project = str(chosen.get("project") or "")
        project_id = parse_id(raw_project)
        project = projects.filter(pk=project_id).first() if project_id is not None else None
        project = project or projects.first()
        if project is None:
            return None
        trigger = str(chosen.get("trigger") or "")
        if trigger not in services.BROADCAST_TRIGGERS:
            trigger = services.BROADCAST_TRIGGERS[0]
        return services.rule_for(project.pk, trigger)

    @property
    def value_fields(self) -> list[forms.BoundField]:
        return [self[_value_name(name)] for name in self.placeholders]

    def clean_send_on(self) -> date | None:
        send_on: date | None = self.cleaned_data["send_on"]
        if send_on is not None and send_on < timezone.localdate():
            raise forms.ValidationError("发送日期不能早于今天")
        return send_on

    def clean_event_on(self) -> date | None:
        event_on: date | None = self.cleaned_data["event_on"]
        if event_on is not None and event_on <= timezone.localdate():
            raise forms.ValidationError("活动日期应晚于今天")
        return event_on

    def clean(self) -> dict[str, Any]:
        """An event needs its date; every other type its send date."""
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("trigger") == Trigger.EVENT:
            if not cleaned.get("event_on") and "event_on" not in self.errors:
                self.add_error("event_on", "请填写活动日期")
        elif not cleaned.get("send_on") and "send_on" not in self.errors:
            self.add_error("send_on", "请选择发送日期")
        return cleaned

    def values(self) -> dict[str, object]:
        return {name: self.cleaned_data[_value_name(name)].strip() for name in self.placeholders}

    def audience_filter(self) -> dict[str, list[str]]:
        data = self.cleaned_data
        chosen = {
            "stage": list(data.get("stage") or []),
            "grade": list(data.get("grade") or []),
            "tag": [tag.name for tag in data.get("tag") or []],
        }
        return {key: value for key, value in chosen.items() if value}


# ------------------------------------------------------------------ opt-out

OPT_OUT_SOURCES = ("客户来电要求", "客户到访要求", "客户书面申请", "微信/短信告知", "其他方式")


class OptOutForm(forms.Form):
    source = forms.ChoiceField(
        label="客户告知方式",
        choices=[(s, s) for s in OPT_OUT_SOURCES],
        error_messages={"required": "请选择客户告知方式"},
    )


class OptInForm(forms.Form):
    source = forms.CharField(
        label="客户重新同意的方式",
        max_length=50,
        error_messages={"required": "请填写客户重新同意的方式"},
        widget=forms.TextInput(attrs={"placeholder": "如 客户到访签署同意书"}),
    )


class OptOutLookupForm(OptOutForm):
    """Opt a customer out from the opt-out page: find them by number or mobile."""

    customer = forms.CharField(
        label="客户",
        max_length=30,
        error_messages={"required": "请填写客户编号或手机号"},
        widget=forms.TextInput(attrs={"placeholder": "客户编号或完整手机号"}),
    )

    field_order = ["customer", "source"]

    def __init__(self, data: Mapping[str, Any] | None = None, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        self.found: Customer | None = None

    def clean_customer(self) -> str:
        text = str(self.cleaned_data["customer"]).strip()
        visible = customers_visible_to(self.user, include_archived=True)
        digits = "".join(ch for ch in text if ch.isdigit())
        matches = list(
            visible.filter(
                Q(number__iexact=text) | (Q(mobile=digits) | Q(mobile2=digits) if len(digits) >= 7 else Q())
            )[:2]
        )
        if not matches:
            raise forms.ValidationError("未找到该客户，或您无权查看")
        if len(matches) > 1:
            raise forms.ValidationError("找到多位客户，请改用客户编号")
        self.found = matches[0]
        return text
