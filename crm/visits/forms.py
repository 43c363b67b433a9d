"""Forms of the visit pages: the list's filters, recording a call, assigning, cancelling."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from crm.core.forms import LazyChoiceField, ListedModelChoiceField, ListFilterForm
from crm.lib.dates import local_midnight
from crm.projects.models import Project
from crm.visits import conversion, selectors, services
from crm.visits.models import (
    Campaign,
    Channel,
    IssueCategory,
    Milestone,
    TaskKind,
    VisitIssue,
    VisitPlan,
    VisitTask,
)

if TYPE_CHECKING:
    from crm.accounts.models import User

ISSUE_SLOTS = 3  # issues one outcome form can raise (a fourth: raise it from the task page again)
SCORE_CHOICES = [("", "请选择"), *[(str(n), f"{n} 分") for n in range(5, 0, -1)]]
REACHED_CHOICES = [("yes", "已联系上"), ("no", "未接通")]


class OutcomeForm(forms.Form):
    """回访结果: reached or not, the channel, a 1–5 score per question of the task, the
    customer's opinions. Scores are checked by the service (required only when reached);
    a bound form shows again with what was typed."""

    reached = forms.ChoiceField(
        label="联系结果",
        choices=REACHED_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择是否联系上客户", "invalid_choice": "请选择是否联系上客户"},
    )
    channel = forms.ChoiceField(
        label="回访方式", choices=Channel.choices, error_messages={"required": "请选择回访方式"}
    )
    opinions = forms.CharField(
        label="客户意见 / 备注",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "客户意见最多 2000 字"},
    )

    def __init__(self, *args: Any, task: VisitTask, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"channel": task.channel})
        super().__init__(*args, **kwargs)
        self.task = task
        self.question_fields: dict[str, str] = {}
        for i, question in enumerate(task.questions):
            name = f"q{i}"
            self.fields[name] = forms.TypedChoiceField(
                label=question, choices=SCORE_CHOICES, required=False, coerce=int, empty_value=None
            )
            self.question_fields[question] = name
        self.issue_slots: list[dict[str, str]] = []
        categories = IssueCategory.objects.filter(company_id=task.company_id, is_active=True).select_related(
            "department"
        )
        from crm.accounts.models import Department

        departments = Department.objects.filter(company_id=task.company_id).order_by("name")
        issue_names: list[str] = []
        for i in range(ISSUE_SLOTS):
            names = {key: f"issue{i}_{key}" for key in ("category", "department", "description", "promised_on")}
            self.fields[names["category"]] = ListedModelChoiceField(
                label="问题类别", queryset=categories, required=False, empty_label="请选择"
            )
            self.fields[names["department"]] = ListedModelChoiceField(
                label="责任部门",
                queryset=departments,
                required=False,
                empty_label="按类别默认部门",
            )
            self.fields[names["description"]] = forms.CharField(
                label="问题描述",
                required=False,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"max_length": "问题描述最多 1000 字"},
            )
            self.fields[names["promised_on"]] = forms.DateField(
                label="告知客户的答复日期",
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
                error_messages={"invalid": "请填写正确的日期，如 2026-10-09"},
            )
            self.issue_slots.append(names)
            issue_names.extend(names.values())
        self.order_fields(["reached", "channel", *self.question_fields.values(), "opinions", *issue_names])

    @property
    def issue_rows(self) -> list[list[forms.BoundField]]:
        return [[self[name] for name in slot.values()] for slot in self.issue_slots]

    @property
    def issues_touched(self) -> bool:
        """Show the issue section open: something was typed there, or it has an error."""
        if not self.is_bound:
            return False
        return any(self.data.get(n) or self.errors.get(n) for slot in self.issue_slots for n in slot.values())

    def issues(self) -> list[services.IssueDraft]:
        """The filled slots (anything typed in the row) as drafts for the service."""
        drafts = []
        for n, slot in enumerate(self.issue_slots):
            data = self.cleaned_data
            category, description = data.get(slot["category"]), (data.get(slot["description"]) or "")
            if not self._filled(slot):
                continue
            drafts.append(
                services.IssueDraft(
                    category=category,
                    description=description,
                    promised_on=data.get(slot["promised_on"]),
                    department=data.get(slot["department"]),
                    slot=n,
                )
            )
        return drafts

    @property
    def score_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.question_fields.values()]

    def aliases(self) -> dict[str, str]:
        """The service's error field (``q:<question>``, ``issue:<n>:<field>``) → this
        form's field (each draft carries its row number)."""
        aliases = {f"q:{question}": name for question, name in self.question_fields.items()}
        for n, slot in enumerate(self.issue_slots):
            for key, name in slot.items():
                aliases[f"issue:{n}:{key}"] = name
        return aliases

    def _filled(self, slot: dict[str, str]) -> bool:
        """Anything typed in the row makes it an issue (a date alone is not dropped silently:
        the service then asks for the class)."""
        data = self.cleaned_data
        return any(
            data.get(slot[key]) not in (None, "") and (key != "description" or str(data.get(slot[key])).strip())
            for key in ("category", "department", "description", "promised_on")
        )

    def outcome(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reached": data["reached"] == "yes",
            "channel": data["channel"],
            "scores": {question: data.get(name) for question, name in self.question_fields.items()},
            "opinions": data.get("opinions") or "",
            "issues": self.issues(),
        }


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="回访人",
        queryset=VisitTask.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择回访人"},
    )
    note = forms.CharField(label="说明", required=False, max_length=500)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.accounts.models import User as UserModel

        staff = UserModel.objects.filter(company_id=user.company_id or 0, is_active=True).order_by("display_name")
        self.fields["assignee"].queryset = staff  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(label="原因", max_length=500, error_messages={"required": "请填写原因"})


