from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.visits.models import (
    Campaign,
    ForbiddenPhrase,
    IssueCategory,
    RecheckSample,
    Repair,
    ReviewFlag,
    VisitIssue,
    VisitPlan,
)


@admin.register(VisitPlan)
class VisitPlanAdmin(admin.ModelAdmin[VisitPlan]):
    """回访计划 per project (系统设置): when, by whom, the script (话术) and the questions.
    A plan is switched off (启用) rather than deleted: its tasks keep pointing at it, and a
    project left without any plan gets the seed's plans again from the job."""

    list_display = (
        "name",
        "project",
        "occasion",
        "offset_months",
        "offset_days",
        "window_days",
        "assignee_rule",
        "is_active",
    )
    list_filter = ("project", "occasion", "is_active")
    list_editable = ("is_active",)
    search_fields = ("name", "purpose")
    exclude = ("company",)
    fieldsets = (
        (None, {"fields": ("project", "name", "occasion", "purpose", "is_active", "sort_order")}),
        (
            "时间",
            {
                "fields": (
                    "offset_months",
                    "offset_days",
                    "offset_in_working_days",
                    "window_days",
                    "window_in_working_days",
                    "lead_days",
                    "catch_up_days",
                )
            },
        ),
        ("执行", {"fields": ("channel", "assignee_rule", "assignee", "max_attempts")}),
        ("话术与问题", {"fields": ("script", "questions")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[VisitPlan]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Projects and staff of the administrator's own company only.
        company_id = getattr(request.user, "company_id", None) or 0
        if db_field.name in ("project", "assignee"):
            kwargs["queryset"] = db_field.related_model.objects.filter(company_id=company_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: VisitPlan, form: Any, change: bool) -> None:
        obj.company_id = obj.project.company_id
        super().save_model(request, obj, form, change)


@admin.register(IssueCategory)
class IssueCategoryAdmin(admin.ModelAdmin[IssueCategory]):
    """回访问题类别 and the department each is routed to by default, per company."""

    list_display = ("name", "department", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    exclude = ("company",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[IssueCategory]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        company_id = getattr(request.user, "company_id", None) or 0
        if db_field.name == "department":
            kwargs["queryset"] = db_field.related_model.objects.filter(company_id=company_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: IssueCategory, form: Any, change: bool) -> None:
        company_id = getattr(request.user, "company_id", None)
        if not change and company_id is not None:
            obj.company_id = company_id
        super().save_model(request, obj, form, change)


@admin.register(VisitIssue)
class VisitIssueAdmin(admin.ModelAdmin[VisitIssue]):
    """回访问题, read-only (they are worked on the pages: /visits/issues/): for looking up
    an issue's history when support asks."""

    list_display = ("customer", "category", "department", "promised_on", "status", "raised_at")
    list_filter = ("status", "category", "department")
    search_fields = ("customer__name", "description")
    readonly_fields = [f.name for f in VisitIssue._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[VisitIssue]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: VisitIssue | None = None) -> bool:
        return False


@admin.register(Repair)
class RepairAdmin(admin.ModelAdmin[Repair]):
    """报修记录, read-only here (recorded on /visits/repairs/ or through the API, where the
    callback task is made)."""

    list_display = ("customer", "project", "problem", "contractor", "completed_at", "source")
    list_filter = ("project", "source")
    search_fields = ("customer__name", "problem", "contractor")
    readonly_fields = [f.name for f in Repair._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Repair]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RecheckSample)
class RecheckSampleAdmin(admin.ModelAdmin[RecheckSample]):
    """季度抽查: the stored seed and sizes (read-only: a sample is drawn by the job, once)."""

    list_display = ("quarter", "population", "size", "seed", "drawn_at")
    readonly_fields = [f.name for f in RecheckSample._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecheckSample]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RecheckSample | None = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    """专项回访, read-only here: created, previewed and launched on /visits/campaigns/."""

    list_display = ("name", "project", "start_on", "due_on", "assign", "launched_at")
    readonly_fields = [f.name for f in Campaign._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ForbiddenPhrase)
class ForbiddenPhraseAdmin(admin.ModelAdmin[ForbiddenPhrase]):
    """服务忌语: the company's own phrases checked in recorded visit notes, on top of seed
    004's '我不知道' and '这事情不归我管' (always checked)."""

    list_display = ("phrase", "is_active")
    list_editable = ("is_active",)
    search_fields = ("phrase",)
    exclude = ("company",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ForbiddenPhrase]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def save_model(self, request: HttpRequest, obj: ForbiddenPhrase, form: Any, change: bool) -> None:
        if not change:
            obj.company_id = getattr(request.user, "company_id", None) or 0
        obj.phrase = "".join(obj.phrase.split())
        super().save_model(request, obj, form, change)


@admin.register(ReviewFlag)
class ReviewFlagAdmin(admin.ModelAdmin[ReviewFlag]):
    """回访督查标记, read-only here: they are made and answered on the visit pages."""

    list_display = ("task", "source", "phrase", "status", "visitor", "flagged_at")
    list_filter = ("status", "source")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewFlag]:
        company_id = getattr(request.user, "company_id", None)
        return super().get_queryset(request).filter(company_id=company_id or 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReviewFlag | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReviewFlag | None = None) -> bool:
        return False
