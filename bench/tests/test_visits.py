"""`python -m bench visits` end to end at a tiny size, on whatever database the test run
uses. Timings are not asserted (they depend on the machine); what is checked is that the
generation is measured (beside its floor on PostgreSQL, which must insert the same rows),
that the work-queue pages are measured beside their floors with the same query count on
every page, that the benchmark leaves no generated task behind, and that a second run
reuses the queue's tasks."""

from datetime import date

import pytest
from django.db import connection

from bench import cli, dataset
from crm.visits.models import VisitTask

PAGES = ("我的未完成 25 条/页", "我的未完成 100 条/页", "我的未完成 第", "我的未完成 末页")


def run_bench(*options):
    argv = [
        "visits",
        *("--customers", "300", "--tasks", "1200", "--open-tasks", "60", "--day", "2026-09-28"),
        *("--repeat", "1", "--requests", "2", "--warmup", "1", *options),
    ]
    out = []
    cli.run(cli.parser().parse_args(argv), write=out.append)
    return "\n".join(out)


@pytest.mark.django_db(transaction=False)
def test_bench_measures_the_generation_and_the_work_queue_beside_their_floors():
    output = run_bench()

    generation = output.split("Visit-task generation, 2026-09-28")[1].split("\n\n")[0].splitlines()
    runs = {line.split("  ")[0].strip(): line for line in generation[2:]}
    assert set(runs) == {"the day (after yesterday's run)", "first run (empty window)", "again (all made)"}
    first_rows = int(runs["first run (empty window)"].split()[4])
    assert first_rows > 0  # the dataset has occasions in the window
    assert int(runs["again (all made)"].split()[3]) == 0
    if connection.vendor == "postgresql":
        assert "WRONG FLOOR" not in output
        assert "x  ok" in runs["first run (empty window)"] or "MISS" in runs["first run (empty window)"]
    table = [line for line in output.splitlines() if line.startswith("| ")]
    for label in PAGES:
        assert any(label in row for row in table), label
    assert not any("HTTP" in row for row in table)
    assert "N+1 check (25 vs 100 rows vs deep vs last page)" in output
    assert "— PASS" in output.split("N+1 check")[1].splitlines()[0]
    assert "raw query (first page, total; bare SQL)" in output
    assert output.count("result check [") == 3  # the first page, the last page, the total
    assert "我的未完成 总数（随后取回）" in output
    assert "WRONG RESULT" not in output

    tasks = VisitTask.objects.filter(company__name=dataset.BENCH_COMPANY)
    assert tasks.count() == 1200  # the generation's tasks were removed again
    consultant = tasks.filter(assignee__username=f"{dataset.USERNAME_PREFIX}gw0001")
    assert consultant.filter(status__in=list(VisitTask.OPEN)).count() == 60  # topped up with handed-over tasks
    assert tasks.filter(due_on__lt=date(2026, 9, 28)).exists()
    assert tasks.filter(due_on__gt=date(2026, 9, 28)).exists()

    again = run_bench()
    assert "Reusing the 1,200 generated visit tasks" in again
