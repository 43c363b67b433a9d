from django.urls import path

from crm.training import views

app_name = "training"

urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("export/", views.training_export, name="export"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/record/", views.session_record, name="session_record"),
    path("sessions/<int:pk>/summary/", views.session_summary, name="session_summary"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("me/", views.my_record, name="my_record"),
    path("people/<int:pk>/", views.person_record, name="person_record"),
]
