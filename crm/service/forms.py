"""Forms of the 客服运营 pages: the roster, the duty log, the handover and spot checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet

from crm.accounts.access import holders_of
from crm.accounts.models import User as UserModel
from crm.core.forms import ListFilterForm
from crm.customers.selectors import customers_visible_to
from crm.projects.models import Project
from crm.service import selectors, services
from crm.service.models import (
    DisplayItem,
    DisplayStatus,
    DutyCheck,
    DutyLogEntry,
    Finding,
    Gift,
    GiftIssue,
    GiftTask,
    Handover,
    HandoverItem,
    Inspection,
    Material,
    MaterialKind,
    Occasion,
    Shift,
)

if TYPE_CHECKING:
    from crm.accounts.models import User

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _staff_with(user: User, perm: str) -> QuerySet[UserModel]:
    """Active staff of the user's company holding ``perm`` (crm.accounts.access.holders_of)."""
    return holders_of(perm, company=user.company_id or 0)


class ShiftForm(forms.Form):
    """排班."""

    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    officer = forms.ModelChoiceField(label="值班人员", queryset=UserModel.objects.none(), empty_label="请选择")
    starts_at = forms.DateTimeField(label="开始时间", widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS)
    ends_at = forms.DateTimeField(label="结束时间", widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS)
    manager = forms.ModelChoiceField(
        label="值班管理人员",
        queryset=UserModel.objects.none(),
        required=False,
        empty_label="（无）",
        help_text="节假日班次须安排中级以上管理人员",
    )
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        self.fields["officer"].queryset = _staff_with(user, services.KEEP_LOG)  # type: ignore[attr-defined]
        self.fields["manager"].queryset = _staff_with(user, services.HOLIDAY_LEAD)  # type: ignore[attr-defined]
        for name, label in (
            ("project", "楼盘"),
            ("officer", "值班人员"),
            ("starts_at", "开始时间"),
            ("ends_at", "结束时间"),
        ):
            self.fields[name].error_messages["required"] = f"请填写{label}"
            self.fields[name].error_messages["invalid"] = f"请填写正确的{label}"
            self.fields[name].error_messages["invalid_choice"] = f"请重新选择{label}"


class LogEntryForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=DutyLogEntry.Kind.choices, initial=DutyLogEntry.Kind.CALL)
    at = forms.DateTimeField(label="时间", widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS, required=False)
    caller_name = forms.CharField(label="来电/来访人", max_length=50, required=False)
    customer_number = forms.CharField(
        label="客户编号", max_length=20, required=False, help_text="是档案中的客户时填写，记录进入客户动态"
    )
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    is_escalated = forms.BooleanField(label="重大问题，已上报客服中心主任", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["content"].error_messages["required"] = "请填写记录内容"
        self.fields["at"].error_messages["invalid"] = "请填写正确的时间"

    def clean_customer_number(self) -> object:
        number = (self.cleaned_data.get("customer_number") or "").strip()
        if not number:
            return None
        customer = customers_visible_to(self.user).filter(number=number).first()
        if customer is None:
            raise forms.ValidationError("没有找到这个客户编号")
        return customer

    def entry_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("at")
        return value


class StartHandoverForm(forms.Form):
    incoming = forms.ModelChoiceField(label="接班人", queryset=UserModel.objects.none(), empty_label="请选择接班人")

    def __init__(self, *args: Any, user: User, shift: Shift, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incoming"].queryset = (  # type: ignore[attr-defined]
            _staff_with(user, services.KEEP_LOG).filter(projects=shift.project_id).exclude(pk=user.pk)
        )
        self.fields["incoming"].error_messages["required"] = "请选择接班人"


class HandoverContentForm(forms.ModelForm[Handover]):
    """The outgoing officer's part: log summary, open matters, major repair."""

    class Meta:
        model = Handover
        fields = ("log_summary", "open_matters", "major_repair_open", "major_repair_note")
        widgets = {
            "log_summary": forms.Textarea(attrs={"rows": 4}),
            "open_matters": forms.Textarea(attrs={"rows": 3}),
        }


class ItemCheckForm(forms.Form):
    state = forms.ChoiceField(
        label="状态", choices=HandoverItem.State.choices, widget=forms.Select(attrs={"aria-label": "物品状态"})
    )
    explanation = forms.CharField(
        label="原因说明",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "损坏、缺失的原因（交班人填写）"}),
    )


