"""The task lifecycle: every (from, to) pair against the table, recording outcomes,
retries, assigning, cancelling and reopening; the customer's timeline."""

from __future__ import annotations

from itertools import product

import pytest

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.visits import services
from crm.visits.models import Channel, VisitEvent, VisitTask
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
Status = VisitTask.Status


@pytest.mark.parametrize(("frm", "to"), list(product(Status, Status)))
def test_every_move_is_allowed_exactly_when_the_table_says_so(frm, to, make_task, customer, consultant):
    task = make_task(customer, status=frm)
    if to in VisitTask.ALLOWED_MOVES[frm]:
        moved = services.move(task, to, actor=consultant, now=cst(2026, 9, 28, 10))
        assert moved.status == to
        assert task.events.filter(from_status=frm, to_status=to).count() == 1
    else:
        with pytest.raises(services.IllegalMove) as err:
            services.move(task, to, actor=consultant, now=cst(2026, 9, 28, 10))
        assert f"“{frm.label}”" in err.value.message
        task.refresh_from_db()
        assert task.status == frm
        assert not task.events.exists()


def test_the_table_names_every_status_and_finished_tasks_stay_finished():
    assert set(VisitTask.ALLOWED_MOVES) == set(Status)
    assert VisitTask.ALLOWED_MOVES[Status.DONE] == frozenset()
    assert VisitTask.ALLOWED_MOVES[Status.CANCELLED] == frozenset()
    assert {Status.PENDING, Status.RETRY} == VisitTask.OPEN


def scores_for(task, value=5):
    return dict.fromkeys(task.questions, value)


def test_a_reached_customer_is_scored_per_question_and_appears_on_the_timeline(
    make_task, customer, consultant, calendar
):
    task = make_task(customer)
    scores = dict(zip(task.questions, (5, 4, 4, 3), strict=True))
    services.record_outcome(
        task,
        actor=consultant,
        reached=True,
        channel=Channel.PHONE,
        scores=scores,
        opinions="按揭进度希望及时告知",
        now=cst(2026, 9, 28, 10, 30),
        calendar=calendar,
    )
    task.refresh_from_db()
    assert (task.status, task.reached, task.attempts, task.satisfaction) == (Status.DONE, True, 1, 4)
    assert task.scores == scores
    assert task.completed_by == consultant
    event = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.VISIT)
    assert "已完成" in event.summary
    assert "按揭进度希望及时告知" in event.summary
    assert event.data["visit_task"] == task.pk


@pytest.mark.parametrize("bad", [None, 0, 6])
def test_a_reached_customer_needs_a_score_of_one_to_five_for_every_question(
    bad, make_task, customer, consultant, calendar
):
    task = make_task(customer)
    scores = scores_for(task) | {task.questions[2]: bad}
    with pytest.raises(DomainError) as err:
        services.record_outcome(
            task, actor=consultant, reached=True, channel=Channel.PHONE, scores=scores, calendar=calendar
        )
    assert err.value.message == f"请为“{task.questions[2]}”选择 1–5 分"
    assert err.value.field == f"q:{task.questions[2]}"
    task.refresh_from_db()
    assert (task.status, task.attempts) == (Status.PENDING, 0)
    assert not TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.VISIT).exists()


def test_reached_must_be_said_and_the_channel_must_be_known(make_task, customer, consultant):
    task = make_task(customer)
    with pytest.raises(DomainError, match="请选择是否联系上客户"):
        services.record_outcome(task, actor=consultant, reached=None, channel=Channel.PHONE)
    with pytest.raises(DomainError, match="请选择回访方式"):
        services.record_outcome(task, actor=consultant, reached=False, channel="fax")


def test_an_unreached_customer_is_retried_at_another_time_until_the_attempts_run_out(
    make_task, customer, consultant, calendar
):
    task = make_task(customer, max_attempts=3)
    services.record_outcome(
        task, actor=consultant, reached=False, channel=Channel.PHONE, now=cst(2026, 9, 30, 10, 30), calendar=calendar
    )
    task.refresh_from_db()
    assert (task.status, task.attempts, task.next_attempt_at) == (Status.RETRY, 1, cst(2026, 10, 8, 15, 0))
    services.record_outcome(
        task, actor=consultant, reached=False, channel=Channel.PHONE, now=cst(2026, 10, 8, 15, 5), calendar=calendar
    )
    task.refresh_from_db()
    assert (task.status, task.attempts, task.next_attempt_at) == (Status.RETRY, 2, cst(2026, 10, 9, 19, 0))
    services.record_outcome(
        task,
        actor=consultant,
        reached=False,
        channel=Channel.PHONE,
        opinions="空号",
        now=cst(2026, 10, 9, 19, 5),
        calendar=calendar,
    )
    task.refresh_from_db()
    assert (task.status, task.attempts, task.next_attempt_at) == (Status.UNREACHABLE, 3, None)
    notes = list(task.events.values_list("note", flat=True))
    assert notes[0] == "第 1 次联系未接通，10-08 15:00 再次联系"
    assert notes[-1] == "第 3 次联系未接通，已达最多联系次数：空号"
    assert TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.VISIT).count() == 3


