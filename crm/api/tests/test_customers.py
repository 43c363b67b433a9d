"""Customers over the API: scope, masking, search, filters, create and edit."""

from __future__ import annotations

import json

import pytest

from crm.core.models import AuditLog
from crm.customers.models import Customer, Tag

from .utils import has_chinese


@pytest.fixture
def people(make_customer, consultant, teammate, outsider, project_b):
    return {
        "mine": make_customer("张三", owner=consultant, mobile="13812345678", mobile2="13698765432"),
        "team": make_customer("李四", owner=teammate),
        "other": make_customer("王五", owner=outsider, project=project_b),
    }


def names(response):
    assert response.status_code == 200, response.content
    return {c["name"] for c in response.json()["results"]}


def new_customer(project_, /, **overrides):
    data = {"name": "赵六", "mobile": "13900001111", "project": project_.pk, "source_channel": "visit"}
    data.update(overrides)
    return data


# ------------------------------------------------------------------ scope


def test_consultant_lists_only_own_customers(api, people, consultant):
    assert names(api(consultant).get("/api/customers/")) == {"张三"}


def test_team_leader_lists_the_teams_customers(api, people, leader):
    assert names(api(leader).get("/api/customers/")) == {"张三", "李四"}


def test_director_lists_every_project_they_belong_to(api, people, director):
    assert names(api(director).get("/api/customers/")) == {"张三", "李四", "王五"}


