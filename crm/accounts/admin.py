from typing import Any

from axes import admin as axes_admin
from axes.conf import settings as axes_settings
from axes.utils import reset as reset_login_failures
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet
from django.forms import BaseModelForm
from django.http import HttpRequest
from django.utils import timezone

from crm.accounts import security, services
from crm.accounts.models import Company, Department, LoginFailure, LoginLock, LoginRecord, Team, User
from crm.core import audit

# The access before an admin save, keyed by the request, for the audit row after it.
_BEFORE = "_access_before"

PERMISSION_ACTIONS = {"add": "增加", "change": "修改", "delete": "删除", "view": "查看"}


def permission_label(permission: Permission) -> str:
    """A permission as the role and staff editors list it: "客户信息 | 客户 | 查看客户".
    Django stores the four default permissions' names in English ("Can view 客户")
    whatever the language, so their action is named from the codename here."""
    content_type = permission.content_type
    model = content_type.model_class()
    model_name = str(model._meta.verbose_name) if model is not None else content_type.model
    try:
        app = str(django_apps.get_app_config(content_type.app_label).verbose_name)
    except LookupError:  # a content type left by an app no longer installed
        app = content_type.app_label
    action, _, model_code = permission.codename.partition("_")
    if action in PERMISSION_ACTIONS and model is not None and model_code == model._meta.model_name:
        return f"{app} | {model_name} | {PERMISSION_ACTIONS[action]}{model_name}"
    return f"{app} | {model_name} | {permission.name}"


class PermissionsInChinese:
    """Admin mixin: the permission pickers list permissions by ``permission_label``."""

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any) -> Any:
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["queryset"] = Permission.objects.select_related("content_type")
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name in ("permissions", "user_permissions") and field is not None:
            field.label_from_instance = permission_label
        return field


@admin.register(User)
class UserAdmin(PermissionsInChinese, BaseUserAdmin[User]):
    """Staff accounts; every change of roles, permissions, projects or status is audited
    (权限变更, crm.accounts.services.record_access_change)."""

    list_display = ["username", "display_name", "team", "is_active", "last_login"]
    list_filter = ["groups", "team", "is_active"]
    search_fields = ["username", "display_name"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("组织", {"fields": ("company", "department", "team", "projects", "display_name", "mobile")}),
    )
    filter_horizontal = ("groups", "user_permissions", "projects")
    actions = ["revoke_api_tokens", "turn_off_totp"]

    @admin.action(description="吊销所选员工的接口令牌")
    def revoke_api_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor: Any = request.user
        count = sum(security.revoke_api_token(user, actor=actor, why="管理员吊销") for user in queryset)
        self.message_user(request, f"已吊销 {count} 个接口令牌。", messages.SUCCESS)

    @admin.action(description="关闭所选员工的动态验证码（手机丢失时）")
    def turn_off_totp(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor: Any = request.user
        count = 0
        for user in queryset.filter(totp_enabled_at__isnull=False):
            try:
                security.disable_totp(user, actor=actor, now=timezone.now())
            except security.TotpError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            count += 1
        self.message_user(request, f"已关闭 {count} 位员工的动态验证码。", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: User, form: BaseModelForm[User], change: bool) -> None:
        if change:
            setattr(request, _BEFORE, services.access_snapshot(User.objects.get(pk=obj.pk)))
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.record_access_change(form.instance, actor=request.user, before=getattr(request, _BEFORE, None))


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionsInChinese, BaseGroupAdmin):
    """Roles are groups: a change of a group's permissions is audited (权限变更)."""

    def save_model(self, request: HttpRequest, obj: Group, form: Any, change: bool) -> None:
        before = ""
        if change:
            before = "、".join(sorted(Group.objects.get(pk=obj.pk).permissions.values_list("codename", flat=True)))
        setattr(request, _BEFORE, before)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.record_group_change(form.instance, actor=request.user, before=getattr(request, _BEFORE, ""))


admin.site.register(Company)
admin.site.register(Department)
admin.site.register(Team)


# django-axes' rows in Chinese (crm.accounts.models.LoginLock…; AXES_ENABLE_ADMIN is off).


@admin.register(LoginLock)
class LoginLockAdmin(axes_admin.AccessAttemptAdmin):  # type: ignore[misc]  # django-axes has no type hints
    list_display = ["username", "failures_since_start", "status", "attempt_time", "ip_address", "user_agent"]
    list_filter = [axes_admin.IsLockedOutFilter]
    date_hierarchy = None
    actions = ["unlock"]

    @admin.display(description="状态")
    def status(self, obj: LoginLock) -> str:
        left = axes_settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        return f"还可尝试 {left} 次" if left > 0 else "已锁定"

    # Unlocking deletes the username's attempt rows: offered to who may delete them.
    @admin.action(description="解除所选用户名的登录锁定（失败次数清零）", permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginLock]) -> None:
        usernames = sorted(set(queryset.values_list("username", flat=True)))
        for username in usernames:
            reset_login_failures(username=username)
            staff = User.objects.filter(username=username).first()  # a mistyped name has none
            audit.log(
                audit.AuditLog.Action.UPDATE,
                actor=request.user,
                target=staff,
                target_type="" if staff else "axes.accessattempt",
                target_label="" if staff else username,
                summary=f"解除用户名 {username} 的登录锁定",
            )
        self.message_user(request, f"已解除 {len(usernames)} 个用户名的登录锁定。", messages.SUCCESS)


@admin.register(LoginRecord)
class LoginRecordAdmin(axes_admin.AccessLogAdmin):  # type: ignore[misc]
    pass


@admin.register(LoginFailure)
class LoginFailureAdmin(axes_admin.AccessFailureLogAdmin):  # type: ignore[misc]
    pass
