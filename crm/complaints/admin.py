from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.complaints.models import Category, InboundMail, MailboxState, PurgeRecord


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


class _ReadOnly(admin.ModelAdmin[Any]):
    """Written only by the jobs; read here, per company where the row has one."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundMail)
class InboundMailAdmin(_ReadOnly):
    """投诉邮件: what the mailbox job did with each mail (held ones carry the reason)."""

    list_display = ("received_at", "status", "sender_email", "subject", "complaint", "reason")
    list_filter = ("status",)
    search_fields = ("sender_email", "subject", "message_key")
    exclude = ("raw",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMail]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)


@admin.register(MailboxState)
class MailboxStateAdmin(_ReadOnly):
    """投诉邮箱状态: the last poll and the last error (retried on the next run)."""

    list_display = ("mailbox", "last_polled_at", "last_success_at", "failures", "last_error")


@admin.register(PurgeRecord)
class PurgeRecordAdmin(_ReadOnly):
    """投诉清除记录: archived complaints purged after the retention period (no personal data)."""

    list_display = ("number", "category_name", "channel", "archived_at", "purged_at", "event_count", "timeline_count")
    list_filter = ("channel",)
    search_fields = ("number",)
    date_hierarchy = "purged_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurgeRecord]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)
