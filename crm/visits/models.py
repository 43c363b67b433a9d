"""Follow-up visits (回访): plans per project, the tasks they generate, and what happened.

A ``VisitPlan`` says when a visit is due relative to a customer's occasion (the contract,
the planned delivery, the move-in, the birthday), who makes it, over which channel, with
which script (话术) and questions. The job (crm.visits.planning) turns due occasions into
``VisitTask`` rows, exactly once per (customer, plan, occasion): a unique constraint.

The task's lifecycle is a table (``VisitTask.ALLOWED_MOVES``) read by the one guarded
mover in crm.visits.services; facts that are not states (attempts, the next attempt's
time, the assignee) are fields.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models


class Occasion(models.TextChoices):
    """What a periodic plan is anchored to (DESIGN 3.2, seed 000 and 001)."""

    CONTRACT = "contract", "签约"
    DELIVERY = "delivery", "交房(计划日期)"
    MOVE_IN = "move_in", "入住"
    BIRTHDAY = "birthday", "生日"


class Channel(models.TextChoices):
    PHONE = "phone", "电话"
    SMS = "sms", "短信"
    VISIT = "visit", "面访"
    WECHAT = "wechat", "微信"


class AssigneeRule(models.TextChoices):
    OWNER = "owner", "客户的置业顾问"
    PLAN = "plan", "计划指定的回访人"


class VisitPlan(models.Model):
    """A periodic visit plan of one project (系统设置 › 回访计划).

    The visit starts on the occasion's date moved by ``offset_months`` and ``offset_days``
    (working days when ``offset_in_working_days``: the birthday call is −1 working day)
    and is due ``window_days`` later (working days, or calendar days moved off a rest day
    onto the next working day). See crm.visits.timing.
    """

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="visit_plans")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="visit_plans", verbose_name="楼盘"
    )
    name = models.CharField("计划名称", max_length=40)
    occasion = models.CharField("触发节点", max_length=12, choices=Occasion.choices)
    offset_months = models.SmallIntegerField("偏移月数", default=0, help_text="负数表示节点之前，如交房前1个月填 -1")
    offset_days = models.SmallIntegerField("偏移天数", default=0)
    offset_in_working_days = models.BooleanField("偏移按工作日计算", default=False)
    window_days = models.PositiveSmallIntegerField("完成时限(天)", default=7, help_text="开始后多少天内完成")
    window_in_working_days = models.BooleanField(
        "时限按工作日计算", default=False, help_text="不勾选时按自然日计算，到期日遇节假日顺延到下一个工作日"
    )
    channel = models.CharField("回访方式", max_length=10, choices=Channel.choices, default=Channel.PHONE)
    assignee_rule = models.CharField("回访人", max_length=10, choices=AssigneeRule.choices, default=AssigneeRule.OWNER)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="指定回访人",
        help_text="“计划指定的回访人”时使用；未设置时任务待客服中心主任分派",
    )
    purpose = models.CharField("回访目的", max_length=200)
    script = models.TextField("回访话术", blank=True, help_text="回访时显示给回访人")
    questions = models.TextField("回访问题", blank=True, help_text="每行一个问题，每个问题按 1–5 分评分")
    max_attempts = models.PositiveSmallIntegerField("最多联系次数", default=3, help_text="未接通时换时段重拨")
    lead_days = models.PositiveSmallIntegerField("提前生成(天)", default=7, help_text="开始日前几天生成任务")
    catch_up_days = models.PositiveSmallIntegerField(
        "补生成(天)", default=30, help_text="开始日已过多少天内仍生成任务（启用新计划时不为多年前的节点生成）"
    )
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "回访计划"
        verbose_name_plural = "回访计划"
        ordering = ("project", "sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("project", "name"), name="uniq_visit_plan_name")]

    def __str__(self) -> str:
        return f"{self.project} · {self.name}"

    @property
    def question_list(self) -> list[str]:
        return [line.strip() for line in self.questions.splitlines() if line.strip()]


class TaskKind(models.TextChoices):
    """Where a task came from: a periodic plan, a completed repair (100%), the director's
    quarterly re-check sample (抽查), a special campaign (专项回访)."""

    PLAN = "plan", "定期回访"
    REPAIR = "repair", "报修回访"
    RECHECK = "recheck", "主任抽查回访"
    CAMPAIGN = "campaign", "专项回访"


class VisitTask(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待回访"
        RETRY = "retry", "未接通待重拨"
        DONE = "done", "已完成"
        UNREACHABLE = "unreachable", "多次未接通"
        CANCELLED = "cancelled", "已取消"

    S = Status
    # The lifecycle (STYLE.md "A lifecycle"). An unreached call is retried (retry → retry)
    # until the plan's attempts are used up; the director may put an unreachable task back
    # in the queue (pending) after, say, a new number was found.
    ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
        S.PENDING: frozenset({S.DONE, S.RETRY, S.UNREACHABLE, S.CANCELLED}),
        S.RETRY: frozenset({S.DONE, S.RETRY, S.UNREACHABLE, S.CANCELLED}),
        S.UNREACHABLE: frozenset({S.PENDING, S.CANCELLED}),
        S.DONE: frozenset(),
        S.CANCELLED: frozenset(),
    }
    OPEN = frozenset({S.PENDING, S.RETRY})
    del S

    # company and customer need no index of their own: visit_company_status and
    # uniq_visit_task_occasion lead with them. Every index is written for each of the
    # thousands of tasks the planning job creates (bench visits: 90 % of a first run).
    company = models.ForeignKey(
        "accounts.Company", on_delete=models.PROTECT, related_name="visit_tasks", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="visit_tasks", verbose_name="客户", db_index=False
    )
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    plan = models.ForeignKey(
        VisitPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks", verbose_name="回访计划"
    )
    # What the task is for within its plan: "deal:<id>" for a milestone, "<year>" for a
    # birthday. Unique with the customer and the plan: the job creates a task once.
    occasion = models.CharField("节点", max_length=40)
    kind = models.CharField("类型", max_length=10, choices=TaskKind.choices, default=TaskKind.PLAN)
    # The optional links below are indexed only where set (partial indexes in Meta): a
    # planned task has none of them, so creating one writes none of those indexes.
    repair = models.ForeignKey(
        "visits.Repair",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="报修",
        db_index=False,
    )
    campaign = models.ForeignKey(
        "visits.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="专项回访",
        db_index=False,
    )
    source_task = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rechecks",
        verbose_name="被抽查的回访",
        db_index=False,
    )
    deal = models.ForeignKey(
        "customers.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="成交"
    )
    occasion_on = models.DateField("节点日期")
    purpose = models.CharField("回访目的", max_length=200)
    channel = models.CharField("回访方式", max_length=10, choices=Channel.choices, default=Channel.PHONE)
    questions = models.JSONField("回访问题", default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit_tasks",
        verbose_name="回访人",
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    start_on = models.DateField("开始日期")
    due_on = models.DateField("完成期限")
    due_note = models.CharField("期限说明", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("联系次数", default=0)
    # Overdue tasks escalate (crm.visits.escalation): 1 = the assignee's team leader,
    # 2 = the 客服中心主任, one working day later.
    escalation_level = models.PositiveSmallIntegerField("督办级别", default=0)
    escalated_at = models.DateTimeField("督办时间", null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField("最多联系次数", default=3)
    next_attempt_at = models.DateTimeField("下次联系时间", null=True, blank=True)
    reached = models.BooleanField("已接通", null=True, blank=True)
    scores = models.JSONField("各问题评分", default=dict, blank=True)
    satisfaction = models.PositiveSmallIntegerField("总体满意度", null=True, blank=True)
    opinions = models.TextField("客户意见", blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "回访任务"
        verbose_name_plural = "回访任务"
        ordering = ("due_on", "id")
        permissions = [
            ("assign_visittask", "分派、改派、取消回访任务"),
            ("export_visits", "导出回访"),
        ]
        constraints = [
            # The job runs every hour and on two runners: a task per occasion, once.
            models.UniqueConstraint(fields=("customer", "plan", "occasion"), name="uniq_visit_task_occasion"),
            # Tasks without a plan (a repair callback, a re-check, a campaign): NULL plans
            # are distinct in SQL, so their own once-only rule on the occasion key.
            models.UniqueConstraint(
                fields=("customer", "occasion"),
                condition=models.Q(plan__isnull=True),
                name="uniq_visit_task_planless_occasion",
            ),
        ]
        indexes = [
            # The work queue (my tasks: today, overdue, upcoming): open tasks of one assignee
            # in the list's order (due date, id), so a page is read off the index without
            # sorting the assignee's open tasks (bench visits: 5,000 of 3,000,000).
            models.Index(
                fields=("assignee", "due_on", "id"),
                name="visit_open_assignee_due",
                condition=models.Q(status__in=["pending", "retry"]),
            ),
            # The director's overdue list across a scope.
            models.Index(fields=("company", "status", "due_on"), name="visit_company_status"),
            # A report pack's visit records: the done visits of one channel completed in the
            # period (bench reports: otherwise a scan of every task, twice per pack).
            models.Index(
                fields=("company", "channel", "completed_at"),
                name="visit_done_completed",
                condition=models.Q(status="done"),
            ),
            *(
                models.Index(
                    fields=(link,), name=f"visit_task_{link}", condition=models.Q(**{f"{link}__isnull": False})
                )
                for link in ("repair", "campaign", "source_task", "completed_by")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} · {self.due_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today


class VisitEvent(models.Model):
    """One thing that happened to a task: a move (from → to, with the call's note), an
    assignment, with who did it and when."""

    class Kind(models.TextChoices):
        MOVE = "move", "状态变更"
        ASSIGNED = "assigned", "分派"
        ESCALATED = "escalated", "逾期督办"

    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MOVE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=12, choices=VisitTask.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=VisitTask.Status.choices, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "回访记录"
        verbose_name_plural = "回访记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class IssueCategory(models.Model):
    """A class of issue customers raise in visits (产品质量, 服务态度, 政策咨询, 其他 …),
    configurable per company (系统设置 › 回访问题类别)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="visit_issue_categories")
    name = models.CharField("类别名称", max_length=40)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="默认责任部门",
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "回访问题类别"
        verbose_name_plural = "回访问题类别"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("company", "name"), name="uniq_visit_issue_category_name")]

    def __str__(self) -> str:
        return self.name