def _plan_names(company_id: int) -> list[str]:
    """The plans by name (a name shared by several plans is one choice)."""
    names = (
        VisitPlan.objects.filter(company_id=company_id)
        .order_by("sort_order", "name")
        .values_list("name", flat=True)
        .distinct()
    )
    return list(dict.fromkeys(names))


class VisitFilterForm(ListFilterForm):
    q = forms.CharField(required=False, label="搜索")
    state = forms.ChoiceField(
        required=False, label="范围", choices=[("", "全部回访"), *selectors.STATE_FILTERS.items()]
    )
    who = forms.ChoiceField(required=False, label="回访人", choices=[("", "全部回访人"), ("me", "我负责的")])
    plan = LazyChoiceField(required=False, label="回访计划", empty_label="全部计划")
    channel = forms.ChoiceField(required=False, label="方式", choices=[("", "全部方式"), *Channel.choices])
    kind = forms.ChoiceField(required=False, label="类型", choices=[("", "全部类型"), *TaskKind.choices])
    # Listed: one plain query, not a server-side cursor (crm.core.forms).
    project = ListedModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    status = forms.ChoiceField(required=False, label="状态", choices=[("", "全部状态"), *VisitTask.Status.choices])
    # A KPI's drill-down (crm.kpis): the measure's rows in a period, optionally of one visitor.
    measure = forms.ChoiceField(required=False, choices=[("", ""), *selectors.KPI_MEASURES.items()])
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)
    assignee = forms.IntegerField(required=False, min_value=1)

    @property
    def kpi_label(self) -> str:
        """The KPI drill-down in words (shown above the list), or "" when there is none."""
        measure, start, end = self.value("measure"), self.value("start"), self.value("end")
        if not (measure and start and end):
            return ""
        return f"{selectors.KPI_MEASURES[measure]}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Read when listed or when a plan is chosen, not for every page of the queue.
        plan = cast("LazyChoiceField", self.fields["plan"])
        plan.set_values(functools.partial(_plan_names, user.company_id or 0))
        self.fields["project"].queryset = Project.objects.filter(company_id=user.company_id or 0).only("name")  # type: ignore[attr-defined]

    def queryset(self, *, today: date) -> QuerySet[VisitTask]:
        # The user's own tasks (我的未完成, 我负责的) are in scope by definition: read them
        # without the scope's join (the work queue, docs/performance.md).
        own = self.value("state") == "mine" or self.value("who") == "me"
        rows = selectors.tasks_assigned_to(self.user) if own else selectors.tasks_visible_to(self.user)
        q = (self.value("q") or "").strip()
        if q:
            rows = rows.filter(Q(customer__name__icontains=q) | Q(customer__number__iexact=q))
        if self.value("state"):
            rows = rows.filter(selectors.state_q(self.value("state"), user=self.user, today=today))
        if self.value("who") == "me":
            rows = rows.filter(assignee=self.user)
        if self.value("plan"):
            rows = rows.filter(plan__name=self.value("plan"))
        for name in ("channel", "kind", "project", "status"):
            if self.value(name):
                rows = rows.filter(**{name: self.value(name)})
        measure, start, end = self.value("measure"), self.value("start"), self.value("end")
        if measure and start and end:
            rows = rows.filter(selectors.kpi_q(measure, start=start, end=end, assignee_id=self.value("assignee")))
        return rows.order_by("due_on", "id")


