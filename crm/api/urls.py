"""API routes under /api/: token, resources (DefaultRouter; 温馨速递 under care/), OpenAPI schema and Swagger UI."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import (
    care,
    casework,
    complaint_reports,
    complaints,
    events,
    exports,
    integrations,
    io,
    kpis,
    notifications,
    portraits,
    privacy,
    referrals,
    reports,
    service,
    training,
    views,
    visits,
)

router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="api-project")
router.register("units", views.UnitViewSet, basename="api-unit")
router.register("customers", views.CustomerViewSet, basename="api-customer")
router.register("deals", views.DealViewSet, basename="api-deal")
router.register("care/messages", care.MessageViewSet, basename="api-care-message")
router.register("care/rules", care.RuleViewSet, basename="api-care-rule")
router.register("care/drafts", care.DraftViewSet, basename="api-care-draft")
router.register("care/opt-outs", care.OptOutViewSet, basename="api-care-opt-out")
router.register("complaints", complaints.ComplaintViewSet, basename="api-complaint")
router.register("visits/issues", visits.VisitIssueViewSet, basename="api-visit-issue")
router.register("visits/repairs", visits.RepairViewSet, basename="api-visit-repair")
router.register("visits/campaigns", visits.CampaignViewSet, basename="api-visit-campaign")
router.register("visits/flags", visits.ReviewFlagViewSet, basename="api-visit-flag")
router.register("visits", visits.VisitTaskViewSet, basename="api-visit")
router.register("consultations", casework.ConsultationViewSet, basename="api-consultation")
router.register("issues", casework.IssueViewSet, basename="api-issue")
router.register("media-findings", casework.FindingViewSet, basename="api-media-finding")
router.register("notifications", notifications.NotificationViewSet, basename="api-notification")
router.register("service/shifts", service.ShiftViewSet, basename="api-service-shift")
router.register("service/handovers", service.HandoverViewSet, basename="api-service-handover")
router.register("service/gifts", service.GiftViewSet, basename="api-service-gift")
router.register("service/gift-issues", service.GiftIssueViewSet, basename="api-service-gift-issue")
router.register("service/gift-tasks", service.GiftTaskViewSet, basename="api-service-gift-task")
router.register("service/birthdays", service.BirthdayViewSet, basename="api-service-birthday")
router.register("service/inspections", service.InspectionViewSet, basename="api-service-inspection")
router.register("events", events.EventViewSet, basename="api-event")
router.register("portraits", portraits.PortraitViewSet, basename="api-portrait")
router.register("training/plans", training.TrainingPlanViewSet, basename="api-training-plan")
router.register("training/sessions", training.TrainingSessionViewSet, basename="api-training-session")
router.register("referrals/rewards", referrals.RewardViewSet, basename="api-referral-reward")
router.register("referrals", referrals.ReferralViewSet, basename="api-referral")
router.register("service/materials", service.MaterialViewSet, basename="api-service-material")
router.register("service/display-items", service.DisplayItemViewSet, basename="api-service-display-item")
router.register("privacy/requests", privacy.RequestViewSet, basename="api-privacy-request")
router.register("reports", reports.ReportPackViewSet, basename="api-report-pack")
router.register("export-requests", exports.ExportRequestViewSet, basename="api-export-request")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("integrations/complaints/", integrations.ComplaintIntake.as_view(), name="api-integration-complaints"),
    path("integrations/choices/", integrations.Choices.as_view(), name="api-integration-choices"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Before the router's: its customers/<pk>/ would read "import" as a customer's id.
    *io.urlpatterns,
    *complaint_reports.urlpatterns,
    *kpis.urlpatterns,
    # Before the router's: its visits/<pk>/ would read "stats" as a task's id.
    path("visits/stats/", visits.VisitStatsView.as_view(), name="api-visit-stats"),
    path("visits/scores/", visits.VisitScoresView.as_view(), name="api-visit-scores"),
    # Before the router's: its referrals/<pk>/ would read "stats" as a referral's id.
    path("referrals/stats/", referrals.ReferralStatsView.as_view(), name="api-referral-stats"),
    *router.urls,
]
