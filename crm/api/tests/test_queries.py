"""Pagination and query counts: a page costs the same number of queries whatever its size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.customers.models import Customer, Tag
from crm.customers.services import create_deal


def count_queries(client, url, params):
    client.get(url, params)  # the user's access is then cached, as on every later request
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


@pytest.fixture
def many_customers(make_customer, consultant):
    tags = [Tag.objects.create(company=consultant.company, name=name) for name in ("高意向", "学区", "改善")]
    customers = [make_customer(f"客户{i}") for i in range(12)]
    for customer in customers:
        customer.tags.set(tags[: customer.pk % 3 + 1])
    return customers


def test_customer_list_queries_do_not_grow_with_page_size(api, many_customers, consultant):
    client = api(consultant)
    small, small_body = count_queries(client, "/api/customers/", {"page_size": 2})
    large, large_body = count_queries(client, "/api/customers/", {"page_size": 12})

    assert len(small_body["results"]) == 2
    assert len(large_body["results"]) == 12
    assert all(row["tags"] for row in large_body["results"])
    assert small == large


def test_customer_search_and_filter_queries_do_not_grow_with_page_size(api, many_customers, leader, project):
    client = api(leader)
    params = {"search": "客户", "project": project.pk, "stage": "prospect"}
    small, _ = count_queries(client, "/api/customers/", {**params, "page_size": 2})
    large, body = count_queries(client, "/api/customers/", {**params, "page_size": 12})
    assert len(body["results"]) == 12
    assert small == large


def test_deal_list_queries_do_not_grow_with_page_size(api, make_customer, make_unit, consultant):
    for i in range(8):
        create_deal(
            actor=consultant,
            customer=make_customer(f"业主{i}"),
            unit=make_unit(),
            subscribed_on=timezone.localdate() - timedelta(days=i + 1),
        )
    client = api(consultant)
    small, _ = count_queries(client, "/api/deals/", {"page_size": 2})
    large, body = count_queries(client, "/api/deals/", {"page_size": 8})
    assert len(body["results"]) == 8
    assert all(row["unit_label"].startswith("1号楼-") for row in body["results"])
    assert small == large


def test_unit_list_queries_do_not_grow_with_page_size(api, make_unit, consultant):
    for _ in range(8):
        make_unit()
    client = api(consultant)
    small, _ = count_queries(client, "/api/units/", {"page_size": 2})
    large, body = count_queries(client, "/api/units/", {"page_size": 8})
    assert len(body["results"]) == 8
    assert small == large


def test_page_size_defaults_to_50_and_is_capped_at_200(api, consultant, project):
    Customer.objects.bulk_create(
        Customer(
            company=consultant.company,
            number=f"KH9{i:07d}",
            name=f"批量{i}",
            mobile=f"137{i:08d}",
            owner=consultant,
            project=project,
            source_channel="visit",
        )
        for i in range(205)
    )
    client = api(consultant)

    default = client.get("/api/customers/").json()
    assert default["count"] == 205
    assert len(default["results"]) == 50

    capped = client.get("/api/customers/", {"page_size": 1000}).json()
    assert len(capped["results"]) == 200
    assert capped["next"] is not None


def test_pages_follow_newest_first(api, many_customers, consultant):
    client = api(consultant)
    first = client.get("/api/customers/", {"page_size": 5}).json()
    second = client.get("/api/customers/", {"page_size": 5, "page": 2}).json()
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 10
