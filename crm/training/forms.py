"""培训 forms: shapes and choices; the rules are in crm.training.services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet

from crm.accounts import access
from crm.accounts.models import User
from crm.core.forms import ListFilterForm
from crm.training import selectors
from crm.training.models import Attendance, Topic, TrainingPlan, TrainingSession

if TYPE_CHECKING:
    from datetime import datetime

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _company_staff(user: User) -> QuerySet[User]:
    return User.objects.filter(company_id=access.company_of(user), is_active=True).order_by("username")


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class PlanForm(forms.ModelForm[TrainingPlan]):
    class Meta:
        model = TrainingPlan
        fields = ("title", "topic", "starts_on", "ends_on", "audience", "description")
        widgets = {
            "starts_on": DATE_INPUT,
            "ends_on": DATE_INPUT,
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = "请填写计划名称"
        self.fields["topic"].error_messages["required"] = "请选择培训类别"
        self.fields["starts_on"].error_messages.update(required="请填写开始日期", invalid="日期格式不正确")
        self.fields["ends_on"].error_messages.update(required="请填写结束日期", invalid="日期格式不正确")


class SessionForm(forms.Form):
    plan = forms.ModelChoiceField(label="培训计划", queryset=TrainingPlan.objects.none(), empty_label="请选择")
    topic = forms.CharField(label="培训主题", max_length=100, help_text="如 电话礼仪：可以听到的形象")
    trainer = StaffChoiceField(
        label="讲师（本公司）", queryset=User.objects.none(), required=False, empty_label="外请讲师"
    )
    trainer_name = forms.CharField(label="外部讲师", max_length=50, required=False)
    starts_at = forms.DateTimeField(label="培训时间", widget=LOCAL_INPUT, input_formats=LOCAL_FORMATS)
    hours = forms.DecimalField(label="时长（小时）", max_digits=4, decimal_places=1, min_value=0.5, initial=2)
    location = forms.CharField(label="地点", max_length=100, required=False)
    attendees = StaffMultipleChoiceField(
        label="参训人员", queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = _company_staff(user)
        self.fields["plan"].queryset = selectors.plans_visible_to(user)  # type: ignore[attr-defined]
        self.fields["trainer"].queryset = staff  # type: ignore[attr-defined]
        self.fields["attendees"].queryset = staff  # type: ignore[attr-defined]
        self.fields["plan"].error_messages["required"] = "请选择培训计划"
        self.fields["topic"].error_messages["required"] = "请填写培训主题"
        self.fields["starts_at"].error_messages.update(required="请填写培训时间", invalid="时间格式不正确")
        self.fields["attendees"].error_messages["required"] = "请选择参加培训的人员"

    @classmethod
    def initial_for(cls, session: TrainingSession) -> dict[str, Any]:
        return {
            "plan": session.plan_id,
            "topic": session.topic,
            "trainer": session.trainer_id,
            "trainer_name": session.trainer_name,
            "starts_at": session.starts_at,
            "hours": session.hours,
            "location": session.location,
            "attendees": [a.attendee_id for a in session.attendances.all()],
        }


class RecordForm(forms.Form):
    """出勤与成绩: a status and a score field per attendee of the session."""

    def __init__(self, *args: Any, attendances: list[Attendance], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attendances = attendances
        for a in attendances:
            self.fields[f"status_{a.pk}"] = forms.ChoiceField(
                label=f"{a.attendee} 出勤", choices=Attendance.Status.choices, initial=a.status
            )
            score = forms.IntegerField(
                label=f"{a.attendee} 成绩", required=False, min_value=0, max_value=100, initial=a.score
            )
            score.error_messages.update(
                invalid="请填写整数", min_value="成绩须在 0–100 之间", max_value="成绩须在 0–100 之间"
            )
            score.widget.attrs.update({"inputmode": "numeric", "class": "score"})
            self.fields[f"score_{a.pk}"] = score

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"attendance": a, "status": self[f"status_{a.pk}"], "score": self[f"score_{a.pk}"]}
            for a in self.attendances
        ]

    def entries(self) -> list[tuple[Attendance, str, int | None]]:
        return [
            (a, self.cleaned_data[f"status_{a.pk}"], self.cleaned_data.get(f"score_{a.pk}")) for a in self.attendances
        ]


class SummaryForm(forms.Form):
    summary = forms.CharField(label="我的培训总结", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["summary"].error_messages["required"] = "请填写培训总结"


WHEN = {"upcoming": "未开始", "past": "已结束", "mine": "我参加的"}


class SessionFilterForm(ListFilterForm):
    when = forms.ChoiceField(required=False, label="时间", choices=[("", "全部培训"), *WHEN.items()])
    topic = forms.ChoiceField(required=False, label="类别", choices=[("", "全部类别"), *Topic.choices])

    def __init__(self, *args: Any, user: User, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.now = now

    def queryset(self) -> QuerySet[TrainingSession]:
        rows = selectors.sessions_visible_to(self.user)
        when = self.value("when")
        if when == "upcoming":
            rows = rows.filter(starts_at__gte=self.now).order_by("starts_at")
        else:
            rows = rows.order_by("-starts_at", "-id")
        if when == "past":
            rows = rows.filter(starts_at__lt=self.now)
        elif when == "mine":
            # A subquery, not a join: the list's attendance counts must see every attendee.
            rows = rows.filter(pk__in=Attendance.objects.filter(attendee_id=self.user.pk).values("session_id"))
        if self.value("topic"):
            rows = rows.filter(plan__topic=self.value("topic"))
        return rows.select_related("plan", "trainer")
