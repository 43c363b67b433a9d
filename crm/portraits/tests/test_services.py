"""Submitting and editing portraits; the quarter of the China date; counts for the KPIs."""

from datetime import date

import pytest

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.portraits import selectors, services
from crm.portraits.models import Portrait
from crm.portraits.quarters import Quarter

from .conftest import ANSWERS, cn

pytestmark = pytest.mark.django_db


def test_submitting_a_portrait_records_it_in_the_quarter_and_on_the_timeline(submit, customer, consultant, project):
    portrait = submit(customer, consultant, cn(2026, 9, 30, 23, 30))
    assert (portrait.quarter, portrait.submitted_on) == ("2026Q3", date(2026, 9, 30))
    assert portrait.project == project
    assert portrait.consultant == consultant
    event = TimelineEvent.objects.get(customer=customer, source_id=portrait.pk, source_type="portraits.portrait")
    assert event.summary == "王顾问提交了客户描摹（2026年第3季度）"
    assert "露营" not in event.summary


def test_the_quarter_is_the_china_date_not_utc(submit, customer, consultant):
    # 2026-09-30 16:30 UTC is 2026-10-01 00:30 in Shanghai: the fourth quarter.
    from datetime import UTC, datetime

    portrait = submit(customer, consultant, datetime(2026, 9, 30, 16, 30, tzinfo=UTC))
    assert (portrait.quarter, portrait.submitted_on) == ("2026Q4", date(2026, 10, 1))


def test_one_portrait_of_a_customer_per_consultant_and_quarter(submit, customer, consultant):
    submit(customer, consultant, cn(2026, 9, 1, 10))
    with pytest.raises(DomainError) as caught:
        submit(customer, consultant, cn(2026, 9, 30, 10))
    assert caught.value.field == "customer"
    assert "已提交过该客户的描摹" in caught.value.message
    assert submit(customer, consultant, cn(2026, 10, 1, 10)).quarter == "2026Q4"


def test_every_structured_field_must_be_chosen(customer, consultant):
    with pytest.raises(DomainError) as caught:
        services.submit_portrait(customer, actor=consultant, now=cn(2026, 9, 1), **(ANSWERS | {"hobby": "golf"}))
    assert (caught.value.field, caught.value.message) == ("hobby", "请选择爱好")
    assert not Portrait.objects.exists()


def test_a_role_without_the_permission_cannot_submit(customer, service):
    with pytest.raises(NotAllowed):
        services.submit_portrait(customer, actor=service, now=cn(2026, 9, 1), **ANSWERS)


def test_editing_keeps_the_quarter_and_changes_the_answers(submit, customer, consultant):
    portrait = submit(customer, consultant, cn(2026, 9, 30, 10))
    services.update_portrait(
        portrait, actor=consultant, now=cn(2026, 10, 8), **(ANSWERS | {"hobby": "reading", "notes": ""})
    )
    portrait.refresh_from_db()
    assert (portrait.hobby, portrait.notes, portrait.quarter) == ("reading", "", "2026Q3")


def test_portrait_counts_split_at_the_quarter_boundary(submit, make_customer, consultant, teammate, company):
    submit(make_customer("甲"), consultant, cn(2026, 9, 30, 18))
    submit(make_customer("乙"), consultant, cn(2026, 10, 1, 9))
    submit(make_customer("丙", owner=teammate), teammate, cn(2026, 10, 1, 9))
    q3, q4 = Quarter(2026, 3), Quarter(2026, 4)
    assert selectors.portrait_counts(q3.first, q3.last, company=company) == {consultant.pk: 1}
    assert selectors.portrait_counts(q4.first, q4.last, company=company) == {consultant.pk: 1, teammate.pk: 1}
    assert selectors.portrait_counts(q4.first, q4.last, company=company.pk, consultants=[teammate.pk]) == {
        teammate.pk: 1
    }
    assert selectors.portrait_counts(date(2026, 9, 30), date(2026, 10, 1), company=company)[consultant.pk] == 2


def test_quota_rows_count_the_chosen_quarter_per_consultant_in_scope(
    submit, make_customer, consultant, teammate, outsider, leader, director
):
    submit(make_customer("甲"), consultant, cn(2026, 9, 30, 18))
    submit(make_customer("乙"), consultant, cn(2026, 9, 2, 9))
    submit(make_customer("丙"), consultant, cn(2026, 8, 2, 9))
    submit(make_customer("丁"), consultant, cn(2026, 10, 1, 9))
    rows = {r.consultant.username: r for r in selectors.quota_rows(leader, Quarter(2026, 3))}
    assert set(rows) == {"consultant", "teammate"}  # the leader's team; not the outsider
    assert (rows["consultant"].submitted, rows["consultant"].is_met) == (3, True)
    assert (rows["teammate"].submitted, rows["teammate"].missing) == (0, 3)
    mine = selectors.quota_rows(consultant, Quarter(2026, 4))
    assert [(r.consultant.username, r.submitted) for r in mine] == [("consultant", 1)]
    assert "outsider" in {r.consultant.username for r in selectors.quota_rows(director, Quarter(2026, 4))}
