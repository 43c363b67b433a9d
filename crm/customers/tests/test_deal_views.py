"""Deal pages: subscription (认购), milestone dates, cancellation, the filtered list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.customers.models import Deal, Stage, TimelineEvent
from crm.customers.services import create_deal
from crm.projects.models import Unit

DEALS = reverse("customers:deal_list")
TODAY = timezone.localdate


def create_url(customer) -> str:
    return f"{reverse('customers:deal_create')}?customer={customer.pk}"


def days_ago(n: int) -> str:
    return (TODAY() - timedelta(days=n)).isoformat()


@pytest.fixture
def deal(consultant, customer, unit):
    return create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=TODAY() - timedelta(days=30))


# ---------------------------------------------------------------- create


def test_the_unit_list_offers_only_available_units_of_the_customers_project(
    login, consultant, customer, make_unit, project_b
):
    free = make_unit(number="0801")
    make_unit(number="0802", status=Unit.Status.SOLD)
    make_unit(project=project_b, number="0803")
    units = list(login(consultant).get(create_url(customer)).context["form"].fields["unit"].queryset)
    assert units == [free]


def test_a_subscription_is_recorded_and_the_customer_becomes_an_owner(login, consultant, customer, unit):
    response = login(consultant).post(
        create_url(customer), {"unit": unit.pk, "subscribed_on": days_ago(3), "contracted_on": days_ago(1)}
    )
    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:deal_detail", args=[deal.pk])
    assert (deal.customer, deal.contracted_on, deal.price) == (customer, TODAY() - timedelta(days=1), unit.price)
    customer.refresh_from_db()
    unit.refresh_from_db()
    assert customer.stage == Stage.OWNER
    assert unit.status == Unit.Status.SOLD


def test_a_contract_before_the_subscription_is_an_error_on_the_contract_date(login, consultant, customer, unit):
    response = login(consultant).post(
        create_url(customer), {"unit": unit.pk, "subscribed_on": days_ago(1), "contracted_on": days_ago(5)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contracted_on"] == ["签约日期不能早于认购日期"]
    assert "subscribed_on" not in response.context["form"].errors
    assert f'value="{days_ago(5)}"' in response.content.decode()
    assert not Deal.objects.exists()


def test_a_future_actual_date_is_refused_but_a_planned_delivery_is_fine(login, consultant, customer, unit):
    future = (TODAY() + timedelta(days=30)).isoformat()
    client = login(consultant)
    response = client.post(create_url(customer), {"unit": unit.pk, "subscribed_on": future})
    assert response.context["form"].errors["subscribed_on"] == ["实际发生的日期不能晚于今天"]
    response = client.post(
        create_url(customer),
        {"unit": unit.pk, "subscribed_on": days_ago(10), "contracted_on": days_ago(2), "delivery_planned_on": future},
    )
    assert response.status_code == 302


def test_missing_subscription_date_and_unit_are_field_errors(login, consultant, customer, unit):
    response = login(consultant).post(create_url(customer), {"unit": "", "subscribed_on": "not-a-date"})
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "unit" in errors
    assert "subscribed_on" in errors


def test_a_unit_taken_meanwhile_is_refused_on_the_unit_field(login, consultant, customer, unit, make_customer):
    other = make_customer("李四")
    create_deal(actor=consultant, customer=other, unit=unit, subscribed_on=TODAY())
    response = login(consultant).post(create_url(customer), {"unit": unit.pk, "subscribed_on": days_ago(1)})
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert Deal.objects.count() == 1


@pytest.mark.parametrize("query", ["", "?customer=abc", "?customer=999999"])
def test_deal_create_without_a_valid_customer_is_a_404(login, consultant, query):
    assert login(consultant).get(reverse("customers:deal_create") + query).status_code == 404


def test_an_archived_customer_cannot_subscribe(login, consultant, customer, unit):
    customer.is_archived = True
    customer.save()
    response = login(consultant).post(create_url(customer), {"unit": unit.pk, "subscribed_on": days_ago(1)})
    assert response.status_code == 302
    assert not Deal.objects.exists()


# ---------------------------------------------------------------- detail and milestones


def test_milestone_dates_are_saved_and_shown_on_the_timeline(login, consultant, deal):
    url = reverse("customers:deal_detail", args=[deal.pk])
    response = login(consultant).post(
        url, {"subscribed_on": days_ago(30), "contracted_on": days_ago(20), "filed_on": days_ago(10)}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.filed_on == TODAY() - timedelta(days=10)
    assert deal.customer.events.filter(kind=TimelineEvent.Kind.MILESTONE, summary__startswith="合同备案").exists()


def test_filing_before_signing_is_an_error_on_the_filing_date(login, consultant, deal):
    response = login(consultant).post(
        reverse("customers:deal_detail", args=[deal.pk]),
        {"subscribed_on": days_ago(30), "contracted_on": days_ago(10), "filed_on": days_ago(20)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["filed_on"] == ["合同备案日期不能早于签约日期"]
    deal.refresh_from_db()
    assert deal.contracted_on is None


def test_a_move_in_needs_a_delivery_and_a_kind(login, consultant, deal):
    url = reverse("customers:deal_detail", args=[deal.pk])
    client = login(consultant)
    base = {"subscribed_on": days_ago(30), "contracted_on": days_ago(25)}
    response = client.post(url, {**base, "moved_in_on": days_ago(1)})
    assert response.context["form"].errors["moved_in_on"] == ["尚未交房，不能登记入住"]
    response = client.post(url, {**base, "delivered_on": days_ago(5), "moved_in_on": days_ago(1)})
    assert "move_in_kind" in response.context["form"].errors
    response = client.post(
        url, {**base, "delivered_on": days_ago(5), "moved_in_on": days_ago(1), "move_in_kind": "batch"}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.move_in_kind == "batch"


def test_the_deal_page_shows_the_milestone_progress(login, consultant, deal):
    body = login(consultant).get(reverse("customers:deal_detail", args=[deal.pk])).content.decode()
    for label in ("认购", "签约", "全款到账", "合同备案", "交房", "入住"):
        assert label in body
    assert 'class="done"' in body


def test_a_supervisor_can_view_but_not_edit_a_deal(login, supervisor, deal):
    client = login(supervisor)
    url = reverse("customers:deal_detail", args=[deal.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"subscribed_on": days_ago(30), "contracted_on": days_ago(1)}).status_code == 403
    deal.refresh_from_db()
    assert deal.contracted_on is None


# ---------------------------------------------------------------- cancel


def test_cancelling_needs_a_reason(login, consultant, deal):
    response = login(consultant).post(reverse("customers:deal_cancel", args=[deal.pk]), {"reason": ""})
    assert response.status_code == 200
    assert response.context["cancel_form"].errors["reason"] == ["请填写退房原因"]
    deal.refresh_from_db()
    assert deal.status == Deal.Status.ACTIVE


def test_cancelling_frees_the_unit(login, consultant, deal):
    response = login(consultant).post(reverse("customers:deal_cancel", args=[deal.pk]), {"reason": "贷款未获批"})
    assert response.status_code == 302
    deal.refresh_from_db()
    deal.unit.refresh_from_db()
    assert deal.status == Deal.Status.CANCELLED
    assert deal.unit.status == Unit.Status.AVAILABLE


# ---------------------------------------------------------------- scope


@pytest.mark.parametrize(("name", "method"), [("customers:deal_detail", "get"), ("customers:deal_cancel", "post")])
def test_the_outsider_gets_404_on_another_teams_deal(login, outsider, deal, name, method):
    client = login(outsider)
    url = reverse(name, args=[deal.pk])
    response = client.post(url, {"reason": "x"}) if method == "post" else client.get(url)
    assert response.status_code == 404
    deal.refresh_from_db()
    assert deal.status == Deal.Status.ACTIVE


def test_the_outsider_gets_404_creating_a_deal_for_another_teams_customer(login, outsider, customer):
    assert login(outsider).get(create_url(customer)).status_code == 404


# ---------------------------------------------------------------- list


@pytest.fixture
def deals(consultant, make_customer, make_unit):
    """One deal at each stage the workbench counts."""
    today = TODAY()

    def make(name, **dates):
        customer = make_customer(name)
        return create_deal(
            actor=consultant, customer=customer, unit=make_unit(), subscribed_on=today - timedelta(days=60), **dates
        )

    signed = today - timedelta(days=50)
    return {
        "subscribed": make("待签约"),
        "signed": make("待备案", contracted_on=signed),
        "delivered": make("待入住", contracted_on=signed, filed_on=signed, delivered_on=today - timedelta(days=5)),
    }


@pytest.mark.parametrize(
    ("milestone", "expected"),
    [
        ("awaiting_contract", {"待签约"}),
        ("awaiting_filing", {"待备案"}),
        ("awaiting_move_in", {"待入住"}),
        ("", {"待签约", "待备案", "待入住"}),
    ],
)
def test_the_deal_list_filters_by_milestone(login, consultant, deals, milestone, expected):
    response = login(consultant).get(DEALS, {"milestone": milestone})
    assert {d.customer.name for d in response.context["page"]} == expected


def test_the_deal_list_searches_by_customer_name_and_hides_cancelled_deals(login, consultant, deals):
    client = login(consultant)
    assert {d.customer.name for d in client.get(DEALS, {"q": "备案"}).context["page"]} == {"待备案"}
    deals["subscribed"].status = Deal.Status.CANCELLED
    deals["subscribed"].save()
    assert "待签约" not in {d.customer.name for d in client.get(DEALS).context["page"]}
    assert {d.customer.name for d in client.get(DEALS, {"status": "cancelled"}).context["page"]} == {"待签约"}


def test_the_outsider_sees_none_of_the_consultants_deals(login, outsider, deals):
    assert login(outsider).get(DEALS).context["page"].paginator.count == 0


def test_workbench_deal_counts_match_the_deal_list(login, consultant, deals):
    client = login(consultant)
    stats = client.get("/").context["card"]["deals"].stats
    assert [s.value for s in stats] == [1, 1, 1]
    for stat in stats:
        assert client.get(stat.url).context["page"].paginator.count == stat.value


def test_the_deal_list_links_to_the_export_with_its_filters(login, consultant, deals):
    body = login(consultant).get(DEALS, {"milestone": "awaiting_filing"}).content.decode()
    assert reverse("customers:deal_export") + "?milestone=awaiting_filing" in body


@pytest.mark.parametrize("params", [{"milestone": "nope"}, {"consultant": "x"}, {"page": "-1"}, {"status": "??"}])
def test_bad_deal_list_parameters_never_break_the_page(login, consultant, deals, params):
    response = login(consultant).get(DEALS, params)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3


def test_the_unit_choices_are_in_natural_order(login, consultant, customer, make_unit):
    for number in ("1303", "704", "1801"):
        make_unit(number=number)
    html = login(consultant).get(create_url(customer)).content.decode()
    assert html.index("1号楼-704") < html.index("1号楼-1303") < html.index("1号楼-1801")
