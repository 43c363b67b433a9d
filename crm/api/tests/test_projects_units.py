"""Projects and units: read-only, the caller's company and projects only."""

from __future__ import annotations

import pytest

from crm.accounts.models import Company
from crm.projects.models import Project, Unit

from .utils import has_chinese


@pytest.fixture
def foreign_project(db):
    other = Company.objects.create(name="别家地产")
    return Project.objects.create(company=other, name="别家花园", code="BJHY")


def project_names(response):
    assert response.status_code == 200
    return {p["name"] for p in response.json()["results"]}


def test_consultant_sees_the_projects_they_work_on(api, consultant, project, project_b, foreign_project):
    assert project_names(api(consultant).get("/api/projects/")) == {"锦华苑"}


def test_director_sees_both_projects(api, director, project, project_b, foreign_project):
    assert project_names(api(director).get("/api/projects/")) == {"锦华苑", "滨江御府"}


def test_company_wide_roles_see_every_project_of_their_company_only(
    api, supervisor, project, project_b, foreign_project
):
    assert project_names(api(supervisor).get("/api/projects/")) == {"锦华苑", "滨江御府"}


def test_a_project_outside_scope_is_404(api, consultant, project_b, foreign_project):
    client = api(consultant)
    assert client.get(f"/api/projects/{project_b.pk}/").status_code == 404
    assert client.get(f"/api/projects/{foreign_project.pk}/").status_code == 404


def test_projects_are_read_only(api, admin_user, project):
    client = api(admin_user)
    assert client.post("/api/projects/", {"name": "新盘"}, format="json").status_code == 405
    assert client.patch(f"/api/projects/{project.pk}/", {"name": "改名"}, format="json").status_code == 405
    project.refresh_from_db()
    assert project.name == "锦华苑"


def test_units_filter_by_project_and_status(api, director, make_unit, project, project_b):
    make_unit(number="101")
    make_unit(number="102", status=Unit.Status.SOLD)
    make_unit(project=project_b, number="201")
    client = api(director)

    def numbers(params):
        response = client.get("/api/units/", params)
        assert response.status_code == 200
        return {u["number"] for u in response.json()["results"]}

    assert numbers({}) == {"101", "102", "201"}
    assert numbers({"project": project.pk}) == {"101", "102"}
    assert numbers({"status": "available"}) == {"101", "201"}
    assert numbers({"project": project.pk, "status": "sold"}) == {"102"}


def test_unit_detail_has_its_label(api, consultant, unit):
    body = api(consultant).get(f"/api/units/{unit.pk}/").json()
    assert body["label"] == "1号楼-1801"
    assert body["building"] == "1号楼"
    assert body["status"] == "available"


def test_units_of_other_projects_are_hidden(api, outsider, unit):
    client = api(outsider)
    assert client.get("/api/units/").json()["results"] == []
    assert client.get(f"/api/units/{unit.pk}/").status_code == 404


@pytest.mark.parametrize(("param", "value"), [("status", "haunted"), ("project", "x")])
def test_malformed_unit_filters_are_400(api, consultant, unit, param, value):
    response = api(consultant).get("/api/units/", {param: value})
    assert response.status_code == 400
    assert has_chinese(response.json()[param])


def test_approver_sees_no_units(api, approver, unit):
    assert api(approver).get("/api/units/").status_code == 403


def test_units_are_listed_in_natural_order(api, consultant, project):
    from crm.projects.models import Building

    for building, numbers in (("10号楼", ["101"]), ("1号楼", ["1303", "704", "1801"]), ("2号楼", ["2001"])):
        block = Building.objects.create(project=project, name=building)
        for number in numbers:
            Unit.objects.create(project=project, building=block, number=number)
    response = api(consultant).get("/api/units/")
    assert [u["label"] for u in response.json()["results"]] == [
        "1号楼-704",
        "1号楼-1303",
        "1号楼-1801",
        "2号楼-2001",
        "10号楼-101",
    ]
