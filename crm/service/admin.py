from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.service.models import DisplayItem, DutyItem, Gift, InspectionArea


@admin.register(DutyItem)
class DutyItemAdmin(admin.ModelAdmin[DutyItem]):
    """交接物品 (电话, 电脑, 饮水机, 钥匙 …) each handover's checklist is copied from, per company."""

    list_display = ("name", "sort_order", "is_active")
    list_filter = ("is_active",)
    list_editable = ("sort_order", "is_active")
    search_fields = ("name",)
    exclude = ("company",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DutyItem]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def save_model(self, request: HttpRequest, obj: DutyItem, form: Any, change: bool) -> None:
        company_id = getattr(request.user, "company_id", None)
        if not change and company_id is not None:
            obj.company_id = company_id
        super().save_model(request, obj, form, change)


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin[Gift]):
    """礼品目录 (per company); stock moves on the 礼品库存 page, through the services."""

    list_display = ("name", "unit", "price", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    exclude = ("company",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Gift]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def save_model(self, request: HttpRequest, obj: Gift, form: Any, change: bool) -> None:
        company_id = getattr(request.user, "company_id", None)
        if not change and company_id is not None:
            obj.company_id = company_id
        super().save_model(request, obj, form, change)


@admin.register(InspectionArea)
class InspectionAreaAdmin(admin.ModelAdmin[InspectionArea]):
    """巡查区域 per project (defaults: seed 001's list, made at the first inspection)."""

    list_display = ("name", "project", "sort_order", "is_active")
    list_filter = ("project", "is_active")
    list_editable = ("sort_order", "is_active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[InspectionArea]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(project__company_id=company_id or 0)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "project":
            kwargs["queryset"] = db_field.related_model.objects.filter(
                company_id=getattr(request.user, "company_id", None) or 0
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(DisplayItem)
class DisplayItemAdmin(admin.ModelAdmin[DisplayItem]):
    """现场公示清单 per project (defaults: seed 001's list); the last check is written by the
    daily inspection, not here."""

    list_display = ("name", "project", "sort_order", "is_active", "last_checked_on", "last_status")
    list_filter = ("project", "is_active")
    list_editable = ("sort_order", "is_active")
    fields = ("project", "name", "standard", "sort_order", "is_active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[DisplayItem]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(project__company_id=company_id or 0)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "project":
            kwargs["queryset"] = db_field.related_model.objects.filter(
                company_id=getattr(request.user, "company_id", None) or 0
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
