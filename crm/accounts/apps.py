from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    # This module also holds AxesConfig: Django takes the one marked default for "crm.accounts".
    default = True
    name = "crm.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from crm.accounts import signals
        from crm.accounts.services import record_login, record_login_failed, sync_role_groups

        # A change of anyone's permissions, roles or projects renews their access stamp.
        signals.connect()
        # A password change or a deactivation revokes the user's API token (crm.accounts.security).
        signals.connect_security()

        # Role groups are configuration derived from roles.py; keep them in step after
        # every migrate, the way Django itself creates permissions.
        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="sync_role_groups")
        # Django announces logins (form and API token) with this signal; the audit row is
        # the record 等保 asks for.
        user_logged_in.connect(record_login, dispatch_uid="audit_login")
        user_login_failed.connect(record_login_failed, dispatch_uid="audit_login_failed")


class AxesConfig(AxesAppConfig):  # type: ignore[misc]  # django-axes has no type hints
    """django-axes (login throttling) under a Chinese name where Django names its app (the
    permission pickers); its rows are shown under 账号与权限 (crm.accounts.models.LoginLock…)."""

    default = False  # installed by its dotted path (config/settings.py)
    verbose_name = "登录防护"