class AcceptForm(forms.Form):
    log_clear = forms.BooleanField(label="已查阅值班记录，记录清楚、无漏项", required=False)
    area_clean = forms.BooleanField(label="桌面、座椅等卫生整洁", required=False)
    note = forms.CharField(label="说明", max_length=500, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False)


class SpotCheckForm(forms.Form):
    result = forms.ChoiceField(label="检查结果", choices=DutyCheck.Result.choices, initial=DutyCheck.Result.OK)
    note = forms.CharField(label="检查情况", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class ShiftFilterForm(ListFilterForm):
    state = forms.ChoiceField(required=False, label="班次", choices=[("", "全部班次"), *selectors.SHIFT_STATES.items()])
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    day = forms.DateField(required=False, label="日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]

    def queryset(self, *, now: datetime) -> QuerySet[Shift]:
        from crm.lib.dates import local_midnight

        rows = selectors.shifts_visible_to(self.user)
        if self.value("state"):
            rows = rows.filter(selectors.shift_state_q(self.value("state"), user=self.user, now=now))
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        if self.value("day"):
            from datetime import timedelta

            start = local_midnight(self.value("day"))
            rows = rows.filter(starts_at__lt=start + timedelta(days=1), ends_at__gt=start)
        return rows.order_by("-starts_at", "-id")


class HandoverFilterForm(ListFilterForm):
    state = forms.ChoiceField(
        required=False, label="状态", choices=[("", "全部交接班"), *selectors.HANDOVER_STATES.items()]
    )
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[Handover]:
        rows = selectors.handovers_visible_to(self.user)
        if self.value("state"):
            rows = rows.filter(selectors.handover_state_q(self.value("state"), user=self.user))
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        return rows.order_by("-created_at", "-id")


# ---------------------------------------------------------------- gifts


class GiftIssueForm(forms.Form):
    """礼品发放."""

    occasion = forms.ChoiceField(label="发放场合", choices=Occasion.choices)
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    gift = forms.ModelChoiceField(label="礼品", queryset=Gift.objects.none(), empty_label="请选择礼品")
    quantity = forms.IntegerField(label="数量", min_value=1, max_value=1000, initial=1)
    customer_number = forms.CharField(
        label="客户编号", max_length=20, required=False, help_text="档案中的客户填写客户编号"
    )
    visitor_name = forms.CharField(label="来访人", max_length=50, required=False, help_text="非档案客户时填写姓名")
    reason = forms.CharField(label="发放原因", max_length=200, required=False, help_text="现场随机礼品须填写")
    task = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        self.fields["gift"].queryset = selectors.gifts_for(user).filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["project"].error_messages["required"] = "请选择楼盘"
        self.fields["gift"].error_messages["required"] = "请选择礼品"
        self.fields["quantity"].error_messages.update(
            required="请填写数量", invalid="请填写整数", min_value="数量须大于 0", max_value="数量过大"
        )

    def clean_customer_number(self) -> object:
        number = (self.cleaned_data.get("customer_number") or "").strip()
        if not number:
            return None
        customer = customers_visible_to(self.user).filter(number=number).first()
        if customer is None:
            raise forms.ValidationError("没有找到这个客户编号")
        return customer

    def clean_task(self) -> GiftTask | None:
        pk = self.cleaned_data.get("task")
        if not pk:
            return None
        task = selectors.tasks_visible_to(self.user).filter(pk=pk).first()
        if task is None:
            raise forms.ValidationError("待送礼品不存在")
        return task


class StockForm(forms.Form):
    direction = forms.ChoiceField(label="操作", choices=[("in", "入库"), ("out", "出库")])
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    quantity = forms.IntegerField(label="数量", min_value=1, max_value=100000)
    note = forms.CharField(label="说明", max_length=200, required=False, help_text="出库须填写原因")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        self.fields["project"].error_messages["required"] = "请选择楼盘"
        self.fields["quantity"].error_messages.update(
            required="请填写数量", invalid="请填写整数", min_value="数量须大于 0", max_value="数量过大"
        )


class GiftIssueFilterForm(ListFilterForm):
    occasion = forms.ChoiceField(required=False, label="场合", choices=[("", "全部场合"), *Occasion.choices])
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    start = forms.DateField(required=False, label="从", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="到", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[GiftIssue]:
        rows = selectors.issues_visible_to(self.user)
        if self.value("occasion"):
            rows = rows.filter(occasion=self.value("occasion"))
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        rows = rows.filter(selectors.issued_q(self.value("start"), self.value("end")))
        return rows.order_by("-issued_at", "-id")


class GiftTaskFilterForm(ListFilterForm):
    state = forms.ChoiceField(required=False, label="状态", choices=[("", "全部"), *selectors.TASK_STATES.items()])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def queryset(self) -> QuerySet[GiftTask]:
        rows = selectors.tasks_visible_to(self.user)
        if self.value("state"):
            rows = rows.filter(selectors.task_state_q(self.value("state"), user=self.user))
        return rows.order_by("status", "milestone_on", "id")


# ---------------------------------------------------------------- daily inspection


class StartInspectionForm(forms.Form):
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        self.fields["project"].error_messages["required"] = "请选择楼盘"


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        label="结果",
        choices=[("ok", "合格"), ("problem", "有问题")],
        widget=forms.Select(attrs={"aria-label": "巡查结果"}),
    )
    note = forms.CharField(
        label="说明", max_length=300, required=False, widget=forms.TextInput(attrs={"placeholder": "有问题时说明"})
    )


class FindingForm(forms.Form):
    area = forms.ChoiceField(label="区域", choices=())
    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    department = forms.ChoiceField(label="责任部门", choices=Finding.Department.choices)
    photo = forms.FileField(label="照片", required=False, help_text="jpg、png 或 webp，不超过 8 MB")

    def __init__(self, *args: Any, areas: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a, a) for a in areas]  # type: ignore[attr-defined]
        self.fields["description"].error_messages["required"] = "请描述问题"


class InspectionFilterForm(ListFilterForm):
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    day = forms.DateField(required=False, label="日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[Inspection]:
        rows = selectors.inspections_visible_to(self.user)
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        if self.value("day"):
            rows = rows.filter(day=self.value("day"))
        return rows.order_by("-day", "project_id")


# ---------------------------------------------------------------- project materials and displays


class MaterialForm(forms.Form):
    """上传项目资料 (the first version)."""

    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    kind = forms.ChoiceField(label="类别", choices=MaterialKind.choices)
    title = forms.CharField(label="名称", max_length=100)
    file = forms.FileField(
        label="文件",
        widget=forms.ClearableFileInput(attrs={"accept": services.MATERIAL_ACCEPT}),
        help_text="PDF 或图片（JPG、PNG、WebP）",
    )
    note = forms.CharField(label="版本说明", max_length=200, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        self.fields["project"].error_messages["required"] = "请选择楼盘"
        self.fields["title"].error_messages["required"] = "请填写资料名称"
        self.fields["file"].error_messages.update(required="请选择文件", empty="文件是空的")


class VersionForm(forms.Form):
    """上传新版本."""

    file = forms.FileField(
        label="文件",
        widget=forms.ClearableFileInput(attrs={"accept": services.MATERIAL_ACCEPT}),
        help_text="PDF 或图片（JPG、PNG、WebP）；旧版本保留",
    )
    note = forms.CharField(label="版本说明", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].error_messages.update(required="请选择文件", empty="文件是空的")


class MaterialFilterForm(ListFilterForm):
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    kind = forms.ChoiceField(required=False, label="类别", choices=[("", "全部类别"), *MaterialKind.choices])
    q = forms.CharField(required=False, label="名称", max_length=50)
    inactive = forms.BooleanField(required=False, label="含已停用")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs["placeholder"] = "资料名称"

    def queryset(self) -> QuerySet[Material]:
        rows = selectors.materials_visible_to(self.user)
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        if self.value("kind"):
            rows = rows.filter(kind=self.value("kind"))
        if self.value("q"):
            rows = rows.filter(title__icontains=self.value("q"))
        if not self.value("inactive"):
            rows = rows.filter(is_active=True)
        return rows.order_by("project_id", "kind", "title", "id")


class DisplayFilterForm(ListFilterForm):
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    stale = forms.BooleanField(required=False, label="只看超期未检查")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_duty(user)  # type: ignore[attr-defined]

    def queryset(self, *, today: date) -> QuerySet[DisplayItem]:
        rows = selectors.display_items_visible_to(self.user).filter(is_active=True)
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        if self.value("stale"):
            rows = rows.filter(selectors.stale_display_q(today, services.display_stale_days()))
        return rows.order_by("project_id", "sort_order", "id")


class DisplayCheckForm(forms.Form):
    status = forms.ChoiceField(
        label="公示情况",
        choices=[c for c in DisplayStatus.choices if c[0] != DisplayStatus.PENDING],
        widget=forms.Select(attrs={"aria-label": "公示情况"}),
    )
    note = forms.CharField(
        label="说明", max_length=300, required=False, widget=forms.TextInput(attrs={"placeholder": "缺失或过期时说明"})
    )
