"""客服运营 (service operations): the duty roster and shift handover (值班, 交接班).

Seed 004's rules: 24-hour duty at the customer-service centre; holidays need a mid-level
manager on duty; the outgoing officer completes the log and the item checklist, the
incoming officer checks each item, damage or loss is explained, both sign; the incoming
officer refuses (四不接) while the log is unclear, the area unclean, an item missing without
explanation, or a major repair unfinished. The handover's lifecycle is a table
(``Handover.ALLOWED_MOVES``) read by the one guarded mover in crm.service.services.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models

from crm.lib.dates import local_day


class DutyItem(models.Model):
    """A thing handed over at each shift change (电话, 电脑, 饮水机, 钥匙 …), per company."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="duty_items")
    name = models.CharField("物品名称", max_length=40)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "交接物品"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("company", "name"), name="uniq_duty_item_name")]

    def __str__(self) -> str:
        return self.name


class Shift(models.Model):
    """One shift on the roster: who is on duty at a project's service centre, when, and (on
    a holiday) which mid-level manager leads it."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duty_shifts", verbose_name="值班人员"
    )
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    is_holiday = models.BooleanField("节假日班次", default=False, help_text="按工作日历判断，须有中级以上管理人员值班")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="值班管理人员",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("排班时间")

    class Meta:
        verbose_name = verbose_name_plural = "值班班次"
        ordering = ("-starts_at", "-id")
        permissions = [
            ("plan_roster", "排班"),
            ("keep_duty_log", "填写值班记录、交接班"),
            ("check_duty", "值班抽查"),
            ("lead_holiday_duty", "节假日值班管理人员（中级以上）"),
            ("export_duty", "导出值班与交接班"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start")
        ]
        indexes = [
            # The roster page and the "who is on duty now" lookup of a project.
            models.Index(fields=("project", "starts_at"), name="shift_project_start"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.starts_at:%m-%d %H:%M} {self.officer}"

    @property
    def day(self) -> object:
        return local_day(self.starts_at)

    def is_on(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class DutyLogEntry(models.Model):
    """值班记录: a call, a visit, an incident, or anything reported to the director."""

    class Kind(models.TextChoices):
        CALL = "call", "来电"
        VISIT = "visit", "来访"
        INCIDENT = "incident", "突发事件"
        OTHER = "other", "其他"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="log_entries")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    at = models.DateTimeField("时间")
    content = models.TextField("内容")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="客户"
    )
    caller_name = models.CharField("来电/来访人", max_length=50, blank=True)
    is_escalated = models.BooleanField("已上报客服中心主任", default=False, help_text="重大问题立即上报")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "值班记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%H:%M}"


class Handover(models.Model):
    """交接班: the outgoing officer's shift handed to the incoming officer.

    OPEN (the outgoing officer fills it in) → SUBMITTED (signed by the outgoing officer,
    waiting for the incoming one; sent back to OPEN when the incoming officer returns it)
    → ACCEPTED (signed by the incoming officer; only when none of the four refusals holds).
    """

    class Status(models.TextChoices):
        OPEN = "open", "交班填写中"
        SUBMITTED = "submitted", "待接班确认"
        ACCEPTED = "accepted", "已接班"

    S = Status
    ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
        S.OPEN: frozenset({S.SUBMITTED}),
        S.SUBMITTED: frozenset({S.ACCEPTED, S.OPEN}),
        S.ACCEPTED: frozenset(),
    }
    OPEN_STATUSES = frozenset({S.OPEN, S.SUBMITTED})
    del S

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    shift = models.OneToOneField(Shift, on_delete=models.PROTECT, related_name="handover", verbose_name="交班班次")
    outgoing = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="交班人"
    )
    incoming = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="接班人"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    log_summary = models.TextField("值班记录摘要", blank=True, help_text="本班来电、来访、事件，无漏项、缺项")
    open_matters = models.TextField("未尽事宜", blank=True)
    # 重大维修未完不接: cleared (with a note) once the repair is done.
    major_repair_open = models.BooleanField("有重大维修未完成", default=False)
    major_repair_note = models.CharField("维修情况", max_length=300, blank=True)
    # The incoming officer's own checks at acceptance (记录不清不接, 卫生不洁不接).
    log_clear = models.BooleanField("值班记录清楚", default=False)
    area_clean = models.BooleanField("卫生整洁", default=False)
    created_at = models.DateTimeField("创建时间")
    submitted_at = models.DateTimeField("交班确认时间", null=True, blank=True)
    accepted_at = models.DateTimeField("接班确认时间", null=True, blank=True)
    # The last refusal, so the director sees why a handover is still open.
    refused_at = models.DateTimeField("最近拒接时间", null=True, blank=True)
    refusal_reasons = models.CharField("拒接原因", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "交接班"
        ordering = ("-created_at", "-id")
        indexes = [
            # The director's card and list: open handovers of the company.
            models.Index(fields=("company", "status"), name="handover_status"),
        ]

    def __str__(self) -> str:
        return f"交接班 {self.created_at:%Y-%m-%d %H:%M} {self.outgoing} → {self.incoming}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class HandoverItem(models.Model):
    """One item of a handover's checklist: its state and, when damaged or missing, the
    outgoing side's explanation (交班人员须说明原因并做好记录)."""

    class State(models.TextChoices):
        OK = "ok", "完好"
        DAMAGED = "damaged", "损坏"
        MISSING = "missing", "缺失"

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    name = models.CharField("物品", max_length=40)
    sort_order = models.PositiveSmallIntegerField(default=0)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OK)
    explanation = models.CharField("原因说明", max_length=300, blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "交接物品清点"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("handover", "name"), name="uniq_handover_item")]

    def __str__(self) -> str:
        return f"{self.name}：{self.get_state_display()}"

    @property
    def needs_explanation(self) -> bool:
        return self.state != self.State.OK and not self.explanation.strip()


