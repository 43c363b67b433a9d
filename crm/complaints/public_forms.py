"""Forms of the public complaint page and the status page (no login)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from crm.accounts.models import Company
from crm.complaints import attachments, captcha, public, services
from crm.complaints.models import Category, Channel
from crm.core.errors import DomainError
from crm.projects.models import Project

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class ImagesField(forms.FileField):
    """Several images in one input; the content check is crm.complaints.attachments'."""

    widget = MultipleImageInput(attrs={"accept": attachments.ACCEPT})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "图片")
        kwargs.setdefault("help_text", attachments.limits_text())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        files = [f for f in files if f]
        try:
            attachments.check_images(files)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return files


class PublicComplaintForm(forms.Form):
    complainant_name = forms.CharField(label="您的姓名", max_length=50)
    complainant_mobile = forms.CharField(
        label="手机号码", max_length=20, help_text="用于联系您和查询进度（查询时需手机号后四位）"
    )
    project = forms.ModelChoiceField(label="楼盘", queryset=Project.objects.none(), empty_label="请选择楼盘")
    unit_text = forms.CharField(label="房号", max_length=50, required=False, help_text="选填，如 3 栋 1 单元 502")
    category = forms.ModelChoiceField(
        label="投诉类别", queryset=Category.objects.none(), required=False, empty_label="不清楚（由客服分类）"
    )
    event_at = forms.DateTimeField(
        label="事件发生时间",
        required=False,
        widget=LOCAL_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    event_place = forms.CharField(label="事件发生地点", max_length=200, required=False)
    content = forms.CharField(
        label="投诉内容", widget=forms.Textarea(attrs={"rows": 6}), max_length=5000, help_text="请写明经过和您的诉求"
    )
    attachments = ImagesField()
    captcha_answer = forms.CharField(
        label="验证码", max_length=4, widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    )
    captcha_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, company: Company, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.now = now
        self.fields["project"].queryset = public.public_projects(company)  # type: ignore[attr-defined]
        self.fields["category"].queryset = public.public_categories(company)  # type: ignore[attr-defined]
        messages = {
            "complainant_name": "请填写您的姓名",
            "complainant_mobile": "请填写手机号码",
            "project": "请选择楼盘",
            "content": "请填写投诉内容",
            "captcha_answer": "请填写验证码",
            "captcha_token": captcha.EXPIRED,
        }
        for name, message in messages.items():
            self.fields[name].error_messages["required"] = message
        self.fields["event_at"].error_messages["invalid"] = "请填写正确的时间"
        self.fields["project"].error_messages["invalid_choice"] = "请选择楼盘"
        self.fields["category"].error_messages["invalid_choice"] = "请选择投诉类别"
        # A new challenge every time the form is shown (a token works once).
        self.challenge = captcha.issue(now)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        token, answer = data.get("captcha_token"), data.get("captcha_answer")
        if token and answer and not self.errors:
            try:
                captcha.verify(token, answer, self.now)
            except captcha.CaptchaError as exc:
                self.add_error("captcha_answer", exc.message)
        return data

    def intake(self) -> services.Intake:
        data = self.cleaned_data
        return services.Intake(
            channel=Channel.WEBSITE,
            complainant_name=data["complainant_name"],
            complainant_mobile=data["complainant_mobile"],
            content=data["content"],
            project=data["project"],
            category=data.get("category") or services.unsorted_category(self.company),
            unit_text=data.get("unit_text") or "",
            event_at=data.get("event_at"),
            event_place=data.get("event_place") or "",
            attachments=tuple(data.get("attachments") or ()),
        )


class StatusForm(forms.Form):
    number = forms.CharField(label="投诉编号", max_length=20, help_text="如 TS202612060001")
    last4 = forms.CharField(
        label="手机号后四位",
        max_length=4,
        min_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].error_messages["required"] = "请填写投诉编号"
        self.fields["last4"].error_messages.update(
            {"required": "请填写手机号后四位", "min_length": "请填写手机号后四位（4 位数字）"}
        )
