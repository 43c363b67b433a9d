from django.urls import path

from crm.care import callbacks

app_name = "care"

urlpatterns = [
    path("callbacks/<slug:gateway_name>/<slug:kind>/<str:token>/", callbacks.gateway_callback, name="callback"),
]
