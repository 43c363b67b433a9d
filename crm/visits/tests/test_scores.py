"""Statistics completion (issue 12, item 7): issues by department with promised dates kept,
and the per-consultant monthly score on a hand-built month, with the team leader's
improvement plan; both exported to Excel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from crm.accounts.access import may_write_improvement_plan
from crm.accounts.models import Department
from crm.accounts.roles import Role
from crm.core.errors import PermissionDenied as NotAllowed
from crm.visits import services, stats
from crm.visits.models import ImprovementPlan, IssueCategory
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db


def visit(task, actor, at, score, *issues):
    with time_machine.travel(at, tick=False):
        _, raised = services.record_visit(
            task,
            actor=actor,
            reached=True,
            channel="phone",
            scores=dict.fromkeys(task.questions, score),
            issues=list(issues),
            now=at,
        )
    return raised


@pytest.fixture
def month(make_task, customer, consultant, teammate, make_customer, company, director, teams, leader):
    """September 2026. 王顾问: four tasks due — done on time (5 分, raises a 工程部 issue
    still open), done late (4 分), unreachable, done on time (3 分, raises a 工程部 issue
    resolved in time and closed). 李同组 raises two 物业部 issues: one resolved after the
    promised date, one unresolved past it."""
    team = teams[0]
    team.leader = leader
    team.save()
    engineering = Department.objects.create(company=company, name="工程部")
    property_dept = Department.objects.create(company=company, name="物业部")
    quality = IssueCategory.objects.create(company=company, name="产品质量", department=engineering)
    service_cat = IssueCategory.objects.create(company=company, name="服务态度", department=property_dept)
    draft = services.IssueDraft
    t1 = make_task(customer, due_on=date(2026, 9, 29))
    t2 = make_task(customer, due_on=date(2026, 9, 30))
    t3 = make_task(customer, due_on=date(2026, 9, 10), max_attempts=1)
    t4 = make_task(customer, due_on=date(2026, 9, 15))
    visit(
        t1,
        consultant,
        cst(2026, 9, 29, 10),
        5,
        draft(category=quality, description="渗水", promised_on=date(2026, 10, 9)),
    )
    visit(t2, consultant, cst(2026, 10, 2, 10), 4)
    services.record_outcome(t3, actor=consultant, reached=False, channel="phone", now=cst(2026, 9, 10, 10))
    (kept,) = visit(
        t4,
        consultant,
        cst(2026, 9, 14, 10),
        3,
        draft(category=quality, description="门锁", promised_on=date(2026, 9, 18)),
    )
    services.resolve_issue(kept, actor=director, resolution="已更换门锁", now=cst(2026, 9, 17, 10))
    services.inform_customer(kept, actor=consultant, accepted=True, note="客户满意", now=cst(2026, 9, 17, 15))
    other = make_customer("李四", owner=teammate)
    t5 = make_task(other, due_on=date(2026, 9, 14))
    late, _unresolved = visit(
        t5,
        teammate,
        cst(2026, 9, 14, 11),
        5,
        draft(category=service_cat, description="保安态度", promised_on=date(2026, 9, 16)),
        draft(category=service_cat, description="保洁", promised_on=date(2026, 9, 20)),
    )
    services.resolve_issue(late, actor=director, resolution="已批评教育", now=cst(2026, 9, 17, 10))
    return {"engineering": engineering, "property": property_dept}


def test_issues_by_department_and_promised_dates_kept(month, director):
    rows = {d.name: d for d in stats.issues_by_department(director, 2026, 9, today=date(2026, 9, 30))}
    eng, prop = rows["工程部"], rows["物业部"]
    assert (eng.raised, eng.resolved, eng.closed, eng.kept, eng.missed) == (2, 1, 1, 1, 0)
    assert eng.kept_rate == 100.0
    assert (prop.raised, prop.resolved, prop.closed, prop.kept, prop.missed) == (2, 1, 0, 0, 2)
    assert prop.kept_rate == 0.0


def test_the_consultant_score_on_a_hand_built_month(month, director):
    scores = {s.row.name: s for s in stats.consultant_scores(director, 2026, 9)}
    wang = scores["王顾问"]
    # reach 3/4, on time 2/4, satisfaction 4.0/5, issues closed 1/2:
    # 30 × 0.75 + 30 × 0.5 + 30 × 0.8 + 10 × 0.5 = 22.5 + 15 + 24 + 5 = 66.5
    assert (wang.row.due, wang.row.on_time, wang.row.reached, wang.row.unreachable) == (4, 2, 3, 1)
    assert wang.row.satisfaction == 4.0
    assert (wang.issues_raised, wang.issues_closed) == (2, 1)
    assert wang.parts == {
        "reach": Decimal("22.50"),
        "on_time": Decimal("15.0"),
        "satisfaction": Decimal("24.0"),
        "issues": Decimal("5.0"),
    }
    assert wang.score == Decimal("66.5")
    # 李同组: 1 due, done on time, reached, 5 分, two issues raised and none closed:
    # 30 + 30 + 30 + 0 = 90.
    assert scores["李同组"].score == Decimal("90.0")


def test_a_visitor_with_nothing_due_has_no_score(make_task, customer, director):
    make_task(customer, due_on=date(2026, 10, 12))
    assert stats.consultant_scores(director, 2026, 9) == []


def test_the_plan_is_written_by_the_team_leader_or_the_director(
    month, consultant, leader, director, make_staff, teams, project
):
    other_leader = make_staff("leader2", Role.TEAM_LEADER, team=teams[1], projects=(project,))
    teams[1].leader = other_leader
    teams[1].save()
    assert may_write_improvement_plan(leader, consultant)
    assert may_write_improvement_plan(director, consultant)
    assert not may_write_improvement_plan(other_leader, consultant)
    assert not may_write_improvement_plan(consultant, consultant)
    with pytest.raises(NotAllowed):
        services.save_improvement_plan(consultant, actor=other_leader, month=date(2026, 9, 1), plan="x")
    services.save_improvement_plan(consultant, actor=leader, month=date(2026, 9, 1), plan="每天上午集中回访")
    services.save_improvement_plan(
        consultant, actor=director, month=date(2026, 9, 15), plan="每天上午集中回访；按期率提升到 90%"
    )
    plan = ImprovementPlan.objects.get()
    assert (plan.month, plan.updated_by, plan.plan) == (
        date(2026, 9, 1),
        director,
        "每天上午集中回访；按期率提升到 90%",
    )
    rows = {s.row.name: s for s in stats.consultant_scores(leader, 2026, 9)}
    assert rows["王顾问"].may_edit
    assert rows["王顾问"].plan.startswith("每天上午")


def test_the_pages_show_the_formula_save_the_plan_and_export(client, month, leader, director, consultant):
    client.force_login(leader)
    url = reverse("visits:scores")
    with time_machine.travel(cst(2026, 9, 30, 10), tick=False):
        page = client.get(url, {"month": "2026-09"}).content.decode()
        assert "30 × 接通率" in page
        assert "66.5 分" in page
        too_long = client.post(
            reverse("visits:scores_plan"), {"consultant": consultant.pk, "month": "2026-09", "plan": "加" * 2001}
        )
        assert too_long.status_code == 400
        assert "改进计划最多 2000 字" in too_long.content.decode()
        assert "加" * 2001 in too_long.content.decode()
        saved = client.post(
            reverse("visits:scores_plan"),
            {"consultant": consultant.pk, "month": "2026-09", "plan": "<b>上午</b>集中回访"},
        )
        assert saved.status_code == 302
        page = client.get(url, {"month": "2026-09"}).content.decode()
        assert "&lt;b&gt;上午&lt;/b&gt;集中回访" in page
        stats_page = client.get(reverse("visits:stats"), {"month": "2026-09"}).content.decode()
        assert "承诺兑现率" in stats_page
        client.force_login(consultant)
        assert client.get(url).status_code == 403
        assert (
            client.post(
                reverse("visits:scores_plan"), {"consultant": consultant.pk, "month": "2026-09", "plan": "自己写"}
            ).status_code
            == 403
        )
        client.force_login(director)
        response = client.get(reverse("visits:scores_export"), {"month": "2026-09"})
        workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
        rows = {r[0]: r for r in workbook.active.iter_rows(min_row=4, values_only=True)}
        assert rows["王顾问"][8] == 66.5
        assert rows["王顾问"][9] == "<b>上午</b>集中回访"
        response = client.get(reverse("visits:stats_export"), {"month": "2026-09"})
        workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
        departments = {r[0]: r for r in workbook["问题按部门"].iter_rows(min_row=3, values_only=True)}
        assert departments["物业部"][1:] == (2, 1, 0, 0, 2, 0)


def test_the_api_has_the_same_scores_and_departments(month, director, consultant):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=director)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with time_machine.travel(cst(2026, 9, 30, 10), tick=False):
        body = client.get("/api/visits/scores/?month=2026-09").json()
        assert {r["name"]: r["score"] for r in body["results"]} == {"王顾问": 66.5, "李同组": 90.0}
        assert body["formula"] == stats.SCORE_FORMULA
        departments = client.get("/api/visits/stats/?month=2026-09").json()["departments"]
        assert {d["name"]: d["kept_rate"] for d in departments} == {"工程部": 100.0, "物业部": 0.0}
        assert client.get("/api/visits/scores/?month=2026-13").status_code == 400
