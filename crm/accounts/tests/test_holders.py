"""holders_of: who holds a permission, in a company and optionally a project."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from crm.accounts.access import holders_of
from crm.accounts.models import Company
from crm.accounts.roles import Role


def test_holders_are_the_active_staff_of_the_company_with_the_permission_through_a_role(
    company, service, director, consultant, make_staff, project
):
    gone = make_staff("gone", Role.SERVICE, projects=(project,))
    gone.is_active = False
    gone.save()
    names = set(holders_of("service.add_inspection", company=company).values_list("username", flat=True))
    assert names == {"service", "director"}
    assert gone.username not in names


def test_another_companys_holders_are_not_counted(company, service):
    other = Company.objects.create(name="别家公司")
    assert holders_of("service.add_inspection", company=other).count() == 0
    assert list(holders_of("service.add_inspection", company=company.pk)) == [service]


def test_a_permission_granted_to_one_person_counts_as_well_as_a_superuser(company, consultant, admin_user):
    consultant.user_permissions.add(Permission.objects.get(codename="lead_holiday_duty"))
    names = set(holders_of("service.lead_holiday_duty", company=company).values_list("username", flat=True))
    assert names == {"consultant", "admin"}


def test_with_a_project_only_those_who_work_on_it_or_see_the_company(
    company, project, project_b, service, director, supervisor, make_staff
):
    make_staff("service_b", Role.SERVICE, projects=(project_b,))
    on_b = set(
        holders_of("service.view_inspection", company=company, project=project_b).values_list("username", flat=True)
    )
    # 行政主管 sees the whole company; 客服专员 of project A does not work on B.
    assert on_b == {"service_b", "director", supervisor.username}
    on_a = holders_of("service.view_inspection", company=company, project=project)
    assert on_a.filter(username="service").exists()
    assert not on_a.filter(username="service_b").exists()


def test_each_holder_appears_once(company, director):
    # The director holds the permission through a role and personally as well.
    director.user_permissions.add(Permission.objects.get(codename="export_inspection"))
    assert list(holders_of("service.export_inspection", company=company, project=None)) == [director]
