"""Gifts: stock never negative, issues by occasion, milestone tasks and the birthday list."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.customers.services import add_family_member
from crm.lib.dates import CHINA_TZ
from crm.service import jobs, selectors, services
from crm.service.models import BirthdayEntry, GiftStock, GiftTask, Occasion, StockMovement

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=CHINA_TZ)


def stock_of(gift, project) -> int:
    return GiftStock.objects.get(gift=gift, project=project).quantity


def test_an_issue_that_would_overdraw_is_refused_with_the_balance(stocked, consultant, project, customer):
    services.issue_gift(
        stocked, actor=consultant, project=project, quantity=7, occasion=Occasion.BIRTHDAY, customer=customer
    )
    with pytest.raises(DomainError, match="库存不足：锦华苑 的“定制保温杯”只剩 3个，不能发放 5个") as exc:
        services.issue_gift(
            stocked, actor=consultant, project=project, quantity=5, occasion=Occasion.BIRTHDAY, customer=customer
        )
    assert exc.value.field == "quantity"
    assert stock_of(stocked, project) == 3
    assert list(StockMovement.objects.values_list("balance", flat=True).order_by("id")) == [10, 3]


def test_stock_is_per_project(stocked, consultant, project_b, customer):
    with pytest.raises(DomainError, match="库存不足"):
        services.issue_gift(
            stocked, actor=consultant, project=project_b, quantity=1, occasion=Occasion.EVENT, customer=customer
        )


def test_stock_out_needs_a_reason_and_never_goes_negative(stocked, director, project):
    with pytest.raises(DomainError, match="请填写出库原因"):
        services.stock_out(stocked, actor=director, project=project, quantity=1, note="")
    with pytest.raises(DomainError, match="库存不足"):
        services.stock_out(stocked, actor=director, project=project, quantity=11, note="盘点损耗")
    services.stock_out(stocked, actor=director, project=project, quantity=10, note="调拨至滨江御府")
    assert stock_of(stocked, project) == 0


def test_only_managers_move_stock(gift, consultant, project):
    with pytest.raises(NotAllowed):
        services.stock_in(gift, actor=consultant, project=project, quantity=5)


def test_a_gift_to_a_customer_goes_on_the_timeline(stocked, consultant, project, customer):
    services.issue_gift(
        stocked, actor=consultant, project=project, quantity=1, occasion=Occasion.CONTRACT, customer=customer
    )
    event = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.GIFT)
    assert event.summary == "发放签约礼品：定制保温杯 ×1"


def test_an_on_site_gift_needs_a_reason_and_a_walk_in_needs_a_name(stocked, consultant, project):
    with pytest.raises(DomainError, match="请选择客户或填写来访人姓名"):
        services.issue_gift(
            stocked, actor=consultant, project=project, quantity=1, occasion=Occasion.ON_SITE, reason="带孩子"
        )
    with pytest.raises(DomainError, match="现场随机礼品须填写发放原因"):
        services.issue_gift(
            stocked, actor=consultant, project=project, quantity=1, occasion=Occasion.ON_SITE, visitor_name="林女士"
        )
    issue = services.issue_gift(
        stocked,
        actor=consultant,
        project=project,
        quantity=1,
        occasion=Occasion.ON_SITE,
        visitor_name="林女士",
        reason="带孩子的客户",
    )
    assert issue.recipient == "林女士"
    assert stock_of(stocked, project) == 9


def test_issues_are_scoped(stocked, consultant, outsider, director, project, customer):
    issue = services.issue_gift(
        stocked, actor=consultant, project=project, quantity=1, occasion=Occasion.BIRTHDAY, customer=customer
    )
    assert list(selectors.issues_visible_to(consultant)) == [issue]
    assert list(selectors.issues_visible_to(director)) == [issue]
    assert not selectors.issues_visible_to(outsider).exists()


# ---------------------------------------------------------------- milestone tasks


def test_subscription_and_contract_make_one_task_each_idempotently(make_deal, consultant):
    deal = make_deal(subscribed_on=date(2026, 10, 20), contracted_on=date(2026, 10, 28))
    assert jobs.create_gift_tasks(now=NOW) == 2
    assert jobs.create_gift_tasks(now=NOW) == 0
    tasks = GiftTask.objects.filter(deal=deal)
    assert set(tasks.values_list("occasion", flat=True)) == {Occasion.SUBSCRIPTION, Occasion.CONTRACT}
    assert set(tasks.values_list("consultant", flat=True)) == {consultant.pk}


def test_old_and_cancelled_deals_make_no_task(make_deal, make_unit):
    make_deal(subscribed_on=date(2026, 8, 1))
    cancelled = make_deal(subscribed_on=date(2026, 10, 30), unit=make_unit())
    cancelled.status = "cancelled"
    cancelled.save()
    assert jobs.create_gift_tasks(now=NOW) == 0


def test_issuing_against_the_task_closes_it_once(make_deal, stocked, consultant, project):
    deal = make_deal(subscribed_on=date(2026, 10, 20))
    jobs.create_gift_tasks(now=NOW)
    task = GiftTask.objects.get(deal=deal)
    services.issue_gift(
        stocked,
        actor=consultant,
        project=project,
        quantity=1,
        occasion=task.occasion,
        customer=deal.customer,
        task=task,
    )
    task.refresh_from_db()
    assert task.status == GiftTask.Status.DONE
    with pytest.raises(DomainError, match="已处理"):
        services.issue_gift(
            stocked,
            actor=consultant,
            project=project,
            quantity=1,
            occasion=task.occasion,
            customer=deal.customer,
            task=task,
        )
    assert stock_of(stocked, project) == 9


# ---------------------------------------------------------------- birthday list


def test_the_birthday_list_has_consenting_owners_and_family_and_not_the_opted_out(make_customer, consultant):
    owner = make_customer("王业主", stage="owner", birthday_on=date(1980, 11, 12), consent_care=True)
    opted = make_customer("赵退订", stage="owner", birthday_on=date(1975, 11, 3), consent_care=True)
    opted.has_opted_out = True
    opted.save()
    no_consent = make_customer("钱未授权", stage="owner", birthday_on=date(1975, 11, 4), consent_care=False)
    other_month = make_customer("孙十二月", stage="owner", birthday_on=date(1975, 12, 4), consent_care=True)
    add_family_member(
        other_month,
        actor=consultant,
        relation="spouse",
        name="李配偶",
        birthday_on=date(1978, 11, 20),
        consent_care=True,
    )
    add_family_member(
        owner,
        actor=consultant,
        relation="child",
        name="王小宝",
        birthday_on=date(2015, 11, 1),
        consent_care=False,
        guardian_consent_at=NOW,
    )
    add_family_member(
        opted, actor=consultant, relation="spouse", name="赵配偶", birthday_on=date(1978, 11, 21), consent_care=True
    )

    assert jobs.prepare_birthday_lists(now=NOW) == 2
    assert jobs.prepare_birthday_lists(now=NOW) == 0
    rows = list(BirthdayEntry.objects.order_by("birthday_on").values_list("name", "birthday_on", "consultant"))
    assert rows == [("王业主", date(2026, 11, 12), consultant.pk), ("李配偶", date(2026, 11, 20), consultant.pk)]
    assert no_consent.pk not in BirthdayEntry.objects.values_list("customer", flat=True)


def test_a_lunar_birthday_lands_on_this_years_solar_date(make_customer):
    # 农历十月初一 2026 is 2026-11-09.
    make_customer("陈农历", stage="owner", consent_care=True, birthday_is_lunar=True, lunar_month=10, lunar_day=1)
    jobs.prepare_birthday_lists(now=NOW)
    assert list(BirthdayEntry.objects.values_list("birthday_on", "is_lunar")) == [(date(2026, 11, 9), True)]


def test_the_birthday_list_is_the_consultants_own(make_customer, consultant, outsider):
    make_customer("王业主", stage="owner", birthday_on=date(1980, 11, 12), consent_care=True)
    jobs.prepare_birthday_lists(now=NOW)
    assert selectors.birthdays_visible_to(consultant).count() == 1
    assert not selectors.birthdays_visible_to(outsider).exists()


# ---------------------------------------------------------------- statistics


def test_weekly_and_monthly_statistics(stocked, consultant, project, customer):
    services.issue_gift(
        stocked, actor=consultant, project=project, quantity=2, occasion=Occasion.BIRTHDAY, customer=customer, now=NOW
    )
    services.issue_gift(
        stocked,
        actor=consultant,
        project=project,
        quantity=1,
        occasion=Occasion.BIRTHDAY,
        customer=customer,
        now=NOW.replace(day=20),
    )
    week = selectors.period_bounds("week", date(2026, 11, 1))
    assert week == (date(2026, 10, 26), date(2026, 11, 1))
    [row] = selectors.gift_stats(consultant, first=week[0], last=week[1])
    assert (row["gift__name"], row["occasion_label"], row["quantity"], row["issues"]) == (
        "定制保温杯",
        "生日礼品",
        2,
        1,
    )
    month = selectors.period_bounds("month", date(2026, 11, 15))
    [row] = selectors.gift_stats(consultant, first=month[0], last=month[1])
    assert row["quantity"] == 3
