"""Forms of the complaint pages: intake, the list's filters and the action form."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet

from crm.complaints import selectors, services
from crm.complaints.models import Category, Channel, Complaint
from crm.complaints.public_forms import ImagesField
from crm.core.forms import ListedModelChoiceField, ListFilterForm
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from crm.accounts.models import User

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IntakeForm(forms.Form):
    """投诉登记: what the staff member hears or reads; errors in Chinese, values kept."""

    channel = forms.ChoiceField(label="投诉渠道", choices=Channel.choices, initial=Channel.PHONE)
    complainant_name = forms.CharField(label="投诉人", max_length=50)
    complainant_mobile = forms.CharField(
        label="联系电话", max_length=20, required=False, help_text="与客户档案手机号一致时自动关联该客户"
    )
    complainant_email = forms.EmailField(
        label="电子邮箱",
        required=False,
        help_text="邮件投诉可只填邮箱",
        error_messages={"invalid": "请填写正确的邮箱地址"},
    )
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    unit = forms.ModelChoiceField(label="房号", queryset=Unit.objects.none(), required=False, empty_label="（无）")
    category = forms.ModelChoiceField(label="投诉类别", queryset=Category.objects.none(), empty_label="请选择类别")
    content = forms.CharField(label="投诉内容", widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    event_at = forms.DateTimeField(
        label="事件发生时间", required=False, widget=LOCAL_INPUT, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    event_place = forms.CharField(label="事件发生地点", max_length=200, required=False)
    is_special = forms.BooleanField(label="特殊投诉（处理时限 7 个工作日）", required=False)
    is_important = forms.BooleanField(label="重要投诉（归档后长期保存）", required=False)
    repeat_of = forms.CharField(
        label="前次投诉编号", max_length=20, required=False, help_text="同一问题再次投诉时填写，标记为重复投诉"
    )
    attachments = ImagesField()

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        projects = selectors.projects_for_intake(user)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.fields["unit"].queryset = Unit.objects.filter(project__in=projects).select_related("building")  # type: ignore[attr-defined]
        self.fields["category"].queryset = selectors.categories_for(user)  # type: ignore[attr-defined]
        self.fields["complainant_name"].error_messages["required"] = "请填写投诉人姓名"
        self.fields["content"].error_messages["required"] = "请填写投诉内容"
        self.fields["project"].error_messages["required"] = "请选择楼盘"
        self.fields["category"].error_messages["required"] = "请选择投诉类别"
        self.fields["event_at"].error_messages["invalid"] = "请填写正确的时间"

    def clean_repeat_of(self) -> Complaint | None:
        number = (self.cleaned_data.get("repeat_of") or "").strip().upper()
        if not number:
            return None
        earlier = selectors.complaints_visible_to(self.user).filter(number=number).first()
        if earlier is None:
            raise forms.ValidationError("没有找到这个投诉编号")
        return earlier

    def intake(self) -> services.Intake:
        data = self.cleaned_data
        event_at: datetime | None = data.get("event_at")
        return services.Intake(
            channel=data["channel"],
            complainant_name=data["complainant_name"],
            complainant_mobile=data.get("complainant_mobile") or "",
            complainant_email=data.get("complainant_email") or "",
            content=data["content"],
            project=data["project"],
            category=data["category"],
            unit=data.get("unit"),
            event_at=event_at,
            event_place=data.get("event_place") or "",
            is_special=bool(data.get("is_special")),
            is_important=bool(data.get("is_important")),
            repeat_of=data.get("repeat_of"),
            attachments=tuple(data.get("attachments") or ()),
        )


class ComplaintFilterForm(ListFilterForm):
    q = forms.CharField(required=False, label="搜索")
    state = forms.ChoiceField(
        required=False, label="状态", choices=[("", "全部投诉"), *selectors.STATE_FILTERS.items()]
    )
    status = forms.ChoiceField(required=False, label="环节", choices=[("", "全部环节"), *Complaint.Status.choices])
    # Listed: one plain query each, not a server-side cursor (crm.core.forms).
    category = ListedModelChoiceField(
        required=False, label="类别", queryset=Category.objects.none(), empty_label="全部类别"
    )
    channel = forms.ChoiceField(required=False, label="渠道", choices=[("", "全部渠道"), *Channel.choices])
    project = ListedModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    # A KPI's drill-down (crm.kpis): the measure's rows in a period, optionally of one
    # consultant's customers; kept as hidden inputs while the other filters change.
    measure = forms.ChoiceField(required=False, choices=[("", ""), *selectors.KPI_MEASURES.items()])
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)
    owner = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Their names are all the filter shows (and a chosen id is checked against them).
        categories = Category.objects.filter(company_id=user.company_id or 0).only("name", "sort_order")
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]
        self.fields["project"].queryset = selectors.projects_for_intake(user).only("name")  # type: ignore[attr-defined]

    @property
    def kpi_label(self) -> str:
        """The KPI drill-down in words (shown above the list), or "" when there is none."""
        measure, start, end = self.value("measure"), self.value("start"), self.value("end")
        if not (measure and start and end):
            return ""
        return f"{selectors.KPI_MEASURES[measure]}（登记于 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"

    def queryset(self, *, now: datetime) -> QuerySet[Complaint]:
        rows = selectors.complaints_visible_to(self.user)
        q = (self.value("q") or "").strip()
        if q:
            rows = rows.filter(
                Q(number__icontains=q) | Q(complainant_name__icontains=q) | Q(complainant_mobile__contains=q)
            )
        if self.value("state"):
            rows = rows.filter(selectors.state_q(self.value("state"), user=self.user, now=now))
        for name in ("status", "category", "channel", "project"):
            if self.value(name):
                rows = rows.filter(**{name: self.value(name)})
        measure, start, end = self.value("measure"), self.value("start"), self.value("end")
        if measure and start and end:
            rows = rows.filter(selectors.kpi_q(measure, start=start, end=end, owner_id=self.value("owner")))
        return rows.order_by("-registered_at", "-id")


class ActionForm(forms.Form):
    """One verb on the detail page: a note, and what the verb asks for."""

    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    plan = forms.CharField(label="处理方案", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    satisfaction = forms.TypedChoiceField(
        label="客户满意度",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "请选择"), *[(n, f"{n} 分") for n in range(5, 0, -1)]],
    )
    assignee = forms.ModelChoiceField(
        label="责任人", required=False, queryset=Complaint.objects.none(), empty_label="请选择"
    )
    category = forms.ModelChoiceField(
        label="投诉类别", required=False, queryset=Category.objects.none(), empty_label="（不变）"
    )
    notify = forms.BooleanField(label="短信告知投诉人（投诉进度）", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.accounts.models import User as UserModel

        staff = UserModel.objects.filter(company_id=user.company_id or 0, is_active=True).order_by("display_name")
        self.fields["assignee"].queryset = staff  # type: ignore[attr-defined]
        self.fields["category"].queryset = selectors.categories_for(user)  # type: ignore[attr-defined]


class SurveyForm(forms.Form):
    """The complainant's rating on the public survey page (no login)."""

    rating = forms.TypedChoiceField(
        label="您对处理结果的满意度",
        coerce=int,
        choices=[
            (n, label)
            for n, label in (
                (5, "5 分 非常满意"),
                (4, "4 分 满意"),
                (3, "3 分 一般"),
                (2, "2 分 不满意"),
                (1, "1 分 非常不满意"),
            )
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择评分（1–5 分）", "invalid_choice": "请选择评分（1–5 分）"},
    )
    comment = forms.CharField(
        label="您的意见（选填）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
        error_messages={"max_length": "意见请不超过 500 字"},
    )


class MonthlyReportForm(forms.Form):
    """投诉分析报告's filter: the month (YYYY-MM) and, optionally, one project."""

    month = forms.CharField(label="月份", required=False, widget=forms.DateInput(attrs={"type": "month"}), max_length=7)
    project = ListedModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )

    def __init__(self, *args: Any, user: User, default_month: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.complaints.analysis import report_projects

        self.default_month = default_month
        self.fields["project"].queryset = report_projects(user)  # type: ignore[attr-defined]
        self.fields["project"].error_messages["invalid_choice"] = "请选择您可以查看的楼盘"

    def clean_month(self) -> date:
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return self.default_month
        try:
            year, month = (int(part) for part in text.split("-"))
            if not 2000 <= year <= 2100:
                raise ValueError(year)
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError("月份格式应为 年-月，例如 2026-11") from None


class RepeatForm(forms.Form):
    """Link a complaint to the earlier one it repeats (a number), or remove the link (a reason)."""

    repeat_of = forms.CharField(label="前次投诉编号", max_length=20, required=False)
    note = forms.CharField(label="说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_repeat_of(self) -> Complaint | None:
        number = (self.cleaned_data.get("repeat_of") or "").strip().upper()
        if not number:
            return None
        earlier = selectors.complaints_visible_to(self.user).filter(number=number).first()
        if earlier is None:
            raise forms.ValidationError("没有找到这个投诉编号")
        return earlier


class ImportantForm(forms.Form):
    important = forms.BooleanField(required=False)
    note = forms.CharField(label="说明", max_length=500, required=False)


class CorrectionForm(forms.Form):
    """更正登记信息: the director fixes the project, unit or category registered wrongly."""

    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    unit = forms.ModelChoiceField(label="房号", queryset=Unit.objects.none(), required=False, empty_label="（无）")
    category = forms.ModelChoiceField(label="投诉类别", queryset=Category.objects.none(), empty_label="请选择类别")
    note = forms.CharField(
        label="更正原因", max_length=300, error_messages={"required": "请填写更正原因"}, help_text="如：登记时选错楼盘"
    )

    def __init__(self, *args: Any, user: User, complaint: Complaint, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"project": complaint.project_id, "unit": complaint.unit_id, "category": complaint.category_id},
        )
        kwargs.setdefault("auto_id", "id_correct_%s")
        super().__init__(*args, **kwargs)
        projects = selectors.projects_for_intake(user)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.fields["unit"].queryset = Unit.objects.filter(project__in=projects).select_related("building")  # type: ignore[attr-defined]
        self.fields["category"].queryset = selectors.categories_for(user)  # type: ignore[attr-defined]
        self.fields["project"].error_messages["required"] = "请选择楼盘"
        self.fields["category"].error_messages["required"] = "请选择投诉类别"


class ReplyForm(forms.Form):
    """次日回复: what the complainant is told the day after registering (seed 001)."""

    text = forms.CharField(
        label="回复内容",
        max_length=80,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：您反映的3号楼电梯问题已交工程部检修，预计本周五前修复。不超过 80 字，发送前可再修改",
        error_messages={"required": "请填写回复内容", "max_length": "回复内容不能超过 80 个字"},
    )


class MailHandledForm(forms.Form):
    note = forms.CharField(
        label="处理说明",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：已人工登记为投诉 TS202611230001；或：广告邮件，无需登记",
        error_messages={"required": "请填写处理说明（如已人工登记的投诉编号）"},
    )
