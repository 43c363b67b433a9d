"""The customer list's query budget (docs/performance.md: ≤ 8 queries, whatever the page size).

Every query of a request counts: session, user, roles and permissions (one query,
crm.accounts.backends, then cached), the project ids of a PROJECT scope, the page and its
tags. The staff, project and tag dropdowns load on demand (list_options), the capped total
after the rows (list_count).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.customers.models import Tag

LIST = reverse("customers:list")
BUDGET = 8


@pytest.fixture
def hundred_and_ten(make_customer, company):
    tags = [Tag.objects.create(company=company, name=f"标签{i}") for i in range(3)]
    for i in range(110):
        make_customer(f"客户{i}").tags.add(tags[i % 3])


@pytest.mark.parametrize("persona", ["consultant", "director"])
def test_the_list_stays_within_its_query_budget_at_every_page_size(request, login, hundred_and_ten, persona):
    client = login(request.getfixturevalue(persona))
    client.get(LIST)  # warm up the session
    counts = {}
    for size in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"per_page": size})
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == size
        counts[size] = len(queries)
        assert len(queries) <= BUDGET, "\n".join(q["sql"] for q in queries.captured_queries)
    assert counts[25] == counts[100]


def test_permissions_and_roles_are_read_in_one_query(django_assert_num_queries, director):
    from crm.accounts.models import User
    from crm.accounts.roles import Role

    user = User.objects.get(pk=director.pk)
    with django_assert_num_queries(1):
        assert user.has_perm("customers.view_customer")
        assert not user.has_perm("customers.no_such_permission")
        assert Role.DIRECTOR in user.roles
        assert user.get_group_permissions() <= user.get_all_permissions()
    assert user.get_user_permissions() == set()


def test_roles_first_then_permissions_still_one_query(django_assert_num_queries, consultant):
    from crm.accounts.models import User
    from crm.accounts.roles import Role

    user = User.objects.get(pk=consultant.pk)
    with django_assert_num_queries(1):
        assert user.roles == frozenset({Role.CONSULTANT})
        assert user.has_perm("customers.view_customer")
        assert not user.has_perm("customers.reassign_customer")


def test_direct_user_permissions_still_count(consultant):
    from django.contrib.auth.models import Permission

    from crm.accounts.models import User

    consultant.user_permissions.add(Permission.objects.get(codename="reassign_customer"))
    user = User.objects.get(pk=consultant.pk)
    assert user.has_perm("customers.reassign_customer")
    assert "customers.reassign_customer" in user.get_user_permissions()
    assert "customers.reassign_customer" not in user.get_group_permissions()


def test_the_staff_and_tag_options_load_on_demand(login, leader, consultant, teammate, outsider, company, customer):
    tag = Tag.objects.create(company=company, name="学区需求")
    client = login(leader)
    body = client.get(LIST).content.decode()
    # Rendered empty, with the endpoint that fills them.
    assert reverse("customers:list_options", args=["owner"]) in body
    assert reverse("customers:list_options", args=["new_owner"]) in body
    assert "学区需求" not in body
    owners = client.get(reverse("customers:list_options", args=["owner"]), {"owner": teammate.pk}).content.decode()
    assert f'<option value="{teammate.pk}" selected>李同组</option>' in owners
    assert "王顾问" in owners
    assert "陈外组" not in owners
    new_owners = client.get(reverse("customers:list_options", args=["new_owner"])).content.decode()
    assert "李同组" in new_owners
    assert "陈外组" not in new_owners
    tags = client.get(reverse("customers:list_options", args=["bulk_tag"])).content.decode()
    assert f'<option value="{tag.pk}">学区需求</option>' in tags
    assert client.get(reverse("customers:list_options", args=["password"])).status_code == 404


def test_a_chosen_owner_stays_shown_before_the_options_load(login, leader, teammate, make_customer):
    make_customer("同组的", owner=teammate)
    body = login(leader).get(LIST, {"owner": teammate.pk}).content.decode()
    assert f'<option value="{teammate.pk}" selected>李同组</option>' in body


def test_new_owner_options_need_the_reassign_permission(login, consultant):
    response = login(consultant).get(reverse("customers:list_options", args=["new_owner"]))
    assert response.status_code == 404


def test_the_project_options_load_on_demand_within_the_users_projects(
    login, consultant, director, project, project_b, make_customer
):
    make_customer("甲")
    body = login(consultant).get(LIST).content.decode()
    assert reverse("customers:list_options", args=["project"]) in body
    assert f'<option value="{project.pk}"' not in body
    options = login(consultant).get(reverse("customers:list_options", args=["project"])).content.decode()
    assert f'<option value="{project.pk}">{project.name}</option>' in options
    assert f'value="{project_b.pk}"' not in options  # not one of the consultant's projects
    chosen = login(director).get(reverse("customers:list_options", args=["project"]), {"project": project_b.pk})
    assert f'<option value="{project_b.pk}" selected>{project_b.name}</option>' in chosen.content.decode()
    # A chosen project stays shown (and selected) before its options load.
    body = login(director).get(LIST, {"project": project_b.pk}).content.decode()
    assert f'<option value="{project_b.pk}" selected>{project_b.name}</option>' in body