def test_a_retried_task_can_still_be_completed(make_task, customer, consultant, calendar):
    task = make_task(customer)
    services.record_outcome(task, actor=consultant, reached=False, channel=Channel.PHONE, calendar=calendar)
    services.record_outcome(
        task, actor=consultant, reached=True, channel=Channel.WECHAT, scores=scores_for(task), calendar=calendar
    )
    task.refresh_from_db()
    assert (task.status, task.attempts, task.next_attempt_at, task.satisfaction) == (Status.DONE, 2, None, 5)
    assert task.events.last().channel == Channel.WECHAT


def test_a_finished_task_cannot_be_recorded_again(make_task, customer, consultant, calendar):
    task = make_task(customer)
    services.record_outcome(
        task, actor=consultant, reached=True, channel=Channel.PHONE, scores=scores_for(task), calendar=calendar
    )
    task.refresh_from_db()
    with pytest.raises(services.IllegalMove):
        services.record_outcome(
            task, actor=consultant, reached=True, channel=Channel.PHONE, scores=scores_for(task), calendar=calendar
        )
    assert VisitEvent.objects.filter(task=task).count() == 1


def test_a_stale_copy_of_the_task_cannot_record_a_second_outcome(make_task, customer, consultant, calendar):
    task = make_task(customer)
    stale = VisitTask.objects.get(pk=task.pk)
    services.record_outcome(
        task, actor=consultant, reached=True, channel=Channel.PHONE, scores=scores_for(task), calendar=calendar
    )
    with pytest.raises(services.IllegalMove):
        services.record_outcome(stale, actor=consultant, reached=False, channel=Channel.PHONE, calendar=calendar)
    assert VisitEvent.objects.filter(task=task).count() == 1


def test_only_the_assignee_or_the_director_records(make_task, customer, teammate, director, service, calendar):
    task = make_task(customer)
    for other in (teammate, service):
        with pytest.raises(NotAllowed):
            services.record_outcome(task, actor=other, reached=False, channel=Channel.PHONE, calendar=calendar)
    services.record_outcome(task, actor=director, reached=False, channel=Channel.PHONE, calendar=calendar)
    task.refresh_from_db()
    assert task.attempts == 1


def test_the_director_assigns_cancels_and_reopens(make_task, customer, consultant, service, director, manager):
    task = make_task(customer, assignee=None)
    with pytest.raises(NotAllowed):
        services.assign_task(task, actor=consultant, assignee=service)
    with pytest.raises(DomainError, match="可以做回访的在职员工"):
        services.assign_task(task, actor=director, assignee=manager)  # 管理层 only reads
    services.assign_task(task, actor=director, assignee=service)
    task.refresh_from_db()
    assert task.assignee == service
    assert task.events.get().kind == VisitEvent.Kind.ASSIGNED

    with pytest.raises(DomainError, match="请填写取消原因"):
        services.cancel_task(task, actor=director, note="  ")
    services.cancel_task(task, actor=director, note="客户已退房")
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
    with pytest.raises(DomainError, match="已结束"):
        services.assign_task(task, actor=director, assignee=consultant)

    unreachable = make_task(customer, status=Status.UNREACHABLE, attempts=3)
    with pytest.raises(DomainError, match="请填写重新安排的原因"):
        services.reopen_task(unreachable, actor=director, note="")
    services.reopen_task(unreachable, actor=director, note="客户更换了手机号")
    unreachable.refresh_from_db()
    assert (unreachable.status, unreachable.attempts) == (Status.PENDING, 0)


def test_the_script_names_the_customer_and_the_project(make_task, customer, project):
    script = services.script_for(make_task(customer))
    assert customer.name in script
    assert project.name in script
    assert "{客户}" not in script
