from django.urls import path

from crm.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("export/", views.complaint_export, name="export"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/thumbnail/",
        views.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
    path("<int:pk>/<slug:verb>/", views.complaint_act, name="act"),
]
