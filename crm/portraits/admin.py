from django.contrib import admin

from crm.portraits.models import Portrait


@admin.register(Portrait)
class PortraitAdmin(admin.ModelAdmin[Portrait]):
    """Read in the admin; portraits are written on the 客户描摹 pages (crm.portraits.services)."""

    list_display = ("quarter", "consultant", "customer", "project", "submitted_on")
    list_filter = ("quarter",)
    raw_id_fields = ("customer", "consultant", "project", "company")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
