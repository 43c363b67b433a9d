"""The care benchmark's floors insert exactly what the planners insert (else the ratios in
docs/performance.md would compare different work), and the benchmark leaves nothing behind."""

from __future__ import annotations

import pytest

from bench import care
from crm.care import planning
from crm.care.models import Draft, OutboundMessage
from crm.care.tests.conftest import local
from crm.care.tests.test_planning_reruns import DAY, a_busy_day  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db]


@pytest.mark.usefixtures("a_busy_day")
def test_each_floor_inserts_the_rows_its_planner_inserts():
    results, whole, rerun = care.plan_timings(DAY, repeat=1, write=lambda line: None)
    floors = {r.label: (r.rows, r.floor_rows) for r in results}
    assert floors.pop("plan_move_in_greetings") == (1, None)  # timed without a floor
    assert floors == {
        "plan_birthdays": (2, 2),
        "plan_subscription_congratulations": (2, 2),  # Thursday's too: a late entry
        "plan_signing_reminders": (1, 1),
        "plan_milestone_notices": (2, 2),
        "plan_anniversaries": (1, 1),
    }
    assert (whole.rows, rerun.rows) == (9, 0)
    assert not OutboundMessage.objects.exists()
    assert not Draft.objects.exists()
    assert planning.plan_today(now=local(DAY, 1)) == 9  # nothing left planned
