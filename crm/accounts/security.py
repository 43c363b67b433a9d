"""Login security: API tokens (revocation), the optional TOTP of administrators and directors,
and what a password change or a deactivation revokes (docs/decisions/0024).

A token is deleted when its user's password changes or the user is deactivated, whatever the
path (the password page, the admin, ``manage.py changepassword``): crm.accounts.signals
calls ``password_or_activity_changed`` after every save of a user that changed either.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from rest_framework.authtoken.models import Token

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core import audit
from crm.core.errors import DomainError
from crm.lib import crypto, totp

# Roles that may (not must) protect their login with a TOTP app.
TOTP_ROLES = (Role.ADMIN, Role.DIRECTOR)


def may_use_totp(user: User) -> bool:
    return user.is_superuser or user.has_role(*TOTP_ROLES)


def token_expires_at(token: Token) -> datetime:
    """API tokens are valid API_TOKEN_DAYS after they were issued (crm.api.authentication)."""
    created: datetime = token.created
    return created + timedelta(days=settings.API_TOKEN_DAYS)


def token_is_expired(token: Token, *, now: datetime) -> bool:
    return now >= token_expires_at(token)


def revoke_api_token(user: User, *, actor: User, why: str = "") -> bool:
    """Delete ``user``'s API token; False when there was none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=user,
            summary=f"吊销 {user} 的接口令牌" + (f"（{why}）" if why else ""),
        )
    return bool(deleted)


def password_or_activity_changed(user: User, *, now: datetime, password_changed: bool) -> None:
    """After a user's password changed or the user was deactivated: the token goes (1), the
    rotation clock restarts with a new password (2)."""
    Token.objects.filter(user=user).delete()
    if password_changed:
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now


# ---------------------------------------------------------------- TOTP


class TotpError(DomainError):
    pass


def enable_totp(user: User, *, actor: User, secret: str, code: str, now: datetime) -> None:
    """Require a TOTP code at every login of ``user`` from now on.

    1. Only administrators and directors (TOTP_ROLES), for themselves.
    2. The code from the app must match the new secret: a typo in the secret would lock them out.
    """
    if actor.pk != user.pk or not may_use_totp(user):
        raise TotpError("只有系统管理员和客服中心主任可以为自己的账号启用动态验证码。")
    step = totp.verify(secret, code, at=now)
    if step is None:
        raise TotpError("验证码不正确，请确认手机时间准确后输入应用中当前显示的 6 位数字。", field="code")
    User.objects.filter(pk=user.pk).update(totp_secret=crypto.encrypt(secret), totp_enabled_at=now, totp_last_step=step)
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = crypto.encrypt(secret), now, step
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=user, summary=f"{user} 启用登录动态验证码")


@transaction.atomic
def check_totp(user: User, code: str, *, now: datetime) -> bool:
    """Whether ``code`` is valid for ``user`` now and not used before (a code works once).

    The accepted step is written with a compare-and-set: two requests racing with the same
    code (a replayed one) cannot both pass.
    """
    if not user.has_totp:
        return False
    step = totp.verify(crypto.decrypt(user.totp_secret), code, at=now, after_step=user.totp_last_step)
    if step is None:
        return False
    won = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
    user.totp_last_step = step
    return bool(won)


def disable_totp(user: User, *, actor: User, code: str = "", now: datetime) -> None:
    """Stop requiring TOTP: by the user with a current code, or by an administrator (lost phone)."""
    if actor.pk == user.pk:
        if not check_totp(user, code, now=now):
            raise TotpError("验证码不正确，未关闭动态验证码。", field="code")
    elif not actor.has_role(Role.ADMIN) and not actor.is_superuser:
        raise TotpError("只有系统管理员可以关闭他人的动态验证码。")
    User.objects.filter(pk=user.pk).update(totp_secret="", totp_enabled_at=None, totp_last_step=0)
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = "", None, 0
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=user, summary=f"关闭 {user} 的登录动态验证码")
