"""Staff administration: role groups and staff accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from crm.accounts.models import Company, Team, User
from crm.accounts.roles import ROLE_SPECS, Role, group_name


def sync_role_groups(**kwargs: object) -> None:
    """Create one group per role holding exactly the role's permissions (idempotent).

    Runs after every migrate; permissions of apps migrated later in the same run are
    created first so the groups are complete on the first migrate.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, spec in ROLE_SPECS.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        perms = []
        for dotted in spec.permissions:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)


@transaction.atomic
def create_staff(
    username: str,
    *,
    company: Company,
    roles: Iterable[Role],
    password: str,
    display_name: str = "",
    team: Team | None = None,
    projects: Iterable[Any] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    user = User(
        username=username,
        company=company,
        team=team,
        department=team.department if team else None,
        display_name=display_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=[group_name(r) for r in roles]))
    if projects:
        user.projects.set(projects)
    return user


def record_login(sender: object, request: Any, user: User, **kwargs: object) -> None:
    """Audit every successful login, web or API (等保: who logged in, when, from where)."""
    from crm.core import audit

    audit.log(
        audit.AuditLog.Action.LOGIN,
        actor=user,
        target=user,
        summary=f"{user} 登录",
        ip=audit.client_ip(request),
    )


def record_login_failed(sender: object, credentials: dict[str, Any], request: Any = None, **kwargs: object) -> None:
    """Audit every failed login (等保): the account tried, from where. The row belongs to
    the company of that account; an unknown username belongs to no company (superusers)."""
    from crm.core import audit

    username = str(credentials.get("username") or "")[:40]
    user = User.objects.filter(username=username).first() if username else None
    audit.log(
        audit.AuditLog.Action.LOGIN_FAILED,
        actor=None,
        target=user,
        target_type="accounts.user",
        target_label=f"账号 {username or '（空）'}",
        company_id=user.company_id if user is not None else None,
        summary=f"登录失败：{username or '（空）'}",
        ip=audit.client_ip(request),
    )


def access_snapshot(user: User) -> dict[str, str | bool]:
    """What decides a user's access, as the audit row shows it."""
    return {
        "groups": "、".join(sorted(user.groups.values_list("name", flat=True))),
        "permissions": "、".join(sorted(user.user_permissions.values_list("codename", flat=True))),
        "projects": "、".join(sorted(str(name) for name in user.projects.values_list("name", flat=True))),
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
    }


def record_access_change(user: User, *, actor: Any, before: dict[str, str | bool] | None) -> None:
    """Audit a change of a user's roles, permissions, projects or status (权限变更), e.g.
    from the admin; nothing is written when nothing changed."""
    from crm.core import audit

    after = access_snapshot(user)
    before = before or {key: ("" if isinstance(value, str) else False) for key, value in after.items()}
    changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
    if not changes:
        return
    audit.log(
        audit.AuditLog.Action.PERMISSION,
        actor=actor,
        target=user,
        summary=f"{user} 的角色或权限变更",
        changes=changes,
    )


def record_group_change(group: Group, *, actor: Any, before: str) -> None:
    """Audit a change of a role group's permissions (every member's access changes)."""
    from crm.core import audit

    after = "、".join(sorted(group.permissions.values_list("codename", flat=True)))
    if after == before:
        return
    audit.log(
        audit.AuditLog.Action.PERMISSION,
        actor=actor,
        target=group,
        target_label=f"角色 {group.name}",
        company_id=getattr(actor, "company_id", None),
        summary=f"角色 {group.name} 的权限变更",
        changes={"permissions": [before, after]},
    )
