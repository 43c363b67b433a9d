"""The core pages under 系统设置: the work calendar (工作日历)."""

from django.urls import path

from crm.core import views

app_name = "core"

urlpatterns = [
    path("", views.calendar_index, name="calendar"),
    path("<int:year>/", views.calendar_year, name="calendar_year"),
    path("<int:year>/toggle/", views.calendar_toggle, name="calendar_toggle"),
    path("<int:year>/notice/", views.calendar_notice, name="calendar_notice"),
    path("<int:year>/notice/save/", views.calendar_notice_save, name="calendar_notice_save"),
    path("<int:year>/complete/", views.calendar_complete, name="calendar_complete"),
]
