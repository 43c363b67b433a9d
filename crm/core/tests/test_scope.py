"""Data scope: who may read which customer."""

import pytest

from crm.customers.selectors import customers_visible_to


@pytest.fixture
def customers(make_customer, consultant, teammate, outsider, project_b):
    return {
        "mine": make_customer("自己的", owner=consultant),
        "team": make_customer("同组的", owner=teammate),
        "other": make_customer("外组的", owner=outsider, project=project_b),
    }


def names(user):
    return set(customers_visible_to(user).values_list("name", flat=True))


def test_consultant_sees_only_own_customers(customers, consultant):
    assert names(consultant) == {"自己的"}


def test_team_leader_sees_the_teams_customers(customers, leader):
    assert names(leader) == {"自己的", "同组的"}


def test_service_specialist_sees_the_projects_customers(customers, service):
    assert names(service) == {"自己的", "同组的"}


def test_director_sees_every_project_they_belong_to(customers, director):
    assert names(director) == {"自己的", "同组的", "外组的"}


def test_supervisor_sees_the_whole_company(customers, supervisor):
    assert names(supervisor) == {"自己的", "同组的", "外组的"}


def test_approver_sees_no_customer_data(customers, approver):
    assert names(approver) == set()


def test_vip_advisor_sees_the_customer_they_advise(customers, outsider, make_customer, consultant):
    vip = make_customer("贵宾", owner=consultant, is_vip=True, advisor=outsider)
    assert vip.name in names(outsider)


def test_outsider_gets_404_on_another_teams_customer_page(customers, login, outsider):
    response = login(outsider).get(f"/customers/{customers['mine'].pk}/")
    assert response.status_code == 404
