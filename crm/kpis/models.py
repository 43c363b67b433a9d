"""The KPI app's rows: the closed months' counts the dashboard reads (``MonthCount``,
decision 0030); every figure is defined and counted by the capability apps' selectors, and
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


class MonthCount(models.Model):
    """One closed month's KPI counts of one project and source, as ``kpis.jobs.count_months``
    counted them (decision 0030): the dashboard reads these for the months before the
    current one instead of counting a year of visit tasks and every customer again on each
    view. ``counts`` holds the source's measures (crm.kpis.dashboard.COUNTED)."""

    class Source(models.TextChoices):
        COMPLAINTS = "complaints", "投诉"
        VISITS = "visits", "回访"
        CUSTOMERS = "customers", "客户"
        VISITORS = "visitors", "回访人员"

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("月份")
    source = models.CharField("来源", max_length=12, choices=Source.choices)
    counts = models.JSONField("计数", default=dict)
    counted_at = models.DateTimeField("统计时间")
    """The run's time (MonthCountRun.counted_at): a reader that read the run before another
    run replaced the counts sees the difference and reads again."""

    class Meta:
        verbose_name = verbose_name_plural = "往月指标计数"
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["company", "source", "month", "project"], name="uniq_kpi_month_count")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_source_display()}"


class VisitDayCount(models.Model):
    """One counted day's visit tasks of one project (by due date, not cancelled), grouped
    as the report packs group them: ``groups`` is a list of [channel, purpose, status,
    reached, satisfaction, tasks]. Counted with the months (``kpis.jobs``/counting); a pack
    of counted days reads these instead of the tasks (decision 0030)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    day = models.DateField("到期日")
    groups = models.JSONField("分组计数", default=list)
    counted_at = models.DateTimeField("统计时间")

    class Meta:
        verbose_name = verbose_name_plural = "往日回访计数"
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["company", "day", "project"], name="uniq_kpi_visit_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}"


class MonthCountRun(models.Model):
    """When a company's months were last counted and which: the months ``first_month`` to
    ``last_month`` (each a first day); customers registered before ``last_month``'s end are
    in the counts, later ones are counted live."""

    company = models.OneToOneField("accounts.Company", on_delete=models.CASCADE, related_name="+")
    first_month = models.DateField("起始月")
    last_month = models.DateField("截止月")
    counted_at = models.DateTimeField("统计时间")

    class Meta:
        verbose_name = verbose_name_plural = "往月指标统计"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.first_month:%Y-%m}–{self.last_month:%Y-%m}"
