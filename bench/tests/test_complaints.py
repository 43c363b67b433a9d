"""`python -m bench complaints` end to end at a tiny size, on whatever database the test run
uses. Timings are not asserted (they depend on the machine); what is checked is that every
scenario is measured beside its floor, that the floors count what the pages count, that
the list's query count does not grow with the page size or the page, and that a second
run reuses the complaints."""

import pytest

from bench import cli, dataset
from crm.complaints.models import Complaint

SCENARIOS = ("投诉列表 25 条/页", "投诉列表 100 条/页", "投诉列表 第 40 页", "未结投诉（倒计时）", "月度分析报告")


def run_bench(*options):
    argv = ["complaints", "--complaints", "1700", "--customers", "300", "--requests", "2", "--warmup", "1", *options]
    out = []
    cli.run(cli.parser().parse_args(argv), write=out.append)
    return "\n".join(out)


@pytest.mark.django_db(transaction=False)
def test_bench_measures_the_list_and_the_report_beside_their_floors():
    output = run_bench()
    table = [line for line in output.splitlines() if line.startswith("| ")]
    for label in SCENARIOS:
        assert any(label in row for row in table), label
    assert not any("HTTP" in row for row in table)
    assert "N+1 check (25 vs 100 rows vs page 40 vs open)" in output
    assert "— PASS" in output.split("N+1 check")[1].splitlines()[0]
    assert output.count("result check [") == 3  # the first page's rows, the total, the report
    assert "WRONG RESULT" not in output
    assert "report: median" in output
    complaints = Complaint.objects.filter(company__name=dataset.BENCH_COMPANY)
    assert complaints.count() == 1700
    assert complaints.filter(status__in=list(Complaint.OPEN)).exists()
    assert complaints.exclude(status__in=list(Complaint.OPEN)).exists()
    assert complaints.values("registered_at__month").distinct().count() >= 11  # spread over the year

    again = run_bench()
    assert "Reusing the 1,700 generated complaints" in again
