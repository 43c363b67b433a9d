from django.contrib import admin

from crm.reports.models import ReportPack


@admin.register(ReportPack)
class ReportPackAdmin(admin.ModelAdmin[ReportPack]):
    """Read-only: packs are generated and submitted on the 报告 pages."""

    list_display = ("kind", "project", "period_start", "period_end", "version", "status", "generated_at")
    list_filter = ("kind", "status")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
