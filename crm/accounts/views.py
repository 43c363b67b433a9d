"""Login (with the optional TOTP step), 账号安全 (API token, TOTP) and the password change."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from crm.accounts import passwords, security
from crm.accounts.forms import PasswordChangeForm, TotpCodeForm
from crm.accounts.http import AuthedHttpRequest
from crm.accounts.models import User
from crm.lib import totp

# The half-logged-in state between the password and the TOTP code, in the (anonymous) session.
PENDING_USER = "totp_pending_user"
PENDING_BACKEND = "totp_pending_backend"
PENDING_NEXT = "totp_pending_next"
PENDING_SINCE = "totp_pending_since"
PENDING_ATTEMPTS = "totp_pending_attempts"
PENDING_SECONDS = 300
MAX_ATTEMPTS = 5
SETUP_SECRET = "totp_setup_secret"


class LoginView(auth_views.LoginView):
    """Django's login; a user with TOTP is logged in only after the code (totp_login)."""

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not user.has_totp:
            return super().form_valid(form)
        session = self.request.session
        session[PENDING_USER] = user.pk
        session[PENDING_BACKEND] = user.backend
        session[PENDING_NEXT] = self.get_success_url()
        session[PENDING_SINCE] = int(timezone.now().timestamp())
        session[PENDING_ATTEMPTS] = 0
        return redirect("totp_login")


def _clear_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_NEXT, PENDING_SINCE, PENDING_ATTEMPTS):
        request.session.pop(key, None)


@login_not_required
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def totp_login(request: HttpRequest) -> HttpResponse:
    """Second step of a login with TOTP: five wrong codes or five minutes end the attempt."""
    session = request.session
    now = timezone.now()
    pending = session.get(PENDING_USER)
    if pending is None or now.timestamp() - session.get(PENDING_SINCE, 0) > PENDING_SECONDS:
        _clear_pending(request)
        messages.error(request, "登录已超时，请重新输入用户名和密码。")
        return redirect("login")
    user = User.objects.get(pk=pending)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if user.is_active and security.check_totp(user, form.cleaned_data["code"], now=now):
            next_url = session.get(PENDING_NEXT) or settings.LOGIN_REDIRECT_URL
            backend = session.get(PENDING_BACKEND)
            _clear_pending(request)
            login(request, user, backend=backend)
            return redirect(next_url)
        # A wrong code counts as a failed login (django-axes locks the username after the limit).
        user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
        session[PENDING_ATTEMPTS] = session.get(PENDING_ATTEMPTS, 0) + 1
        if session[PENDING_ATTEMPTS] >= MAX_ATTEMPTS:
            _clear_pending(request)
            messages.error(request, "动态验证码错误次数过多，请重新登录。")
            return redirect("login")
        form.add_error("code", "验证码不正确或已使用过，请输入应用中当前显示的数字。")
    return render(request, "accounts/totp_login.html", {"form": form, "company_name": settings.COMPANY_NAME})


@never_cache
@require_http_methods(["GET", "POST"])
def account_security(request: AuthedHttpRequest) -> HttpResponse:
    """账号安全: the password's age, the API token (revoke), TOTP (enable, disable)."""
    user = request.user
    now = timezone.now()
    setup_form = disable_form = None
    setup_secret = request.session.get(SETUP_SECRET)
    if security.may_use_totp(user):
        if user.has_totp:
            disable_form = TotpCodeForm(request.POST if request.POST.get("action") == "disable_totp" else None)
        elif request.POST.get("action") == "enable_totp" and setup_secret:
            setup_form = TotpCodeForm(request.POST)
        elif request.GET.get("totp") == "setup":
            setup_secret = totp.new_secret()
            request.session[SETUP_SECRET] = setup_secret
            setup_form = TotpCodeForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke_token":
            if security.revoke_api_token(user, actor=user, why="本人吊销"):
                messages.success(request, "接口令牌已吊销，使用它的程序需要重新获取令牌。")
            return redirect("accounts:security")
        if action == "enable_totp" and setup_form is not None and setup_form.is_valid() and setup_secret:
            try:
                security.enable_totp(
                    user, actor=user, secret=setup_secret, code=setup_form.cleaned_data["code"], now=now
                )
            except security.TotpError as exc:
                setup_form.add_error("code", exc.message)
            else:
                request.session.pop(SETUP_SECRET, None)
                messages.success(request, "已启用动态验证码：以后登录时需输入应用中的 6 位数字。")
                return redirect("accounts:security")
        if action == "disable_totp" and disable_form is not None and disable_form.is_valid():
            try:
                security.disable_totp(user, actor=user, code=disable_form.cleaned_data["code"], now=now)
            except security.TotpError as exc:
                disable_form.add_error("code", exc.message)
            else:
                messages.success(request, "已关闭动态验证码。")
                return redirect("accounts:security")
    token = Token.objects.filter(user=user).first()
    return render(
        request,
        "accounts/security.html",
        {
            "token": token,
            "token_expires_at": security.token_expires_at(token) if token else None,
            "password_expires_at": passwords.password_expires_at(user),
            "policy": settings.PASSWORD_POLICY,
            "may_use_totp": security.may_use_totp(user),
            "setup_form": setup_form,
            "setup_secret": setup_secret if setup_form is not None else None,
            "setup_uri": totp.provisioning_uri(setup_secret, account=user.username, issuer=settings.TOTP_ISSUER)
            if setup_form is not None and setup_secret
            else "",
            "disable_form": disable_form,
        },
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = passwords.password_is_expired(self.request.user, now=timezone.now())
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "密码已修改。接口令牌已随之吊销，其他设备上的登录已退出。")
        return response
