"""Generating visit tasks from milestones and birthdays: once per customer, plan and
occasion, on the work calendar, however often the job runs."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from crm.customers.models import Stage
from crm.visits import jobs, planning
from crm.visits.models import AssigneeRule, VisitPlan, VisitTask
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db


def generate(now, calendar):
    return planning.generate(now=now, calendar=calendar)


def test_a_contract_signed_before_national_day_gets_one_visit_by_the_owner(
    plans, customer, consultant, make_deal, calendar
):
    make_deal(customer, contracted_on=date(2026, 9, 25))
    assert generate(cst(2026, 9, 25, 18), calendar) == 1
    task = VisitTask.objects.get(plan=plans["签约回访"])
    assert (task.customer, task.assignee, task.status) == (customer, consultant, VisitTask.Status.PENDING)
    assert (task.start_on, task.due_on) == (date(2026, 9, 25), date(2026, 10, 8))
    assert task.questions == plans["签约回访"].question_list
    assert len(task.questions) == 4


def test_running_the_job_again_creates_nothing_twice(plans, customer, make_deal, calendar):
    make_deal(customer, contracted_on=date(2026, 9, 25))
    first = generate(cst(2026, 9, 25, 18), calendar)
    again = generate(cst(2026, 9, 25, 19), calendar) + generate(cst(2026, 9, 28, 9), calendar)
    assert (first, again) == (1, 0)
    assert VisitTask.objects.count() == 1


def test_the_job_entry_point_gives_projects_the_seed_plans_and_is_idempotent(project, customer, make_deal, settings):
    make_deal(customer, contracted_on=date(2026, 9, 25))
    assert not VisitPlan.objects.exists()
    assert jobs.generate_visit_tasks(now=cst(2026, 9, 26)) == 1
    assert set(VisitPlan.objects.filter(project=project).values_list("name", flat=True)) == {
        "签约回访",
        "交房前回访",
        "入住回访",
        "生日回访",
    }
    assert jobs.generate_visit_tasks(now=cst(2026, 9, 26)) == 0


def test_the_unique_key_refuses_a_second_task_for_the_same_occasion(plans, customer, make_deal, calendar):
    make_deal(customer, contracted_on=date(2026, 9, 25))
    generate(cst(2026, 9, 25, 18), calendar)
    task = VisitTask.objects.get()
    task.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        task.save()


def test_a_customer_with_two_units_gets_a_visit_for_each_contract(plans, customer, make_deal, calendar):
    make_deal(customer, contracted_on=date(2026, 9, 25))
    make_deal(customer, contracted_on=date(2026, 9, 28))
    assert generate(cst(2026, 9, 28, 18), calendar) == 2


def test_old_contracts_outside_the_catch_up_period_get_no_task(plans, customer, make_deal, calendar):
    make_deal(customer, subscribed_on=date(2026, 1, 5), contracted_on=date(2026, 1, 10))
    assert generate(cst(2026, 9, 25), calendar) == 0


def test_a_task_is_made_lead_days_before_it_starts_not_earlier(plans, customer, make_deal, calendar):
    make_deal(
        customer, subscribed_on=date(2026, 6, 1), contracted_on=date(2026, 6, 5), delivery_planned_on=date(2026, 12, 1)
    )
    delivery = plans["交房前回访"]
    assert delivery.lead_days == 7
    # Starts 11-01 (a Sunday: the window counts 5 working days: 11-02 .. 11-06).
    assert generate(cst(2026, 10, 24), calendar) == 0
    assert generate(cst(2026, 10, 25), calendar) == 1
    task = VisitTask.objects.get(plan=delivery)
    assert (task.start_on, task.due_on) == (date(2026, 11, 1), date(2026, 11, 6))
    assert task.assignee is None  # the seed plan names no one yet: the director assigns


def test_a_plan_that_names_a_specialist_assigns_the_task_to_them(plans, customer, make_deal, service, calendar):
    move_in = plans["入住回访"]
    move_in.assignee = service
    move_in.save()
    assert move_in.assignee_rule == AssigneeRule.PLAN
    make_deal(
        customer,
        subscribed_on=date(2026, 1, 5),
        contracted_on=date(2026, 1, 10),
        delivered_on=date(2026, 6, 20),
        moved_in_on=date(2026, 6, 30),
    )
    assert generate(cst(2026, 9, 28), calendar) == 1
    task = VisitTask.objects.get(plan=move_in)
    # 3 months after 06-30 is 09-30; 10 working days later skip National Day and count the
    # working Saturday 10-10: 10-08, 09, 10, 12, 13, 14, 15, 16, 19, 20.
    assert (task.assignee, task.start_on, task.due_on) == (service, date(2026, 9, 30), date(2026, 10, 20))


def test_a_birthday_on_a_monday_after_a_make_up_sunday_is_called_that_sunday(
    plans, make_customer, consultant, calendar
):
    owner = make_customer("周八", birthday_on=date(1980, 9, 21))
    owner.stage = Stage.OWNER
    owner.save()
    prospect = make_customer("吴九", birthday_on=date(1985, 9, 21))
    assert generate(cst(2026, 9, 14), calendar) == 1
    task = VisitTask.objects.get(plan=plans["生日回访"])
    assert (task.customer, task.assignee, task.occasion) == (owner, consultant, "2026")
    assert (task.start_on, task.due_on) == (date(2026, 9, 20), date(2026, 9, 20))
    assert task.questions == []
    assert not VisitTask.objects.filter(customer=prospect).exists()
    assert generate(cst(2026, 9, 20), calendar) == 0


def test_a_lunar_birthday_is_found_on_its_solar_day(plans, make_customer, calendar):
    # 八月十五 (中秋) 2026 is Friday 09-25, a holiday: the call is on Thursday 09-24.
    owner = make_customer("郑十", birthday_on=date(1975, 9, 20), birthday_is_lunar=True, lunar_month=8, lunar_day=15)
    owner.stage = Stage.OWNER
    owner.save()
    assert generate(cst(2026, 9, 18), calendar) == 1
    task = VisitTask.objects.get(customer=owner)
    assert (task.occasion_on, task.start_on) == (date(2026, 9, 25), date(2026, 9, 24))


def test_a_switched_off_plan_generates_nothing(plans, customer, make_deal, calendar):
    VisitPlan.objects.update(is_active=False)
    make_deal(customer, contracted_on=date(2026, 9, 25))
    assert generate(cst(2026, 9, 25, 18), calendar) == 0
