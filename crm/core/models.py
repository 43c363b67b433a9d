"""Cross-cutting models: the audit log and named counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Who did what to which record, including sensitive reads (PIPL).

    ``customer_id`` is a plain integer, not a foreign key, so the trail survives a
    customer's erasure or merge.
    """

    class Action(models.TextChoices):
        CREATE = "create", "新建"
        UPDATE = "update", "修改"
        DELETE = "delete", "删除"
        REVEAL = "reveal", "查看完整信息"
        EXPORT = "export", "导出"
        IMPORT = "import", "导入"
        MERGE = "merge", "合并"
        REASSIGN = "reassign", "变更归属"
        ARCHIVE = "archive", "归档"
        RESTORE = "restore", "恢复"
        LOGIN = "login", "登录"
        LOGIN_FAILED = "login_failed", "登录失败"
        PERMISSION = "permission", "权限变更"
        ERASE = "erase", "删除个人信息"
        APPROVE = "approve", "审批"
        ALERT = "alert", "异常访问告警"
        CALENDAR = "calendar", "工作日历"

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    action = models.CharField("操作", max_length=12, choices=Action.choices)
    target_type = models.CharField("对象类型", max_length=40)
    target_id = models.CharField("对象编号", max_length=40, blank=True)
    customer_id = models.BigIntegerField("客户ID", null=True, blank=True, db_index=True)
    # The company whose data the row concerns: readers see only their own company's rows
    # (a plain integer, like customer_id: core knows no company model). NULL only for rows
    # written before the column existed and for events of no company (a failed login with
    # an unknown username), which only superusers see.
    company_id = models.BigIntegerField("公司ID", null=True, blank=True)
    # What the row is about, as a person reads it ("客户 张三（KH00002101）"), written with
    # the row so it stays readable after the object is renamed, merged or erased.
    target_label = models.CharField("对象", max_length=120, blank=True)
    summary = models.CharField("摘要", max_length=300, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    reason = models.CharField("事由", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [
            # The audit log page: one company's rows, newest first.
            models.Index(fields=["company_id", "-at"], name="auditlog_company_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.target_label or self.target_type}"


class Counter(models.Model):
    """A named monotonically increasing counter (customer numbers, complaint numbers)."""

    key = models.CharField(max_length=60, unique=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "编号计数器"

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class CalendarYear(models.Model):
    """A year whose statutory holidays and 调休 days an administrator has entered in full.

    chinese-calendar knows years up to 2026; for a later year the State Council publishes
    the arrangement each autumn and an administrator enters it here (its holidays and
    make-up days as CalendarDay rows). Until then the year is unknown and deadlines in it
    raise an error instead of guessing.
    """

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField(
        "依据", max_length=200, blank=True, help_text="如：国务院办公厅关于2027年部分节假日安排的通知"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="录入人",
    )
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历年份"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年"


class CalendarDay(models.Model):
    """One day overriding the statutory calendar: a holiday (放假) or a make-up working day (调休上班)."""

    day = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("上班", help_text="勾选：调休上班日；不勾选：放假")
    name = models.CharField("说明", max_length=30, blank=True, help_text="如：春节、国庆节调休")

    class Meta:
        verbose_name = verbose_name_plural = "工作日历调整"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'上班' if self.is_working_day else '放假'} {self.name}"


class Notification(models.Model):
    """A message to one staff member on their page (the bell and 通知 inbox), written by a
    business event in that event's transaction (crm.core.notifications).

    ``dedupe_key`` names the event (``complaint:12:event:345``) and is unique per recipient,
    so a job that runs twice, or a retried transaction, never notifies the same person
    twice about one event. There is no e-mail or SMS delivery: staff work on the intranet
    and see it on the page.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="接收人"
    )
    kind = models.CharField("类型", max_length=40)
    title = models.CharField("标题", max_length=200)
    text = models.CharField("内容", max_length=500, blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    dedupe_key = models.CharField("事件标识", max_length=120)
    created_at = models.DateTimeField("时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="uniq_notification_per_event"),
        ]
        indexes = [
            # The bell in every page's header: COUNT of a user's unread rows.
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            # The inbox, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            # purge_read_notifications: read rows older than the retention (read rows only,
            # so the bell's unread count is never tempted by it).
            models.Index(
                fields=["read_at"], condition=models.Q(read_at__isnull=False), name="notification_read_at_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
