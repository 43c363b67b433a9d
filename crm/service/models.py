"""客服运营 (service operations): the duty roster and shift handover (值班, 交接班).

Seed 004's rules: 24-hour duty at the customer-service centre; holidays need a mid-level
manager on duty; the outgoing officer completes the log and the item checklist, the
incoming officer checks each item, damage or loss is explained, both sign; the incoming
officer refuses (四不接) while the log is unclear, the area unclean, an item missing without
explanation, or a major repair unfinished. The handover's lifecycle is a table
(``Handover.ALLOWED_MOVES``) read by the one guarded mover in crm.service.services.
"""

from __future__ import annotations

from datetime import datetime

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
