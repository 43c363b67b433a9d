from django.urls import path

from crm.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("export/", views.complaint_export, name="export"),
    path("mail/", views.complaint_mails, name="mails"),
    path("mail/<int:pk>/", views.complaint_mail, name="mail"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/repeat/", views.complaint_repeat, name="repeat"),
    path("<int:pk>/important/", views.complaint_important, name="important"),
    path("<int:pk>/<slug:verb>/", views.complaint_act, name="act"),
]
