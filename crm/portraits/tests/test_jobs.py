"""The quarter reminder: two weeks before the end, once per consultant and quarter."""

import pytest

from crm.core.models import Notification
from crm.portraits.jobs import remind_portrait_quota

from .conftest import cn

pytestmark = pytest.mark.django_db


def test_no_reminder_before_two_weeks_before_the_quarter_ends(consultant):
    assert remind_portrait_quota(now=cn(2026, 9, 15, 23, 59)) == 0
    assert not Notification.objects.exists()


def test_consultants_short_of_three_are_reminded_once_per_quarter(
    submit, make_customer, consultant, teammate, leader, outsider
):
    for name in ("甲", "乙", "丙"):
        submit(make_customer(name, owner=teammate), teammate, cn(2026, 8, 1, 10))
    submit(make_customer("丁"), consultant, cn(2026, 9, 1, 10))
    assert remind_portrait_quota(now=cn(2026, 9, 16, 9)) == 2  # consultant and outsider
    note = Notification.objects.get(recipient=consultant)
    assert note.title == "2026年第3季度客户描摹还差 2 份"
    assert note.link == "/portraits/quota/?quarter=2026Q3"
    assert not Notification.objects.filter(recipient__in=[teammate, leader]).exists()
    # The daily runs after the first send nothing more in the quarter.
    assert remind_portrait_quota(now=cn(2026, 9, 17, 9)) == 0
    assert remind_portrait_quota(now=cn(2026, 9, 30, 23)) == 0
    assert Notification.objects.filter(recipient=consultant).count() == 1


def test_the_next_quarter_counts_afresh_across_the_boundary(submit, make_customer, consultant):
    # 2026-09-30 counts for Q3; 2026-10-01 for Q4.
    submit(make_customer("甲"), consultant, cn(2026, 9, 30, 22))
    submit(make_customer("乙"), consultant, cn(2026, 10, 1, 8))
    submit(make_customer("丙"), consultant, cn(2026, 10, 1, 9))
    assert remind_portrait_quota(now=cn(2026, 12, 16, 9)) == 0  # Q4 window opens on 12-17
    assert remind_portrait_quota(now=cn(2026, 12, 17, 9)) == 1
    assert Notification.objects.get(recipient=consultant).title == "2026年第4季度客户描摹还差 1 份"


def test_a_consultant_with_three_in_the_quarter_is_not_reminded(submit, make_customer, consultant):
    for day, name in ((1, "甲"), (15, "乙"), (30, "丙")):
        submit(make_customer(name), consultant, cn(2026, 9, day, 10))
    assert remind_portrait_quota(now=cn(2026, 9, 30, 12)) == 0
