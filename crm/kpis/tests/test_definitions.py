"""Every KPI's exact figure on the known October 2026 dataset (conftest.py), its scope, and
its drill-down links: the list behind a figure has exactly as many rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.kpis import definitions as d
from crm.kpis.definitions import KpiQuery

pytestmark = pytest.mark.django_db


def figures(q: KpiQuery) -> dict[str, d.Figure]:
    return d.by_key(q)


def triple(f: d.Figure) -> tuple[Decimal | None, int, int | None]:
    return f.value, f.numerator, f.denominator


def test_company_figures_for_october(october, manager, oct_query):
    f = figures(oct_query(manager))
    # Visits due in October, done with a rating: t1 5, t2 3, t7 2 → 1 of 3 satisfied (t6 4
    # was due in September although done in October).
    assert triple(f["visit_satisfaction"]) == (Decimal("33.3"), 1, 3)
    assert f["visit_satisfaction"].note == "平均 3.33 分"
    # Complaints registered in October, not cancelled: k2, k3, k4, k7 (k6 cancelled).
    assert triple(f["complaint_satisfaction"]) == (Decimal("66.7"), 2, 3)
    # 4 complaints over the 5 customers on 10-31 (c1, c2, c3, c4, c7; not c5, not c6).
    assert triple(f["complaint_rate"]) == (Decimal("80.00"), 4, 5)
    assert triple(f["first_response_timeliness"]) == (Decimal("50.0"), 2, 4)
    assert triple(f["resolution_timeliness"]) == (Decimal("50.0"), 2, 4)
    assert triple(f["repeat_complaint_rate"]) == (Decimal("25.0"), 1, 4)
    # Owners at 10-31: c1, c2, c3, c4; retained: c1 (a second unit on 10-10), c3 (referred c7).
    assert triple(f["retention"]) == (Decimal("50.0"), 2, 4)
    # Tasks due in October, not cancelled: t1, t2, t3, t4, t7.
    assert triple(f["visit_completion"]) == (Decimal("60.0"), 3, 5)
    assert triple(f["visit_on_time"]) == (Decimal("40.0"), 2, 5)
    assert triple(f["visit_reach"]) == (Decimal("75.0"), 3, 4)
    assert triple(f["care_sent"]) == (Decimal(2), 2, None)
    assert triple(f["care_failed"]) == (Decimal(2), 2, None)
    assert triple(f["care_opted_out"]) == (Decimal(1), 1, None)
    assert triple(f["gifts_issued"]) == (Decimal(2), 2, None)
    assert f["gifts_issued"].note == "共 3 件"


def test_a_project_narrows_every_figure(october, manager, project_b, oct_query):
    f = figures(oct_query(manager, project_b))
    assert triple(f["complaint_rate"]) == (Decimal("100.00"), 1, 1)
    assert triple(f["resolution_timeliness"]) == (Decimal("100.0"), 1, 1)
    assert triple(f["visit_satisfaction"]) == (Decimal("0.0"), 0, 1)
    assert triple(f["retention"]) == (Decimal("0.0"), 0, 1)
    assert f["care_failed"].numerator == 1
    assert f["gifts_issued"].numerator == 1


def test_the_consultant_counts_only_their_own_customers(october, consultant, oct_query):
    f = figures(oct_query(consultant))
    # Own customers: c1, c2 (c5 registered in November, c6 archived).
    assert triple(f["complaint_rate"]) == (Decimal("100.00"), 2, 2)
    assert triple(f["first_response_timeliness"]) == (Decimal("50.0"), 1, 2)
    assert triple(f["repeat_complaint_rate"]) == (Decimal("50.0"), 1, 2)
    assert triple(f["retention"]) == (Decimal("50.0"), 1, 2)
    assert triple(f["visit_satisfaction"]) == (Decimal("50.0"), 1, 2)
    assert triple(f["visit_completion"]) == (Decimal("66.7"), 2, 3)
    assert triple(f["visit_on_time"]) == (Decimal("33.3"), 1, 3)
    assert f["care_sent"].numerator == 1
    assert f["care_opted_out"].numerator == 0
    assert f["gifts_issued"].numerator == 1


def test_another_company_counts_only_its_own(october, other_manager, oct_query):
    f = figures(oct_query(other_manager))
    assert triple(f["repeat_complaint_rate"]) == (Decimal("100.0"), 1, 1)
    assert triple(f["visit_satisfaction"]) == (Decimal("100.0"), 1, 1)
    assert f["care_sent"].numerator == 0


def test_nothing_to_divide_by_is_no_figure(october, manager, oct_query):
    f = figures(oct_query(manager, start=date(2025, 1, 1), end=date(2025, 1, 31)))
    assert f["complaint_satisfaction"].value is None
    assert f["complaint_satisfaction"].display == "—"
    assert f["care_sent"].value == 0


@pytest.mark.parametrize(
    ("day", "resolved"),
    [
        # Registered on Friday 10-09: 10-10 (调休 Saturday), 10-12, 10-13 are its three
        # working days. One second either side of the end of 10-13.
        (date(2026, 10, 13), True),
        (date(2026, 10, 14), False),
    ],
)
def test_resolution_on_time_is_the_end_of_the_third_working_day(october, manager, oct_query, day, resolved):
    from crm.complaints.models import Complaint
    from crm.kpis.tests.conftest import cst

    k2 = october.complaints["k2"]
    when = cst(day.year, day.month, day.day, 23, 59, 59) if resolved else cst(day.year, day.month, day.day, 0, 0, 1)
    Complaint.objects.filter(pk=k2.pk).update(resolved_at=when)
    f = figures(oct_query(manager))
    assert f["resolution_timeliness"].numerator == (2 if resolved else 1)


def test_a_visit_done_on_the_due_day_is_on_time_and_the_next_working_day_is_not(october, consultant, oct_query):
    from crm.kpis.tests.conftest import cst
    from crm.visits.models import VisitTask

    # t2 is due on Friday 10-09 and was done on the 调休 Saturday 10-10: late although a
    # working day. Done at 23:59 on the 9th (China time) it is on time.
    t2 = october.tasks["t2"]
    assert figures(oct_query(consultant))["visit_on_time"].numerator == 1
    VisitTask.objects.filter(pk=t2.pk).update(completed_at=cst(2026, 10, 9, 23, 59, 59))
    assert figures(oct_query(consultant))["visit_on_time"].numerator == 2


def test_a_period_of_local_days(october, manager, oct_query):
    """The 10-31 23:59 complaint is October's; the 11-01 00:00 one is November's."""
    nov = figures(oct_query(manager, start=date(2026, 11, 1), end=date(2026, 11, 30)))
    assert nov["complaint_rate"].numerator == 1
    one_day = figures(oct_query(manager, start=date(2026, 10, 31), end=date(2026, 10, 31)))
    assert one_day["complaint_rate"].numerator == 1
    assert one_day["care_opted_out"].numerator == 1
    assert one_day["gifts_issued"].numerator == 1


def test_one_query_per_source_whatever_the_number_of_kpis(october, manager, oct_query):
    q = oct_query(manager)
    with CaptureQueriesContext(connection) as queries:
        d.all_figures(q)
    # complaints, customers (投诉率's base; owners and retained), visits, messages, opt-outs,
    # gifts (+ the user's access, read once).
    assert len(queries) <= 9


# ---------------------------------------------------------------- drill-down


def _list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.context["page"]
    return page.paginator.count


@pytest.mark.parametrize(
    "key",
    [
        "visit_satisfaction",
        "complaint_satisfaction",
        "first_response_timeliness",
        "resolution_timeliness",
        "repeat_complaint_rate",
        "visit_completion",
        "visit_on_time",
        "visit_reach",
        "care_sent",
        "care_failed",
        "care_opted_out",
        "gifts_issued",
    ],
)
def test_each_figure_links_to_a_list_with_as_many_rows(october, admin_user, login, oct_query, key):
    client = login(admin_user)
    f = figures(oct_query(admin_user))[key]
    assert f.numerator_url
    assert _list_count(client, f.numerator_url) == f.numerator
    if f.denominator is not None:
        assert _list_count(client, f.denominator_url) == f.denominator


@pytest.mark.parametrize("key", ["complaint_rate", "retention"])
def test_customer_figures_link_to_the_customer_list(october, admin_user, login, oct_query, key):
    from crm.customers.filters import CustomerFilterForm

    f = figures(oct_query(admin_user))[key]
    for url, expected in ((f.denominator_url, f.denominator), (f.numerator_url, f.numerator)):
        path, query = urlsplit(url).path, parse_qs(urlsplit(url).query)
        if path.startswith("/customers/"):
            form = CustomerFilterForm({k: v[0] for k, v in query.items()}, user=admin_user)
            assert form.queryset().count() == expected
            response = login(admin_user).get(url)
            assert response.status_code == 200
            assert "指标明细" in response.content.decode()


def test_a_consultants_links_show_their_own_rows(october, consultant, login, oct_query):
    client = login(consultant)
    f = figures(oct_query(consultant))["visit_on_time"]
    assert _list_count(client, f.numerator_url) == f.numerator == 1
    assert _list_count(client, f.denominator_url) == f.denominator == 3


def test_no_link_to_a_list_the_user_may_not_open(october, make_staff, oct_query):
    from crm.accounts.roles import Role

    analyst = make_staff("analyst", Role.ANALYST)
    f = figures(oct_query(analyst))
    assert f["resolution_timeliness"].numerator_url == ""  # 市场专员 has no complaint list
    assert f["visit_completion"].numerator_url.startswith("/visits/")