def test_outsider_gets_404_on_the_consultants_customer(api, people, outsider):
    response = api(outsider).get(f"/api/customers/{people['mine'].pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "不存在或无权查看。"}
    assert "张三" not in response.content.decode()


def test_a_missing_customer_reads_like_one_outside_scope(api, people, outsider):
    response = api(outsider).get("/api/customers/99999999999999999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "不存在或无权查看。"}


def test_outsider_does_not_find_the_consultants_customer(api, people, outsider):
    client = api(outsider)
    assert names(client.get("/api/customers/")) == {"王五"}
    for text in ("张三", "5678", people["mine"].number):
        assert names(client.get("/api/customers/", {"search": text})) == set()


def test_approver_has_no_customer_data(api, people, approver):
    client = api(approver)
    assert client.get("/api/customers/").status_code == 403
    assert client.get(f"/api/customers/{people['mine'].pk}/").status_code == 403
    assert client.post("/api/customers/", {}, format="json").status_code == 403


def test_archived_customers_leave_the_list_but_stay_reachable_by_id(api, people, consultant):
    Customer.objects.filter(pk=people["mine"].pk).update(is_archived=True)
    client = api(consultant)
    assert names(client.get("/api/customers/")) == set()
    detail = client.get(f"/api/customers/{people['mine'].pk}/")
    assert detail.status_code == 200
    assert detail.json()["is_archived"] is True


# ------------------------------------------------------------------ masking


def test_list_masks_mobiles(api, people, consultant):
    response = api(consultant).get("/api/customers/")
    [row] = response.json()["results"]
    assert row["mobile"] == "138****5678"
    assert row["mobile2"] == "136****5432"
    assert "13812345678" not in response.content.decode()
    assert "13698765432" not in response.content.decode()


def test_detail_masks_mobiles(api, people, consultant):
    response = api(consultant).get(f"/api/customers/{people['mine'].pk}/")
    assert response.status_code == 200
    assert response.json()["mobile"] == "138****5678"
    assert response.json()["mobile2"] == "136****5432"
    assert "13812345678" not in response.content.decode()


def test_detail_has_the_documented_fields(api, people, consultant, project):
    tag = Tag.objects.create(company=consultant.company, name="高意向")
    people["mine"].tags.add(tag)
    body = api(consultant).get(f"/api/customers/{people['mine'].pk}/").json()
    assert body["number"] == people["mine"].number
    assert body["project"] == project.pk
    assert body["owner"] == consultant.pk
    assert body["tags"] == ["高意向"]
    assert body["stage"] == "prospect"
    assert {"grade", "is_vip", "source_channel", "birthday_on", "consent_care", "consent_marketing"} <= set(body)
    assert {"has_opted_out", "created_at"} <= set(body)


# ------------------------------------------------------------------ search and filters


@pytest.mark.parametrize("text", ["5678", "张", "张三"])
def test_search_by_mobile_fragment_or_name(api, people, director, text):
    assert names(api(director).get("/api/customers/", {"search": text})) == {"张三"}


def test_search_by_backup_mobile_fragment(api, people, consultant):
    assert names(api(consultant).get("/api/customers/", {"search": "5432"})) == {"张三"}


def test_search_by_customer_number(api, people, director):
    number = people["team"].number
    assert names(api(director).get("/api/customers/", {"search": number})) == {"李四"}
    assert names(api(director).get("/api/customers/", {"search": number.lower()})) == {"李四"}


def test_filters_by_stage_grade_project_and_owner(api, people, director, teammate, project_b):
    Customer.objects.filter(pk=people["team"].pk).update(stage="interested", grade="A")
    client = api(director)
    assert names(client.get("/api/customers/", {"stage": "interested"})) == {"李四"}
    assert names(client.get("/api/customers/", {"grade": "A"})) == {"李四"}
    assert names(client.get("/api/customers/", {"project": project_b.pk})) == {"王五"}
    assert names(client.get("/api/customers/", {"owner": teammate.pk})) == {"李四"}


@pytest.mark.parametrize(
    ("param", "value"),
    [("stage", "lost"), ("grade", "Z"), ("project", "abc"), ("owner", "999999"), ("search", "张\x00")],
)
def test_malformed_filters_are_400_on_the_parameter(api, people, director, param, value):
    response = api(director).get("/api/customers/", {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]
    assert has_chinese(response.json())


def test_a_project_outside_the_callers_scope_is_not_a_valid_filter(api, people, consultant, project_b):
    response = api(consultant).get("/api/customers/", {"project": project_b.pk})
    assert response.status_code == 400
    assert "project" in response.json()


# ------------------------------------------------------------------ create


def test_consultant_registers_a_customer_for_themselves(api, consultant, project):
    data = new_customer(project, mobile="+86 139-0000-1111", birthday_on="1985-09-23", consent_care=True)
    response = api(consultant).post("/api/customers/", data, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert customer.mobile == "13900001111"
    assert customer.owner == consultant
    assert customer.created_by == consultant
    assert customer.consents.get(purpose="care").source == "接口"
    assert body["mobile"] == "139****1111"
    assert body["number"].startswith("KH")
    assert body["owner"] == consultant.pk
    assert body["birthday_on"] == "1985-09-23"
    assert AuditLog.objects.filter(action=AuditLog.Action.CREATE, customer_id=customer.pk).exists()


def test_create_accepts_existing_tags_by_name(api, consultant, project):
    Tag.objects.create(company=consultant.company, name="高意向")
    response = api(consultant).post("/api/customers/", new_customer(project, tags=["高意向"]), format="json")
    assert response.status_code == 201
    assert response.json()["tags"] == ["高意向"]


def test_create_refuses_unknown_tags(api, consultant, project):
    response = api(consultant).post("/api/customers/", new_customer(project, tags=["不存在"]), format="json")
    assert response.status_code == 400
    assert "tags" in response.json()


def test_a_foreign_mobile_is_stored_in_e164_and_masked(api, consultant, project):
    response = api(consultant).post("/api/customers/", new_customer(project, mobile="+852 9123 4567"), format="json")
    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).mobile == "+85291234567"
    assert response.json()["mobile"] == "+852****4567"


def test_consultant_cannot_register_a_customer_for_a_teammate(api, consultant, teammate, project):
    response = api(consultant).post("/api/customers/", new_customer(project, owner=teammate.pk), format="json")
    assert response.status_code == 400
    assert response.json() == {"owner": ["您不能为其他员工录入客户"]}
    assert not Customer.objects.exists()


def test_team_leader_registers_a_customer_for_a_team_member(api, leader, teammate, project):
    response = api(leader).post("/api/customers/", new_customer(project, owner=teammate.pk), format="json")
    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).owner == teammate


def test_team_leader_cannot_register_for_another_team(api, leader, outsider, project):
    response = api(leader).post("/api/customers/", new_customer(project, owner=outsider.pk), format="json")
    assert response.status_code == 400
    assert "owner" in response.json()


@pytest.mark.parametrize("role", ["service", "supervisor"])
def test_roles_without_add_customer_cannot_register(api, request, project, role):
    user = request.getfixturevalue(role)
    response = api(user).post("/api/customers/", new_customer(project), format="json")
    assert response.status_code == 403
    assert has_chinese(response.json()["detail"])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mobile": "1381234"}, "mobile", "手机号"),
        ({"mobile": "12345678901"}, "mobile", "手机号"),
        ({"mobile": "+852 2123 4567"}, "mobile", "固定电话"),
        ({"mobile": "010-88886666"}, "mobile", "固定电话"),
        ({"mobile": ""}, "mobile", "不能为空"),
        ({"mobile2": "abc"}, "mobile2", "手机号"),
        ({"name": ""}, "name", "不能为空"),
        ({"name": "   "}, "name", "不能为空"),
        ({"name": "长" * 51}, "name", "50"),
        ({"project": 999999}, "project", "不存在"),
        ({"project": "abc"}, "project", ""),
        ({"source_channel": "tv"}, "source_channel", ""),
        ({"stage": "lost"}, "stage", ""),
        ({"birthday_on": "1985-13-45"}, "birthday_on", "日期"),
        ({"is_vip": "maybe"}, "is_vip", ""),
        ({"tags": "高意向"}, "tags", ""),
        ({"tags": ["高\x00"]}, "tags", ""),
        ({"tags": [1]}, "tags", ""),
        ({"mobile": "139\x0000001111"}, "mobile", ""),
        ({"project": 10**20}, "project", "不存在"),
    ],
)
def test_malformed_input_is_400_on_its_field(api, consultant, project, overrides, field, message):
    response = api(consultant).post("/api/customers/", new_customer(project, **overrides), format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [field]
    assert has_chinese(body[field])
    assert message in body[field][0]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("missing", ["name", "mobile", "project", "source_channel"])
def test_required_fields_are_reported_on_the_field(api, consultant, project, missing):
    data = new_customer(project)
    del data[missing]
    response = api(consultant).post("/api/customers/", data, format="json")
    assert response.status_code == 400
    assert has_chinese(response.json()[missing])


def test_a_project_outside_the_callers_scope_is_refused(api, consultant, project_b):
    response = api(consultant).post("/api/customers/", new_customer(project_b), format="json")
    assert response.status_code == 400
    assert "project" in response.json()


def test_non_json_body_is_400(api, consultant):
    response = api(consultant).post("/api/customers/", '{"name": "赵六",', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容不是有效的 JSON。"}


def test_a_json_list_instead_of_an_object_is_400(api, consultant):
    response = api(consultant).post("/api/customers/", json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400
    assert has_chinese(response.json()["non_field_errors"])


def test_an_unsupported_content_type_is_415_not_500(api, consultant):
    response = api(consultant).post("/api/customers/", "name=赵六", content_type="text/plain")
    assert response.status_code == 415
    assert has_chinese(response.json()["detail"])


def test_a_nul_character_is_refused(api, consultant, project):
    response = api(consultant).post("/api/customers/", new_customer(project, name="赵\x00六"), format="json")
    assert response.status_code == 400
    assert "name" in response.json()


# ------------------------------------------------------------------ duplicates


def test_duplicate_mobile_names_the_existing_customer_to_those_who_see_it(api, people, consultant, project):
    existing = people["mine"]
    response = api(consultant).post("/api/customers/", new_customer(project, mobile="138 1234 5678"), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "mobile": [f"手机号已属于客户 张三（{existing.number}）"],
        "existing_customer": {"id": existing.pk, "number": existing.number},
    }
    assert Customer.objects.count() == 3


def test_duplicate_of_a_backup_mobile_is_caught(api, people, consultant, project):
    response = api(consultant).post("/api/customers/", new_customer(project, mobile="13698765432"), format="json")
    assert response.status_code == 400
    assert response.json()["existing_customer"]["id"] == people["mine"].pk


def test_duplicate_mobile_does_not_reveal_another_teams_customer(api, people, outsider, project_b):
    existing = people["mine"]
    response = api(outsider).post("/api/customers/", new_customer(project_b, mobile="13812345678"), format="json")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["mobile"]
    assert has_chinese(body["mobile"])
    text = response.content.decode()
    assert "张三" not in text
    assert existing.number not in text


# ------------------------------------------------------------------ partial update


def test_patch_edits_the_record_through_the_service(api, people, consultant):
    customer = people["mine"]
    response = api(consultant).patch(
        f"/api/customers/{customer.pk}/", {"name": "张三丰", "mobile": "139 0000 2222", "grade": "A"}, format="json"
    )

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.name, customer.mobile, customer.grade) == ("张三丰", "13900002222", "A")
    assert response.json()["mobile"] == "139****2222"
    assert customer.events.filter(kind="edited").exists()


def test_patch_with_the_masked_number_it_was_shown_keeps_the_number(api, people, consultant):
    customer = people["mine"]
    client = api(consultant)
    shown = client.get(f"/api/customers/{customer.pk}/").json()
    response = client.patch(
        f"/api/customers/{customer.pk}/", {"mobile": shown["mobile"], "mobile2": shown["mobile2"]}, format="json"
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.mobile, customer.mobile2) == ("13812345678", "13698765432")


def test_patch_stage_writes_a_stage_event(api, people, consultant):
    customer = people["mine"]
    response = api(consultant).patch(f"/api/customers/{customer.pk}/", {"stage": "interested"}, format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == "interested"
    assert customer.events.filter(kind="stage").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "+852 2123 4567"}, "mobile"),
        ({"mobile": "138****0000"}, "mobile"),
        ({"name": ""}, "name"),
        ({"project": 999999}, "project"),
        ({"birthday_on": "not-a-date"}, "birthday_on"),
    ],
)
def test_patch_validation_errors_are_400_on_the_field(api, people, consultant, data, field):
    customer = people["mine"]
    response = api(consultant).patch(f"/api/customers/{customer.pk}/", data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert has_chinese(response.json())
    customer.refresh_from_db()
    assert customer.name == "张三"
    assert customer.mobile == "13812345678"


def test_patch_to_a_mobile_of_another_customer_is_a_duplicate(api, people, leader):
    response = api(leader).patch(
        f"/api/customers/{people['team'].pk}/", {"mobile": people["mine"].mobile}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["existing_customer"]["id"] == people["mine"].pk


def test_patch_does_not_change_owner_or_consent(api, people, consultant, teammate):
    customer = people["mine"]
    response = api(consultant).patch(
        f"/api/customers/{customer.pk}/", {"owner": teammate.pk, "consent_marketing": True}, format="json"
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.owner == consultant
    assert customer.consent_marketing is False


def test_outsider_gets_404_when_patching_the_consultants_customer(api, people, outsider):
    customer = people["mine"]
    response = api(outsider).patch(f"/api/customers/{customer.pk}/", {"name": "改名"}, format="json")
    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.name == "张三"


def test_service_specialist_may_edit_but_supervisor_may_not(api, people, service, supervisor):
    customer = people["mine"]
    assert api(service).patch(f"/api/customers/{customer.pk}/", {"grade": "B"}, format="json").status_code == 200
    assert api(supervisor).patch(f"/api/customers/{customer.pk}/", {"grade": "A"}, format="json").status_code == 403
    customer.refresh_from_db()
    assert customer.grade == "B"


@pytest.mark.parametrize("method", ["put", "delete"])
def test_customers_cannot_be_replaced_or_deleted(api, people, admin_user, method):
    response = getattr(api(admin_user), method)(f"/api/customers/{people['mine'].pk}/", {}, format="json")
    assert response.status_code == 405
    assert Customer.objects.filter(pk=people["mine"].pk).exists()
