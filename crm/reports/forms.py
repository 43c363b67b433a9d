"""Forms of the report pages: the list filter, the generation form, the author's text."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet

from crm.core.forms import ListFilterForm
from crm.projects.models import Project
from crm.reports import periods, selectors
from crm.reports.models import Kind, ReportPack

if TYPE_CHECKING:
    from crm.accounts.models import User

ALL_PROJECTS = "all"
MONTHLY_KINDS = (Kind.MONTHLY, Kind.COMPLAINT_MONTHLY, Kind.VISIT_MONTHLY)


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period of ``kind`` that contains ``day``."""
    if kind == Kind.WEEKLY:
        return periods.week_bounds(day)
    if kind in MONTHLY_KINDS:
        return periods.month_bounds(day)
    return day, day


class PackFilterForm(ListFilterForm):
    kind = forms.ChoiceField(required=False, label="报告类型", choices=[("", "全部类型"), *Kind.choices])
    project = forms.ModelChoiceField(required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部")
    day = forms.DateField(required=False, label="期间包含", widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(required=False, label="状态", choices=[("", "全部状态"), *ReportPack.Status.choices])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = selectors.projects_for_reports(user)  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[ReportPack]:
        rows = selectors.packs_visible_to(self.user)
        if self.value("kind"):
            rows = rows.filter(kind=self.value("kind"))
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        if self.value("day"):
            rows = rows.filter(period_start__lte=self.value("day"), period_end__gte=self.value("day"))
        if self.value("status"):
            rows = rows.filter(status=self.value("status"))
        return rows.select_related("project", "author").order_by("-period_start", "kind", "project__name", "-version")


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(label="报告类型", choices=Kind.choices)
    scope = forms.ChoiceField(label="范围")
    day = forms.DateField(
        label="期间内任一天",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="周报取该日所在周（周一至周日），月报、投诉分析、回访统计取该日所在月，巡查报告取该日",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        choices = [(str(p.pk), p.name) for p in selectors.projects_for_reports(user)]
        if selectors.may_report_all_projects(user):
            choices.insert(0, (ALL_PROJECTS, "全部楼盘"))
        self.fields["scope"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == Kind.DAILY_INSPECTION and data.get("scope") == ALL_PROJECTS:
            self.add_error("scope", "每日巡查报告按楼盘生成，请选择楼盘")
        return data

    @property
    def project(self) -> Project | None:
        scope = self.cleaned_data["scope"]
        return None if scope == ALL_PROJECTS else selectors.projects_for_reports(self.user).get(pk=int(scope))

    @property
    def period(self) -> tuple[date, date]:
        return period_of(self.cleaned_data["kind"], self.cleaned_data["day"])


class TextForm(forms.Form):
    summary = forms.CharField(
        label="工作总结", required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=5000
    )
    next_focus = forms.CharField(
        label="下期工作重点", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )

    def __init__(self, *args: Any, labels: tuple[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["summary"].label, self.fields["next_focus"].label = labels
