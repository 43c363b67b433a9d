from django.urls import path

from crm.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/<int:customer_pk>/", views.request_new, name="new"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/copy.<str:fmt>", views.request_copy, name="copy"),
    path("<int:pk>/hold/", views.hold_set, name="hold_set"),
    path("<int:pk>/hold/release/", views.hold_release, name="hold_release"),
    path("<int:pk>/<str:action>/", views.request_action, name="action"),
    path("erasures/", views.erasure_list, name="erasures"),
    path("retention/", views.run_list, name="runs"),
]
