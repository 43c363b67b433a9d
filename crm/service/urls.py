from django.urls import path

from crm.service import views

app_name = "service"

urlpatterns = [
    path("", views.home, name="home"),
    path("duty/", views.shift_list, name="shift_list"),
    path("duty/new/", views.shift_new, name="shift_new"),
    path("duty/export/", views.shift_export, name="shift_export"),
    path("duty/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("duty/<int:pk>/<slug:verb>/", views.shift_act, name="shift_act"),
    path("handovers/", views.handover_list, name="handover_list"),
    path("handovers/export/", views.handover_export, name="handover_export"),
    path("handovers/<int:pk>/", views.handover_detail, name="handover_detail"),
    path("handovers/<int:pk>/<slug:verb>/", views.handover_act, name="handover_act"),
    path("gifts/", views.gift_list, name="gift_list"),
    path("gifts/<int:pk>/stock/", views.gift_stock, name="gift_stock"),
    path("gifts/issues/", views.issue_list, name="issue_list"),
    path("gifts/issues/new/", views.issue_new, name="issue_new"),
    path("gifts/issues/export/", views.issue_export, name="issue_export"),
    path("gifts/tasks/", views.task_list, name="task_list"),
    path("gifts/tasks/<int:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("gifts/birthdays/", views.birthday_list, name="birthday_list"),
    path("gifts/stats/", views.gift_stats, name="gift_stats"),
    path("inspections/", views.inspection_list, name="inspection_list"),
    path("inspections/start/", views.inspection_start, name="inspection_start"),
    path("inspections/export/", views.inspection_export, name="inspection_export"),
    path("inspections/reports/", views.report_list, name="report_list"),
    path("inspections/reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("inspections/findings/<int:pk>/photo/", views.finding_photo, name="finding_photo"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/<slug:verb>/", views.inspection_act, name="inspection_act"),
    path("materials/", views.material_list, name="material_list"),
    path("materials/new/", views.material_new, name="material_new"),
    path("materials/export/", views.material_export, name="material_export"),
    path("materials/versions/<int:pk>/file/", views.material_file, name="material_file"),
    path("materials/<int:pk>/", views.material_detail, name="material_detail"),
    path("materials/<int:pk>/<slug:verb>/", views.material_act, name="material_act"),
    path("displays/", views.display_list, name="display_list"),
    path("displays/defaults/", views.display_defaults, name="display_defaults"),
]
