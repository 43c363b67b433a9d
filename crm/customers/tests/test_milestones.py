"""Milestone date order (pure)."""

from datetime import date

from crm.customers.milestones import milestone_errors


def test_a_complete_deal_in_order_has_no_errors():
    dates = {
        "subscribed_on": date(2026, 9, 30),
        "contracted_on": date(2026, 10, 8),
        "full_payment_on": date(2026, 11, 2),
        "filed_on": date(2026, 10, 20),
        "delivery_planned_on": date(2027, 6, 30),
    }
    assert milestone_errors(dates, today=date(2026, 11, 23)) == {}


def test_signing_before_subscription_is_refused_on_the_contract_field():
    errors = milestone_errors({"subscribed_on": date(2026, 10, 8), "contracted_on": date(2026, 10, 1)})
    assert errors == {"contracted_on": "签约日期不能早于认购日期"}


def test_move_in_needs_a_delivery_first():
    errors = milestone_errors(
        {"subscribed_on": date(2026, 1, 5), "contracted_on": date(2026, 1, 10), "moved_in_on": date(2026, 6, 1)}
    )
    assert errors["moved_in_on"] == "尚未交房，不能登记入住"


def test_filing_before_full_payment_is_allowed_for_mortgages():
    errors = milestone_errors(
        {
            "subscribed_on": date(2026, 1, 5),
            "contracted_on": date(2026, 1, 10),
            "filed_on": date(2026, 1, 20),
            "full_payment_on": date(2026, 3, 1),
        }
    )
    assert errors == {}


def test_actual_milestones_cannot_be_in_the_future_but_planned_delivery_can():
    errors = milestone_errors(
        {
            "subscribed_on": date(2026, 11, 20),
            "contracted_on": date(2026, 11, 25),
            "delivery_planned_on": date(2027, 12, 31),
        },
        today=date(2026, 11, 23),
    )
    assert errors == {"contracted_on": "实际发生的日期不能晚于今天"}


def test_missing_subscription_date_is_reported():
    assert milestone_errors({"subscribed_on": None}) == {"subscribed_on": "认购日期必填"}
