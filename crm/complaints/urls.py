from django.urls import path

from crm.complaints import casework_urls, report_views, views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("count/", views.complaint_list_count, name="list_count"),
    path("options/<str:field>/", views.list_options, name="list_options"),
    path("new/", views.complaint_new, name="new"),
    path("export/", views.complaint_export, name="export"),
    path("reports/monthly/", report_views.monthly_report, name="report_monthly"),
    path("reports/monthly/export/", report_views.monthly_report_export, name="report_monthly_export"),
    path("mail/", views.complaint_mails, name="mails"),
    path("mail/<int:pk>/", views.complaint_mail, name="mail"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/repeat/", views.complaint_repeat, name="repeat"),
    path("<int:pk>/important/", views.complaint_important, name="important"),
    path("<int:pk>/correct/", views.complaint_correct, name="correct"),
    path("<int:pk>/reply/", views.complaint_reply, name="reply"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/thumbnail/",
        views.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
    # Public (no login): the complainant's one-time satisfaction survey from the SMS link.
    path("survey/<str:token>/", views.survey, name="survey"),
    path("<int:pk>/<slug:verb>/", views.complaint_act, name="act"),
    # 咨询, 首问事项, 媒体监督 (crm.complaints.casework_urls)
    *casework_urls.urlpatterns,
]