class VisitIssue(models.Model):
    """An issue a customer raised in a visit, routed to the responsible department with the
    date the customer was promised; closed only after the customer was told the result
    (issue 12, item 4)."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        IN_PROGRESS = "in_progress", "处理中"
        RESOLVED = "resolved", "已解决待告知"
        INFORMED = "informed", "已告知客户"
        CLOSED = "closed", "已关闭"

    S = Status
    # The department works it (open → in progress → resolved); the visitor tells the
    # customer (informed) and only then is it closed. A result the customer does not
    # accept goes back to the department.
    ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
        S.OPEN: frozenset({S.IN_PROGRESS, S.RESOLVED}),
        S.IN_PROGRESS: frozenset({S.RESOLVED}),
        S.RESOLVED: frozenset({S.INFORMED, S.IN_PROGRESS}),
        S.INFORMED: frozenset({S.CLOSED, S.IN_PROGRESS}),
        S.CLOSED: frozenset(),
    }
    OPEN = frozenset({S.OPEN, S.IN_PROGRESS, S.RESOLVED, S.INFORMED})
    del S

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="visit_issues")
    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="issues", verbose_name="回访任务")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="visit_issues", verbose_name="客户"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    category = models.ForeignKey(IssueCategory, on_delete=models.PROTECT, related_name="issues", verbose_name="类别")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="visit_issues", verbose_name="责任部门"
    )
    description = models.TextField("问题描述")
    promised_on = models.DateField("承诺答复日期")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="登记人"
    )
    raised_at = models.DateTimeField("登记时间")
    resolution = models.TextField("处理结果", blank=True)
    resolved_at = models.DateTimeField("解决时间", null=True, blank=True)
    informed_at = models.DateTimeField("告知客户时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    # A serious issue converted into a complaint (crm.complaints, through its services):
    # once — the one-to-one link is what a second click finds.
    complaint = models.OneToOneField(
        "complaints.Complaint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="转投诉",
    )
    converted_at = models.DateTimeField("转投诉时间", null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "回访问题"
        verbose_name_plural = "回访问题"
        ordering = ("promised_on", "id")
        permissions = [("convert_visitissue", "将回访问题转为投诉")]
        indexes = [
            # The department's queue: its open issues by promised date.
            models.Index(fields=("department", "status", "promised_on"), name="visit_issue_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.description[:20]}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_late(self, today: date) -> bool:
        """Past the promised date and the customer not yet told."""
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS, self.Status.RESOLVED) and (
            self.promised_on < today
        )


class IssueEvent(models.Model):
    """One move of an issue (from → to, with the note: the work done, the resolution, what
    the customer said when told), with who did it and when: the issue's history."""

    issue = models.ForeignKey(VisitIssue, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=12, choices=VisitIssue.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=VisitIssue.Status.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "回访问题处理记录"
        verbose_name_plural = "回访问题处理记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_to_status_display()} {self.at:%Y-%m-%d %H:%M}"


class IssueReminder(models.Model):
    """A reminder the job made for one issue on one day (unique: at most one per issue and
    day, however often the job runs): the department's, before the promised date while
    the issue is not resolved; the visitor's, while a resolved issue waits for the
    customer to be told. Shown on the workbench until the issue moves on."""

    class Kind(models.TextChoices):
        PROMISE = "promise", "承诺日期将到"
        LATE = "late", "已超过承诺日期"
        INFORM = "inform", "待告知客户处理结果"

    issue = models.ForeignKey(VisitIssue, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("提醒类型", max_length=10, choices=Kind.choices)
    on = models.DateField("提醒日期")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "回访问题提醒"
        verbose_name_plural = "回访问题提醒"
        ordering = ("-on", "id")
        constraints = [models.UniqueConstraint(fields=("issue", "on"), name="uniq_visit_issue_reminder_day")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on:%Y-%m-%d}"


class Repair(models.Model):
    """A repair (报修) of a customer's unit: the problem, the contractor and when it was
    completed. Every completed repair gets a callback visit due within one working day
    (seed 004: 报修项目100%电话回访); entered on the page, through the API, or by another
    app calling ``crm.visits.repairs.record_repair``."""

    class Source(models.TextChoices):
        FORM = "form", "页面登记"
        API = "api", "接口"
        IMPORT = "import", "导入"

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="visit_repairs")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="visit_repairs", verbose_name="客户"
    )
    unit = models.ForeignKey(
        "projects.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="房号"
    )
    problem = models.TextField("报修问题")
    contractor = models.CharField("维修单位", max_length=100)
    completed_at = models.DateTimeField("完工时间", null=True, blank=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.FORM)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "报修记录"
        verbose_name_plural = "报修记录"
        ordering = ("-created_at", "-id")
        permissions = [("export_repairs", "导出报修记录")]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.problem[:20]}"


