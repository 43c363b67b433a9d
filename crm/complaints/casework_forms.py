"""Forms of the consultation, first-responder and media-watch pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet

from crm.accounts.models import Department
from crm.accounts.models import User as Staff
from crm.complaints import consultations, issues, media, selectors
from crm.complaints.models import (
    Category,
    Consultation,
    ConsultationChannel,
    ConsultationTopic,
    CustomerIssue,
    MediaFinding,
    Medium,
    Sentiment,
)
from crm.core.forms import ListFilterForm
from crm.lib.dates import local_midnight
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _staff(user: User) -> QuerySet[Staff]:
    return Staff.objects.filter(company_id=user.company_id or 0, is_active=True).order_by("display_name")


def _required(form: forms.Form, messages: dict[str, str]) -> None:
    for name, message in messages.items():
        form.fields[name].error_messages["required"] = message


# ---------------------------------------------------------------- consultations


class ConsultationForm(forms.Form):
    """咨询登记, on a phone at the sales desk: who asked, what, the answer given."""

    channel = forms.ChoiceField(
        label="咨询渠道", choices=ConsultationChannel.choices, initial=ConsultationChannel.PHONE
    )
    contact_name = forms.CharField(label="咨询人", max_length=50)
    contact_mobile = forms.CharField(
        label="联系电话", max_length=20, required=False, help_text="与客户档案手机号一致时自动关联该客户"
    )
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    topic = forms.ModelChoiceField(
        label="咨询主题", queryset=ConsultationTopic.objects.none(), empty_label="请选择主题"
    )
    question = forms.CharField(label="咨询问题", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    answer = forms.CharField(
        label="答复内容", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False
    )
    needs_follow_up = forms.BooleanField(label="当场无法答复，需要跟进（我作为首问责任人负责回复客户）", required=False)
    asked_at = forms.DateTimeField(
        label="咨询时间", required=False, widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS, help_text="不填为现在"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = selectors.projects_for_intake(user)  # type: ignore[attr-defined]
        self.fields["topic"].queryset = ConsultationTopic.objects.filter(  # type: ignore[attr-defined]
            company_id=user.company_id or 0, is_active=True
        )
        _required(
            self,
            {
                "contact_name": "请填写咨询人姓名",
                "project": "请选择楼盘",
                "topic": "请选择咨询主题",
                "question": "请填写咨询问题",
            },
        )
        self.fields["asked_at"].error_messages["invalid"] = "请填写正确的时间"

    def intake(self) -> consultations.ConsultationIntake:
        data = self.cleaned_data
        return consultations.ConsultationIntake(
            channel=data["channel"],
            topic=data["topic"],
            question=data["question"],
            answer=data.get("answer") or "",
            contact_name=data["contact_name"],
            contact_mobile=data.get("contact_mobile") or "",
            project=data["project"],
            needs_follow_up=bool(data.get("needs_follow_up")),
            asked_at=data.get("asked_at"),
        )


class ConsultationFilterForm(ListFilterForm):
    q = forms.CharField(required=False, label="搜索")
    channel = forms.ChoiceField(required=False, label="渠道", choices=[("", "全部渠道"), *ConsultationChannel.choices])
    topic = forms.ModelChoiceField(
        required=False, label="主题", queryset=ConsultationTopic.objects.none(), empty_label="全部主题"
    )
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    follow_up = forms.ChoiceField(
        required=False, label="跟进", choices=[("", "全部"), ("yes", "需要跟进"), ("complaint", "已转投诉")]
    )
    date_from = forms.DateField(required=False, label="从", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="到", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["topic"].queryset = ConsultationTopic.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]
        self.fields["project"].queryset = selectors.projects_for_intake(user)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[Consultation]:
        rows = selectors.consultations_visible_to(self.user)
        q = (self.value("q") or "").strip()
        if q:
            rows = rows.filter(
                Q(question__icontains=q)
                | Q(answer__icontains=q)
                | Q(contact_name__icontains=q)
                | Q(contact_mobile__contains=q)
            )
        for name in ("channel", "topic", "project"):
            if self.value(name):
                rows = rows.filter(**{name: self.value(name)})
        if self.value("follow_up") == "yes":
            rows = rows.filter(needs_follow_up=True)
        elif self.value("follow_up") == "complaint":
            rows = rows.filter(complaint__isnull=False)
        if self.value("date_from"):
            rows = rows.filter(asked_at__gte=local_midnight(self.value("date_from")))
        if self.value("date_to"):
            rows = rows.filter(asked_at__lt=local_midnight(self.value("date_to") + timedelta(days=1)))
        return rows.order_by("-asked_at", "-id")


class ToComplaintForm(forms.Form):
    category = forms.ModelChoiceField(label="投诉类别", queryset=Category.objects.none(), empty_label="请选择类别")
    complainant_name = forms.CharField(label="投诉人（可不填）", max_length=50, required=False)
    complainant_mobile = forms.CharField(label="联系电话（可不填）", max_length=20, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.categories_for(user)  # type: ignore[attr-defined]
        _required(self, {"category": "请选择投诉类别"})


class QuarterForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2199)
    quarter = forms.TypedChoiceField(coerce=int, choices=[(n, f"第{n}季度") for n in range(1, 5)])


# ---------------------------------------------------------------- first-responder issues


class IssueForm(forms.Form):
    contact_name = forms.CharField(label="客户姓名", max_length=50)
    contact_mobile = forms.CharField(label="联系电话", max_length=20, help_text="回复客户用；与客户档案一致时自动关联")
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    subject = forms.CharField(label="事项", max_length=100)
    description = forms.CharField(label="客户反映的问题", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]
        _required(
            self,
            {
                "contact_name": "请填写客户姓名",
                "contact_mobile": "请填写客户联系电话：结案前要回复客户",
                "project": "请选择楼盘",
                "subject": "请填写事项",
                "description": "请填写客户反映的问题",
            },
        )

    def intake(self) -> issues.IssueIntake:
        data = self.cleaned_data
        return issues.IssueIntake(
            subject=data["subject"],
            description=data["description"],
            contact_name=data["contact_name"],
            contact_mobile=data["contact_mobile"],
            project=data["project"],
        )


class IssueFilterForm(ListFilterForm):
    q = forms.CharField(required=False, label="搜索")
    state = forms.ChoiceField(
        required=False, label="状态", choices=[("", "全部事项"), *selectors.ISSUE_STATE_FILTERS.items()]
    )
    status = forms.ChoiceField(required=False, label="环节", choices=[("", "全部环节"), *CustomerIssue.Status.choices])
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]

    def queryset(self, *, now: datetime) -> QuerySet[CustomerIssue]:
        rows = selectors.issues_visible_to(self.user)
        q = (self.value("q") or "").strip()
        if q:
            rows = rows.filter(
                Q(number__icontains=q)
                | Q(subject__icontains=q)
                | Q(contact_name__icontains=q)
                | Q(contact_mobile__contains=q)
            )
        if self.value("state"):
            rows = rows.filter(selectors.issue_state_q(self.value("state"), user=self.user, now=now))
        for name in ("status", "project"):
            if self.value(name):
                rows = rows.filter(**{name: self.value(name)})
        return rows.order_by("-received_at", "-id")


class HandOffForm(forms.Form):
    department = forms.ModelChoiceField(label="转交部门", queryset=Department.objects.none(), empty_label="请选择部门")
    to_user = forms.ModelChoiceField(label="对接人（可不选）", queryset=Staff.objects.none(), required=False)
    asked = forms.CharField(label="需要部门答复的事项", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    hours = forms.IntegerField(
        label="答复时限（工作小时）", initial=issues.HANDOFF_RESPONSE_HOURS, min_value=1, max_value=240
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.departments_for(user)  # type: ignore[attr-defined]
        self.fields["to_user"].queryset = _staff(user)  # type: ignore[attr-defined]
        _required(
            self, {"department": "请选择转交部门", "asked": "请写明需要部门答复的事项", "hours": "请填写答复时限"}
        )


class AnswerForm(forms.Form):
    answer = forms.CharField(label="部门答复", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(self, {"answer": "请填写部门答复"})


class EscalateForm(forms.Form):
    reason = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class CallbackForm(forms.Form):
    called_at = forms.DateTimeField(
        label="回复时间", required=False, widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS, help_text="不填为现在"
    )
    is_reached = forms.TypedChoiceField(
        label="是否联系上客户",
        coerce=lambda v: v == "yes",
        choices=[("yes", "已联系上"), ("no", "未联系上")],
        initial="yes",
    )
    result = forms.CharField(label="回复结果", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    close = forms.BooleanField(label="客户已满意，结案", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(self, {"result": "请填写回复结果"})
        self.fields["called_at"].error_messages["invalid"] = "请填写正确的时间"


class NoteForm(forms.Form):
    note = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


# ---------------------------------------------------------------- media


class FindingForm(forms.Form):
    medium = forms.ModelChoiceField(label="来源媒体", queryset=Medium.objects.none(), empty_label="请选择媒体")
    project = forms.ModelChoiceField(
        label="楼盘", queryset=Project.objects.none(), required=False, empty_label="（不涉及具体楼盘）"
    )
    link = forms.URLField(label="链接", max_length=500, required=False, assume_scheme="https")
    summary = forms.CharField(label="内容摘要", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    sentiment = forms.ChoiceField(label="倾向", choices=Sentiment.choices, initial=Sentiment.NEUTRAL)
    found_at = forms.DateTimeField(
        label="发现时间", required=False, widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS, help_text="不填为现在"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["medium"].queryset = selectors.media_for(user)  # type: ignore[attr-defined]
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]
        _required(self, {"medium": "请选择来源媒体", "summary": "请填写内容摘要"})
        self.fields["link"].error_messages["invalid"] = "请填写正确的网址"
        self.fields["found_at"].error_messages["invalid"] = "请填写正确的时间"

    def intake(self) -> media.FindingIntake:
        data = self.cleaned_data
        return media.FindingIntake(
            medium=data["medium"],
            summary=data["summary"],
            sentiment=data["sentiment"],
            link=data.get("link") or "",
            project=data.get("project"),
            found_at=data.get("found_at"),
        )


class FindingFilterForm(ListFilterForm):
    q = forms.CharField(required=False, label="搜索")
    sentiment = forms.ChoiceField(required=False, label="倾向", choices=[("", "全部倾向"), *Sentiment.choices])
    medium = forms.ModelChoiceField(
        required=False, label="媒体", queryset=Medium.objects.none(), empty_label="全部媒体"
    )
    unanswered = forms.BooleanField(required=False, label="未回应")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["medium"].queryset = Medium.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[MediaFinding]:
        rows = selectors.findings_visible_to(self.user)
        q = (self.value("q") or "").strip()
        if q:
            rows = rows.filter(Q(summary__icontains=q) | Q(response__icontains=q) | Q(link__icontains=q))
        for name in ("sentiment", "medium"):
            if self.value(name):
                rows = rows.filter(**{name: self.value(name)})
        if self.value("unanswered"):
            rows = rows.filter(responded_at__isnull=True)
        return rows.order_by("-found_at", "-id")


class ResponseForm(forms.Form):
    response = forms.CharField(label="回应内容", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(self, {"response": "请填写回应内容"})


class FindingToIssueForm(forms.Form):
    subject = forms.CharField(label="事项", max_length=100)
    contact_name = forms.CharField(label="联系人（可不填）", max_length=50, required=False)
    contact_mobile = forms.CharField(label="联系电话（可不填）", max_length=20, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required(self, {"subject": "请填写事项"})


class CheckForm(forms.Form):
    note = forms.CharField(label="备注", max_length=300, required=False)
