"""The work queue (我的未完成, 我负责的) reads the tasks assigned to the user without the
scope's join: the same tasks as the scoped list filtered to the user."""

from __future__ import annotations

from datetime import date

import pytest

from crm.accounts.models import User
from crm.visits import planning, selectors
from crm.visits.forms import VisitFilterForm
from crm.visits.models import VisitTask

pytestmark = pytest.mark.django_db

TODAY = date(2026, 9, 28)


@pytest.fixture
def tasks(plans, make_customer, make_deal, consultant, teammate, calendar):
    mine = make_customer("王一")
    theirs = make_customer("李二", owner=teammate)
    for customer in (mine, theirs):
        make_deal(customer, contracted_on=date(2026, 9, 25))
    for plan in plans.values():
        planning.generate_for_plan(plan, today=TODAY, calendar=calendar)
    handed = VisitTask.objects.get(customer=theirs)
    handed.assignee = consultant  # a director handed it over
    handed.save()
    done = VisitTask.objects.create(
        **{f.attname: getattr(handed, f.attname) for f in VisitTask._meta.concrete_fields if not f.primary_key}
        | {"occasion": "other", "status": VisitTask.Status.DONE}
    )
    return mine, theirs, handed, done


@pytest.mark.parametrize(("params", "open_only"), [({"state": "mine"}, True), ({"who": "me"}, False)])
def test_the_own_queue_lists_what_the_scoped_list_lists_for_the_user(tasks, consultant, params, open_only):
    mine, _theirs, handed, done = tasks
    own = set(VisitFilterForm(params, user=consultant).queryset(today=TODAY).values_list("pk", flat=True))
    scoped = selectors.tasks_visible_to(consultant).filter(assignee=consultant)
    if open_only:
        scoped = scoped.filter(selectors.open_q())
    assert own == set(scoped.values_list("pk", flat=True))
    assert handed.pk in own  # a colleague's customer's task handed over
    assert (done.pk in own) is not open_only
    assert VisitTask.objects.filter(customer=mine, pk__in=own).exists()


def test_nobody_without_the_visit_permission_has_a_queue(tasks):
    stranger = User.objects.create(username="stranger", company=tasks[2].company)
    VisitTask.objects.filter(pk=tasks[2].pk).update(assignee=stranger)

    assert not selectors.tasks_assigned_to(stranger).exists()
    assert not VisitFilterForm({"state": "mine"}, user=stranger).queryset(today=TODAY).exists()
