"""Requests → views. Each app owns its own urls module."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm.core import views as core_views
from crm.customers import trust_views
from crm.workbench import views as workbench_views

admin.site.site_header = "EstateCRM 系统设置"
admin.site.site_title = "EstateCRM"
admin.site.index_title = "配置管理"

urlpatterns = [
    path("", workbench_views.workbench, name="workbench"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", trust_views.audit_log, name="audit_log"),
    # Lists' filter forms post here: full mobiles stay out of URLs (crm.core.search).
    path("search/", core_views.search_redirect, name="search"),
    path("settings/calendar/", include("crm.core.urls")),
    path("customers/", include("crm.customers.urls")),
    path("api/", include("crm.api.urls")),
    path("sms/", include("crm.care.urls")),
    path("complaints/", include("crm.complaints.urls")),
    path("visits/", include("crm.visits.urls")),
    # The public complaint page and its status page (no login).
    path("tousu/", include("crm.complaints.public_urls")),
    path("admin/", admin.site.urls),
]
