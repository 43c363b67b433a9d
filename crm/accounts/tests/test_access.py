"""The one access rule (crm.accounts.access): every persona against every kind of row.

The table lists, for each persona, exactly which of the customers below they see. The
same table checks the SQL rule (``scope_q`` through ``customers_visible_to``) and the
in-Python rule (``may_see_row``), so the two can never drift apart.
"""

import pytest

from crm.accounts import access
from crm.accounts.models import Company
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.customers.selectors import customers_visible_to
from crm.projects.models import Project


@pytest.fixture
def world(
    make_customer,
    make_staff,
    consultant,
    teammate,
    leader,
    outsider,
    service,
    director,
    supervisor,
    approver,
    admin_user,
    teams,
    project,
    project_b,
):
    other_company = Company.objects.create(name="别家置业")
    other_project = Project.objects.create(company=other_company, name="别家楼盘", code="BJ", city="郑州")
    stranger = create_staff(
        "stranger", company=other_company, roles=(Role.CONSULTANT,), projects=(other_project,), password="x-pass-123"
    )
    people = {
        "consultant": consultant,
        "teammate": teammate,
        "leader": leader,
        "outsider": outsider,
        "service": service,
        "director": director,
        "supervisor": supervisor,
        "approver": approver,
        "admin": admin_user,
        "duty": make_staff("duty", Role.DUTY, projects=(project,)),
        "analyst": make_staff("analyst", Role.ANALYST),
        "management": make_staff("management", Role.MANAGEMENT),
        # Two roles: a consultant of project B also made 客服专员 of project A keeps their own
        # customers in B (the union of the scopes, not only the wider one).
        "two_roles": make_staff("two_roles", Role.CONSULTANT, Role.SERVICE, team=teams[1], projects=(project,)),
        # A project-scope role in team 1: sees what a team member advises as VIP advisor.
        "team_director": make_staff("team_director", Role.DIRECTOR, team=teams[0], projects=()),
        "stranger": stranger,
    }
    customers = {
        "mine": make_customer("自己的", owner=consultant),
        "team": make_customer("同组的", owner=teammate),
        "other": make_customer("外组的", owner=outsider, project=project_b),
        "advised": make_customer("同组顾问服务的", owner=outsider, project=project_b, is_vip=True, advisor=teammate),
        "second_job": make_customer("兼任者自己的", owner=people["two_roles"], project=project_b),
    }
    return people, customers


EVERYONE = {"mine", "team", "other", "advised", "second_job"}

VISIBLE = {
    "consultant": {"mine"},
    "teammate": {"team", "advised"},
    "leader": {"mine", "team", "advised"},
    "outsider": {"other", "advised"},
    "service": {"mine", "team"},
    "duty": {"mine", "team"},
    "director": EVERYONE,
    "supervisor": EVERYONE,
    "analyst": EVERYONE,
    "management": EVERYONE,
    "admin": EVERYONE,
    "approver": set(),
    "two_roles": {"mine", "team", "second_job"},
    "team_director": {"advised"},
    "stranger": set(),
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_sees_exactly_their_rows(world, persona):
    people, customers = world
    user = people[persona]
    seen = set(customers_visible_to(user).values_list("pk", flat=True))
    assert {key for key, c in customers.items() if c.pk in seen} == VISIBLE[persona]


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_the_row_rule_agrees_with_the_query_rule(world, persona):
    people, customers = world
    user = people[persona]
    for key, c in customers.items():
        allowed = access.may_see_row(
            user, company_id=c.company_id, owner_id=c.owner_id, advisor_id=c.advisor_id, project_id=c.project_id
        )
        assert allowed is (key in VISIBLE[persona]), key


def test_every_role_is_in_the_table(world):
    people, _ = world
    covered = {role for user in people.values() for role in user.roles}
    assert covered == set(Role)


def test_the_owner_filter_offers_the_staff_on_the_scopes_staff_side(world, project):
    people, _ = world
    from crm.accounts.models import User

    def staff(persona):
        return set(User.objects.filter(access.staff_in_scope_q(people[persona])).distinct())

    team0 = set(User.objects.filter(team=people["consultant"].team))
    team1 = set(User.objects.filter(team=people["outsider"].team))
    project_a = set(User.objects.filter(projects=project))
    assert staff("consultant") == {people["consultant"]}
    assert staff("leader") == team0
    assert staff("service") == project_a
    assert staff("two_roles") == team1 | project_a
    assert staff("supervisor") == set(User.objects.filter(company=people["supervisor"].company))
    assert staff("approver") == set()


def test_a_consultant_may_hand_customers_only_to_themselves(world):
    people, _ = world
    from crm.accounts.models import User

    consultant = people["consultant"]
    assert list(User.objects.filter(access.assignable_owners_q(consultant))) == [consultant]
    leader = people["leader"]
    assert set(User.objects.filter(access.assignable_owners_q(leader))) == set(
        User.objects.filter(team=leader.team, is_active=True)
    )
    two_roles = people["two_roles"]
    assert (
        User.objects.filter(access.assignable_owners_q(two_roles)).count()
        == User.objects.filter(company=two_roles.company, is_active=True).count()
    )


def test_projects_follow_membership_unless_the_role_sees_the_company(world, project, project_b):
    people, _ = world
    projects = lambda user: set(Project.objects.filter(access.project_q(user)))  # noqa: E731
    assert projects(people["service"]) == {project}
    assert projects(people["supervisor"]) == {project, project_b}
    assert projects(people["stranger"]) == set(Project.objects.filter(company=people["stranger"].company))
    assert projects(people["approver"]) == set()
    # A permission can widen it (综合组 approves every project's messages).
    assert projects_with(people["approver"], "care.approve_draft") == {project, project_b}


def projects_with(user, perm):
    return set(Project.objects.filter(access.project_q(user, wide_permissions=(perm,))))


def test_an_inactive_user_sees_nothing(world):
    people, _ = world
    user = people["supervisor"]
    user.is_active = False
    assert not customers_visible_to(user).exists()


def test_the_outsider_gets_404_on_another_teams_customer_page(world, login):
    people, customers = world
    response = login(people["outsider"]).get(f"/customers/{customers['mine'].pk}/")
    assert response.status_code == 404
