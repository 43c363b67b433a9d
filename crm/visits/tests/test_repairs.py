"""Repair callbacks (100%, due within one working day, once per repair) and the director's
quarterly 20% re-check (rounded up per project, reproducible from the stored seed, once
per quarter)."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.visits import cards, repairs, services
from crm.visits.models import RecheckSample, Repair, TaskKind, VisitTask
from crm.visits.repairs import Quarter
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
NOW = cst(2026, 9, 30, 17, 0)  # Wednesday before National Day


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def api(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def repair(actor, customer, *, completed_at=None, calendar=None, **kw):
    fields = {"problem": "厨房水龙头漏水", "contractor": "华安维修"} | kw
    return repairs.record_repair(
        actor=actor, customer=customer, completed_at=completed_at, now=NOW, calendar=calendar, **fields
    )


def test_a_completed_repair_gets_one_callback_due_within_one_working_day(service, customer, calendar):
    done = repair(service, customer, completed_at=cst(2026, 9, 30, 11), calendar=calendar)
    task = VisitTask.objects.get(repair=done)
    assert (task.kind, task.start_on, task.due_on) == (TaskKind.REPAIR, date(2026, 9, 30), date(2026, 10, 8))
    assert task.due_note == ""
    assert task.assignee == service  # the project's 客服专员
    assert task.questions == list(repairs.CALLBACK_QUESTIONS)
    assert repairs.make_callbacks(calendar=calendar) == 0  # the job after it: nothing twice
    assert VisitTask.objects.filter(kind=TaskKind.REPAIR).count() == 1


def test_an_open_repair_waits_for_its_completion(service, customer, calendar):
    pending = repair(service, customer)
    assert not VisitTask.objects.exists()
    repairs.complete_repair(pending, actor=service, completed_at=cst(2026, 9, 30, 16), now=NOW, calendar=calendar)
    assert VisitTask.objects.filter(repair=pending, kind=TaskKind.REPAIR).count() == 1
    with pytest.raises(DomainError, match="已登记完工"):
        repairs.complete_repair(pending, actor=service, completed_at=cst(2026, 9, 30, 16), now=NOW)
    # A completion stamped by another system (an import) is swept up by the job, once.
    other = repair(service, customer, problem="门锁损坏")
    Repair.objects.filter(pk=other.pk).update(completed_at=cst(2026, 9, 30, 12))
    assert repairs.make_callbacks(calendar=calendar) == 1
    assert repairs.make_callbacks(calendar=calendar) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"problem": "  "}, "请填写报修问题"),
        ({"contractor": ""}, "请填写维修单位"),
        ({"completed_at": cst(2026, 10, 1, 9)}, "完工时间不能晚于现在"),
    ],
)
def test_bad_repairs_are_refused_in_chinese(service, customer, change, message):
    with pytest.raises(DomainError, match=message):
        repair(service, customer, **change)
    assert not Repair.objects.exists()


def test_only_service_staff_record_repairs(consultant, customer):
    with pytest.raises(NotAllowed):
        repair(consultant, customer)


def test_the_repair_page_keeps_what_was_typed(client, service, customer):
    client.force_login(service)
    data = {"customer_number": customer.number, "problem": "阳台<script>渗水", "contractor": "", "completed_at": ""}
    response = client.post(reverse("visits:repairs"), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "请填写维修单位" in page
    assert "阳台&lt;script&gt;渗水" in page
    data |= {"contractor": "华安维修", "completed_at": "2026-09-30T15:00", "customer_number": "KH404"}
    page = client.post(reverse("visits:repairs"), data).content.decode()
    assert "没有找到这个客户编号" in page
    data["customer_number"] = customer.number
    assert client.post(reverse("visits:repairs"), data).status_code == 302
    assert VisitTask.objects.filter(kind=TaskKind.REPAIR, customer=customer).count() == 1


def test_repairs_keep_to_the_scope(client, service, customer, outsider, consultant, make_staff, project_b):
    from crm.accounts.roles import Role

    done = repair(service, customer)
    other_service = make_staff("service_b", Role.SERVICE, projects=(project_b,))
    assert api(other_service).get(f"/api/visits/repairs/{done.pk}/").status_code == 404
    assert api(service).get(f"/api/visits/repairs/{done.pk}/").status_code == 200
    client.force_login(consultant)
    assert client.get(reverse("visits:repairs")).status_code == 403
    client.force_login(other_service)
    assert (
        client.post(reverse("visits:repair_complete", args=[done.pk]), {"completed_at": "2026-09-30T10:00"}).status_code
        == 404
    )


def test_the_api_records_and_completes_a_repair(service, customer):
    client = api(service)
    response = client.post("/api/visits/repairs/", {"customer": customer.pk, "problem": "", "contractor": "华安"})
    assert response.status_code == 400
    response = client.post(
        "/api/visits/repairs/", {"customer": customer.pk, "problem": "门锁坏了", "contractor": "华安"}
    )
    assert response.status_code == 201
    assert response.json()["callback"] is None
    pk = response.json()["id"]
    done = client.post(f"/api/visits/repairs/{pk}/complete/", {"completed_at": "2026-09-30T16:00:00+08:00"})
    assert done.status_code == 200
    assert done.json()["callback"] == VisitTask.objects.get(kind=TaskKind.REPAIR).pk
    assert Repair.objects.get().source == Repair.Source.API


# ---------------------------------------------------------------- the quarterly re-check


def test_the_sample_size_is_twenty_percent_rounded_up():
    assert [repairs.sample_size(n) for n in (0, 1, 5, 6, 10, 11, 99)] == [0, 1, 1, 2, 2, 3, 20]


def test_the_draw_is_stratified_and_reproducible():
    population = {1: list(range(100, 111)), 2: list(range(200, 206))}  # 11 → 3, 6 → 2
    first = repairs.draw(population, 12345)
    assert first == repairs.draw(population, 12345)
    assert len([i for i in first if i < 200]) == 3
    assert len([i for i in first if i >= 200]) == 2
    assert any(repairs.draw(population, seed) != first for seed in range(1, 20))
    assert Quarter.parse("2026Q3").previous.key == "2026Q2"
    with pytest.raises(DomainError):
        Quarter.parse("2026Q5")


@pytest.fixture
def quarter_of_callbacks(service, make_customer, project, project_b, make_staff, calendar):
    """Q3 2026: 7 completed callbacks in project A, 3 in project B, one still open, one
    completed in Q4 (not in the population)."""
    from crm.accounts.roles import Role

    service_b = make_staff("service_b", Role.SERVICE, projects=(project_b,))
    made = []
    for i in range(12):
        proj, actor = (project, service) if i < 8 else (project_b, service_b)
        customer = make_customer(f"客户{i}", project=proj)
        made.append(repair(actor, customer, completed_at=cst(2026, 9, 1 + i), calendar=calendar))
    tasks = list(VisitTask.objects.filter(kind=TaskKind.REPAIR).order_by("pk"))
    for i, task in enumerate(tasks):
        if i == 7:
            continue  # still open
        when = cst(2026, 10, 9) if i == 11 else cst(2026, 9, 2 + i)
        VisitTask.objects.filter(pk=task.pk).update(
            status=VisitTask.Status.DONE, completed_at=when, reached=True, satisfaction=4
        )
    return tasks


def test_the_quarterly_job_draws_once_with_the_stored_seed(quarter_of_callbacks, company, director, project, calendar):
    october = cst(2026, 10, 9, 8)
    assert repairs.draw_due_samples(now=october, calendar=calendar) == 1
    assert repairs.draw_due_samples(now=cst(2026, 10, 12, 8), calendar=calendar) == 0  # rerun: nothing twice
    sample = RecheckSample.objects.get()
    assert (sample.quarter, sample.population, sample.size) == ("2026Q3", 10, 3)  # ceil(7×20%)=2 + ceil(3×20%)=1
    assert sample.seed == repairs.sample_seed(company.pk, Quarter(2026, 3))
    rechecks = VisitTask.objects.filter(kind=TaskKind.RECHECK)
    sampled = sorted(rechecks.values_list("source_task_id", flat=True))
    population = repairs.quarter_population(company.pk, Quarter(2026, 3))
    assert sampled == sorted(repairs.draw(population, sample.seed))  # reproducible from the seed
    per_project = {p: [t.project_id for t in rechecks].count(p) for p in population}
    assert per_project[project.pk] == 2
    assert sum(per_project.values()) == 3
    assert all(t.assignee == director for t in rechecks)
    assert all(t.questions == list(repairs.RECHECK_QUESTIONS) for t in rechecks)
    assert repairs.draw_recheck_sample(company, Quarter(2026, 3), now=october) is None


def test_the_director_records_the_recheck_and_sees_the_progress(quarter_of_callbacks, company, director, calendar):
    repairs.draw_due_samples(now=cst(2026, 10, 9, 8), calendar=calendar)
    task = VisitTask.objects.filter(kind=TaskKind.RECHECK).order_by("pk").first()
    services.record_outcome(
        task,
        actor=director,
        reached=True,
        channel="phone",
        scores=dict.fromkeys(repairs.RECHECK_QUESTIONS, 5),
        now=cst(2026, 10, 12, 10),
    )
    progress = repairs.sample_progress(RecheckSample.objects.get())
    assert (progress.done, progress.open, progress.percent) == (1, 2, 33)
    assert progress.averages["对治安管理的满意程度"] == 5
    card = {c.key: c for c in cards.workbench_cards(director, today=date(2026, 10, 12))}["visits_recheck"]
    assert [(s.label, s.value) for s in card.stats] == [("已抽查", 1), ("待抽查", 2)]


def test_the_samples_page_shows_seed_and_progress(client, quarter_of_callbacks, director, service, calendar):
    repairs.draw_due_samples(now=cst(2026, 10, 9, 8), calendar=calendar)
    client.force_login(director)
    page = client.get(reverse("visits:samples")).content.decode()
    assert "2026Q3" in page
    assert str(RecheckSample.objects.get().seed) in page
    client.force_login(service)
    assert client.get(reverse("visits:samples")).status_code == 403


def test_a_callback_into_a_year_without_a_calendar_says_its_due_date_is_an_estimate(service, customer, calendar):
    late = cst(2026, 12, 31, 16)  # Thursday; 2027's holidays not entered
    done = repairs.record_repair(
        actor=service,
        customer=customer,
        problem="暖气不热",
        contractor="华安维修",
        completed_at=late,
        now=late,
        calendar=calendar,
    )
    task = VisitTask.objects.get(repair=done)
    assert task.due_on == date(2027, 1, 1)
    assert "估算" in task.due_note


# ---------------------------------------------------------------- the Excel import


def workbook(rows):
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "repairs.xlsx"
    return buffer


HEADER = ["客户编号", "房号", "报修问题", "维修单位", "完工时间"]


def test_an_import_with_a_wrong_row_imports_nothing_and_names_the_lines(client, service, customer, unit):
    client.force_login(service)
    upload = workbook(
        [
            HEADER,
            [customer.number, "", "厨房水龙头漏水", "华安维修", "2026-09-29 10:00"],
            ["KH404", "", "门锁坏", "华安维修", ""],
            [customer.number, "9999", "窗户漏风", "", "明天"],
        ]
    )
    response = client.post(reverse("visits:repair_import"), {"file": upload})
    page = response.content.decode()
    assert response.status_code == 400
    assert "有 2 行不正确，未导入任何报修" in page
    assert "第 3 行：没有找到客户编号 KH404" in page
    assert "第 4 行：请填写维修单位" in page
    assert not Repair.objects.exists()


def test_an_import_records_every_row_and_makes_the_callbacks_once(client, service, customer, make_deal, unit):
    client.force_login(service)
    upload = workbook(
        [
            HEADER,
            [customer.number, "", "厨房水龙头漏水", "华安维修", datetime(2026, 9, 29, 10, 0)],
            [customer.number, "", "门锁坏", "永固门业", ""],
        ]
    )
    assert client.post(reverse("visits:repair_import"), {"file": upload}).status_code == 302
    assert list(Repair.objects.order_by("pk").values_list("source", "problem")) == [
        ("import", "厨房水龙头漏水"),
        ("import", "门锁坏"),
    ]
    assert VisitTask.objects.filter(kind=TaskKind.REPAIR).count() == 1
    assert repairs.make_callbacks() == 0


def test_an_import_refuses_a_file_that_is_not_a_workbook(client, service):
    client.force_login(service)
    fake = BytesIO("客户编号,报修问题\n".encode())
    fake.name = "repairs.xlsx"
    page = client.post(reverse("visits:repair_import"), {"file": fake}).content.decode()
    assert "不是 Excel 工作簿" in page