class RecheckSample(models.Model):
    """The director's quarterly re-check (seed 004: 每季度对报修记录抽查回访20%): 20% of the
    quarter's completed repair callbacks, rounded up per project, drawn with a stored seed
    (the same seed redraws the same sample). Unique per company and quarter: drawn once."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    quarter = models.CharField("季度", max_length=7, help_text="如 2026Q3")
    seed = models.BigIntegerField("抽样种子")
    rate_percent = models.PositiveSmallIntegerField("抽样比例(%)", default=20)
    population = models.PositiveIntegerField("本季度已完成报修回访")
    size = models.PositiveIntegerField("抽取数量")
    per_project = models.JSONField("各楼盘（总数, 抽取数）", default=dict)
    drawn_at = models.DateTimeField("抽样时间")

    class Meta:
        verbose_name = "季度抽查"
        verbose_name_plural = "季度抽查"
        ordering = ("-quarter",)
        constraints = [models.UniqueConstraint(fields=("company", "quarter"), name="uniq_recheck_sample_quarter")]

    def __str__(self) -> str:
        return f"{self.quarter} 抽查 {self.size}/{self.population}"


class Milestone(models.TextChoices):
    """A deal milestone a campaign's audience has reached (the deal not cancelled)."""

    SUBSCRIBED = "subscribed", "已认购"
    CONTRACTED = "contracted", "已签约"
    DELIVERED = "delivered", "已交房"
    MOVED_IN = "moved_in", "已入住"


