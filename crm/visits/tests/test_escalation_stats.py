"""Overdue tasks escalate to the team leader, then (a working day later) the director,
each level once; monthly statistics per visitor (satisfaction, reach rate, on time,
issues by class), its page and Excel."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from crm.accounts.models import Department
from crm.visits import cards, escalation, selectors, services, stats
from crm.visits.models import IssueCategory, VisitEvent
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db


@pytest.fixture
def led_team(teams, leader):
    team = teams[0]
    team.leader = leader
    team.save()
    return team


def test_an_overdue_task_goes_to_the_leader_then_the_director_once(
    make_task, customer, led_team, leader, director, calendar
):
    task = make_task(customer, due_on=date(2026, 9, 29))  # Tuesday
    on_time = make_task(customer, due_on=date(2026, 9, 30))
    first = cst(2026, 9, 30, 9)
    assert escalation.escalate_overdue(now=first, calendar=calendar) == 1
    assert escalation.escalate_overdue(now=cst(2026, 9, 30, 15), calendar=calendar) == 0  # rerun
    task.refresh_from_db()
    assert (task.escalation_level, task.escalated_at) == (1, first)
    assert list(
        selectors.tasks_visible_to(leader).filter(
            selectors.state_q("escalated_leader", user=leader, today=date(2026, 9, 30))
        )
    ) == [task]
    # One working day later: 10-01..10-07 are National Day, so not before Thursday 10-08 09:00.
    assert (
        escalation.escalate_overdue(now=cst(2026, 10, 7, 9), calendar=calendar) == 1
    )  # on_time is now overdue: level 1
    task.refresh_from_db()
    assert task.escalation_level == 1
    # Both reach level 2 on Thursday: the first working day after each level 1.
    assert escalation.escalate_overdue(now=cst(2026, 10, 8, 9), calendar=calendar) == 2
    task.refresh_from_db()
    assert task.escalation_level == 2
    assert escalation.escalate_overdue(now=cst(2026, 10, 8, 10), calendar=calendar) == 0
    notes = list(VisitEvent.objects.filter(task=task, kind=VisitEvent.Kind.ESCALATED).values_list("note", flat=True))
    assert notes == [escalation.LEVEL_NOTES[1], escalation.LEVEL_NOTES[2]]
    on_time.refresh_from_db()
    assert on_time.escalation_level == 2
    card = {c.key: c for c in cards.workbench_cards(director, today=date(2026, 10, 8))}["visits_scope"]
    assert ("升级至主任", 2) in [(s.label, s.value) for s in card.stats]


def test_the_leader_card_counts_level_one(make_task, customer, led_team, leader, calendar):
    make_task(customer, due_on=date(2026, 9, 29))
    escalation.escalate_overdue(now=cst(2026, 9, 30, 9), calendar=calendar)
    lead_card = {c.key: c for c in cards.workbench_cards(leader, today=date(2026, 9, 30))}["visits_scope"]
    assert ("组长督办", 1) in [(s.label, s.value) for s in lead_card.stats]


def test_a_done_task_stays_and_an_unassigned_one_goes_to_the_director(make_task, customer, consultant, calendar):
    done = make_task(customer, due_on=date(2026, 9, 29))
    services.record_outcome(
        done,
        actor=consultant,
        reached=True,
        channel="phone",
        scores=dict.fromkeys(done.questions, 5),
        now=cst(2026, 9, 29, 9),
    )
    nobody = make_task(customer, due_on=date(2026, 9, 29), assignee=None)
    assert escalation.escalate_overdue(now=cst(2026, 9, 30, 9), calendar=calendar) == 1
    done.refresh_from_db()
    nobody.refresh_from_db()
    assert (done.escalation_level, nobody.escalation_level) == (0, 2)  # no leader: straight to the director


def test_the_monthly_statistics_per_visitor(
    make_task, customer, consultant, teammate, make_customer, company, director
):
    other = make_customer("李四", owner=teammate)
    category = IssueCategory.objects.create(
        company=company, name="产品质量", department=Department.objects.create(company=company, name="工程部")
    )
    t1 = make_task(customer, due_on=date(2026, 9, 29))
    t2 = make_task(customer, due_on=date(2026, 9, 30))
    t3 = make_task(customer, due_on=date(2026, 9, 10), max_attempts=1)
    make_task(other, due_on=date(2026, 9, 30))
    make_task(customer, due_on=date(2026, 10, 12))  # October: not counted
    with time_machine.travel(cst(2026, 9, 29, 10), tick=False):
        services.record_visit(
            t1,
            actor=consultant,
            reached=True,
            channel="phone",
            scores=dict.fromkeys(t1.questions, 5),
            issues=[services.IssueDraft(category=category, description="渗水", promised_on=date(2026, 10, 9))],
            now=cst(2026, 9, 29, 10),
        )
    services.record_outcome(
        t2,
        actor=consultant,
        reached=True,
        channel="phone",
        scores=dict.fromkeys(t2.questions, 4),
        now=cst(2026, 10, 2, 10),
    )
    services.record_outcome(t3, actor=consultant, reached=False, channel="phone", now=cst(2026, 9, 10, 10))
    rows = {r.name: r for r in stats.monthly(director, 2026, 9)}
    wang = rows["王顾问"]
    assert (wang.due, wang.done, wang.on_time, wang.reached, wang.unreachable, wang.open) == (3, 2, 1, 2, 1, 0)
    assert wang.reach_rate == 66.7
    assert wang.satisfaction == 4.5
    assert wang.issues == {"产品质量": 1}
    assert (rows["李同组"].due, rows["李同组"].open, rows["李同组"].reach_rate) == (1, 1, None)
    # The consultant's own scope: only their customers' tasks.
    assert [r.name for r in stats.monthly(consultant, 2026, 9)] == ["王顾问"]


def test_the_stats_page_refuses_a_bad_month_in_chinese_and_exports(client, make_task, customer, director, consultant):
    make_task(customer, due_on=date(2026, 9, 29))
    client.force_login(director)
    with time_machine.travel(cst(2026, 9, 30, 10), tick=False):
        response = client.get(reverse("visits:stats") + "?month=2026-13")
        assert response.status_code == 400
        page = response.content.decode()
        assert "月份格式应为 2026-09" in page
        assert 'value="2026-13"' in page
        page = client.get(reverse("visits:stats") + "?month=2026-09").content.decode()
        assert "王顾问" in page
        response = client.get(reverse("visits:stats_export") + "?month=2026-09")
        sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
        assert rows[0][:2] == ("王顾问", 1)
        client.force_login(consultant)
        assert client.get(reverse("visits:stats")).status_code == 403


def test_the_stats_api_has_the_same_numbers_and_refuses_a_bad_month(make_task, customer, director, consultant):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    make_task(customer, due_on=date(2026, 9, 29))

    def api(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    body = api(director).get("/api/visits/stats/?month=2026-09").json()
    assert body["month"] == "2026-09"
    assert [(r["name"], r["due"], r["open"]) for r in body["results"]] == [("王顾问", 1, 1)]
    response = api(director).get("/api/visits/stats/?month=九月")
    assert response.status_code == 400
    assert "月份格式应为 2026-09" in response.content.decode()
    assert api(consultant).get("/api/visits/stats/").status_code == 403


def test_the_average_score_per_question_over_the_month(
    make_task, customer, consultant, teammate, make_customer, director, client
):
    other = make_customer("李四", owner=teammate)
    t1 = make_task(customer, due_on=date(2026, 9, 29), questions=["对销售服务是否满意", "对售楼处环境是否满意"])
    t2 = make_task(customer, due_on=date(2026, 9, 30), questions=["对销售服务是否满意", "对售楼处环境是否满意"])
    t3 = make_task(other, due_on=date(2026, 9, 30), questions=["对销售服务是否满意", "对银行按揭服务是否满意"])
    t4 = make_task(customer, due_on=date(2026, 10, 12), questions=["对销售服务是否满意"])  # October
    t5 = make_task(customer, due_on=date(2026, 9, 28), questions=["对销售服务是否满意"])  # not reached
    at = cst(2026, 9, 29, 10)
    services.record_outcome(
        t1,
        actor=consultant,
        reached=True,
        channel="phone",
        scores={"对销售服务是否满意": 5, "对售楼处环境是否满意": 2},
        now=at,
    )
    services.record_outcome(
        t2,
        actor=consultant,
        reached=True,
        channel="phone",
        scores={"对销售服务是否满意": 4, "对售楼处环境是否满意": 1},
        now=at,
    )
    services.record_outcome(
        t3,
        actor=teammate,
        reached=True,
        channel="phone",
        scores={"对销售服务是否满意": 3, "对银行按揭服务是否满意": 4},
        now=at,
    )
    services.record_outcome(
        t4, actor=consultant, reached=True, channel="phone", scores={"对销售服务是否满意": 1}, now=at
    )
    services.record_outcome(t5, actor=consultant, reached=False, channel="phone", now=at)
    rows = {q.question: q for q in stats.question_averages(director, 2026, 9)}
    assert list(rows) == ["对销售服务是否满意", "对售楼处环境是否满意", "对银行按揭服务是否满意"]  # most asked first
    sales = rows["对销售服务是否满意"]
    assert (sales.answered, sales.average, sales.low, sales.counts) == (3, 4.0, 0, {1: 0, 2: 0, 3: 1, 4: 1, 5: 1})
    place = rows["对售楼处环境是否满意"]
    assert (place.answered, place.average, place.low) == (2, 1.5, 2)
    # The consultant's scope: only their own customers' visits.
    mine = {q.question: q for q in stats.question_averages(consultant, 2026, 9)}
    assert "对银行按揭服务是否满意" not in mine
    assert (mine["对销售服务是否满意"].answered, mine["对销售服务是否满意"].average) == (2, 4.5)
    client.force_login(director)
    with time_machine.travel(cst(2026, 9, 30, 10), tick=False):
        page = client.get(reverse("visits:stats") + "?month=2026-09").content.decode()
        assert "各问题平均评分" in page
        assert "<td>对售楼处环境是否满意</td><td>2</td><td>1.5</td><td>2</td>" in page
        response = client.get(reverse("visits:stats_export") + "?month=2026-09")
        book = load_workbook(BytesIO(b"".join(response.streaming_content)))
        sheet = book["各问题平均评分"]
        rows_x = list(sheet.iter_rows(min_row=3, values_only=True))
        assert rows_x[0] == ("对销售服务是否满意", 3, 4, 0, 1, 1, 1, 0, 0)
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=director)[0].key}")
    body = api.get("/api/visits/stats/?month=2026-09").json()
    assert body["questions"][1] == {"question": "对售楼处环境是否满意", "answered": 2, "average": 1.5, "low": 2}
