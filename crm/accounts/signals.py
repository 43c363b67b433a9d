"""Replace the access stamp of every user whose permissions, roles or projects change.

``crm.accounts.backends.load_access`` caches a user's access under ``User.access_stamp``.
Whatever changes it goes through one of these: a user's groups, own permissions or
projects (either side of the many-to-many, including the admin's widgets and ``clear()``),
a group's permissions, a group renamed (roles are groups by name), and the deletion of a
group, permission or project (whose link rows disappear without m2m signals).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.utils import timezone

from crm.accounts.backends import forget_access
from crm.accounts.models import User, new_access_stamp


def renew_access(users: Q) -> None:
    """Give the users matching ``users`` a new stamp: their cached access is never read again."""
    User.objects.filter(users).update(access_stamp=new_access_stamp())


def _renew_instance(user: User) -> None:
    renew_access(Q(pk=user.pk))
    user.access_stamp = User.objects.values_list("access_stamp", flat=True).get(pk=user.pk)
    forget_access(user)


def _user_link_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """user.groups / user.user_permissions / user.projects, from either side."""
    if isinstance(instance, User):  # user.groups.add(...)
        if action in ("post_add", "post_remove", "post_clear"):
            _renew_instance(instance)
        return
    # group.user_set.add(...), project.staff.clear(), ...: the users are in pk_set, or for
    # clear() only known before it runs.
    field = {"auth.group": "groups", "auth.permission": "user_permissions", "projects.project": "projects"}.get(
        instance._meta.label_lower
    )
    if field is None:
        return
    if action in ("post_add", "post_remove") and pk_set:
        renew_access(Q(pk__in=pk_set))
    elif action == "pre_clear":
        renew_access(Q(**{field: instance}))


def _group_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """group.permissions (or permission.group_set): every member of the groups concerned."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if isinstance(instance, Group):
        renew_access(Q(groups=instance))
    elif action == "pre_clear":
        renew_access(Q(groups__permissions=instance))
    elif pk_set:
        renew_access(Q(groups__in=pk_set))


def _group_saved(sender: Any, instance: Group, created: bool, **kwargs: Any) -> None:
    if not created:  # a renamed group may stop (or start) being a role
        renew_access(Q(groups=instance))


def _group_deleted(sender: Any, instance: Group, **kwargs: Any) -> None:
    renew_access(Q(groups=instance))


def _permission_deleted(sender: Any, instance: Permission, **kwargs: Any) -> None:
    renew_access(Q(user_permissions=instance) | Q(groups__permissions=instance))


def _project_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    renew_access(Q(projects=instance))


def connect() -> None:
    for through in (User.groups.through, User.user_permissions.through, User.projects.through):
        m2m_changed.connect(_user_link_changed, sender=through, dispatch_uid=f"access_{through._meta.label}")
    m2m_changed.connect(
        _group_permissions_changed, sender=Group.permissions.through, dispatch_uid="access_group_permissions"
    )
    post_save.connect(_group_saved, sender=Group, dispatch_uid="access_group_saved")
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="access_group_deleted")
    pre_delete.connect(_permission_deleted, sender=Permission, dispatch_uid="access_permission_deleted")
    # A lazy reference: accounts stands below projects (docs/architecture.md).
    pre_delete.connect(_project_deleted, sender="projects.Project", dispatch_uid="access_project_deleted")


# ---------------------------------------------------------------- password change, deactivation
# Every path that changes a password or deactivates a user saves the user: the admin, the
# password page, `manage.py changepassword`. Tokens are revoked here so none is missed.


def _user_saving(sender: Any, instance: User, raw: bool, update_fields: Any, **kwargs: Any) -> None:
    instance._security_change = None  # type: ignore[attr-defined]
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login at every login: no query
    new_password = getattr(instance, "_password", None)
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    password_changed = False
    if new_password is not None:
        # A hash upgrade (check_password re-hashing the same password) is not a change.
        password_changed = old is None or not check_password(new_password, old["password"])
    deactivated = old is not None and old["is_active"] and not instance.is_active
    instance._security_change = (password_changed, deactivated)  # type: ignore[attr-defined]


def _user_saved(sender: Any, instance: User, created: bool, raw: bool, **kwargs: Any) -> None:
    from crm.accounts.security import password_or_activity_changed

    if raw:
        return
    if created:
        if instance.password_changed_at is None:
            User.objects.filter(pk=instance.pk).update(password_changed_at=timezone.now())
        return
    change = getattr(instance, "_security_change", None)
    if change and any(change):
        password_or_activity_changed(instance, now=timezone.now(), password_changed=change[0])


def connect_security() -> None:
    pre_save.connect(_user_saving, sender=User, dispatch_uid="security_user_saving")
    post_save.connect(_user_saved, sender=User, dispatch_uid="security_user_saved")
