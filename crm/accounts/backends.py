"""Permissions and roles of a signed-in user in one query (docs/performance.md, fix D).

Django's ModelBackend reads a user's own permissions and their groups' permissions in two
queries, and ``User.roles`` reads the groups (the roles) in a third: three round trips on
every page. ``load_access`` reads all three in one ``UNION ALL`` and fills the caches
ModelBackend keeps on the user (``_user_perm_cache``, ``_group_perm_cache``,
``_perm_cache``) and ``User.roles``, whichever of them is asked for first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, F, Value

from crm.accounts.roles import Role

if TYPE_CHECKING:
    from crm.accounts.models import User

# The first column of each row of the union: what the row is.
_USER_PERM, _GROUP_PERM, _GROUP = "u", "g", "r"


def _kind(kind: str) -> Value:
    return Value(kind, output_field=CharField())


def load_access(user: User) -> frozenset[Role]:
    """Read the user's groups, group permissions and own permissions in one query; cache the
    permissions on the user as ModelBackend does (active non-superusers only: a superuser has
    every permission, an inactive user none) and return the roles."""
    from crm.accounts.models import role_for_group

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
    user_perms: set[str] = set()
    group_perms: set[str] = set()
    roles: set[Role] = set()
    for kind, first, second in own.union(of_groups, groups, all=True):
        if kind == _USER_PERM:
            user_perms.add(f"{first}.{second}")
        elif kind == _GROUP_PERM:
            group_perms.add(f"{first}.{second}")
        elif (role := role_for_group(first)) is not None:
            roles.add(role)
    if user.is_active and not user.is_superuser:
        state: Any = user
        state._user_perm_cache = user_perms
        state._group_perm_cache = group_perms
        state._perm_cache = user_perms | group_perms
    frozen = frozenset(roles)
    user.__dict__["roles"] = frozen
    return frozen


class AccessBackend(ModelBackend):
    """ModelBackend whose permissions come from ``load_access``: one query instead of two,
    which also answers ``User.roles``."""

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
