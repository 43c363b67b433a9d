"""账号安全 (/account/): the API token, TOTP, the password change."""

from django.urls import path

from crm.accounts import views

app_name = "accounts"

urlpatterns = [
    path("security/", views.account_security, name="security"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
]
