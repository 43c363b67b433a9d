"""Staff: companies, departments, teams and users. Roles are Django groups (see roles.py)."""

from __future__ import annotations

import secrets
from functools import cached_property
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser
from django.db import models

from crm.accounts.roles import Role, group_name

_ROLE_BY_GROUP = {group_name(role): role for role in Role}


def new_access_stamp() -> str:
    return secrets.token_hex(8)


def role_for_group(name: str) -> Role | None:
    """The role a group stands for; None for a group that is not a role."""
    return _ROLE_BY_GROUP.get(name)


class Company(models.Model):
    name = models.CharField("公司名称", max_length=100, unique=True)
    sms_signature = models.CharField("短信签名", max_length=30, blank=True, help_text="替换模板中的“XXX”")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "公司"

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="departments", verbose_name="公司")
    name = models.CharField("部门名称", max_length=50)

    class Meta:
        verbose_name = verbose_name_plural = "部门"
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="uniq_department_name")]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="teams", verbose_name="部门")
    name = models.CharField("小组名称", max_length=50)
    leader = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="组长"
    )

    class Meta:
        verbose_name = verbose_name_plural = "小组"
        constraints = [models.UniqueConstraint(fields=["department", "name"], name="uniq_team_name")]

    def __str__(self) -> str:
        return f"{self.department.name}·{self.name}"


class User(AbstractUser):
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name="公司"
    )
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff", verbose_name="部门"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name="小组"
    )
    projects = models.ManyToManyField("projects.Project", blank=True, related_name="staff", verbose_name="所属楼盘")
    display_name = models.CharField("姓名", max_length=30, blank=True)
    mobile = models.CharField("手机号", max_length=20, blank=True)
    # Names the user's cached permissions, roles and projects (crm.accounts.access): replaced
    # whenever any of them changes, so every process sees the change on the next request.
    access_stamp = models.CharField(max_length=16, default=new_access_stamp, editable=False)
    # Login security (crm/accounts/security.py, docs/decisions/0024): when the password was
    # last set (等保 rotation; a change revokes the API token), and the optional TOTP of
    # administrators and directors: its secret (encrypted like ID numbers), since when it is
    # required, and the last 30-second step accepted (a code works once).
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True, editable=False)
    totp_secret = models.CharField(max_length=255, blank=True, editable=False)
    totp_enabled_at = models.DateTimeField("动态验证码启用时间", null=True, blank=True, editable=False)
    totp_last_step = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "员工"

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def roles(self) -> frozenset[Role]:
        # Read with the permissions and projects (crm.accounts.backends, docs/performance.md).
        from crm.accounts.backends import load_access

        return load_access(self).roles

    @cached_property
    def project_ids(self) -> list[int]:
        """Ids of the projects the user belongs to (scope, dropdowns), read with the roles."""
        from crm.accounts.backends import load_access

        return list(load_access(self).project_ids)

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role_labels(self) -> str:
        return "、".join(str(role.label) for role in sorted(self.roles, key=list(Role).index))


# ------------------------------------------------- django-axes in the admin, in Chinese
# django-axes (login throttling) keeps its rows in its own tables; its admin pages and
# its models' names are English. These proxies show the same rows under 账号与权限
# (crm.accounts.admin; settings.AXES_ENABLE_ADMIN is off), named in Chinese.


def _local_minute(value: Any) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else ""


class LoginLock(AccessAttempt):  # type: ignore[misc]  # django-axes has no type hints
    """A username's failed logins since its last success: locked at the limit."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "登录锁定"

    def __str__(self) -> str:
        return (
            f"{self.username}：连续登录失败 {self.failures_since_start} 次（最近 {_local_minute(self.attempt_time)}）"
        )


class LoginRecord(AccessLog):  # type: ignore[misc]
    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "登录记录"

    def __str__(self) -> str:
        return f"{self.username} 于 {_local_minute(self.attempt_time)} 登录"


class LoginFailure(AccessFailureLog):  # type: ignore[misc]
    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "登录失败记录"

    def __str__(self) -> str:
        locked = "，已锁定" if self.locked_out else ""
        return f"{self.username} 于 {_local_minute(self.attempt_time)} 登录失败{locked}"
