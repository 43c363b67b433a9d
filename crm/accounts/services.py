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
