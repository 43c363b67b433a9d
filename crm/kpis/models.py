"""The team leader's improvement plan on a consultant's monthly scorecard."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScorecardPlan(models.Model):
    """改进计划: what the team leader and the consultant agree to improve after one month's
    scorecard (crm.kpis.scorecards). One per consultant and month; the consultant's own
    team leader writes it, the consultant reads it."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="置业顾问"
    )
    month = models.DateField("月份", help_text="该月第一天")
    plan = models.TextField("改进计划", blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="填写人"
    )
    written_at = models.DateTimeField("填写时间")

    class Meta:
        verbose_name = verbose_name_plural = "顾问考核改进计划"
        constraints = [models.UniqueConstraint(fields=("consultant", "month"), name="uniq_scorecard_plan")]
        permissions = [
            ("view_kpis", "查看指标看板"),
            ("export_kpis", "导出指标看板"),
            ("view_scorecard", "查看顾问月度考核"),
            ("view_management_home", "查看管理首页"),
        ]

    def __str__(self) -> str:
        return f"{self.consultant} · {self.month:%Y-%m}"
