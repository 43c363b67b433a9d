"""Deals over the API: subscribe a unit, record milestones, same scope as customers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from crm.customers.models import Deal
from crm.customers.services import create_deal
from crm.projects.models import Unit

from .utils import has_chinese


def ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


@pytest.fixture
def deal(customer, unit, consultant):
    return create_deal(
        actor=consultant, customer=customer, unit=unit, subscribed_on=timezone.localdate() - timedelta(days=30)
    )


def test_consultant_records_a_subscription(api, consultant, customer, unit):
    response = api(consultant).post(
        "/api/deals/", {"customer": customer.pk, "unit": unit.pk, "subscribed_on": ago(10)}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    assert deal.customer == customer
    assert deal.consultant == consultant
    assert body["unit_label"] == "1号楼-1801"
    assert body["price"] == "1200000.00"
    assert body["current_milestone"] == "认购"
    unit.refresh_from_db()
    customer.refresh_from_db()
    assert unit.status == Unit.Status.RESERVED
    assert customer.stage == "owner"


def test_a_subscription_with_a_contract_date_marks_the_unit_sold(api, consultant, customer, unit):
    response = api(consultant).post(
        "/api/deals/",
        {
            "customer": customer.pk,
            "unit": unit.pk,
            "subscribed_on": ago(10),
            "contracted_on": ago(5),
            "price": "999000",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["price"] == "999000.00"
    unit.refresh_from_db()
    assert unit.status == Unit.Status.SOLD


def test_dates_out_of_order_are_400_on_the_later_date(api, consultant, customer, unit):
    response = api(consultant).post(
        "/api/deals/",
        {"customer": customer.pk, "unit": unit.pk, "subscribed_on": ago(5), "contracted_on": ago(10)},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"contracted_on": ["签约日期不能早于认购日期"]}
    assert not Deal.objects.exists()


def test_future_actual_dates_are_refused(api, consultant, customer, unit):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = api(consultant).post(
        "/api/deals/", {"customer": customer.pk, "unit": unit.pk, "subscribed_on": tomorrow}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"subscribed_on": ["实际发生的日期不能晚于今天"]}


def test_a_unit_already_subscribed_is_refused(api, consultant, make_customer, deal, unit):
    other = make_customer("钱七")
    response = api(consultant).post(
        "/api/deals/", {"customer": other.pk, "unit": unit.pk, "subscribed_on": ago(1)}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"unit": ["房源 1号楼-1801 已被认购"]}
    assert Deal.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subscribed_on": None}, "subscribed_on"),
        ({"subscribed_on": "2024-02-30"}, "subscribed_on"),
        ({"customer": 999999}, "customer"),
        ({"unit": "abc"}, "unit"),
        ({"price": "一百万"}, "price"),
        ({"move_in_kind": "helicopter"}, "move_in_kind"),
    ],
)
def test_malformed_deal_input_is_400_on_its_field(api, consultant, customer, unit, overrides, field):
    data = {"customer": customer.pk, "unit": unit.pk, "subscribed_on": ago(3), **overrides}
    response = api(consultant).post("/api/deals/", data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert has_chinese(response.json())


def test_a_customer_outside_scope_cannot_be_sold_to(api, outsider, customer, make_unit, project_b):
    unit_b = make_unit(project=project_b, number="808")
    response = api(outsider).post(
        "/api/deals/", {"customer": customer.pk, "unit": unit_b.pk, "subscribed_on": ago(1)}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["customer"]
    assert "张三" not in response.content.decode()
    assert not Deal.objects.exists()


def test_a_unit_of_a_project_outside_scope_is_refused(api, consultant, customer, make_unit, project_b):
    unit_b = make_unit(project=project_b, number="808")
    response = api(consultant).post(
        "/api/deals/", {"customer": customer.pk, "unit": unit_b.pk, "subscribed_on": ago(1)}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["unit"]


def test_service_specialist_cannot_record_deals(api, service, customer, unit):
    response = api(service).post(
        "/api/deals/", {"customer": customer.pk, "unit": unit.pk, "subscribed_on": ago(1)}, format="json"
    )
    assert response.status_code == 403


def test_patch_records_milestones_and_the_unit_follows(api, consultant, deal):
    response = api(consultant).patch(
        f"/api/deals/{deal.pk}/", {"contracted_on": ago(20), "full_payment_on": ago(10)}, format="json"
    )

    assert response.status_code == 200, response.content
    deal.refresh_from_db()
    assert deal.contracted_on == date.fromisoformat(ago(20))
    assert response.json()["current_milestone"] == "全款到账"
    assert Unit.objects.get(pk=deal.unit_id).status == Unit.Status.SOLD
    assert deal.customer.events.filter(kind="milestone").count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"contracted_on": ago(40)}, "contracted_on"),
        ({"full_payment_on": ago(5)}, "full_payment_on"),
        ({"contracted_on": ago(20), "delivered_on": ago(10), "moved_in_on": ago(5)}, "move_in_kind"),
        ({"contracted_on": "20-01-2024"}, "contracted_on"),
    ],
)
def test_patch_refuses_milestones_out_of_order(api, consultant, deal, data, field):
    response = api(consultant).patch(f"/api/deals/{deal.pk}/", data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert has_chinese(response.json())
    deal.refresh_from_db()
    assert deal.contracted_on is None


def test_clearing_a_milestone_with_null(api, consultant, deal):
    client = api(consultant)
    client.patch(f"/api/deals/{deal.pk}/", {"contracted_on": ago(20)}, format="json")
    response = client.patch(f"/api/deals/{deal.pk}/", {"contracted_on": None}, format="json")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.contracted_on is None


def test_outsider_neither_sees_nor_edits_the_consultants_deal(api, outsider, deal):
    client = api(outsider)
    assert client.get("/api/deals/").json()["results"] == []
    assert client.get(f"/api/deals/{deal.pk}/").status_code == 404
    assert client.patch(f"/api/deals/{deal.pk}/", {"contracted_on": ago(20)}, format="json").status_code == 404
    deal.refresh_from_db()
    assert deal.contracted_on is None


def test_deals_list_filters_by_customer(api, consultant, deal, make_customer, make_unit):
    other = make_customer("钱七")
    create_deal(
        actor=consultant, customer=other, unit=make_unit(number="1902"), subscribed_on=date.fromisoformat(ago(2))
    )
    response = api(consultant).get("/api/deals/", {"customer": deal.customer_id})
    assert [d["id"] for d in response.json()["results"]] == [deal.pk]


def test_approver_sees_no_deals(api, approver, deal):
    assert api(approver).get("/api/deals/").status_code == 403