class HandoverEvent(models.Model):
    """What happened to a handover: a move, a refusal (with its reasons), an item checked."""

    class Kind(models.TextChoices):
        MOVE = "move", "状态变更"
        REFUSED = "refused", "拒接"
        ITEM = "item", "物品清点"
        REPAIR = "repair", "维修情况"

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOVE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=10, choices=Handover.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Handover.Status.choices, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "交接班记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class DutyCheck(models.Model):
    """The director's spot check of a shift (客服中心主任不定期对值班情况进行检查)."""

    class Result(models.TextChoices):
        OK = "ok", "正常"
        PROBLEM = "problem", "发现问题"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="checks", verbose_name="班次")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="检查人"
    )
    checked_at = models.DateTimeField("检查时间")
    result = models.CharField("结果", max_length=10, choices=Result.choices)
    note = models.TextField("检查情况", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "值班抽查"
        ordering = ("-checked_at", "-id")

    def __str__(self) -> str:
        return f"{self.shift} {self.get_result_display()}"


# ---------------------------------------------------------------- gifts (礼品发放)


class Occasion(models.TextChoices):
    """Seed 001 礼品发放: the occasions a gift is given on."""

    SUBSCRIPTION = "subscription", "认购礼品"
    CONTRACT = "contract", "签约礼品"
    BIRTHDAY = "birthday", "生日礼品"
    EVENT = "event", "活动礼品"
    ON_SITE = "on_site", "现场随机礼品"


class Gift(models.Model):
    """A gift of the company's catalogue; its stock is kept per project (GiftStock)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("礼品名称", max_length=60)
    unit = models.CharField("单位", max_length=10, default="件")
    price = models.DecimalField("单价(元)", max_digits=10, decimal_places=2, null=True, blank=True)
    description = models.CharField("说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "礼品"
        ordering = ("name", "id")
        permissions = [
            ("manage_gift_stock", "礼品入库、出库调整"),
            ("export_gifts", "导出礼品发放"),
        ]
        constraints = [models.UniqueConstraint(fields=("company", "name"), name="uniq_gift_name")]

    def __str__(self) -> str:
        return self.name


class GiftStock(models.Model):
    """How many of a gift a project holds. Never negative: every change is one conditional
    UPDATE (crm.service.services.issue_gift), and the database refuses a negative value."""

    gift = models.ForeignKey(Gift, on_delete=models.CASCADE, related_name="stocks", verbose_name="礼品")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+", verbose_name="楼盘")
    quantity = models.IntegerField("库存", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "礼品库存"
        ordering = ("project", "gift")
        constraints = [
            models.UniqueConstraint(fields=("gift", "project"), name="uniq_gift_stock"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="gift_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.gift}：{self.quantity}"


class StockMovement(models.Model):
    """The stock ledger: every change of a project's stock of a gift, signed."""

    class Kind(models.TextChoices):
        IN = "in", "入库"
        OUT = "out", "出库"
        ISSUE = "issue", "发放"

    stock = models.ForeignKey(GiftStock, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    quantity = models.IntegerField("数量（出为负）")
    balance = models.IntegerField("结存")
    note = models.CharField("说明", max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = verbose_name_plural = "礼品出入库"
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity}"


class GiftTask(models.Model):
    """待送礼品: a gift the consultant is to hand over on a deal's milestone (认购, 签约).
    Made by crm.service.jobs.create_gift_tasks, one per deal and occasion."""

    class Status(models.TextChoices):
        OPEN = "open", "待发放"
        DONE = "done", "已发放"
        CANCELLED = "cancelled", "已取消"

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+", verbose_name="楼盘")
    deal = models.ForeignKey("customers.Deal", on_delete=models.CASCADE, related_name="+", verbose_name="成交")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name="客户")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="置业顾问"
    )
    occasion = models.CharField("场合", max_length=14, choices=Occasion.choices)
    milestone_on = models.DateField("节点日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("创建时间")
    done_at = models.DateTimeField("发放时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "待送礼品"
        ordering = ("milestone_on", "id")
        constraints = [
            # The job scans recent deals every run: this key makes it idempotent.
            models.UniqueConstraint(fields=("deal", "occasion"), name="uniq_gift_task_per_deal")
        ]
        indexes = [
            # The consultant's workbench card: open tasks of one consultant.
            models.Index(fields=("consultant", "status"), name="gift_task_consultant"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_occasion_display()}"


class GiftIssue(models.Model):
    """礼品发放记录: a gift handed to a customer or a walk-in visitor on an occasion."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="issues", verbose_name="礼品")
    quantity = models.PositiveIntegerField("数量")
    occasion = models.CharField("场合", max_length=14, choices=Occasion.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="客户"
    )
    visitor_name = models.CharField("来访人", max_length=50, blank=True, help_text="非档案客户（现场来访）时填写")
    reason = models.CharField("发放原因", max_length=200, blank=True, help_text="现场随机礼品须填写")
    task = models.OneToOneField(
        GiftTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="issue", verbose_name="待送礼品"
    )
    issuer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="发放人"
    )
    issued_at = models.DateTimeField("发放时间")

    class Meta:
        verbose_name = verbose_name_plural = "礼品发放"
        ordering = ("-issued_at", "-id")
        indexes = [
            # The weekly and monthly statistics: a company's issues in a time range.
            models.Index(fields=("company", "issued_at"), name="gift_issue_time"),
        ]

    def __str__(self) -> str:
        return f"{self.gift} ×{self.quantity}"

    @property
    def recipient(self) -> str:
        return self.customer.name if self.customer_id and self.customer else self.visitor_name


class BirthdayEntry(models.Model):
    """One line of a consultant's monthly birthday list (每月筛选本月生日客户, 分发到销售人员):
    an owner or a family member with consent, and the solar date of this year's birthday.
    Made by crm.service.jobs.prepare_birthday_lists, once per month, customer and member."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("月份")  # the 1st of the month
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="置业顾问"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+", verbose_name="楼盘")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name="客户")
    member = models.ForeignKey(
        "customers.FamilyMember",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="家庭成员",
    )
    name = models.CharField("过生日的人", max_length=50)
    relation = models.CharField("关系", max_length=10, blank=True)
    birthday_on = models.DateField("今年生日(公历)")
    is_lunar = models.BooleanField("农历生日", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "本月生日名单"
        ordering = ("birthday_on", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("month", "customer"), condition=models.Q(member__isnull=True), name="uniq_birthday_customer"
            ),
            models.UniqueConstraint(
                fields=("month", "customer", "member"),
                condition=models.Q(member__isnull=False),
                name="uniq_birthday_member",
            ),
        ]
        indexes = [models.Index(fields=("consultant", "month"), name="birthday_consultant_month")]

    def __str__(self) -> str:
        return f"{self.name} {self.birthday_on}"


# ---------------------------------------------------------------- daily inspection (日常巡查)


class InspectionArea(models.Model):
    """An area of a project's daily inspection checklist (default: seed 001's list)."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+", verbose_name="楼盘")
    name = models.CharField("巡查区域", max_length=40)
    standard = models.CharField("标准", max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡查区域"
        ordering = ("project", "sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("project", "name"), name="uniq_inspection_area")]

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    """One project's daily inspection: due complete by 10:00 (seed 001)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    day = models.DateField("日期")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="巡查人"
    )
    started_at = models.DateTimeField("开始时间")
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "日常巡查"
        ordering = ("-day", "project")
        permissions = [
            ("handle_finding", "处理巡查问题"),
            ("export_inspection", "导出巡查"),
        ]
        constraints = [models.UniqueConstraint(fields=("project", "day"), name="uniq_inspection_per_day")]

    def __str__(self) -> str:
        return f"{self.project} {self.day}"


class InspectionResult(models.Model):
    class Result(models.TextChoices):
        PENDING = "pending", "未检查"
        OK = "ok", "合格"
        PROBLEM = "problem", "有问题"

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    area = models.CharField("区域", max_length=40)
    sort_order = models.PositiveSmallIntegerField(default=0)
    result = models.CharField("结果", max_length=10, choices=Result.choices, default=Result.PENDING)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡查结果"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("inspection", "area"), name="uniq_inspection_result")]

    def __str__(self) -> str:
        return f"{self.area}：{self.get_result_display()}"


class Finding(models.Model):
    """A problem found on inspection, the department responsible and when it was handled
    (due by 11:00 the same day; one found later, within an hour)."""

    class Department(models.TextChoices):
        SERVICE = "service", "客服"
        SALES = "sales", "销售"
        PROPERTY = "property", "物业（保洁、保安）"
        ENGINEERING = "engineering", "工程"
        ADMIN = "admin", "行政"

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    area = models.CharField("区域", max_length=40)
    description = models.TextField("问题描述")
    department = models.CharField("责任部门", max_length=12, choices=Department.choices)
    photo = models.FileField("照片", upload_to="inspection/%Y/%m/", blank=True)
    found_at = models.DateTimeField("发现时间")
    due_at = models.DateTimeField("处理期限")
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    handled_note = models.CharField("处理情况", max_length=300, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "巡查问题"
        ordering = ("found_at", "id")
        permissions = [("engineering_contact", "工程对接人（工程类巡查问题即时通知）")]
        indexes = [
            # The "not handled by 11:00" flag: open findings past their deadline.
            models.Index(fields=("handled_at", "due_at"), name="finding_open_due"),
        ]

    def __str__(self) -> str:
        return f"{self.area}：{self.description[:20]}"

    @property
    def is_engineering(self) -> bool:
        return self.department == self.Department.ENGINEERING

    def is_overdue(self, now: datetime) -> bool:
        return self.handled_at is None and now > self.due_at


class InspectionReport(models.Model):
    """每日巡查报告: one per project and day, made at the end of the day by
    crm.service.jobs.write_inspection_reports (idempotent by the unique key)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+", verbose_name="楼盘")
    day = models.DateField("日期")
    inspection = models.ForeignKey(Inspection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    summary = models.JSONField("内容", default=dict)
    created_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = verbose_name_plural = "每日巡查报告"
        ordering = ("-day", "project")
        constraints = [models.UniqueConstraint(fields=("project", "day"), name="uniq_inspection_report")]

    def __str__(self) -> str:
        return f"{self.project} {self.day} 巡查报告"


# ---------------------------------------------------------------- project materials and on-site disclosures


class MaterialKind(models.TextChoices):
    """Seed 001 项目前期 b): 项目销售资料的管理，如户型图、红线内外不利因素、宣传资料."""

    LAYOUT = "layout", "户型图"
    ADVERSE = "adverse", "红线内外不利因素"
    BROCHURE = "brochure", "宣传资料"
    OTHER = "other", "其他销售资料"


class Material(models.Model):
    """A sales material of a project (a layout plan, the adverse factors inside and outside
    the red line, a brochure …); its files are the versions, the newest one current unless
    an earlier one is made current again."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    kind = models.CharField("类别", max_length=12, choices=MaterialKind.choices)
    title = models.CharField("名称", max_length=100)
    is_active = models.BooleanField("在用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间")
    updated_at = models.DateTimeField("最近更新")

    class Meta:
        verbose_name = verbose_name_plural = "项目资料"
        ordering = ("project", "kind", "title", "id")
        permissions = [
            ("manage_material", "上传项目资料、维护现场公示清单"),
            ("export_materials", "导出项目资料与现场公示"),
        ]
        constraints = [models.UniqueConstraint(fields=("project", "kind", "title"), name="uniq_material_title")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"


MATERIAL_DIR = "materials"


def _material_path(instance: MaterialVersion, filename: str) -> str:
    # A random name: the original name is kept in its own column, never in a path.
    return f"{MATERIAL_DIR}/{uuid.uuid4().hex}{instance.extension}"


class MaterialVersion(models.Model):
    """One file of a material. Versions are never replaced: a new upload is the next
    number and becomes current; exactly one version of a material is current."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本")
    file = models.FileField("文件", upload_to=_material_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小(字节)")
    note = models.CharField("版本说明", max_length=200, blank=True)
    is_current = models.BooleanField("当前版本", default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    EXTENSIONS: dict[str, str] = {
        "application/pdf": ".pdf",
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/webp": ".webp",
    }

    class Meta:
        verbose_name = verbose_name_plural = "项目资料版本"
        ordering = ("-number",)
        constraints = [
            models.UniqueConstraint(fields=("material", "number"), name="uniq_material_version"),
            models.UniqueConstraint(
                fields=("material",), condition=models.Q(is_current=True), name="uniq_material_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material} v{self.number}"

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, "")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def download_name(self) -> str:
        return f"{self.material.title}_v{self.number}{self.extension}"


class DisplayStatus(models.TextChoices):
    PENDING = "pending", "未确认"
    DISPLAYED = "displayed", "已公示"
    MISSING = "missing", "缺失"
    OUTDATED = "outdated", "内容过期"


class DisplayItem(models.Model):
    """What must be displayed at a project's sales office (seed 001 项目前期 c): the
    project's checklist, seeded with the seed's list and configured in 系统设置, with when it
    was last checked, by whom and what was found."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+", verbose_name="楼盘")
    name = models.CharField("公示内容", max_length=40)
    standard = models.CharField("要求", max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    last_checked_on = models.DateField("最近检查日期", null=True, blank=True)
    last_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="最近检查人",
    )
    last_status = models.CharField(
        "最近检查结果", max_length=10, choices=DisplayStatus.choices, default=DisplayStatus.PENDING
    )

    class Meta:
        verbose_name = verbose_name_plural = "现场公示项"
        ordering = ("project", "sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("project", "name"), name="uniq_display_item")]
        indexes = [
            # The workbench card: items of the user's projects not checked for N days.
            models.Index(fields=("project", "last_checked_on"), name="display_item_checked"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_stale(self, today: Any, days: int) -> bool:
        return self.is_active and (self.last_checked_on is None or (today - self.last_checked_on).days > days)


class DisplayCheck(models.Model):
    """One display item confirmed on a daily inspection (已公示 / 缺失 / 内容过期). A missing
    item becomes a finding of the inspection (``finding``)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="display_checks")
    item = models.ForeignKey(DisplayItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="checks")
    name = models.CharField("公示内容", max_length=40)
    sort_order = models.PositiveSmallIntegerField(default=0)
    status = models.CharField("结果", max_length=10, choices=DisplayStatus.choices, default=DisplayStatus.PENDING)
    note = models.CharField("说明", max_length=300, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField("确认时间", null=True, blank=True)
    finding = models.OneToOneField(
        Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="display_check"
    )

    class Meta:
        verbose_name = verbose_name_plural = "现场公示检查"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("inspection", "name"), name="uniq_display_check")]

    def __str__(self) -> str:
        return f"{self.name}：{self.get_status_display()}"
