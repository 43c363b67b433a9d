from django.urls import path

from crm.kpis import views

app_name = "kpis"

urlpatterns = [
    path("", views.kpi_dashboard, name="dashboard"),
    path("export/", views.kpi_dashboard_export, name="dashboard_export"),
    path("scorecards/", views.scorecard_list, name="scorecards"),
    path("scorecards/export/", views.scorecard_export, name="scorecards_export"),
    path("scorecards/plan/", views.scorecard_plan, name="scorecard_plan"),
    path("home/", views.management_home, name="home"),
]
