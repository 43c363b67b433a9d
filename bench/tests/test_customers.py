"""`python -m bench customers` end to end at a tiny size, on whatever database the test run uses.

Timings are not asserted: they depend on the machine. What is checked is that every
scenario is measured and that the searches list exactly the customers raw SQL finds.
"""

import pytest

from bench import BenchError, cli, dataset
from crm.accounts.models import Company
from crm.customers.models import Customer

SCENARIOS = (
    "list p1 · consultant (OWN)",
    "list total (hx-get after the rows) · consultant",
    "list p1 · director (PROJECT)",
    "list p1 · director · 100 rows",
    "search mobile '",
    "search name '",
    "search surname '王' · consultant",
    "search surname '欧阳' · consultant",
    "360° page · consultant",
)


def run_bench(*options):
    argv = ["customers", "--customers", "600", "--requests", "2", "--warmup", "1", "--import-rows", "20", *options]
    out = []
    cli.run(cli.parser().parse_args(argv), write=out.append)
    return "\n".join(out)


@pytest.mark.django_db
def test_bench_measures_every_scenario_and_checks_the_search_results():
    output = run_bench()

    table = [line for line in output.splitlines() if line.startswith("| ")]
    for label in SCENARIOS:
        assert any(label in row for row in table), label
    assert not any("HTTP" in row for row in table)
    assert "result check [search surname '王' · consultant]: OK" in output
    assert "result check [search surname '欧阳' · consultant]: OK" in output
    assert "WRONG RESULT" not in output
    assert "N+1 check (page size 25 vs 100)" in output
    assert "import 20 rows (.xlsx): validate_file" in output
    assert "import 20 rows (.csv, GB18030): validate_file" in output
    assert "(20 valid, 0 invalid)" in output
    assert "peak memory" in output
    assert Customer.objects.filter(company__name=dataset.BENCH_COMPANY).count() == 600


@pytest.mark.django_db
def test_a_second_run_reuses_the_dataset_of_the_same_size_and_regenerates_another():
    dataset.ensure_dataset(300, write=lambda line: None)
    first_ids = set(Customer.objects.values_list("id", flat=True))
    said = []

    dataset.ensure_dataset(300, write=said.append)

    assert said == [f"Reusing the generated dataset of 300 customers (marker {dataset.MARKER_KEY})."]
    assert set(Customer.objects.values_list("id", flat=True)) == first_ids

    dataset.ensure_dataset(400, write=said.append)

    assert Customer.objects.count() == 400


@pytest.mark.django_db
def test_bench_refuses_a_database_holding_other_data():
    Company.objects.create(name="真实置业")

    with pytest.raises(BenchError, match="--force"):
        run_bench()
    assert not Customer.objects.exists()
