"""The KPI app keeps no rows of its own: its figures are read from the capability apps and
the scorecard's improvement plan is crm.visits' ImprovementPlan."""

from __future__ import annotations

from django.db import models


class KpiAccess(models.Model):
    """No table: the holder of the KPI pages' permissions (Django attaches a permission to
    a model), granted to roles in crm.accounts.roles."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = verbose_name_plural = "指标看板权限"
        permissions = [
            ("view_kpis", "查看指标看板"),
            ("export_kpis", "导出指标看板"),
            ("view_scorecard", "查看顾问月度考核"),
            ("view_management_home", "查看管理首页"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
