from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.complaints import integrations
from crm.complaints.models import (
    Category,
    ConsultationTopic,
    InboundMail,
    IntegrationClient,
    MailboxState,
    Medium,
    PurgeRecord,
)


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


@admin.register(IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin[IntegrationClient]):
    """投诉接入方 (官网, 微信公众号): the key is made on creation and shown once; to replace
    a lost key, use the action 重新生成密钥."""

    list_display = ("name", "channel", "is_enabled", "key_prefix", "created_at", "last_used_at")
    list_filter = ("channel", "is_enabled")
    fields = ("name", "channel", "is_enabled", "key_prefix", "created_at", "last_used_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    actions = ("regenerate_keys",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[IntegrationClient]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def save_model(self, request: HttpRequest, obj: IntegrationClient, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        company_id = getattr(request.user, "company_id", None)
        if company_id is None:
            raise PermissionDenied
        obj.company_id = company_id
        key = integrations.issue_key(obj)
        self.message_user(request, f"接入方“{obj.name}”的密钥（只显示这一次，请立即复制保存）：{key}", messages.WARNING)

    @admin.action(description="重新生成密钥（旧密钥立即失效）")
    def regenerate_keys(self, request: HttpRequest, queryset: QuerySet[IntegrationClient]) -> None:
        for client in queryset:
            key = integrations.issue_key(client)
            self.message_user(request, f"接入方“{client.name}”的新密钥（只显示这一次）：{key}", messages.WARNING)


class _CompanyConfigAdmin(admin.ModelAdmin[Any]):
    """Per-company configuration rows: the administrator sees and adds their company's."""

    exclude = ("company",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        company_id = getattr(request.user, "company_id", None)
        if not change and company_id is not None:
            obj.company_id = company_id
        super().save_model(request, obj, form, change)


@admin.register(ConsultationTopic)
class ConsultationTopicAdmin(_CompanyConfigAdmin):
    """咨询主题 (the quarterly summary counts by them)."""

    list_display = ("name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("name",)


@admin.register(Medium)
class MediumAdmin(_CompanyConfigAdmin):
    """监督媒体: the fixed media browsed every week (defaults from seed 001: 网络, 电视,
    报纸, 论坛); a medium switched off leaves the weekly checklist."""

    list_display = ("name", "kind", "url", "sort_order", "is_active")
    # A web address typed without a scheme is https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ("kind", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("name",)


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
