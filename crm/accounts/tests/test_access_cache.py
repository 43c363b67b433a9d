"""The cached permissions, roles and projects (crm.accounts.backends) follow every change.

Each test first makes the cache hold the user's access, then changes it the way the admin,
a service or another process would, and reads the user again from the database as the next
request does: the new access must show, never the cached one.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.accounts.backends import access_key
from crm.accounts.models import User
from crm.accounts.roles import Role, group_name
from crm.customers.models import Customer
from crm.projects.models import Project

pytestmark = pytest.mark.django_db

VIEW = "customers.view_customer"
REASSIGN = "customers.reassign_customer"


def fresh(user: User) -> User:
    """The user as the next request loads it (session → user row)."""
    return User.objects.get(pk=user.pk)


def warm(user: User) -> User:
    """Read the access once so that the cache holds it; return the fresh instance."""
    user = fresh(user)
    assert user.has_perm(VIEW) or user.roles is not None
    assert cache.get(access_key(user)) is not None
    return user


def test_second_request_reads_access_from_the_cache(consultant: User) -> None:
    warm(consultant)
    again = fresh(consultant)
    projects = list(consultant.projects.values_list("id", flat=True))
    with CaptureQueriesContext(connection) as queries:
        assert again.has_perm(VIEW)
        assert again.roles == frozenset({Role.CONSULTANT})
        assert again.project_ids == projects
    assert len(queries) == 0


def test_one_query_reads_permissions_roles_and_projects(consultant: User, project: Project) -> None:
    cache.clear()
    user = fresh(consultant)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm(VIEW)
        assert not user.has_perm(REASSIGN)
        assert user.roles == frozenset({Role.CONSULTANT})
        assert user.project_ids == [project.pk]
    assert len(queries) == 1


def test_role_removed_from_the_user_side(consultant: User) -> None:
    user = warm(consultant)
    user.groups.clear()
    # The same instance forgets what it held, and the next request sees no role.
    assert not user.has_perm(VIEW)
    assert fresh(consultant).roles == frozenset()
    assert not fresh(consultant).has_perm(VIEW)


def test_role_added_from_the_group_side(consultant: User) -> None:
    warm(consultant)
    Group.objects.get(name=group_name(Role.TEAM_LEADER)).user_set.add(consultant)
    user = fresh(consultant)
    assert user.roles == frozenset({Role.CONSULTANT, Role.TEAM_LEADER})
    assert user.has_perm(REASSIGN)


def test_group_members_cleared_from_the_group_side(consultant: User, teammate: User) -> None:
    warm(consultant)
    warm(teammate)
    Group.objects.get(name=group_name(Role.CONSULTANT)).user_set.clear()
    assert fresh(consultant).roles == frozenset()
    assert fresh(teammate).roles == frozenset()


def test_permission_taken_from_a_group(consultant: User) -> None:
    warm(consultant)
    group = Group.objects.get(name=group_name(Role.CONSULTANT))
    view = Permission.objects.get(codename="view_customer", content_type__app_label="customers")
    group.permissions.remove(view)
    assert not fresh(consultant).has_perm(VIEW)
    view.group_set.add(group)  # and given back from the permission's side
    assert fresh(consultant).has_perm(VIEW)


def test_own_permission_granted_and_cleared(consultant: User) -> None:
    warm(consultant)
    reassign = Permission.objects.get(codename="reassign_customer", content_type__app_label="customers")
    consultant.user_permissions.add(reassign)
    assert fresh(consultant).has_perm(REASSIGN)
    reassign.user_set.clear()
    assert not fresh(consultant).has_perm(REASSIGN)


def test_group_renamed_stops_being_a_role(consultant: User) -> None:
    warm(consultant)
    group = Group.objects.get(name=group_name(Role.CONSULTANT))
    group.name = "临时小组"
    group.save()
    assert fresh(consultant).roles == frozenset()


def test_group_and_permission_deleted(consultant: User) -> None:
    warm(consultant)
    Permission.objects.filter(codename="view_customer", content_type__app_label="customers").delete()
    assert not fresh(consultant).has_perm(VIEW)
    warm(consultant)
    Group.objects.filter(name=group_name(Role.CONSULTANT)).delete()
    assert fresh(consultant).roles == frozenset()


def test_projects_changed_from_either_side(consultant: User, project: Project, project_b: Project) -> None:
    warm(consultant)
    project_b.staff.add(consultant)
    assert fresh(consultant).project_ids == sorted([project.pk, project_b.pk])
    consultant.projects.remove(project)
    assert fresh(consultant).project_ids == [project_b.pk]
    project_b.delete()
    assert fresh(consultant).project_ids == []


def test_removed_from_a_project_loses_its_customers_at_the_next_request(
    client: Any, director: User, project: Project, project_b: Project, make_customer: Any
) -> None:
    other = make_customer("李四", project=project_b)
    client.force_login(director)
    assert client.get(f"/customers/{other.pk}/").status_code == 200  # cached: director sees project_b
    director.projects.remove(project_b)
    assert client.get(f"/customers/{other.pk}/").status_code == 404
    assert Customer.objects.filter(pk=other.pk).exists()


def test_stamps_are_per_user_and_change_only_for_those_concerned(consultant: User, outsider: User) -> None:
    before = {u.pk: u.access_stamp for u in User.objects.filter(pk__in=[consultant.pk, outsider.pk])}
    consultant.groups.remove(Group.objects.get(name=group_name(Role.CONSULTANT)))
    after = {u.pk: u.access_stamp for u in User.objects.filter(pk__in=[consultant.pk, outsider.pk])}
    assert after[consultant.pk] != before[consultant.pk]
    assert after[outsider.pk] == before[outsider.pk]
