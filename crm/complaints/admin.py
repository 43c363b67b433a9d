from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.complaints.models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    """投诉类别 with their responsible owner and department (系统设置), per company."""

    list_display = ("name", "owner", "department", "sort_order", "is_active")
    list_filter = ("is_active",)
    list_editable = ("sort_order", "is_active")
    search_fields = ("name",)
    exclude = ("company",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Owners and departments of the administrator's own company only.
        company_id = getattr(request.user, "company_id", None) or 0
        if db_field.name in ("owner", "department"):
            kwargs["queryset"] = db_field.related_model.objects.filter(company_id=company_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        company_id = getattr(request.user, "company_id", None)
        if not change and company_id is not None:
            obj.company_id = company_id
        super().save_model(request, obj, form, change)
