"""The dashboard's period and project selector, the scorecard's month, the improvement plan."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms

from crm.kpis import periods
from crm.kpis.periods import Period
from crm.projects.models import Project
from crm.projects.selectors import projects_visible_to
from crm.visits.services import PLAN_MAX

if TYPE_CHECKING:
    from crm.accounts.models import User

DATE = forms.DateInput(attrs={"type": "date"})


class PeriodForm(forms.Form):
    """期间 (month by default, or week, quarter, custom) and 楼盘 (all in scope by default)."""

    kind = forms.ChoiceField(label="期间", required=False, choices=list(periods.KINDS.items()))
    value = forms.CharField(label="月/周/季度", required=False, max_length=10)
    start = forms.DateField(label="从", required=False, widget=DATE)
    end = forms.DateField(label="到", required=False, widget=DATE)
    project = forms.ModelChoiceField(
        label="楼盘", required=False, queryset=Project.objects.none(), empty_label="全部楼盘"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_visible_to(user).order_by("name")  # type: ignore[attr-defined]

    def period(self, *, today: date) -> Period:
        """The chosen period (the month of ``today`` when none); DomainError when malformed."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return periods.parse(
            data.get("kind") or "month",
            data.get("value") or "",
            start=data.get("start"),
            end=data.get("end"),
            today=today,
        )

    @property
    def project_ids(self) -> tuple[int, ...]:
        project = self.cleaned_data.get("project") if self.is_bound and self.is_valid() else None
        return (project.pk,) if project else ()


class PlanForm(forms.Form):
    consultant = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    month = forms.CharField(widget=forms.HiddenInput, max_length=7)
    plan = forms.CharField(
        label="改进计划",
        required=False,
        max_length=PLAN_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"改进计划最多 {PLAN_MAX} 字"},
    )