class IssueFilterForm(ListFilterForm):
    state = forms.ChoiceField(
        required=False, label="范围", choices=[("", "全部问题"), *selectors.ISSUE_FILTERS.items()]
    )
    category = forms.ModelChoiceField(
        required=False, label="类别", queryset=IssueCategory.objects.none(), empty_label="全部类别"
    )
    department = forms.ChoiceField(required=False, label="责任部门", choices=[])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.accounts.models import Department

        self.user = user
        self.fields["category"].queryset = IssueCategory.objects.filter(company_id=user.company_id or 0)  # type: ignore[attr-defined]
        departments = Department.objects.filter(company_id=user.company_id or 0).order_by("name")
        self.fields["department"].choices = [("", "全部部门"), *[(str(d.pk), d.name) for d in departments]]  # type: ignore[attr-defined]

    def queryset(self, *, today: date, department: bool = False) -> QuerySet[VisitIssue]:
        """The issues in scope; ``department``: only the user's department's queue."""
        rows = selectors.department_issues(self.user) if department else selectors.issues_visible_to(self.user)
        if self.value("state"):
            rows = rows.filter(selectors.issue_state_q(self.value("state"), today=today))
        if self.value("category"):
            rows = rows.filter(category=self.value("category"))
        if self.value("department"):
            rows = rows.filter(department_id=self.value("department"))
        return rows.order_by("promised_on", "id")


class IssueNoteForm(forms.Form):
    """开始处理 / 处理结果: the department's note (a resolution is required to resolve)."""

    note = forms.CharField(
        label="处理说明",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "最多 2000 字"},
    )


class InformForm(forms.Form):
    """The visitor told the customer the result: accepted (the issue closes) or not (back
    to the department), and what was said."""

    accepted = forms.ChoiceField(
        label="客户意见",
        choices=[("yes", "客户接受处理结果"), ("no", "客户不接受，退回责任部门")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择客户是否接受处理结果", "invalid_choice": "请选择客户是否接受处理结果"},
    )
    note = forms.CharField(
        label="告知情况",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "最多 2000 字"},
    )


class ReviewFilterForm(ListFilterForm):
    """回访督查: the ended visits in the reviewer's scope by visitor, project, completion
    date, score and flag."""

    visitor: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        required=False, label="回访人", queryset=None, empty_label="全部回访人"
    )
    project = forms.ModelChoiceField(
        required=False, label="楼盘", queryset=Project.objects.none(), empty_label="全部楼盘"
    )
    date_from = forms.DateField(required=False, label="完成日期从", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="完成日期至", widget=forms.DateInput(attrs={"type": "date"}))
    score = forms.ChoiceField(
        required=False,
        label="满意度",
        choices=[
            ("", "全部满意度"),
            ("low", "3 分及以下"),
            *[(str(n), f"{n} 分") for n in range(5, 0, -1)],
            ("none", "未评分"),
        ],
    )
    flagged = forms.ChoiceField(
        required=False,
        label="督查标记",
        choices=[
            ("", "全部记录"),
            ("any", "已标记"),
            ("open", "待答复"),
            ("answered", "已答复待确认"),
            ("phrase", "服务忌语"),
            ("none", "未标记"),
        ],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.accounts.access import staff_in_scope_q
        from crm.accounts.models import User as UserModel

        self.user = user
        company = user.company_id or 0
        people = (
            UserModel.objects.filter(staff_in_scope_q(user), company_id=company)
            .distinct()
            .order_by("display_name", "username")
        )
        self.fields["visitor"].queryset = people  # type: ignore[attr-defined]
        self.fields["project"].queryset = Project.objects.filter(company_id=company).order_by("name")  # type: ignore[attr-defined]

    def queryset(self) -> QuerySet[VisitTask]:
        from crm.visits.models import ReviewFlag
        from crm.visits.supervision import ENDED

        rows = selectors.tasks_visible_to(self.user).filter(status__in=ENDED)
        if self.value("visitor"):
            rows = rows.filter(completed_by=self.value("visitor"))
        if self.value("project"):
            rows = rows.filter(project=self.value("project"))
        if self.value("date_from"):
            rows = rows.filter(completed_at__gte=local_midnight(self.value("date_from")))
        if self.value("date_to"):
            rows = rows.filter(completed_at__lt=local_midnight(self.value("date_to") + timedelta(days=1)))
        score = self.value("score")
        if score == "low":
            rows = rows.filter(satisfaction__lte=3)
        elif score == "none":
            rows = rows.filter(satisfaction__isnull=True)
        elif score:
            rows = rows.filter(satisfaction=int(score))
        flags = ReviewFlag.objects.filter(task=OuterRef("pk"))
        flagged = self.value("flagged")
        if flagged == "any":
            rows = rows.filter(Exists(flags))
        elif flagged == "none":
            rows = rows.filter(~Exists(flags))
        elif flagged == "phrase":
            rows = rows.filter(Exists(flags.filter(source=ReviewFlag.Source.PHRASE)))
        elif flagged in ("open", "answered"):
            rows = rows.filter(Exists(flags.filter(status=flagged)))
        return rows.order_by("-completed_at", "-id")


class SampleForm(forms.Form):
    size = forms.IntegerField(
        label="抽取条数",
        min_value=1,
        max_value=200,
        initial=10,
        error_messages={
            "required": "请填写抽取条数",
            "invalid": "抽取条数应为 1–200 的整数",
            "min_value": "抽取条数应为 1–200 的整数",
            "max_value": "抽取条数应为 1–200 的整数",
        },
    )


class FlagForm(forms.Form):
    comment = forms.CharField(
        label="督查意见",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写督查意见", "max_length": "最多 1000 字"},
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="答复",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写答复", "max_length": "最多 1000 字"},
    )


class ImprovementPlanForm(forms.Form):
    consultant = forms.IntegerField(widget=forms.HiddenInput)
    month = forms.CharField(widget=forms.HiddenInput)
    plan = forms.CharField(
        label="改进计划",
        required=False,
        max_length=services.PLAN_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"改进计划最多 {services.PLAN_MAX} 字"},
    )


