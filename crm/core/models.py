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
    summary = models.CharField("摘要", max_length=300, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    reason = models.CharField("事由", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.target_type}#{self.target_id}"


class Counter(models.Model):
    """A named monotonically increasing counter (customer numbers, complaint numbers)."""

    key = models.CharField(max_length=60, unique=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "编号计数器"

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
