"""Permissions, roles and projects of a signed-in user: one cache read per request
(docs/performance.md, fixes D and G).

Django's ModelBackend reads a user's own permissions and their groups' permissions in two
queries, ``User.roles`` reads the groups (the roles) in a third and ``User.project_ids``
the projects in a fourth: four round trips on every page. ``load_access`` reads all of
them in one ``UNION ALL`` and keeps the result in Django's cache under the user's
``access_stamp``. Every change to a user's groups, permissions or projects (and to a
group's permissions) replaces the stamp of the users concerned (crm.accounts.signals), so
the next request of any process, which reads the user row anyway, looks up a key nobody
has filled yet: a revoked permission never outlives the request that revoked it.

``load_access`` fills the caches ModelBackend keeps on the user (``_user_perm_cache``,
``_group_perm_cache``, ``_perm_cache``), ``User.roles`` and ``User.project_ids``,
whichever of them is asked for first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast

from crm.accounts.roles import Role

if TYPE_CHECKING:
    from crm.accounts.models import User

# The first column of each row of the union: what the row is.
_USER_PERM, _GROUP_PERM, _GROUP, _PROJECT = "u", "g", "r", "p"


@dataclass(frozen=True, slots=True)
class Access:
    user_perms: frozenset[str]
    group_perms: frozenset[str]
    roles: frozenset[Role]
    project_ids: tuple[int, ...]


def _kind(kind: str) -> Value:
    return Value(kind, output_field=CharField())


def access_key(user: User) -> str:
    return f"access:{user.pk}:{user.access_stamp}"


def _read_access(user: User) -> Access:
    from crm.accounts.models import User, role_for_group

    # order_by(): no ORDER BY inside a UNION (Permission has a default ordering).
    own = (
        Permission.objects.filter(user=user)
        .order_by()
        .values_list(_kind(_USER_PERM), F("content_type__app_label"), F("codename"))
    )
    of_groups = (
        Permission.objects.filter(group__user=user)
        .order_by()
        .values_list(_kind(_GROUP_PERM), F("content_type__app_label"), F("codename"))
    )
    groups = Group.objects.filter(user=user).order_by().values_list(_kind(_GROUP), F("name"), _kind(""))
    # The link rows, not the projects: accounts stands below projects.
    projects = (
        User.projects.through.objects.filter(user_id=user.pk)
        .order_by()
        .values_list(_kind(_PROJECT), Cast("project_id", output_field=CharField()), _kind(""))
    )
    user_perms: set[str] = set()
    group_perms: set[str] = set()
    roles: set[Role] = set()
    project_ids: list[int] = []
    for kind, first, second in own.union(of_groups, groups, projects, all=True):
        if kind == _USER_PERM:
            user_perms.add(f"{first}.{second}")
        elif kind == _GROUP_PERM:
            group_perms.add(f"{first}.{second}")
        elif kind == _PROJECT:
            project_ids.append(int(first))
        elif (role := role_for_group(first)) is not None:
            roles.add(role)
    return Access(frozenset(user_perms), frozenset(group_perms), frozenset(roles), tuple(sorted(project_ids)))


def load_access(user: User) -> Access:
    """The user's permissions, roles and projects from the cache, or read in one query and
    cached; the permissions are also kept on the user as ModelBackend does (active
    non-superusers only: a superuser has every permission, an inactive user none)."""
    cached = user.__dict__.get("_access")
    if isinstance(cached, Access):
        return cached
    key = access_key(user)
    access = cache.get(key)
    if not isinstance(access, Access):
        access = _read_access(user)
        cache.set(key, access, settings.ACCESS_CACHE_SECONDS)
    if user.is_active and not user.is_superuser:
        state: Any = user
        state._user_perm_cache = set(access.user_perms)
        state._group_perm_cache = set(access.group_perms)
        state._perm_cache = set(access.user_perms | access.group_perms)
    user.__dict__["_access"] = access
    user.__dict__["roles"] = access.roles
    user.__dict__["project_ids"] = list(access.project_ids)
    return access


def forget_access(user: User) -> None:
    """Drop what this instance holds of its access (after its stamp was replaced)."""
    for name in ("_access", "roles", "project_ids", "_team_member_ids"):
        user.__dict__.pop(name, None)
    for name in ("_user_perm_cache", "_group_perm_cache", "_perm_cache"):
        if hasattr(user, name):
            delattr(user, name)


class AccessBackend(ModelBackend):
    """ModelBackend whose permissions come from ``load_access``: a cache read, or one query
    that also answers ``User.roles`` and ``User.project_ids``."""

    def _load(self, user_obj: Any, obj: Any) -> None:
        from crm.accounts.models import User

        if (
            isinstance(user_obj, User)
            and obj is None
            and user_obj.is_active
            and not user_obj.is_superuser
            and not hasattr(user_obj, "_perm_cache")
        ):
            load_access(user_obj)

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        self._load(user_obj, obj)
        return super().get_user_permissions(user_obj, obj)

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        self._load(user_obj, obj)
        return super().get_group_permissions(user_obj, obj)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        self._load(user_obj, obj)
        return super().get_all_permissions(user_obj, obj)
