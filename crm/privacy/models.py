"""Data-subject requests (PIPL arts. 44–47), legal holds, the erasure ledger and the
retention runs.

The ledger (``ErasureRecord``) and the runs (``RetentionRun``) hold no personal data: a
customer number, times, counts, who and why. A restore replays the ledger
(``crm.privacy.backups``) so a customer erased after a backup stays erased.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RequestKind(models.TextChoices):
    ACCESS = "access", "查阅"  # PIPL art. 45: see what is held
    COPY = "copy", "复制"  # art. 45: a copy (JSON and CSV)
    CORRECT = "correct", "更正"  # art. 46
    ERASE = "erase", "删除"  # art. 47


class ReceivedVia(models.TextChoices):
    PHONE = "phone", "电话"
    VISIT = "visit", "到访"
    LETTER = "letter", "书面"
    EMAIL = "email", "电子邮件"
    WECHAT = "wechat", "微信"
    OTHER = "other", "其他"


class DataSubjectRequest(models.Model):
    """One request of a customer about their personal information, tracked to its deadline."""

    class Status(models.TextChoices):
        RECEIVED = "received", "已受理"
        IN_PROGRESS = "in_progress", "处理中"
        COMPLETED = "completed", "已完成"
        RESTRICTED = "restricted", "已限制处理"  # erasure refused by a legal hold (art. 47)
        REFUSED = "refused", "已拒绝"

    # The moves services.move_request makes; anything else is refused.
    ALLOWED_MOVES: dict[str, frozenset[str]] = {
        Status.RECEIVED: frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.RESTRICTED, Status.REFUSED}),
        Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.RESTRICTED, Status.REFUSED}),
        Status.COMPLETED: frozenset(),
        Status.RESTRICTED: frozenset(),
        Status.REFUSED: frozenset(),
    }
    OPEN = (Status.RECEIVED, Status.IN_PROGRESS)

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+", verbose_name="公司")
    number = models.CharField("申请编号", max_length=20, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name="客户")
    kind = models.CharField("申请类型", max_length=10, choices=RequestKind.choices)
    received_via = models.CharField("受理渠道", max_length=10, choices=ReceivedVia.choices)
    received_on = models.DateField("受理日期")
    identity_check = models.CharField(
        "身份核验", max_length=200, help_text="如何确认申请人是客户本人（例：到访出示身份证原件，核对无误）"
    )
    details = models.TextField("申请内容", blank=True, help_text="更正申请：需要更正的内容")
    deadline_on = models.DateField("答复期限")
    # True when the deadline's year has no work calendar yet: the deadline is then the
    # same number of calendar days, never later than the working-day one.
    deadline_is_estimate = models.BooleanField("期限为估算", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.RECEIVED)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="经办人"
    )
    outcome = models.TextField("处理结果", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间")
    updated_at = models.DateTimeField("更新时间")
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "个人信息权利申请"
        ordering = ["deadline_on", "id"]
        permissions = [("erase_customer", "删除（匿名化）客户个人信息")]
        indexes = [
            # The list and the workbench card: open requests by deadline.
            models.Index(fields=["company", "status", "deadline_on"], name="dsr_open_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class LegalHold(models.Model):
    """A legal hold (诉讼保全, 监管要求, 法定保存期): while active, erasure restricts the
    customer's processing instead of deleting (PIPL art. 47 para. 2)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name="客户")
    reason = models.CharField("依据", max_length=200)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="设置人"
    )
    set_at = models.DateTimeField("设置时间")
    released_at = models.DateTimeField("解除时间", null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="解除人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "法律保留"
        ordering = ["-set_at"]
        indexes = [models.Index(fields=["customer", "released_at"], name="legalhold_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.reason}"


class ErasureRecord(models.Model):
    """The erasure ledger: that customer number N was anonymised, when, by whom and why.

    No personal data. ``customer_pk`` lets a restore find the row again; it is the same
    row (erasure anonymises, it does not delete, so reports keep their counts).
    """

    class Kind(models.TextChoices):
        REQUEST = "request", "客户申请删除"
        RETENTION = "retention", "超过保存期限"
        RESTRICT = "restrict", "法律保留：限制处理"

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+", verbose_name="公司")
    customer_pk = models.BigIntegerField("客户ID")
    customer_number = models.CharField("客户编号", max_length=20)
    kind = models.CharField("方式", max_length=10, choices=Kind.choices)
    reason = models.CharField("原因", max_length=200)
    erased_at = models.DateTimeField("时间")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="申请",
    )
    rows = models.JSONField("处理行数", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "删除记录"
        ordering = ["-erased_at", "-id"]
        constraints = [
            # One erasure per customer (a restriction may precede it).
            models.UniqueConstraint(
                fields=["customer_pk"], condition=~models.Q(kind="restrict"), name="uniq_erasure_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.get_kind_display()}"


class RetentionRun(models.Model):
    """One run of a retention job: what it looked at and what it did."""

    company = models.ForeignKey(
        "accounts.Company", on_delete=models.CASCADE, related_name="+", verbose_name="公司", null=True, blank=True
    )
    job = models.CharField("任务", max_length=40)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    cutoff_at = models.DateTimeField("截止时间（此前无活动）")
    examined = models.PositiveIntegerField("检查客户数", default=0)
    anonymised = models.PositiveIntegerField("已匿名化", default=0)
    held = models.PositiveIntegerField("因法律保留跳过", default=0)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "保存期限任务记录"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M}"
