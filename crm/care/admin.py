"""温馨速递 configuration in the admin: rules, batch move-ins and paused gateways.

Drafts are decided in the approval inbox and the outbox is written only by planning and
dispatch, so those (and the replies) are read-only here. A rule edited here goes through
services.update_rule, which checks the placeholders and writes the audit log.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from crm.care import rendering, services, templating
from crm.care.models import (
    CareRule,
    Draft,
    GatewayState,
    InboundReply,
    MoveInBatch,
    OptedOutMobile,
    OutboundMessage,
)
from crm.core.errors import DomainError
from crm.lib.mobile import mask_mobile
from crm.projects.admin import ProjectAdmin
from crm.projects.models import Project


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CareRuleForm(forms.ModelForm[CareRule]):
    class Meta:
        model = CareRule
        fields = [
            "project",
            "trigger",
            "is_enabled",
            "template",
            "purpose",
            "audience",
            "window_start",
            "window_end",
            "offset_days",
            "needs_approval",
            "catch_up_days",
            "working_days_only",
            "gateway_template_code",
        ]

    def clean_template(self) -> str:
        template: str = self.cleaned_data["template"]
        try:
            templating.check_template(template)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return template


@admin.register(CareRule)
class CareRuleAdmin(admin.ModelAdmin[CareRule]):
    form = CareRuleForm
    list_display = [
        "project",
        "trigger",
        "is_enabled",
        "purpose",
        "window_start",
        "window_end",
        "offset_days",
        "needs_approval",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["project", "is_enabled", "purpose", "needs_approval", "trigger"]
    search_fields = ["template", "project__name"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Which project and trigger a rule belongs to, and its purpose (consent), stay fixed.
        fixed = ["project", "trigger", "purpose", "audience"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: CareRule, form: Any, change: bool) -> None:
        if not change:
            obj.updated_by = request.user  # type: ignore[assignment]
            super().save_model(request, obj, form, change)
            return
        current = CareRule.objects.get(pk=obj.pk)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.RULE_FIELDS}
        services.update_rule(current, actor=request.user, **changes)  # type: ignore[arg-type]


@admin.register(MoveInBatch)
class MoveInBatchAdmin(admin.ModelAdmin[MoveInBatch]):
    list_display = ["project", "name", "starts_on", "ends_on"]
    list_filter = ["project"]
    date_hierarchy = "starts_on"


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    list_display = [
        "rule",
        "occasion",
        "send_on",
        "status",
        "recipient_count",
        "created_by",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "project", "rule__trigger"]
    search_fields = ["text", "occasion"]
    date_hierarchy = "send_on"


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "scheduled_at",
        "customer",
        "contact_name",
        "trigger",
        "project",
        "status",
        "attempts",
        "gateway",
        "error_code",
    ]
    list_filter = ["status", "trigger", "project", "gateway"]
    search_fields = ["gateway_message_id", "occasion", "customer__number"]
    date_hierarchy = "scheduled_at"
    list_select_related = ["customer", "project"]
    # The message text and the customer are visible; the customer's mobile (and a contact's)
    # is not (PIPL).
    exclude = ["params", "contact_mobile"]


@admin.register(OptedOutMobile)
class OptedOutMobileAdmin(ReadOnlyAdmin):
    list_display = ["masked", "opted_out_at", "source"]
    exclude = ["mobile"]
    readonly_fields = ["masked"]

    @admin.display(description="手机号")
    def masked(self, obj: OptedOutMobile) -> str:
        return mask_mobile(obj.mobile)


@admin.register(InboundReply)
class InboundReplyAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "masked", "text", "gateway", "is_opt_out", "customers_opted_out"]
    list_filter = ["is_opt_out", "gateway"]
    date_hierarchy = "received_at"
    exclude = ["mobile", "dedup_key"]
    readonly_fields = ["masked"]

    @admin.display(description="手机号")
    def masked(self, obj: InboundReply) -> str:
        return mask_mobile(obj.mobile)


@admin.register(GatewayState)
class GatewayStateAdmin(admin.ModelAdmin[GatewayState]):
    list_display = ["gateway", "paused_until", "reason", "updated_at"]
    actions = ["resume"]

    @admin.action(description="恢复发送（清除暂停）")
    def resume(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.update(paused_until=None, reason="")
        self.message_user(request, f"已恢复 {count} 个网关的发送", messages.SUCCESS)


class ProjectWithHeldMessagesAdmin(ProjectAdmin):
    """The project settings page, saying which blank setting holds the project's care
    messages (e.g. 物业电话): the reason is shown where it is fixed."""

    readonly_fields = (*ProjectAdmin.readonly_fields, "held_messages")

    @admin.display(description="温馨速递待处理")
    def held_messages(self, obj: Project) -> str:
        if obj.pk is None:
            return "—"
        reasons = rendering.held_reasons_for_project(obj)
        if not reasons:
            return "无：短信所需的楼盘设置均已填写"
        return "；".join(f"{r.reason}（当前暂缓 {r.held} 条）" for r in reasons)


admin.site.unregister(Project)
admin.site.register(Project, ProjectWithHeldMessagesAdmin)