class ConvertForm(forms.Form):
    """转为投诉: the complaint category (the issue's class suggests one) and a note."""

    category: forms.ModelChoiceField[conversion.Category] = forms.ModelChoiceField(
        label="投诉类别",
        queryset=None,
        empty_label="请选择",
        error_messages={"required": "请选择投诉类别", "invalid_choice": "请选择投诉类别"},
    )
    note = forms.CharField(
        label="转投诉说明",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "最多 1000 字"},
    )

    def __init__(self, *args: Any, user: User, issue: VisitIssue, **kwargs: Any) -> None:
        if not args and "initial" not in kwargs:
            suggested = conversion.suggested_category(issue, user)
            kwargs["initial"] = {"category": suggested.pk if suggested is not None else None}
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = conversion.complaint_categories(user)


LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RepairForm(forms.Form):
    """登记报修: the customer (number, in the user's scope), the unit (room number among the
    customer's project; the customer's own unit first), the problem, the contractor and,
    when already done, the completion time (then the callback is made at once)."""

    customer_number = forms.CharField(label="客户编号", max_length=20, error_messages={"required": "请填写客户编号"})
    unit_number = forms.CharField(label="房号", max_length=20, required=False, help_text="如 1801；可不填")
    problem = forms.CharField(
        label="报修问题",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写报修问题", "max_length": "报修问题最多 2000 字"},
    )
    contractor = forms.CharField(label="维修单位", max_length=100, error_messages={"required": "请填写维修单位"})
    completed_at = forms.DateTimeField(
        label="完工时间",
        required=False,
        widget=LOCAL_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="已完工时填写，系统随即生成报修回访任务",
        error_messages={"invalid": "请填写正确的完工时间，如 2026-09-28 15:00"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        from crm.customers.selectors import customers_visible_to
        from crm.projects.models import Unit

        data = super().clean() or {}
        number = (data.get("customer_number") or "").strip()
        customer = customers_visible_to(self.user).filter(number__iexact=number).first() if number else None
        if number and customer is None:
            self.add_error("customer_number", "没有找到这个客户编号（或不在您的范围内）")
        data["customer"] = customer
        data["unit"] = None
        room = (data.get("unit_number") or "").strip()
        if customer is not None and room:
            units = Unit.objects.filter(project_id=customer.project_id, number=room)
            own = units.filter(deals__customer=customer).first()
            data["unit"] = own or units.first()
            if data["unit"] is None:
                self.add_error("unit_number", "客户所属楼盘没有这个房号")
        return data


class CompleteRepairForm(forms.Form):
    completed_at = forms.DateTimeField(
        label="完工时间",
        widget=LOCAL_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"required": "请填写完工时间", "invalid": "请填写正确的完工时间，如 2026-09-28 15:00"},
    )


class CampaignForm(forms.Form):
    """新建专项回访: purpose, script, questions, the audience filter (previewed before
    saving), the due window and how tasks are spread."""

    name = forms.CharField(label="专项名称", max_length=60, error_messages={"required": "请填写专项名称"})
    purpose = forms.CharField(label="回访目的", max_length=200, error_messages={"required": "请填写回访目的"})
    script = forms.CharField(label="回访话术", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    questions = forms.CharField(
        label="回访问题",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个问题，按 1–5 分评分",
    )
    channel = forms.ChoiceField(label="回访方式", choices=Channel.choices, initial=Channel.PHONE)
    project = ListedModelChoiceField(
        label="楼盘", queryset=Project.objects.none(), required=False, empty_label="全部楼盘"
    )
    stage = forms.ChoiceField(label="客户阶段", required=False)
    grade = forms.ChoiceField(label="客户等级", required=False)
    registered_from = forms.DateField(
        label="录入日期从",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请填写正确的日期，如 2026-01-01"},
    )
    registered_to = forms.DateField(
        label="录入日期至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请填写正确的日期，如 2026-09-30"},
    )
    milestone = forms.ChoiceField(label="成交节点", required=False)
    complaint_category: forms.ModelChoiceField[conversion.Category] = forms.ModelChoiceField(
        label="投诉类别",
        queryset=None,
        required=False,
        empty_label="不限",
        help_text="只选有该类投诉的客户（投诉日期可选）",
        error_messages={"invalid_choice": "请选择投诉类别"},
    )
    complaints_from = forms.DateField(
        label="投诉日期从",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请填写正确的日期，如 2026-01-01"},
    )
    complaints_to = forms.DateField(
        label="投诉日期至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请填写正确的日期，如 2026-09-30"},
    )
    tags = forms.ModelMultipleChoiceField(
        label="标签（任一）", queryset=Project.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    start_on = forms.DateField(
        label="开始日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写开始日期", "invalid": "请填写正确的日期，如 2026-10-09"},
    )
    due_on = forms.DateField(
        label="完成期限",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写完成期限", "invalid": "请填写正确的日期，如 2026-10-09"},
    )
    assign = forms.ChoiceField(label="分配方式", choices=Campaign.Assign.choices, widget=forms.RadioSelect)
    assignees = forms.ModelMultipleChoiceField(
        label="回访人员（轮流分配时）",
        queryset=Project.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"assign": Campaign.Assign.OWNER, "channel": Channel.PHONE})
        super().__init__(*args, **kwargs)
        from crm.accounts.models import User as UserModel
        from crm.customers.models import Grade, Stage, Tag

        company = user.company_id or 0
        self.fields["project"].queryset = Project.objects.filter(company_id=company).order_by("name")  # type: ignore[attr-defined]
        self.fields["stage"].choices = [("", "全部阶段"), *Stage.choices]  # type: ignore[attr-defined]
        self.fields["milestone"].choices = [("", "不限"), *Milestone.choices]  # type: ignore[attr-defined]
        self.fields["grade"].choices = [("", "全部等级"), *Grade.choices]  # type: ignore[attr-defined]
        self.fields["tags"].queryset = Tag.objects.filter(company_id=company).order_by("name")  # type: ignore[attr-defined]
        self.fields["complaint_category"].queryset = conversion.complaint_categories(user)  # type: ignore[attr-defined]
        staff = UserModel.objects.filter(company_id=company, is_active=True).order_by("display_name", "username")
        self.fields["assignees"].queryset = staff  # type: ignore[attr-defined]

    def audience(self) -> Any:
        from crm.visits.campaigns import Audience

        data = self.cleaned_data
        project = data.get("project")
        return Audience(
            project_id=project.pk if project else None,
            stage=data.get("stage") or "",
            grade=data.get("grade") or "",
            registered_from=data.get("registered_from"),
            registered_to=data.get("registered_to"),
            milestone=data.get("milestone") or "",
            tag_ids=tuple(sorted(t.pk for t in data.get("tags") or [])),
            complaint_category_id=data["complaint_category"].pk if data.get("complaint_category") else None,
            complaints_from=data.get("complaints_from"),
            complaints_to=data.get("complaints_to"),
        )
