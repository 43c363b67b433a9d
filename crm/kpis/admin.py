from django.contrib import admin

from crm.kpis.models import ScorecardPlan


@admin.register(ScorecardPlan)
class ScorecardPlanAdmin(admin.ModelAdmin[ScorecardPlan]):
    list_display = ("consultant", "month", "written_by", "written_at")
    list_filter = ("month",)
    readonly_fields = ("company", "consultant", "month", "plan", "written_by", "written_at")

    def has_add_permission(self, request: object) -> bool:
        return False
