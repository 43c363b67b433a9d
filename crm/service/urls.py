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
]
