from django.urls import path

from crm.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.pack_list, name="pack_list"),
    path("generate/", views.pack_generate, name="pack_generate"),
    path("<int:pk>/", views.pack_detail, name="pack_detail"),
    path("<int:pk>/export.xlsx", views.pack_export, {"fmt": "xlsx"}, name="pack_export_xlsx"),
    path("<int:pk>/export.pdf", views.pack_export, {"fmt": "pdf"}, name="pack_export_pdf"),
]
