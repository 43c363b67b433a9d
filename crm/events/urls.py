from django.urls import path

from crm.events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/", views.event_new, name="new"),
    path("<int:pk>/", views.event_detail, name="detail"),
    path("<int:pk>/edit/", views.event_edit, name="edit"),
    path("<int:pk>/invite/", views.event_invite, name="invite"),
    path("<int:pk>/send/", views.event_send, name="send"),
    path("<int:pk>/export/", views.event_export, name="export"),
    path("<int:pk>/gifts/", views.event_gift, name="gift"),
    path("<int:pk>/checkin/", views.checkin_page, name="checkin_page"),
    path("<int:pk>/checkin/walk-in/", views.walk_in, name="walk_in"),
    path("<int:pk>/checkin/<int:invitee_pk>/", views.checkin, name="checkin"),
    path("<int:pk>/invitees/<int:invitee_pk>/rsvp/", views.invitee_rsvp, name="rsvp"),
    path("<int:pk>/invitees/<int:invitee_pk>/remove/", views.invitee_remove, name="remove"),
    path("<int:pk>/<slug:verb>/", views.event_act, name="act"),
]
