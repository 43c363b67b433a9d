from django.contrib import admin

from crm.training.models import TrainingPlan


@admin.register(TrainingPlan)
class TrainingPlanAdmin(admin.ModelAdmin[TrainingPlan]):
    """Read in the admin; plans and sessions are kept on the 培训 pages (crm.training.services)."""

    list_display = ("title", "topic", "starts_on", "ends_on")
    list_filter = ("topic",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
