"""Forms of 老带新: shapes and choices only; the rules are in crm.referrals.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from crm.accounts.models import User
from crm.core.forms import ListFilterForm
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.projects.models import Project
from crm.referrals import selectors
from crm.referrals.models import Referral, ReferralChannel, ReferralStatus, Reward

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _customer_by_number(user: User, raw: str | None, *, missing: str) -> Customer:
    number = (raw or "").strip().upper()
    customer = customers_visible_to(user).filter(number=number).first() if number else None
    if customer is None:
        raise forms.ValidationError(missing)
    return customer


class ReferralForm(forms.Form):
    """Record a referral for an existing customer: both found by number within the scope."""

    referred_number = forms.CharField(label="新客户编号", max_length=20)
    referrer_number = forms.CharField(
        label="推荐人（老客户）编号", max_length=20, help_text="可在下方按姓名或手机号后四位查找"
    )
    channel = forms.ChoiceField(label="推荐方式", choices=ReferralChannel.choices, initial=ReferralChannel.CHAIN)
    visited_on = forms.DateField(label="到访日期", required=False, widget=DATE)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["referred_number"].error_messages["required"] = "请填写新客户编号"
        self.fields["referrer_number"].error_messages["required"] = "请填写推荐人客户编号"
        self.fields["visited_on"].error_messages["invalid"] = "请填写正确的日期"

    def clean_referred_number(self) -> Customer:
        return _customer_by_number(self.user, self.cleaned_data.get("referred_number"), missing="没有找到这个客户编号")

    def clean_referrer_number(self) -> Customer:
        return _customer_by_number(self.user, self.cleaned_data.get("referrer_number"), missing="没有找到这个客户编号")


class ReferrerSearchForm(forms.Form):
    find = forms.CharField(label="查找推荐人", max_length=30, required=False)

    def results(self, user: User) -> QuerySet[Customer]:
        if not self.is_valid():
            return Customer.objects.none()
        q = (self.cleaned_data.get("find") or "").strip()
        if len(q) < 2:
            return Customer.objects.none()
        rows = customers_visible_to(user).select_related("project")
        if q.isdigit() and len(q) == 4:
            rows = rows.filter(mobile__endswith=q)
        elif q.upper().startswith("KH"):
            rows = rows.filter(number=q.upper())
        else:
            rows = rows.filter(name__startswith=q)
        return rows.order_by("name", "id")[:20]


class ChangeReferralForm(forms.Form):
    channel = forms.ChoiceField(label="推荐方式", choices=ReferralChannel.choices)
    visited_on = forms.DateField(label="到访日期", required=False, widget=DATE)


class RewardForm(forms.Form):
    kind = forms.ChoiceField(label="奖励类型", choices=Reward.Kind.choices)
    amount = forms.DecimalField(label="金额(元)", min_value=0, max_digits=12, decimal_places=2)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].error_messages.update(
            required="请填写金额", invalid="请填写正确的金额", min_value="金额不能为负数", max_digits="金额过大"
        )


class DecisionForm(forms.Form):
    note = forms.CharField(label="意见", max_length=200, required=False)


class ReferralFilterForm(ListFilterForm):
    q = forms.CharField(required=False, label="客户", widget=forms.TextInput(attrs={"placeholder": "姓名或客户编号"}))
    status = forms.ChoiceField(required=False, label="状态", choices=[("", "全部状态"), *ReferralStatus.choices])
    channel = forms.ChoiceField(required=False, label="推荐方式", choices=[("", "全部方式"), *ReferralChannel.choices])
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    start = forms.DateField(required=False, label="从", widget=DATE)
    end = forms.DateField(required=False, label="到", widget=DATE)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[Referral]:
        from datetime import timedelta

        from django.db.models import Q

        from crm.lib.dates import local_midnight

        rows = selectors.referrals_visible_to(self.user)
        q = (self.value("q") or "").strip()
        if q:
            rows = rows.filter(
                Q(referred__name__startswith=q)
                | Q(referrer__name__startswith=q)
                | Q(referred__number=q.upper())
                | Q(referrer__number=q.upper())
            )
        if self.value("status"):
            rows = rows.filter(selectors.status_q(self.value("status")))
        if self.value("channel"):
            rows = rows.filter(channel=self.value("channel"))
        if self.value("project"):
            rows = rows.filter(referred__project=self.value("project"))
        if self.value("start"):
            rows = rows.filter(created_at__gte=local_midnight(self.value("start")))
        if self.value("end"):
            rows = rows.filter(created_at__lt=local_midnight(self.value("end") + timedelta(days=1)))
        return rows.order_by("-created_at", "-id")


class RewardFilterForm(ListFilterForm):
    state = forms.ChoiceField(required=False, label="状态", choices=[("", "全部状态"), *Reward.State.choices])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def queryset(self) -> QuerySet[Reward]:
        rows = selectors.rewards_visible_to(self.user)
        if self.value("state"):
            rows = rows.filter(state=self.value("state"))
        return rows.order_by("-proposed_at", "-id")


class StatsForm(forms.Form):
    start = forms.DateField(label="从", widget=DATE)
    end = forms.DateField(label="到", widget=DATE)
