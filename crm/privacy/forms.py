"""Forms of the privacy pages: shapes and choices only; the rules are in services."""

from __future__ import annotations

from typing import Any

from django import forms

from crm.privacy.models import DataSubjectRequest, ReceivedVia, RequestKind


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label="申请类型", choices=[("", "请选择"), *list(RequestKind.choices)])
    received_via = forms.ChoiceField(label="受理渠道", choices=[("", "请选择"), *list(ReceivedVia.choices)])
    received_on = forms.DateField(label="受理日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    identity_check = forms.CharField(
        label="身份核验",
        max_length=200,
        help_text="如何确认申请人是客户本人（例：到访出示身份证原件，核对无误）。请勿填写证件号码。",
    )
    details = forms.CharField(label="申请内容", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label="处理结果", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[
            ("", "全部状态"),
            ("open", "未办结"),
            ("due", "3个工作日内到期"),
            ("overdue", "已超期"),
            *list(DataSubjectRequest.Status.choices),
        ],
    )
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *list(RequestKind.choices)])


class HoldForm(forms.Form):
    reason = forms.CharField(label="法律保留依据", max_length=200)
