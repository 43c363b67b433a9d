"""The ledger and the retention runs, read-only for administrators (no personal data)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.privacy.models import ErasureRecord, RetentionRun


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(_ReadOnly):
    list_display = ("customer_number", "kind", "reason", "erased_at", "erased_by")
    list_filter = ("kind",)
    search_fields = ("customer_number",)
    date_hierarchy = "erased_at"


@admin.register(RetentionRun)
class RetentionRunAdmin(_ReadOnly):
    list_display = ("job", "started_at", "cutoff_at", "examined", "anonymised", "held", "note")
    date_hierarchy = "started_at"