class Campaign(models.Model):
    """A special visit campaign (专项回访, seed 000): a purpose, a script and questions, an
    audience chosen by filter over the customers in the director's scope, a due window and
    how tasks are spread. Launching makes one task per customer (``campaign:<id>``, unique
    for plan-less tasks); launching again adds only customers who newly match."""

    class Assign(models.TextChoices):
        OWNER = "owner", "客户的置业顾问"
        ROUND_ROBIN = "round_robin", "指定人员轮流分配"

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="visit_campaigns")
    name = models.CharField("专项名称", max_length=60)
    purpose = models.CharField("回访目的", max_length=200)
    script = models.TextField("回访话术", blank=True)
    questions = models.TextField("回访问题", blank=True, help_text="每行一个问题，每个问题按 1–5 分评分")
    channel = models.CharField("回访方式", max_length=10, choices=Channel.choices, default=Channel.PHONE)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="楼盘"
    )
    stage = models.CharField("客户阶段", max_length=12, blank=True)
    grade = models.CharField("客户等级", max_length=1, blank=True)
    registered_from = models.DateField("录入日期从", null=True, blank=True)
    registered_to = models.DateField("录入日期至", null=True, blank=True)
    milestone = models.CharField("成交节点", max_length=12, choices=Milestone.choices, blank=True)
    tags = models.ManyToManyField("customers.Tag", blank=True, related_name="+", verbose_name="标签")
    # Customers with a complaint of this category (registered in the date range, if given).
    complaint_category = models.ForeignKey(
        "complaints.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="投诉类别",
    )
    complaints_from = models.DateField("投诉日期从", null=True, blank=True)
    complaints_to = models.DateField("投诉日期至", null=True, blank=True)
    start_on = models.DateField("开始日期")
    due_on = models.DateField("完成期限")
    assign = models.CharField("分配方式", max_length=12, choices=Assign.choices, default=Assign.OWNER)
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name="回访人员（轮流分配时）"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField("创建时间")
    launched_at = models.DateTimeField("下发时间", null=True, blank=True)

    class Meta:
        verbose_name = "专项回访"
        verbose_name_plural = "专项回访"
        ordering = ("-created_at", "-id")
        permissions = [("manage_campaign", "创建和下发专项回访")]

    def __str__(self) -> str:
        return self.name

    @property
    def question_list(self) -> list[str]:
        return [line.strip() for line in self.questions.splitlines() if line.strip()]


