"""Exactly once on the database the suite runs on, SQLite (the embedded default) or
PostgreSQL: two dispatch worker processes sharing a batch, and a worker killed while the
console gateway (what `make run` uses) prints."""

from __future__ import annotations

import collections
import json
import re
import signal

import pytest

from crm.care.models import OutboundMessage

from .harness import DONE, SharedDatabase, assert_each_received_once, make_outbox, statuses, wait_until, worker_env

pytestmark = pytest.mark.django_db(transaction=True)
Status = OutboundMessage.Status
PRINTED = re.compile(r"引用 (\d+) 编号 console-")


@pytest.fixture
def shared(tmp_path):
    return SharedDatabase(tmp_path)


def test_two_dispatch_workers_send_each_message_once(processes, start_fake, shared, company, project, consultant):
    # The first send waits for a second one, which only the other worker can make (the
    # first is blocked in it): both take part however late the second process starts.
    # The gateway timeout, lease and grace are raised above that wait (their order kept).
    fake = start_fake(hold_first_send_seconds=30)
    ids = make_outbox(company, project, consultant, 400)
    shared.publish()
    env = worker_env(
        fake,
        database=shared.url,
        SMS_TIMEOUT_SECONDS=40,
        CARE_LEASE_SECONDS=45,
        CARE_SETTLE_GRACE_SECONDS=50,
    )
    workers = [
        processes.manage(f"dispatch-{i}", "dispatch", "--until-empty", "--max-seconds", "60", env=env) for i in range(2)
    ]
    for worker in workers:
        assert processes.finish(worker, timeout=90) == 0, processes.log_of(worker)
    shared.collect()

    assert_each_received_once(fake, ids)  # 0 duplicates, 0 lost
    assert fake.send_calls == 400
    assert set(statuses(ids)) <= DONE, statuses(ids)
    # Both took part: the test is about two workers, not one doing everything.
    accepted = [int(re.search(r"accepted=(\d+)", processes.log_of(w)).group(1)) for w in workers]
    assert all(accepted), accepted


def printed_by(log: str) -> collections.Counter[str]:
    return collections.Counter(PRINTED.findall(log))


def test_a_worker_killed_while_the_console_prints_prints_nothing_twice(
    processes, shared, tmp_path, company, project, consultant
):
    """The console records each message before printing it, and its status query answers
    from that record: the batch the killed worker left "submitting" is settled from it, not
    printed again."""
    ids = make_outbox(company, project, consultant, 600)
    shared.publish()
    var = tmp_path / "var"
    env = worker_env(None, database=shared.url, VAR_DIR=var)
    # Kill a worker once it has printed 150 more. The kill must land inside a batch (rows
    # claimed, "submitting") to prove anything; on a loaded machine it can fall between
    # two batches, so up to three workers are killed in turn until one lands inside.
    killed: list[str] = []
    for attempt in range(3):
        worker = processes.manage(
            f"dispatch-{attempt + 1}", "dispatch", "--until-empty", "--max-seconds", "60", env=env
        )
        wait_until(
            lambda w=worker: sum(printed_by(processes.log_of(w)).values()) >= 150,
            timeout=40,
            interval=0.01,
            what="150 more messages printed",
        )
        processes.kill(worker, signal.SIGKILL)
        shared.collect()
        killed.append(processes.log_of(worker))
        if OutboundMessage.objects.filter(status=Status.SUBMITTING).exists():
            break
    assert OutboundMessage.objects.filter(status=Status.SUBMITTING).exists(), "every kill fell between batches"
    assert OutboundMessage.objects.filter(status=Status.SCHEDULED).exists(), "finished before the kill"

    second = processes.manage("dispatch-last", "dispatch", "--until-empty", "--max-seconds", "60", env=env)
    assert processes.finish(second, timeout=90) == 0, processes.log_of(second)
    shared.collect()

    printed = sum((printed_by(log) for log in killed), collections.Counter()) + printed_by(processes.log_of(second))
    twice = {ref: n for ref, n in printed.items() if n > 1}
    assert not twice, f"printed more than once: {sorted(twice.items())[:10]}"
    ledger = [json.loads(line) for line in (var / "sms-console-ledger.jsonl").read_text().splitlines()]
    recorded = collections.Counter(entry["reference"] for entry in ledger)
    assert recorded == collections.Counter(str(pk) for pk in ids)  # each recorded once: 0 lost, 0 twice
    # Recorded before printed: each kill may fall between the two for the message in flight.
    assert set(printed) <= set(recorded)
    assert len(recorded) - len(printed) <= len(killed)
    assert set(statuses(ids)) <= DONE, statuses(ids)
    assert all("*" in entry["mobile"] for entry in ledger)  # the ledger keeps numbers masked
