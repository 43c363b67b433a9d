from django.urls import path

from crm.complaints import public_views

app_name = "public_complaints"

urlpatterns = [
    path("", public_views.complaint_form, name="form"),
    path("status/", public_views.complaint_status, name="status"),
]
