"""Report packs (周报、月报、每日巡查报告、投诉分析、回访统计): snapshots of a period.

A pack is generated (by a job at the period's end, or on demand) into ``data``, a JSON
snapshot of its sections (crm.reports.building); the author then fills in the free text
(summary, next period's focus) and submits it. A submitted pack never changes: generating
the same kind, scope and period again makes a new version and keeps the submitted one.
The one exception is an erasure (PIPL art. 47, crm.reports.erasure): it rewrites the erased
customer's number and quoted texts in every pack, submitted ones too, and counts it here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    DAILY_INSPECTION = "daily_inspection", "每日巡查报告"
    WEEKLY = "weekly", "周报"
    MONTHLY = "monthly", "月报"
    COMPLAINT_MONTHLY = "complaint_monthly", "客户投诉分析报告"
    VISIT_MONTHLY = "visit_monthly", "月度回访统计"


class ReportPack(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("报告类型", max_length=20, choices=Kind.choices)
    # None: every project of the company (全部楼盘).
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="楼盘"
    )
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    version = models.PositiveSmallIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    data = models.JSONField("报告内容", default=dict)
    generated_at = models.DateTimeField("生成时间")
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="生成人",
        help_text="空：定时任务生成",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="撰写人",
    )
    summary = models.TextField("工作总结", blank=True)
    next_focus = models.TextField("下期工作重点", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    # Changed by an erasure (crm.reports.erasure): how many times and when last; which
    # customer is not recorded here (the erasure ledger, crm.privacy, names them).
    erasure_count = models.PositiveIntegerField("删除个人信息次数", default=0)
    erased_at = models.DateTimeField("最近删除个人信息时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "报告"
        ordering = ("-period_start", "kind", "project", "-version")
        permissions = [("export_reportpack", "导出报告")]
        constraints = [
            # One row per version of a kind, scope and period; a null project (全部楼盘) is
            # its own scope, so it needs its own constraint (NULLs are distinct in SQL).
            models.UniqueConstraint(
                fields=("company", "kind", "project", "period_start", "period_end", "version"),
                condition=models.Q(project__isnull=False),
                name="uniq_report_pack_project",
            ),
            models.UniqueConstraint(
                fields=("company", "kind", "period_start", "period_end", "version"),
                condition=models.Q(project__isnull=True),
                name="uniq_report_pack_company",
            ),
        ]
        indexes = [
            # The list and the workbench card: a company's packs, newest period first.
            models.Index(fields=("company", "-period_start"), name="report_pack_period"),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label} {self.get_kind_display()} {self.period_label}"

    @property
    def scope_label(self) -> str:
        return self.project.name if self.project_id and self.project else "全部楼盘"

    @property
    def period_label(self) -> str:
        if self.period_start == self.period_end:
            return f"{self.period_start:%Y-%m-%d}"
        return f"{self.period_start:%Y-%m-%d} 至 {self.period_end:%Y-%m-%d}"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED
