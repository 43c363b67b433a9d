"""`python -m bench reports` end to end at a tiny size, on whatever database the test run
uses. Timings are not asserted (they depend on the machine); what is checked is that every
pack and the dashboard are measured beside their floors, that the floors count what the
packs show (the result checks), and that the hand-written visit floor agrees with the
product's grouped visit figures."""

from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from bench import cli, complaints, reports, visits
from bench.dataset import ensure_dataset
from crm.visits import selectors as visit_selectors

PACKS = ("周报", "月报", "每日巡查报告", "客户投诉分析报告", "月度回访统计")
DAY = date(2026, 9, 28)


@pytest.fixture
def bench_data():
    data = ensure_dataset(300, write=lambda line: None)
    complaints.ensure_complaints(data, 400, now=timezone.now(), write=lambda line: None)
    visits.ensure_queue_tasks(data, 1200, 60, day=DAY, write=lambda line: None)
    return data


def run_bench(*options):
    argv = ["reports", "--customers", "300", "--repeat", "2", "--requests", "2", "--warmup", "1", *options]
    out = []
    cli.run(cli.parser().parse_args(argv), write=out.append)
    return "\n".join(out)


@pytest.mark.django_db(transaction=False)
def test_bench_measures_every_pack_and_the_dashboard_beside_their_floors(bench_data):
    output = run_bench("--month", f"{DAY:%Y-%m-%d}")

    pack_table = output.split("Packs:")[1].split("\n\n")[0].splitlines()
    pack_rows = [line for line in pack_table if line.startswith("| ") and not line.startswith("| pack |")]
    assert len(pack_rows) == len(PACKS)
    for label in PACKS:
        assert any(row.startswith(f"| {label}") for row in pack_rows), label
    assert all(row.rstrip(" |").endswith(("PASS", "MISS", "ms of it)")) for row in pack_rows)
    assert "指标看板 2026-09" in output
    assert "HTTP" not in output
    assert "12-month trend alone" in output
    checks = [line for line in output.splitlines() if line.startswith("result check [")]
    # The weekly's and monthly's visits, the complaint analysis, the visit statistics'
    # per-visitor totals, the dashboard counted vs live.
    assert len(checks) == 5
    assert all(line.endswith(": OK") or line.endswith("— OK") for line in checks)
    assert "指标看板 2026-09（未统计往月）" in output  # measured without the month counts too
    assert "month counts (job count_kpi_months):" in output
    assert "load before measuring" in output
    assert "load after measuring" in output


@pytest.mark.django_db(transaction=False)
def test_visit_floor_counts_what_the_packs_show(bench_data):
    first, last = date(2026, 9, 1), date(2026, 10, 31)
    sql, params = reports.visit_floor_sql(bench_data.company.pk, first, last)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        floor = reports.visit_floor_figures(cursor.fetchall())
    product = visit_selectors.visit_figures_by_channel(
        bench_data.company.pk, None, first, last, channels=("phone", "visit")
    )
    assert floor["phone"]["due"] > 0
    for channel in ("phone", "visit"):
        assert {k: product[channel][k] for k in reports.VISIT_FIGURES} == floor.get(
            channel, dict.fromkeys(reports.VISIT_FIGURES, 0)
        )
    # One channel alone (visit_figures_for_period) is the same as from the grouped call.
    assert (
        visit_selectors.visit_figures_for_period(bench_data.company.pk, None, first, last, channel="phone")
        == (product["phone"])
    )


def test_replayable_runs_a_server_side_cursor_as_its_select():
    statements = [
        'DECLARE "c1" NO SCROLL CURSOR WITH HOLD FOR SELECT 1 FROM t',
        'FETCH FORWARD 2000 FROM "c1"',
        'CLOSE "c1"',
        "SELECT 2",
    ]
    assert reports.replayable(statements) == ["SELECT 1 FROM t", "SELECT 2"]
