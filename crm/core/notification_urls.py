"""通知 pages under /notifications/ (every signed-in user, their own rows only)."""

from django.urls import path

from crm.core import notification_views

app_name = "notifications"

urlpatterns = [
    path("", notification_views.inbox, name="inbox"),
    path("<int:pk>/", notification_views.open_notification, name="open"),
    path("read-all/", notification_views.read_all, name="read_all"),
]
