"""Requests → views. Each app owns its own urls module."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from crm.accounts import views as accounts_views
from crm.core import views as core_views
from crm.customers import trust_views
from crm.workbench import views as workbench_views

admin.site.site_header = "EstateCRM 系统设置"
admin.site.site_title = "EstateCRM"
admin.site.index_title = "配置管理"

# Chinese error pages (JSON under /api/), crm/core/error_views.py.
handler400 = "crm.core.error_views.bad_request"
handler403 = "crm.core.error_views.permission_denied"
handler404 = "crm.core.error_views.page_not_found"
handler500 = "crm.core.error_views.server_error"

urlpatterns = [
    path("", workbench_views.workbench, name="workbench"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("login/totp/", accounts_views.totp_login, name="totp_login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("crm.accounts.urls")),
    path("audit/", trust_views.audit_log, name="audit_log"),
    # Lists' filter forms post here: full mobiles stay out of URLs (crm.core.search).
    path("search/", core_views.search_redirect, name="search"),
    path("settings/calendar/", include("crm.core.urls")),
    path("notifications/", include("crm.core.notification_urls")),
    path("customers/", include("crm.customers.urls")),
    path("api/", include("crm.api.urls")),
    path("sms/", include("crm.care.urls")),
    path("complaints/", include("crm.complaints.urls")),
    path("visits/", include("crm.visits.urls")),
    path("privacy/", include("crm.privacy.urls")),
    # The public complaint page and its status page (no login).
    path("tousu/", include("crm.complaints.public_urls")),
    path("service/", include("crm.service.urls")),
    path("events/", include("crm.events.urls")),
    path("reports/", include("crm.reports.urls")),
    path("portraits/", include("crm.portraits.urls")),
    path("training/", include("crm.training.urls")),
    path("referrals/", include("crm.referrals.urls")),
    path("kpis/", include("crm.kpis.urls")),
    # The admin's own login form would skip the TOTP step: one login page for everyone.
    path("admin/login/", login_not_required(RedirectView.as_view(pattern_name="login", query_string=True))),
    path("admin/", admin.site.urls),
]
