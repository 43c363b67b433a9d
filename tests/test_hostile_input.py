"""Hostile input reaches no database error: huge page numbers and ids, odd digits, negative prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.core.errors import DomainError
from crm.customers import services

HUGE = "9999999999999999999999999"
SUBSCRIBED = date(2026, 11, 2)


@pytest.fixture
def api():
    """``api(user)``: a client sending the user's token, as integrations do."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return client_for


@pytest.mark.parametrize(
    "url",
    [
        f"/customers/?page={HUGE}",
        "/customers/?page=²",
        "/customers/?page=-1",
        f"/customers/count/?page={HUGE}",
        f"/customers/deals/?page={HUGE}",
        f"/complaints/?page={HUGE}",
        f"/sms/?page={HUGE}",
        f"/visits/?page={HUGE}",
        f"/audit/?page={HUGE}",
    ],
)
def test_huge_or_odd_page_numbers_are_not_server_errors(client, admin_user, customer, url):
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code in (200, 302, 404), url


@pytest.mark.parametrize(
    "url",
    [
        f"/customers/{HUGE}/",
        f"/customers/deals/{HUGE}/",
        f"/complaints/{HUGE}/",
        f"/customers/?project={HUGE}",
        f"/customers/?owner={HUGE}",
        f"/customers/?tag={HUGE}",
    ],
)
def test_huge_ids_are_not_server_errors(client, admin_user, customer, url):
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code in (200, 302, 400, 404), url


@pytest.mark.parametrize(
    "url",
    [
        f"/api/customers/{HUGE}/",
        f"/api/deals/{HUGE}/",
        f"/api/customers/?page={HUGE}",
        f"/api/customers/?project={HUGE}",
        "/api/customers/abc/",
        f"/api/complaints/{HUGE}/",
    ],
)
def test_huge_ids_through_the_api_are_chinese_4xx(api, admin_user, customer, url):
    response = api(admin_user).get(url)
    assert 400 <= response.status_code < 500, url
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.content.decode()), response.content


@pytest.mark.parametrize("price", [Decimal("-1"), Decimal("0"), "-500000", Decimal("1e15"), "abc", Decimal("NaN")])
def test_the_service_refuses_a_bad_deal_price(consultant, customer, unit, price):
    with pytest.raises(DomainError) as error:
        services.create_deal(actor=consultant, customer=customer, unit=unit, price=price, subscribed_on=SUBSCRIBED)
    assert error.value.field == "price"
    assert "成交总价" in error.value.message


def test_the_service_refuses_a_negative_price_on_update(consultant, customer, unit):
    deal = services.create_deal(
        actor=consultant, customer=customer, unit=unit, price=Decimal("1200000"), subscribed_on=SUBSCRIBED
    )
    with pytest.raises(DomainError, match="大于 0"):
        services.update_deal(deal, actor=consultant, price=Decimal("-1"))
    deal.refresh_from_db()
    assert deal.price == Decimal("1200000")


def test_the_api_refuses_a_negative_deal_price_in_chinese(api, consultant, customer, unit):
    response = api(consultant).post(
        "/api/deals/",
        {"customer": customer.pk, "unit": unit.pk, "price": "-1", "subscribed_on": "2026-11-02"},
        format="json",
    )
    assert response.status_code == 400
    assert "price" in response.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(response.json()["price"]))


def test_the_deal_page_refuses_a_negative_price_and_keeps_the_input(client, consultant, customer, unit):
    client.force_login(consultant)
    response = client.post(
        f"/customers/deals/new/?customer={customer.pk}",
        {"customer": customer.pk, "unit": unit.pk, "price": "-1", "subscribed_on": "2026-11-02"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "成交总价" in html
    assert 'value="-1"' in html


@pytest.mark.parametrize("value", ["²", HUGE, "-3", "0"])
def test_odd_ids_in_posted_lists_are_ignored_not_server_errors(client, admin_user, customer, value):
    client.force_login(admin_user)
    bulk = client.post("/customers/bulk/", {"action": "tag", "ids": [value]})
    assert bulk.status_code in (200, 302)
    resend = client.post("/sms/outbox/resend/", {"ids": [value]})
    assert resend.status_code in (200, 302)
    rules = client.get(f"/sms/rules/?project={value}")
    assert rules.status_code in (200, 302)


def test_the_parsers_accept_only_database_ids():
    from crm.lib.numbers import MAX_ID, parse_id, parse_page

    assert parse_id("42") == 42
    assert parse_id(" 7 ") == 7
    assert parse_id(str(MAX_ID)) == MAX_ID
    for bad in ("", None, "0", "-1", "²", "٣", "1e3", "12a", str(MAX_ID + 1), HUGE):
        assert parse_id(bad) is None, bad
    assert parse_page("3") == 3
    assert parse_page("1000001") is None


def test_a_form_body_over_the_limit_is_a_chinese_400(client, consultant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    client.force_login(consultant)
    response = client.post("/customers/new/", {"name": "张" * 4000})
    assert response.status_code == 400
    assert "请求无效" in response.content.decode()
