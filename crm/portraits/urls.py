from django.urls import path

from crm.portraits import views

app_name = "portraits"

urlpatterns = [
    path("", views.portrait_list, name="list"),
    path("new/", views.portrait_new, name="new"),
    path("quota/", views.quota, name="quota"),
    path("analysis/", views.analysis, name="analysis"),
    path("export/", views.portrait_export, name="export"),
    path("<int:pk>/", views.portrait_detail, name="detail"),
    path("<int:pk>/edit/", views.portrait_edit, name="edit"),
]