# ---------------------------------------------------------------- supervision (item 6)


class ForbiddenPhrase(models.Model):
    """A company's own service phrases (服务忌语) checked in recorded visit notes, on top of
    seed 004's (crm.visits.supervision.SEED_PHRASES)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+", verbose_name="公司")
    phrase = models.CharField("忌语", max_length=40)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "服务忌语"
        verbose_name_plural = "服务忌语"
        ordering = ("company", "phrase")
        constraints = [models.UniqueConstraint(fields=("company", "phrase"), name="uniq_forbidden_phrase")]

    def __str__(self) -> str:
        return self.phrase


class ReviewFlag(models.Model):
    """A supervisor's (or the phrase check's) flag on a visit record, with the comment the
    visitor must answer. The answer closes it; the supervisor accepts it or opens it again."""

    class Status(models.TextChoices):
        OPEN = "open", "待答复"
        ANSWERED = "answered", "已答复"
        ACCEPTED = "accepted", "已认可"

    class Source(models.TextChoices):
        REVIEW = "review", "督查标记"
        PHRASE = "phrase", "服务忌语"

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(VisitTask, on_delete=models.CASCADE, related_name="flags", verbose_name="回访任务")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="回访人"
    )
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.REVIEW)
    phrase = models.CharField("发现的忌语", max_length=40, blank=True)
    comment = models.TextField("督查意见")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="标记人"
    )
    flagged_at = models.DateTimeField("标记时间")
    answer = models.TextField("回访人答复", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("认可时间", null=True, blank=True)

    class Meta:
        verbose_name = "回访督查标记"
        verbose_name_plural = "回访督查标记"
        ordering = ("-flagged_at", "-id")
        permissions = [("review_visits", "督查回访记录")]
        indexes = [models.Index(fields=("visitor", "status"), name="visit_flag_by_visitor")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} · {self.comment[:20]}"


class FlagEvent(models.Model):
    """The flag's history: flagged, answered, accepted, re-opened, with who and when."""

    class Kind(models.TextChoices):
        FLAGGED = "flagged", "标记"
        ANSWERED = "answered", "答复"
        ACCEPTED = "accepted", "认可"
        REOPENED = "reopened", "重新打开"

    flag = models.ForeignKey(ReviewFlag, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")
        verbose_name = verbose_name_plural = "督查标记经过"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------- consultant scores (item 7)


class ImprovementPlan(models.Model):
    """The team leader's improvement plan (改进计划) for one consultant and month, next to
    the month's score (crm.visits.stats.consultant_scores)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="回访人"
    )
    month = models.DateField("月份", help_text="该月第一天")
    plan = models.TextField("改进计划", blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="填写人"
    )
    updated_at = models.DateTimeField("填写时间")

    class Meta:
        verbose_name = "回访改进计划"
        verbose_name_plural = "回访改进计划"
        constraints = [models.UniqueConstraint(fields=("consultant", "month"), name="uniq_improvement_plan")]

    def __str__(self) -> str:
        return f"{self.consultant} · {self.month:%Y-%m}"
