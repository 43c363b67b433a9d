"""Exactly once under crashes, concurrency and timeouts: real processes, the real Aliyun
adapter, and the Aliyun protocol fake counting every message it accepts."""

from __future__ import annotations

import signal

import pytest

from crm.care.models import OutboundMessage

from .harness import (
    DONE,
    assert_each_received_once,
    make_outbox,
    open_count,
    received,
    statuses,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]
Status = OutboundMessage.Status


def test_a_worker_killed_mid_batch_and_restarted_sends_every_message_exactly_once(
    processes, start_fake, company, project, consultant
):
    fake = start_fake()
    ids = make_outbox(company, project, consultant, 1000)
    env = worker_env(fake)
    first = processes.manage("dispatch-1", "dispatch", "--until-empty", "--max-seconds", "40", env=env)
    wait_until(
        lambda: len(received(fake)) >= 310, timeout=30, interval=0.01, what="310 messages through the first worker"
    )
    processes.kill(first, signal.SIGKILL)
    at_kill = len(received(fake))
    assert at_kill < 1000, "the worker finished before it could be killed; the test proves nothing"
    left_submitting = OutboundMessage.objects.filter(status=Status.SUBMITTING).count()
    assert left_submitting, "the worker was not killed in the middle of a batch"

    second = processes.manage("dispatch-2", "dispatch", "--until-empty", "--max-seconds", "40", env=env)
    assert processes.finish(second, timeout=60) == 0, processes.log_of(second)

    assert_each_received_once(fake, ids)
    assert fake.send_calls == 1000, "a message was submitted to the gateway twice"
    assert set(statuses(ids)) <= DONE, statuses(ids)


def test_two_runners_and_three_workers_at_once_send_each_message_once(
    processes, start_fake, company, project, consultant
):
    fake = start_fake()
    ids = make_outbox(company, project, consultant, 300)
    env = worker_env(fake)
    runners = [processes.manage(f"runjobs-{i}", "runjobs", env=env) for i in range(2)]
    workers = [
        processes.manage(f"dispatch-{i}", "dispatch", "--until-empty", "--max-seconds", "40", env=env) for i in range(3)
    ]
    for worker in workers:
        assert processes.finish(worker, timeout=60) == 0, processes.log_of(worker)
    wait_until(lambda: open_count(ids) == 0, timeout=20, what="the outbox to empty")
    for runner in runners:
        assert runner.poll() is None, f"a runner died: {processes.log_of(runner)[-2000:]}"
        processes.kill(runner, signal.SIGTERM, timeout=20)

    assert_each_received_once(fake, ids)
    assert fake.send_calls == 300
    assert set(statuses(ids)) <= DONE, statuses(ids)


def test_gateway_timeouts_are_settled_by_status_query_and_never_resent(
    processes, start_fake, company, project, consultant
):
    # Every third SendSms is accepted but answered after the client has given up.
    fake = start_fake(timeout_every=3, slow_seconds=3.0)
    ids = make_outbox(company, project, consultant, 60)
    env = worker_env(fake, SMS_TIMEOUT_SECONDS="0.5")
    workers = [
        processes.manage(f"dispatch-{i}", "dispatch", "--until-empty", "--max-seconds", "40", env=env) for i in range(2)
    ]
    for worker in workers:
        assert processes.finish(worker, timeout=60) == 0, processes.log_of(worker)

    assert fake.send_calls == 60, "a message whose answer timed out was sent again"
    assert_each_received_once(fake, ids)
    rows = OutboundMessage.objects.filter(pk__in=ids)
    assert all(row.status in DONE or (row.status == Status.FAILED and row.error) for row in rows), statuses(ids)
    assert {row.status for row in rows} <= DONE  # the fake accepted all of them
    assert all(row.submitted_at for row in rows)
