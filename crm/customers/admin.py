from django.contrib import admin
from django.http import HttpRequest

from crm.customers.models import AccessAlert, CompanyPrivacy, ExportRequest, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name", "company"]
    search_fields = ["name"]


@admin.register(CompanyPrivacy)
class CompanyPrivacyAdmin(admin.ModelAdmin[CompanyPrivacy]):
    """Each company's privacy settings (docs/privacy.md): the sensitive archive items, the
    export approval threshold and the hourly limits against scraping."""

    list_display = [
        "company",
        "archive_sensitive_fields",
        "export_approval_threshold",
        "open_limit_per_hour",
        "reveal_limit_per_hour",
        "duplicate_limit_per_hour",
    ]


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records of what people did: kept as written, decided on their own pages."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ExportRequest)
class ExportRequestAdmin(_ReadOnly):
    list_display = ["requested_at", "requested_by", "kind", "count", "status", "decided_by", "downloaded_at"]
    list_filter = ["status", "kind"]


@admin.register(AccessAlert)
class AccessAlertAdmin(_ReadOnly):
    list_display = ["raised_at", "user", "kind", "count", "limit", "resolved_by", "resolved_at"]
    list_filter = ["kind"]
