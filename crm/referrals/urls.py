from django.urls import path

from crm.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.referral_new, name="new"),
    path("export/", views.referral_export, name="export"),
    path("stats/", views.referral_stats, name="stats"),
    path("rewards/", views.reward_list, name="rewards"),
    path("rewards/<int:pk>/<slug:verb>/", views.reward_act, name="reward_act"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/<slug:verb>/", views.referral_act, name="act"),
]
