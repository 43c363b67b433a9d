"""Sensitive data: searches by full mobile stay out of URLs, the ID mask and the birthday
never give the whole number, ID numbers are checked (GB 11643-1999), the sensitive archive
items are a company setting (off by default) and children's data needs the guardian's
consent, and the import's problem list names no colleague's customer."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Company
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.core.errors import DomainError
from crm.customers import services
from crm.customers.importing.validating import _existing_mobiles
from crm.customers.models import AccessAlert, Channel, CompanyPrivacy, CustomerProfile
from crm.lib.mobile import remask_id_hint
from crm.projects.models import Project

LIST = reverse("customers:list")
SEARCH = reverse("customers:search")
CREATE = reverse("customers:create")


def names_in(response) -> set[str]:
    return {row.name for row in response.context["page"].object_list}


# ---------------------------------------------------------------- searching by full mobile


def test_a_search_by_full_mobile_never_puts_the_number_in_a_url(login, consultant, customer):
    client = login(consultant)
    response = client.post(SEARCH, {"q": "138 1234 5678", "stage": ""})
    assert response.status_code == 302
    location = response["Location"]
    assert "5678" not in location
    assert "qt=" in location
    page = client.get(location)
    # The request line the web server would log: path and query of the page fetched.
    request_line = f"GET {page.request['PATH_INFO']}?{page.request['QUERY_STRING']} HTTP/1.1"
    assert "13812345678" not in request_line
    assert "1234" not in request_line
    assert names_in(page) == {"张三"}


def test_a_search_by_name_or_fragment_stays_a_plain_link(login, consultant, customer):
    client = login(consultant)
    assert client.post(SEARCH, {"q": "5678"})["Location"] == f"{LIST}?q=5678"
    assert client.post(SEARCH, {"q": customer.number})["Location"] == f"{LIST}?q={customer.number}"


def test_an_old_link_with_a_full_mobile_is_redirected_to_a_token(login, consultant, customer):
    response = login(consultant).get(LIST, {"q": "13812345678"})
    assert response.status_code == 302
    assert "13812345678" not in response["Location"]


def test_a_search_token_is_the_users_own(login, client, consultant, teammate, customer):
    location = login(consultant).post(SEARCH, {"q": "13812345678"})["Location"]
    client.force_login(teammate)
    assert names_in(client.get(location)) == set()


def test_the_count_and_the_export_follow_the_token(login, consultant, customer, make_customer):
    make_customer("李四")
    client = login(consultant)
    location = client.post(SEARCH, {"q": "13812345678"})["Location"]
    query = location.split("?", 1)[1]
    count = client.get(f"{reverse('customers:list_count')}?{query}")
    assert count.context["paginator"].count == 1


# ---------------------------------------------------------------- ID numbers


def test_the_id_mask_and_the_birthday_leave_two_digits_unknown(login, consultant, make_customer):
    customer = make_customer("证件", id_number="11010519491231002X", birthday_on=date(1949, 12, 31))
    assert customer.id_number_hint == "1101**********002X"
    body = login(consultant).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "110105" not in body
    assert "11010519491231002X" not in body
    assert "1101**********002X" in body


def test_old_hints_are_remasked_without_decrypting():
    assert remask_id_hint("110105********002X") == "1101**********002X"
    assert remask_id_hint("") == ""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110101199001011230", "身份证号校验位不正确"),
        ("11010119900101123", "身份证号应为18位"),
        ("11010119900101123A", "身份证号应为18位"),
    ],
)
def test_a_bad_id_number_is_refused_in_chinese_and_the_form_keeps_what_was_typed(
    login, consultant, project, raw, message
):
    data = {
        "name": "证件错误",
        "gender": "M",
        "mobile": "13700009999",
        "stage": "prospect",
        "grade": "B",
        "source_channel": "phone",
        "project": project.pk,
        "id_number": raw,
    }
    response = login(consultant).post(CREATE, data)
    assert response.status_code == 200
    assert message in response.context["form"].errors["id_number"][0]
    assert 'value="证件错误"' in response.content.decode()


def test_the_service_checks_the_id_number_for_every_caller(consultant, project):
    with pytest.raises(DomainError, match="校验位"):
        services.create_customer(
            actor=consultant,
            name="接口",
            mobile="13700008888",
            source_channel=Channel.PHONE,
            project_id=project.pk,
            id_number="110101199001011230",
        )


# ---------------------------------------------------------------- the sensitive archive items


def _other_company_customer():
    company = Company.objects.create(name="第二置业")
    project = Project.objects.create(company=company, name="二号盘", code="EHP", city="洛阳")
    user = create_staff("con2", company=company, roles=[Role.CONSULTANT], password="Zz-test-2026", projects=[project])
    customer = services.create_customer(
        actor=user, name="赵二", mobile="13700001111", source_channel=Channel.VISIT, project_id=project.pk
    )
    return user, customer


def test_the_sensitive_items_are_off_by_default_and_on_per_company(login, consultant, customer):
    other_user, other_customer = _other_company_customer()
    CompanyPrivacy.objects.create(company=customer.company, archive_sensitive_fields=True)
    body = login(consultant).get(reverse("customers:profile", args=[customer.pk])).content.decode()
    assert 'name="health"' in body
    assert 'name="children_status"' in body
    body = login(other_user).get(reverse("customers:profile", args=[other_customer.pk])).content.decode()
    assert 'name="health"' not in body
    assert 'name="parents_status"' not in body


def test_the_service_refuses_sensitive_items_while_the_company_has_them_off(consultant, customer):
    with pytest.raises(DomainError, match="未开启档案敏感项"):
        services.update_profile(customer, actor=consultant, health="高血压")
    assert not CustomerProfile.objects.filter(customer=customer).exclude(health="").exists()


def test_childrens_items_need_the_guardians_consent_when_on(login, consultant, customer):
    CompanyPrivacy.objects.create(company=customer.company, archive_sensitive_fields=True)
    url = reverse("customers:profile", args=[customer.pk])
    client = login(consultant)
    response = client.post(url, {"children_status": "女儿上小学", "address": "花园路1号"})
    assert "记录子女信息需要监护人单独同意" in response.content.decode()
    assert 'value="花园路1号"' in response.content.decode() or "花园路1号" in response.content.decode()
    response = client.post(url, {"children_status": "女儿上小学", "guardian_consent": "on"})
    assert response.status_code == 302
    assert CustomerProfile.objects.get(customer=customer).children_consent_at is not None


def test_a_childs_birthday_needs_the_guardians_consent(consultant, customer):
    with pytest.raises(DomainError, match="监护人"):
        services.add_family_member(
            customer, actor=consultant, relation="child", name="小宝", birthday_on=date(2018, 5, 1)
        )
    member = services.add_family_member(
        customer,
        actor=consultant,
        relation="child",
        name="小宝",
        birthday_on=date(2018, 5, 1),
        guardian_consent_at=timezone.now(),
    )
    assert member.pk


# ---------------------------------------------------------------- the import's problem list


def test_the_import_problem_list_says_only_that_a_hidden_number_exists(outsider, customer, consultant):
    reasons = _existing_mobiles(outsider, ["13812345678"])
    assert reasons == {"13812345678": "手机号 138****5678 已存在，请联系主管"}
    assert "张三" in _existing_mobiles(consultant, ["13812345678"])["13812345678"]


def test_a_file_testing_many_hidden_numbers_alerts_the_supervisors(outsider, make_customer, company):
    CompanyPrivacy.objects.create(company=company, duplicate_limit_per_hour=2)
    held = [make_customer(f"名单{i}").mobile for i in range(3)]
    reasons = _existing_mobiles(outsider, held)
    assert len(reasons) == 3
    alert = AccessAlert.objects.get(user=outsider)
    assert (alert.kind, alert.count) == ("duplicates", 3)
