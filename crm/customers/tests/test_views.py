"""The customer pages: list, search and filters, registration, the 360° page, reveal,
bulk actions, merge, archive and consent — told through the personas of conftest.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.core.models import AuditLog
from crm.customers import archive
from crm.customers.models import (
    ArchiveReason,
    ConsentRecord,
    Customer,
    CustomerProfile,
    Deal,
    FamilyMember,
    Stage,
    Tag,
    TimelineEvent,
)
from crm.customers.services import add_family_member, add_note, create_deal

LIST = reverse("customers:list")
CREATE = reverse("customers:create")
BULK = reverse("customers:bulk")


def names_in(response) -> set[str]:
    return {c.name for c in response.context["page"].object_list}


@pytest.fixture
def form_data(project):
    def build(**overrides):
        return _form_data(**{"project": project.pk, **overrides})

    return build


def _form_data(**overrides):
    data = {
        "name": "王五",
        "gender": "M",
        "mobile": "13700001234",
        "stage": Stage.PROSPECT,
        "grade": "B",
        "source_channel": "phone",
        "notes": "看中三室户型",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- list: scope, search, filters


def test_outsider_never_sees_the_consultants_customers(login, make_customer, outsider, project_b):
    make_customer("张三")
    make_customer("外组客户", owner=outsider, project=project_b)
    response = login(outsider).get(LIST)
    assert names_in(response) == {"外组客户"}
    assert "张三" not in response.content.decode()


def test_outsider_search_cannot_find_the_consultants_customer_by_mobile(login, customer, outsider):
    response = login(outsider).get(LIST, {"q": "5678"})
    assert names_in(response) == set()


@pytest.mark.parametrize("query", ["5678", "张", "number"])
def test_search_finds_a_customer_by_mobile_fragment_surname_or_number(login, consultant, make_customer, query):
    zhang = make_customer("张三", mobile="13812345678")
    make_customer("李四", mobile="13900001111")
    if query == "number":
        query = zhang.number
    response = login(consultant).get(LIST, {"q": query})
    assert names_in(response) == {"张三"}


def test_search_finds_a_backup_mobile_fragment_and_not_customers_without_one(login, consultant, make_customer):
    make_customer("王五", mobile="13811110000", mobile2="15922226789")
    make_customer("赵六", mobile="13933330000")
    client = login(consultant)
    assert names_in(client.get(LIST, {"q": "6789"})) == {"王五"}
    assert names_in(client.get(LIST, {"q": "0000"})) == {"王五", "赵六"}


def test_the_list_shows_masked_mobiles_only(login, consultant, customer):
    body = login(consultant).get(LIST).content.decode()
    assert "138****5678" in body
    assert "13812345678" not in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "A"}, {"A级"}),
        ({"vip": "1"}, {"贵宾"}),
        ({"stage": "interested"}, {"意向"}),
        ({"source_channel": "website"}, {"官网来的"}),
        ({"created": "week"}, {"A级", "贵宾", "意向", "官网来的"}),
        ({"archived": "1"}, {"无效"}),
    ],
)
def test_list_filters(login, consultant, make_customer, params, expected):
    make_customer("A级", grade="A")
    make_customer("贵宾", is_vip=True)
    make_customer("意向", stage=Stage.INTERESTED)
    make_customer("官网来的", source_channel="website")
    old = make_customer("老客户")
    Customer.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    invalid = make_customer("无效")
    Customer.objects.filter(pk=invalid.pk).update(created_at=timezone.now() - timedelta(days=40), is_archived=True)
    response = login(consultant).get(LIST, params)
    assert names_in(response) == expected


def test_archived_customers_are_hidden_from_the_default_list(login, consultant, make_customer):
    make_customer("有效")
    invalid = make_customer("无效")
    Customer.objects.filter(pk=invalid.pk).update(is_archived=True)
    assert names_in(login(consultant).get(LIST)) == {"有效"}


def test_owner_project_and_tag_filters(login, leader, consultant, teammate, make_customer, company):
    tag = Tag.objects.create(company=company, name="学区需求")
    mine = make_customer("顾问的", owner=consultant)
    mine.tags.add(tag)
    make_customer("同组的", owner=teammate)
    client = login(leader)
    assert names_in(client.get(LIST, {"owner": teammate.pk})) == {"同组的"}
    assert names_in(client.get(LIST, {"tag": tag.pk})) == {"顾问的"}
    assert names_in(client.get(LIST, {"project": mine.project_id})) == {"顾问的", "同组的"}


def test_the_owner_filter_offers_only_consultants_in_scope(login, consultant, outsider, make_customer, project_b):
    make_customer("外组客户", owner=outsider, project=project_b)
    make_customer("张三")
    owners = list(login(consultant).get(LIST).context["filters"].fields["owner"].queryset)
    assert owners == [consultant]


@pytest.mark.parametrize(
    "params",
    [
        {"grade": "Z"},
        {"owner": "abc"},
        {"project": "999999"},
        {"page": "999"},
        {"page": "x"},
        {"per_page": "7"},
        {"sort": "password"},
        {"created": "century"},
        {"q": "x" * 200},
    ],
)
def test_bad_query_parameters_never_break_the_list(login, consultant, customer, params):
    response = login(consultant).get(LIST, params)
    assert response.status_code == 200
    assert names_in(response) == {"张三"}


def test_sorting_by_name_and_grade(login, consultant, make_customer):
    make_customer("b客户", grade="C")
    make_customer("a客户", grade="A")
    make_customer("c客户", grade="B")
    client = login(consultant)
    by_name = [c.name for c in client.get(LIST, {"sort": "name"}).context["page"]]
    assert by_name == ["a客户", "b客户", "c客户"]
    by_grade = [c.grade for c in client.get(LIST, {"sort": "-grade"}).context["page"]]
    assert by_grade == ["C", "B", "A"]


def test_page_size_is_selectable(login, consultant, make_customer):
    for i in range(30):
        make_customer(f"客户{i}")
    client = login(consultant)
    assert len(client.get(LIST).context["page"].object_list) == 25
    assert len(client.get(LIST, {"per_page": 50}).context["page"].object_list) == 30


def test_the_list_query_count_does_not_grow_with_the_page_size(login, consultant, make_customer, company, unit):
    tags = [Tag.objects.create(company=company, name=f"标签{i}") for i in range(3)]
    for i in range(110):
        customer = make_customer(f"客户{i}")
        customer.tags.add(tags[i % 3])
    client = login(consultant)
    client.get(LIST)  # warm up the session
    counts = {}
    for size in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"per_page": size, "sort": "name"})
        assert len(response.context["page"].object_list) == size
        counts[size] = len(queries)
    assert counts[25] == counts[100]
    assert counts[100] <= 15


def test_the_list_links_to_export_with_the_current_filters(login, consultant, customer):
    body = login(consultant).get(LIST, {"grade": "A", "q": "张"}).content.decode()
    assert reverse("customers:export") + "?grade=A&amp;q=%E5%BC%A0" in body
    assert reverse("customers:deal_list") in body


# ---------------------------------------------------------------- create


def test_a_consultant_registers_a_customer(login, consultant, project, form_data):
    response = login(consultant).post(CREATE, form_data(mobile="137 0000 1234"))
    customer = Customer.objects.get(name="王五")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.mobile == "13700001234"
    assert customer.owner == consultant
    assert customer.project == project
    assert customer.events.filter(kind=TimelineEvent.Kind.CREATED).exists()


def test_a_bad_mobile_keeps_everything_typed_and_says_why(login, consultant, form_data):
    response = login(consultant).post(CREATE, form_data(mobile="12345"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "手机号" in form.errors["mobile"][0]
    body = response.content.decode()
    assert 'value="王五"' in body
    assert 'value="12345"' in body
    assert "看中三室户型" in body
    assert not Customer.objects.filter(name="王五").exists()


def test_a_foreign_mobile_is_accepted(login, consultant, form_data):
    response = login(consultant).post(CREATE, form_data(mobile="+85291234567"))
    assert response.status_code == 302
    assert Customer.objects.get(name="王五").mobile == "+85291234567"


def test_a_landline_is_rejected(login, consultant, form_data):
    response = login(consultant).post(CREATE, form_data(mobile="01088886666"))
    assert response.status_code == 200
    assert "固定电话" in response.context["form"].errors["mobile"][0]
    assert not Customer.objects.filter(name="王五").exists()


def test_a_missing_name_is_a_field_error(login, consultant, form_data):
    response = login(consultant).post(CREATE, form_data(name=""))
    assert response.context["form"].errors["name"] == ["请填写客户姓名"]
    assert 'value="13700001234"' in response.content.decode()


def test_a_bad_id_number_is_shown_on_its_field(login, consultant, form_data):
    response = login(consultant).post(CREATE, form_data(id_number="110101199001011230"))
    assert response.status_code == 200
    assert "身份证号" in response.context["form"].errors["id_number"][0]


def test_a_duplicate_mobile_shows_the_existing_customer(login, consultant, customer, form_data):
    response = login(consultant).post(CREATE, form_data(mobile="138-1234-5678"))
    assert response.status_code == 200
    body = response.content.decode()
    assert customer.number in body
    assert "138****5678" in body
    assert "合并到已有客户" in body
    assert reverse("customers:detail", args=[customer.pk]) in body
    assert Customer.objects.count() == 1


def test_a_duplicate_of_another_teams_customer_reveals_nothing(login, outsider, customer, form_data, project_b):
    response = login(outsider).post(CREATE, form_data(mobile="13812345678", project=project_b.pk))
    body = response.content.decode()
    assert "已存在，请联系主管" in body
    assert "其他置业顾问" not in body
    assert customer.number not in body
    assert "张三" not in body
    assert "合并到已有客户" not in body


def test_merging_a_duplicate_registration_adds_to_the_existing_record(login, consultant, customer):
    response = login(consultant).post(
        CREATE,
        {
            "merge_into": customer.pk,
            "name": "张三丰",
            "mobile": "13812345678",
            "source_channel": "event",
            "notes": "活动现场",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.count() == 1
    event = customer.events.get(kind=TimelineEvent.Kind.MERGED)
    assert "活动现场" in event.summary


def test_merging_after_changing_the_mobile_shows_the_form_again(login, consultant, customer):
    data = {"merge_into": customer.pk, "name": "张三丰", "mobile": "13900000000", "source_channel": "event"}
    response = login(consultant).post(CREATE, data)
    assert response.status_code == 200
    assert "手机号已修改，与所选客户不再重复，请重新提交" in response.content.decode()
    assert not customer.events.filter(kind=TimelineEvent.Kind.MERGED).exists()


def test_merge_intake_into_an_invisible_customer_is_a_404(login, outsider, customer):
    response = login(outsider).post(CREATE, {"merge_into": customer.pk, "name": "x", "mobile": "13812345678"})
    assert response.status_code == 404
    assert not customer.events.filter(kind=TimelineEvent.Kind.MERGED).exists()


def test_a_consultant_cannot_pick_another_owner_but_a_leader_can(login, consultant, leader, teammate, form_data):
    assert "owner" not in login(consultant).get(CREATE).context["form"].fields
    response = login(leader).post(CREATE, form_data(owner=teammate.pk))
    assert response.status_code == 302
    assert Customer.objects.get(name="王五").owner == teammate


def test_a_leader_cannot_hand_a_new_customer_to_another_team(login, leader, outsider, form_data):
    response = login(leader).post(CREATE, form_data(owner=outsider.pk))
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors


def test_the_referrer_is_found_by_customer_number(login, consultant, customer, form_data):
    response = login(consultant).post(
        CREATE, form_data(referrer_number=customer.number.lower(), source_channel="referral")
    )
    assert response.status_code == 302
    assert Customer.objects.get(name="王五").referrer == customer


def test_an_unknown_referrer_number_is_a_field_error(login, consultant, form_data):
    response = login(consultant).post(CREATE, form_data(referrer_number="KH99999999"))
    assert "KH99999999" in response.context["form"].errors["referrer_number"][0]


def test_a_service_specialist_cannot_register_customers(login, service):
    assert login(service).get(CREATE).status_code == 403


# ---------------------------------------------------------------- edit


def test_editing_keeps_the_mobile_when_left_blank(login, consultant, customer, form_data):
    url = reverse("customers:edit", args=[customer.pk])
    client = login(consultant)
    form_html = client.get(url).content.decode()
    assert "13812345678" not in form_html
    response = client.post(url, form_data(name="张三", mobile="", grade="A"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.mobile == "13812345678"
    assert customer.grade == "A"


def test_editing_to_another_customers_mobile_is_refused(login, consultant, customer, make_customer, form_data):
    other = make_customer("李四")
    response = login(consultant).post(
        reverse("customers:edit", args=[other.pk]),
        form_data(name="李四", mobile="13812345678"),
    )
    assert response.status_code == 200
    assert "mobile" in response.context["form"].errors
    other.refresh_from_db()
    assert other.mobile != "13812345678"


def test_the_id_number_is_never_prefilled(login, consultant, make_customer):
    customer = make_customer("有证件", id_number="11010519491231002X")
    body = login(consultant).get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert "11010519491231002X" not in body
    assert "1101**********002X" in body


# ---------------------------------------------------------------- scope on every page


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("customers:detail", "get"),
        ("customers:edit", "get"),
        ("customers:profile", "get"),
        ("customers:family_add", "get"),
        ("customers:reveal", "post"),
        ("customers:note_add", "post"),
        ("customers:consent", "post"),
    ],
)
def test_the_outsider_gets_404_on_another_teams_customer(login, outsider, customer, name, method):
    client = login(outsider)
    url = reverse(name, args=[customer.pk])
    response = (
        client.post(url, {"reason": "核对", "field": "mobile", "text": "x"}) if method == "post" else client.get(url)
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- the 360° page


def test_the_360_page_shows_the_customer_and_the_timeline(login, consultant, customer, unit):
    create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=timezone.localdate())
    add_note(customer, actor=consultant, text="客户想看样板间")
    body = login(consultant).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "138****5678" in body
    assert "13812345678" not in body
    assert "客户想看样板间" in body
    assert "新建客户" in body
    assert reverse("customers:deal_detail", args=[customer.deals.get().pk]) in body
    assert "显示完整号码" in body


def test_the_360_page_needs_few_queries(login, leader, consultant, customer, unit, company):
    customer.tags.add(Tag.objects.create(company=company, name="改善型"))
    create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=timezone.localdate())
    add_family_member(customer, actor=consultant, relation="spouse", name="李梅")
    for i in range(20):
        add_note(customer, actor=consultant, text=f"跟进{i}")
    client = login(leader)  # TEAM scope: the scope itself costs a query
    url = reverse("customers:detail", args=[customer.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert "李梅" in response.content.decode()
    # 11, and 2 for trust: was this customer opened within the hour (the scraping limit,
    # crm.customers.guard) and the company's privacy settings (the sensitive archive items).
    assert len(queries) <= 13


def test_without_reveal_permission_the_button_is_hidden_and_the_post_is_403(login, supervisor, customer):
    client = login(supervisor)
    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "显示完整号码" not in body
    response = client.post(reverse("customers:reveal", args=[customer.pk]), {"field": "mobile", "reason": "核对"})
    assert response.status_code == 403
    assert not AuditLog.objects.filter(action=AuditLog.Action.REVEAL).exists()


def test_reveal_requires_a_reason(login, consultant, customer):
    response = login(consultant).post(
        reverse("customers:reveal", args=[customer.pk]), {"field": "mobile", "reason": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "请填写查看事由" in body
    assert "13812345678" not in body
    assert not AuditLog.objects.filter(action=AuditLog.Action.REVEAL).exists()


def test_reveal_shows_the_number_and_writes_an_audit_row(login, consultant, customer):
    response = login(consultant).post(
        reverse("customers:reveal", args=[customer.pk]),
        {"field": "mobile", "reason": "客户来电核对"},
        HTTP_HX_REQUEST="true",
        REMOTE_ADDR="10.1.2.3",
    )
    assert "13812345678" in response.content.decode()
    assert "<html" not in response.content.decode()  # an HTMX fragment, not a page
    row = AuditLog.objects.get(action=AuditLog.Action.REVEAL)
    assert (row.actor, row.customer_id, row.reason, row.ip) == (consultant, customer.pk, "客户来电核对", "10.1.2.3")
    assert row.changes == {"field": "mobile"}


def test_reveal_without_htmx_renders_a_page(login, consultant, customer):
    response = login(consultant).post(
        reverse("customers:reveal", args=[customer.pk]), {"field": "mobile", "reason": "核对"}
    )
    assert "13812345678" in response.content.decode()
    assert "<html" in response.content.decode()


def test_reveal_is_post_only(login, consultant, customer):
    assert login(consultant).get(reverse("customers:reveal", args=[customer.pk])).status_code == 405


def test_a_note_is_added_to_the_timeline(login, consultant, customer):
    response = login(consultant).post(reverse("customers:note_add", args=[customer.pk]), {"text": "约周六看房"})
    assert response.status_code == 302
    assert customer.events.filter(kind=TimelineEvent.Kind.NOTE, summary="约周六看房").exists()


def test_an_empty_note_is_refused_on_the_page(login, consultant, customer):
    response = login(consultant).post(reverse("customers:note_add", args=[customer.pk]), {"text": "   "})
    assert response.status_code == 200
    assert "跟进内容不能为空" in response.content.decode()
    assert not customer.events.filter(kind=TimelineEvent.Kind.NOTE).exists()


def test_consent_is_withdrawn_at_once_and_recorded(login, consultant, make_customer):
    customer = make_customer("有授权", consent_care=True)
    response = login(consultant).post(
        reverse("customers:consent", args=[customer.pk]), {"purpose": "care", "granted": "0", "source": "电话确认"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.consent_care is False
    record = ConsentRecord.objects.get(customer=customer, is_granted=False)
    assert (record.purpose, record.is_granted, record.recorded_by) == ("care", False, consultant)


def test_a_family_member_is_added(login, consultant, customer):
    response = login(consultant).post(
        reverse("customers:family_add", args=[customer.pk]),
        {"relation": "spouse", "name": "李梅", "gender": "F", "birthday_on": "1988-05-06"},
    )
    assert response.status_code == 302
    member = FamilyMember.objects.get(customer=customer)
    assert (member.name, member.birth_mmdd) == ("李梅", "0506")


def test_a_childs_birthday_needs_the_guardians_consent(login, consultant, customer):
    url = reverse("customers:family_add", args=[customer.pk])
    client = login(consultant)
    response = client.post(url, {"relation": "child", "name": "小明", "birthday_on": "2015-05-06"})
    assert response.status_code == 200
    assert "监护人" in response.context["form"].errors["guardian_consent"][0]
    assert 'value="小明"' in response.content.decode()
    response = client.post(
        url, {"relation": "child", "name": "小明", "birthday_on": "2015-05-06", "guardian_consent": "on"}
    )
    assert response.status_code == 302
    assert FamilyMember.objects.get(customer=customer).guardian_consent_at is not None


# ---------------------------------------------------------------- the archive (客户信息档案)


def test_the_archive_layout_covers_every_profile_field_once():
    listed = [name for _, names in archive.ARCHIVE_GROUPS for name in names if name not in archive.CUSTOMER_FIELDS]
    model_fields = {f.name for f in CustomerProfile._meta.concrete_fields} - {
        "customer",
        "updated_at",
        "children_consent_at",
    }
    assert sorted(listed) == sorted(model_fields)
    assert len(archive.ARCHIVE_GROUPS) == 6


def test_a_blank_archive_counts_all_42_items_with_sensitive_fields_on(customer, settings):
    settings.ARCHIVE_SENSITIVE_FIELDS = True
    assert archive.completeness(customer, None) == (1, 42)  # the mobile is always known


def test_sensitive_archive_items_are_hidden_by_default(login, consultant, customer):
    body = login(consultant).get(reverse("customers:profile", args=[customer.pk])).content.decode()
    assert 'name="address"' in body
    assert 'name="parents_status"' not in body
    assert 'name="health"' not in body
    assert 'name="children_status"' not in body


def test_sensitive_archive_items_show_when_switched_on(login, consultant, customer, settings):
    settings.ARCHIVE_SENSITIVE_FIELDS = True
    body = login(consultant).get(reverse("customers:profile", args=[customer.pk])).content.decode()
    assert 'name="parents_status"' in body
    assert 'name="health"' in body


def test_saving_the_archive_ignores_hidden_sensitive_fields(login, consultant, customer):
    response = login(consultant).post(
        reverse("customers:profile", args=[customer.pk]),
        {"address": "郑州市金水区花园路88号", "health": "高血压", "parents_status": "父亲住院"},
    )
    assert response.status_code == 302
    profile = CustomerProfile.objects.get(customer=customer)
    assert profile.address == "郑州市金水区花园路88号"
    assert (profile.health, profile.parents_status) == ("", "")
    assert customer.events.filter(kind=TimelineEvent.Kind.EDITED, summary__contains="通讯地址").exists()


def test_childrens_data_needs_the_guardians_consent_when_enabled(login, consultant, customer, settings):
    settings.ARCHIVE_SENSITIVE_FIELDS = True
    url = reverse("customers:profile", args=[customer.pk])
    response = login(consultant).post(url, {"children_status": "女儿上小学"})
    assert response.status_code == 200
    assert "guardian_consent" in response.context["form"].errors
    assert not CustomerProfile.objects.filter(customer=customer).exclude(children_status="").exists()


def test_a_supervisor_sees_the_archive_read_only(login, supervisor, customer):
    client = login(supervisor)
    url = reverse("customers:profile", args=[customer.pk])
    assert "disabled" in client.get(url).content.decode()
    assert client.post(url, {"address": "x"}).status_code == 403


# ---------------------------------------------------------------- bulk actions


def test_bulk_reassign_writes_audit_and_timeline(login, leader, teammate, customer):
    response = login(leader).post(
        BULK, {"action": "reassign", "ids": [customer.pk], "new_owner": teammate.pk, "reason": "顾问休假"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.owner == teammate
    row = AuditLog.objects.get(action=AuditLog.Action.REASSIGN, customer_id=customer.pk)
    assert (row.actor, row.reason) == (leader, "顾问休假")
    assert customer.events.filter(kind=TimelineEvent.Kind.OWNER).exists()


def test_bulk_actions_ignore_ids_outside_the_users_scope(
    login, leader, teammate, customer, make_customer, outsider, project_b
):
    foreign = make_customer("外组客户", owner=outsider, project=project_b)
    login(leader).post(BULK, {"action": "reassign", "ids": [customer.pk, foreign.pk], "new_owner": teammate.pk})
    foreign.refresh_from_db()
    customer.refresh_from_db()
    assert customer.owner == teammate
    assert foreign.owner == outsider
    assert not AuditLog.objects.filter(customer_id=foreign.pk, action=AuditLog.Action.REASSIGN).exists()


def test_bulk_archive_ignores_ids_outside_the_users_scope(login, leader, customer, make_customer, outsider, project_b):
    foreign = make_customer("外组客户", owner=outsider, project=project_b)
    login(leader).post(
        BULK, {"action": "archive", "ids": [customer.pk, foreign.pk], "archive_reason": ArchiveReason.WRONG_NUMBER}
    )
    customer.refresh_from_db()
    foreign.refresh_from_db()
    assert customer.is_archived
    assert customer.archived_reason == ArchiveReason.WRONG_NUMBER
    assert not foreign.is_archived


def test_bulk_reassign_cannot_hand_customers_to_another_team(login, leader, outsider, customer):
    login(leader).post(BULK, {"action": "reassign", "ids": [customer.pk], "new_owner": outsider.pk})
    customer.refresh_from_db()
    assert customer.owner.username == "consultant"


def test_bulk_reassign_needs_the_permission(login, consultant, teammate, customer):
    response = login(consultant).post(BULK, {"action": "reassign", "ids": [customer.pk], "new_owner": teammate.pk})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.owner == consultant


def test_bulk_tag_adds_a_tag(login, consultant, customer, make_customer, company):
    other = make_customer("李四")
    tag = Tag.objects.create(company=company, name="团购")
    login(consultant).post(BULK, {"action": "tag", "ids": [customer.pk, other.pk], "tag": tag.pk})
    assert set(tag.customers.values_list("name", flat=True)) == {"张三", "李四"}


def test_bulk_without_a_selection_changes_nothing(login, leader, teammate, customer):
    response = login(leader).post(BULK, {"action": "reassign", "new_owner": teammate.pk}, follow=True)
    assert "请先勾选客户" in response.content.decode()
    customer.refresh_from_db()
    assert customer.owner.username == "consultant"


# ---------------------------------------------------------------- archive, restore, merge


def test_archiving_and_restoring_a_customer(login, leader, customer):
    client = login(leader)
    response = client.post(
        reverse("customers:dispose", args=[customer.pk]), {"reason": ArchiveReason.LOST, "note": "已在别处购房"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.is_archived, customer.archived_note) == (True, "已在别处购房")
    client.post(reverse("customers:restore", args=[customer.pk]))
    customer.refresh_from_db()
    assert customer.is_archived is False


def test_archiving_needs_a_reason(login, leader, customer):
    response = login(leader).post(reverse("customers:dispose", args=[customer.pk]), {"reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["请选择归档原因"]


def test_a_consultant_cannot_archive(login, consultant, customer):
    response = login(consultant).post(reverse("customers:dispose", args=[customer.pk]), {"reason": ArchiveReason.LOST})
    assert response.status_code == 403


def test_merge_moves_deals_after_confirmation(login, director, consultant, customer, make_customer, unit):
    duplicate = make_customer("张三(重复)")
    deal = create_deal(actor=consultant, customer=duplicate, unit=unit, subscribed_on=timezone.localdate())
    client = login(director)
    url = reverse("customers:merge", args=[customer.pk])
    preview = client.post(url, {"number": duplicate.number})
    assert "确认合并" in preview.content.decode()
    assert Deal.objects.get(pk=deal.pk).customer == duplicate
    response = client.post(url, {"number": duplicate.number, "confirm": "1"})
    assert response.status_code == 302
    assert Deal.objects.get(pk=deal.pk).customer == customer
    duplicate.refresh_from_db()
    assert (duplicate.is_archived, duplicate.merged_into) == (True, customer)


def test_merge_refuses_a_customer_the_user_cannot_see(
    login, customer, make_customer, make_staff, project, outsider, project_b
):
    from crm.accounts.roles import Role

    elsewhere = make_customer("外盘客户", owner=outsider, project=project_b)
    director_a = make_staff("director_a", Role.DIRECTOR, projects=(project,))
    response = login(director_a).post(
        reverse("customers:merge", args=[customer.pk]), {"number": elsewhere.number, "confirm": "1"}
    )
    assert response.status_code == 200
    assert "无权查看" in response.context["form"].errors["number"][0]
    elsewhere.refresh_from_db()
    assert elsewhere.merged_into is None


def test_merge_with_an_unknown_number_is_a_field_error(login, director, customer):
    response = login(director).post(
        reverse("customers:merge", args=[customer.pk]), {"number": "KH99999999", "confirm": "1"}
    )
    assert "KH99999999" in response.context["form"].errors["number"][0]


def test_a_consultant_cannot_merge(login, consultant, customer):
    assert login(consultant).get(reverse("customers:merge", args=[customer.pk])).status_code == 403


# ---------------------------------------------------------------- workbench


def test_every_workbench_count_matches_the_list_it_links_to(login, consultant, make_customer):
    make_customer("A级", grade="A", is_vip=True)
    make_customer("普通")
    old = make_customer("老客户", grade="A")
    Customer.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client = login(consultant)
    stats = client.get("/").context["card"]["customers"].stats
    assert [s.value for s in stats][:4] == [3, 2, 2, 1]
    for stat in stats:
        assert client.get(stat.url).context["page"].paginator.count == stat.value, stat.label


def test_an_approver_sees_no_customer_counts(login, approver, customer):
    response = login(approver).get("/")
    assert response.context["card"].get("customers") is None
    assert "您的角色不查看客户资料" in response.content.decode()


def test_a_duplicate_backup_mobile_is_shown_on_the_backup_field(login, consultant, customer, form_data):
    response = login(consultant).post(CREATE, form_data(mobile2="13812345678"))
    errors = response.context["form"].errors
    assert "mobile2" in errors
    assert "mobile" not in errors


def test_the_360_page_works_for_a_customer_without_an_archive_row(login, consultant, customer):
    CustomerProfile.objects.filter(customer=customer).delete()
    response = login(consultant).get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    assert response.context["archive_filled"] == 1


def test_a_merged_record_points_to_the_customer_it_was_merged_into(login, director, customer, make_customer):
    duplicate = make_customer("张三(重复)")
    client = login(director)
    client.post(reverse("customers:merge", args=[customer.pk]), {"number": duplicate.number, "confirm": "1"})
    body = client.get(reverse("customers:detail", args=[duplicate.pk])).content.decode()
    assert "该记录已合并到" in body
    assert reverse("customers:detail", args=[customer.pk]) in body
    assert "恢复为有效客户" not in body


GARBAGE = {
    "name": "x" * 300,
    "mobile": "+",
    "mobile2": "abc",
    "project": "abc",
    "owner": "-1",
    "advisor": "999999",
    "tags": ["x", "999999"],
    "stage": "boss",
    "grade": "S",
    "source_channel": "tv",
    "birthday_on": "2026-13-45",
    "birthday_is_lunar": "on",
    "lunar_month": "99",
    "lunar_day": "-3",
    "id_number": "<script>",
    "referrer_number": "' OR 1=1 --",
    "relation": "boss",
    "purpose": "spam",
    "granted": "maybe",
    "field": "password",
    "reason": "x" * 500,
    "text": "x" * 5000,
    "number": "\x00",
    "action": "drop",
    "ids": ["1; DROP TABLE", "-5"],
    "unit": "abc",
    "price": "one million",
    "subscribed_on": "yesterday",
    "move_in_kind": "teleport",
    "merge_into": "abc",
    "confirm": "yes",
}


def test_garbage_input_never_causes_a_server_error(login, admin_user, customer, consultant, unit):
    deal = create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=timezone.localdate())
    client = login(admin_user)
    client.raise_request_exception = True
    urls = [
        CREATE,
        BULK,
        reverse("customers:deal_create") + f"?customer={customer.pk}",
        reverse("customers:deal_detail", args=[deal.pk]),
        reverse("customers:deal_cancel", args=[deal.pk]),
        *(
            reverse(name, args=[customer.pk])
            for name in (
                "edit",
                "profile",
                "family_add",
                "note_add",
                "reveal",
                "consent",
                "dispose",
                "merge",
                "restore",
            )
            for name in [f"customers:{name}"]
        ),
    ]
    for url in urls:
        response = client.post(url, GARBAGE)
        assert response.status_code in {200, 302, 400, 404}, url
    customer.refresh_from_db()
    assert customer.name == "张三"
    assert customer.mobile == "13812345678"


def test_revealing_an_unregistered_id_number_writes_no_audit_row(login, consultant, customer):
    response = login(consultant).post(
        reverse("customers:reveal", args=[customer.pk]),
        {"field": "id_number", "reason": "核对"},
        HTTP_HX_REQUEST="true",
    )
    assert "该客户未登记此项" in response.content.decode()
    assert not AuditLog.objects.filter(action=AuditLog.Action.REVEAL).exists()


def test_revealing_the_id_number_decrypts_it(login, consultant, make_customer):
    customer = make_customer("有证件", id_number="11010519491231002X")
    response = login(consultant).post(
        reverse("customers:reveal", args=[customer.pk]),
        {"field": "id_number", "reason": "办理网签"},
        HTTP_HX_REQUEST="true",
    )
    assert "11010519491231002X" in response.content.decode()
    assert AuditLog.objects.get(action=AuditLog.Action.REVEAL).changes == {"field": "id_number"}


def _counted(queries: CaptureQueriesContext) -> bool:
    """Whether the customers were counted (the header's unread-notification COUNT is not)."""
    return any("COUNT(" in q["sql"].upper() and "customers_customer" in q["sql"] for q in queries.captured_queries)


def test_a_short_list_shows_its_total_without_counting(login, consultant, make_customer):
    for i in range(3):
        make_customer(f"客户{i}")
    client = login(consultant)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/customers/").content.decode()
    assert "共 3 位" in html
    assert "第 1 / 1 页" in html
    assert "/customers/count/" not in html
    assert not _counted(queries)


def test_a_long_list_shows_its_rows_first_and_fetches_its_capped_total_after(
    login, consultant, make_customer, monkeypatch
):
    from crm.customers.views import CappedPaginator

    for i in range(27):
        make_customer(f"客户{i}", grade="A" if i % 9 else "B")
    monkeypatch.setattr(CappedPaginator, "CAP", 20)
    client = login(consultant)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/customers/?grade=A&page=1").content.decode()
    assert not _counted(queries)
    assert html.count('name="ids"') == 24  # 24 customers of grade A, all on page 1
    assert "共 24 位" in html  # ... so the page itself is the last one and tells the total

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/customers/").content.decode()
    assert not _counted(queries)
    assert html.count('name="ids"') == 25
    assert 'hx-get="/customers/count/"' in html
    assert 'hx-trigger="load"' in html
    assert '<span id="pager-total"></span>' in html
    assert "下一页" in html

    total = client.get("/customers/count/", HTTP_HX_REQUEST="true").content.decode()
    assert "共 20+ 位" in total
    assert 'id="pager-total" hx-swap-oob="true"> / 1+' in total  # CAP // 25 pages, and more
    assert "超过 20 位时列表只显示“20+”，以便快速打开；准确人数请看工作台" in total


def test_the_workbench_says_its_counts_are_exact_and_how_fresh(login, consultant, director, settings, make_customer):
    make_customer("张三")
    settings.WORKBENCH_CACHE_SECONDS = 300
    mine = login(consultant).get("/").content.decode()
    assert "以上为准确人数；客户列表超过 1000 位时只显示“1000+”" in mine
    wide = login(director).get("/").content.decode()
    assert "以上为准确人数（约每 5 分钟更新一次）" in wide


def test_the_total_keeps_the_filters_and_the_scope(login, consultant, outsider, make_customer):
    for i in range(3):
        make_customer(f"甲{i}", grade="A")
    make_customer("乙", grade="B")
    for i in range(5):
        make_customer(f"外{i}", owner=outsider, grade="A")
    client = login(consultant)
    assert "共 4 位" in client.get("/customers/count/").content.decode()
    assert "共 3 位" in client.get("/customers/count/?grade=A&page=7").content.decode()
    assert "共 5 位" in login(outsider).get("/customers/count/?grade=A").content.decode()


def test_the_last_page_and_a_page_past_it_know_the_total(login, consultant, make_customer):
    for i in range(27):
        make_customer(f"客户{i}")
    client = login(consultant)
    html = client.get("/customers/?page=2").content.decode()
    assert html.count('name="ids"') == 2
    assert "共 27 位" in html
    assert "第 2 / 2 页" in html
    assert "/customers/count/" not in html
    html = client.get("/customers/?page=9").content.decode()
    assert html.count('name="ids"') == 2
    assert "第 2 / 2 页" in html
    html = client.get("/customers/?page=abc").content.decode()
    assert html.count('name="ids"') == 25
    assert "第 1" in html


def test_list_rows_and_options_escape_what_staff_typed(login, consultant, make_customer, company, project):
    customer = make_customer('<img src=x onerror="alert(1)">')
    tag = Tag.objects.create(company=company, name="<b>重点</b>")
    customer.tags.add(tag)
    project.name = "山水&<i>苑</i>"
    project.save()
    html = login(consultant).get(LIST).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert '<span class="tag">&lt;b&gt;重点&lt;/b&gt;</span>' in html
    assert "山水&amp;&lt;i&gt;苑&lt;/i&gt;" in html  # in its row and in the project dropdown
    assert "<i>苑</i>" not in html
