"""The visit pages and API: scope (a consultant sees own customers' tasks, the outsider
gets 404, two roles give the union), recording with bad input (Chinese errors, what was
typed kept), the list's filters, the export, the workbench card and the menu."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.roles import Role
from crm.customers.models import TimelineEvent
from crm.visits import selectors
from crm.visits.models import VisitTask
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
Status = VisitTask.Status
TODAY = date(2026, 9, 28)


@pytest.fixture(autouse=True)
def _monday_morning():
    """The pages read "today" from the clock: Monday 2026-09-28, 10:00."""
    with time_machine.travel(cst(2026, 9, 28, 10, 0), tick=False):
        yield


def login(client, user):
    client.force_login(user)
    return client


def api(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def world(make_customer, make_task, consultant, teammate, outsider, project_b):
    """A task for a customer of each: the consultant, the teammate, the outsider (project B)."""
    mine = make_task(make_customer("张三"))
    teammates = make_task(make_customer("李四", owner=teammate))
    outsiders = make_task(make_customer("王五", owner=outsider, project=project_b))
    return {"mine": mine, "teammate": teammates, "outsider": outsiders}


# ---------------------------------------------------------------- scope


def test_a_consultant_sees_only_own_customers_tasks(world, consultant):
    assert list(selectors.tasks_visible_to(consultant)) == [world["mine"]]


def test_the_specialist_sees_the_project_and_the_director_both_projects(world, service, director, manager):
    assert set(selectors.tasks_visible_to(service)) == {world["mine"], world["teammate"]}
    assert selectors.tasks_visible_to(director).count() == 3
    assert selectors.tasks_visible_to(manager).count() == 3


def test_a_user_with_two_roles_sees_the_union(world, make_staff, make_customer, make_task, project, project_b, teams):
    # A consultant of project B who is also 客服专员 of project A: own customers in B and
    # every task of A.
    both = make_staff("both", Role.CONSULTANT, Role.SERVICE, team=teams[1], projects=(project,))
    own_in_b = make_task(make_customer("赵六", owner=both, project=project_b))
    assert set(selectors.tasks_visible_to(both)) == {world["mine"], world["teammate"], own_in_b}


def test_a_task_assigned_to_someone_is_visible_to_them(world, make_staff, project_b):
    helper = make_staff("helper", Role.SERVICE, projects=(project_b,))
    world["mine"].assignee = helper
    world["mine"].save()
    assert world["mine"] in selectors.tasks_visible_to(helper)


def test_the_outsider_gets_404_on_the_page_the_record_and_the_api(client, world, outsider):
    task = world["mine"]
    login(client, outsider)
    assert client.get(reverse("visits:detail", args=[task.pk])).status_code == 404
    response = client.post(reverse("visits:record", args=[task.pk]), {"reached": "no", "channel": "phone"})
    assert response.status_code == 404
    assert api(outsider).get(f"/api/visits/{task.pk}/").status_code == 404
    response = api(outsider).post(f"/api/visits/{task.pk}/outcome/", {"reached": False, "channel": "phone"})
    assert response.status_code == 404
    task.refresh_from_db()
    assert (task.status, task.attempts) == (Status.PENDING, 0)


def test_management_reads_but_does_not_record(client, world, manager):
    task = world["mine"]
    login(client, manager)
    assert client.get(reverse("visits:detail", args=[task.pk])).status_code == 200
    assert client.post(reverse("visits:record", args=[task.pk]), {"reached": "no"}).status_code == 403
    assert (
        api(manager).post(f"/api/visits/{task.pk}/outcome/", {"reached": False, "channel": "phone"}).status_code == 403
    )


# ---------------------------------------------------------------- recording


def test_the_task_page_shows_the_script_and_the_questions(client, world, consultant):
    task = world["mine"]
    page = login(client, consultant).get(reverse("visits:detail", args=[task.pk])).content.decode()
    assert "回访话术" in page
    assert "张三先生/女士" in page
    assert "对置业顾问销售服务的满意程度" in page
    assert "保存回访结果" in page


def test_recording_without_saying_whether_reached_keeps_what_was_typed(client, world, consultant):
    task = world["mine"]
    response = login(client, consultant).post(
        reverse("visits:record", args=[task.pk]), {"channel": "visit", "q0": "4", "opinions": "希望<b>早日</b>交房"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "请选择是否联系上客户" in page
    assert "希望&lt;b&gt;早日&lt;/b&gt;交房" in page  # kept, and escaped
    assert '<option value="visit" selected>' in page
    assert '<option value="4" selected>' in page
    task.refresh_from_db()
    assert task.status == Status.PENDING


def test_recording_reached_without_every_score_names_the_question(client, world, consultant):
    task = world["mine"]
    response = login(client, consultant).post(
        reverse("visits:record", args=[task.pk]),
        {"reached": "yes", "channel": "phone", "q0": "5", "q1": "4", "q2": "", "q3": "5", "opinions": "满意"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"请为“{task.questions[2]}”选择 1–5 分" in page
    assert "满意</textarea>" in page
    assert re.search(r'<input type="radio" name="reached" value="yes"[^>]*checked', page)
    assert not re.search(r'<input type="radio" name="reached" value="no"[^>]*checked', page)
    assert '<option value="4" selected>' in page


def test_recording_the_outcome_completes_it_and_it_leaves_todays_list(client, world, consultant):
    task = world["mine"]
    login(client, consultant)
    todays = client.get(reverse("visits:list") + "?state=today&who=me").content.decode()
    assert reverse("visits:detail", args=[task.pk]) in todays
    response = client.post(
        reverse("visits:record", args=[task.pk]),
        {"reached": "yes", "channel": "phone", "q0": "5", "q1": "4", "q2": "4", "q3": "5", "opinions": "很满意"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.satisfaction) == (Status.DONE, 5)
    todays = client.get(response["Location"]).content.decode()
    assert reverse("visits:detail", args=[task.pk]) not in todays
    assert TimelineEvent.objects.filter(customer=task.customer, kind=TimelineEvent.Kind.VISIT).exists()


def test_the_api_records_an_outcome_with_the_same_rules(world, consultant):
    task = world["mine"]
    client = api(consultant)
    listed = client.get("/api/visits/?state=today&who=me").json()
    assert [row["id"] for row in listed["results"]] == [task.pk]
    assert listed["results"][0]["mobile"].count("*") == 4
    response = client.post(f"/api/visits/{task.pk}/outcome/", {"reached": True, "channel": "phone"}, format="json")
    assert response.status_code == 400
    assert "选择 1–5 分" in str(response.json())
    response = client.post(f"/api/visits/{task.pk}/outcome/", {"reached": False, "channel": "phone"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"]) == ("retry", 1)
    assert body["next_attempt_at"].startswith("2026-09-29T15:00")
    events = client.get(f"/api/visits/{task.pk}/events/").json()
    assert events[0]["to_status"] == "retry"


# ---------------------------------------------------------------- list, export, card, menu


def test_the_lists_buckets_today_overdue_upcoming(make_customer, make_task, consultant):
    customer = make_customer("钱七")
    today = make_task(customer, start_on=date(2026, 9, 25), due_on=date(2026, 10, 8))
    overdue = make_task(customer, start_on=date(2026, 9, 18), due_on=date(2026, 9, 25))
    upcoming = make_task(customer, start_on=date(2026, 9, 30), due_on=date(2026, 10, 9))
    retry_tomorrow = make_task(
        customer, status=Status.RETRY, attempts=1, next_attempt_at=cst(2026, 9, 29, 15), due_on=date(2026, 10, 8)
    )
    make_task(customer, status=Status.DONE)

    def ids(state):
        return set(selectors.my_tasks(consultant, state, today=TODAY).values_list("pk", flat=True))

    assert ids("today") == {today.pk}
    assert ids("overdue") == {overdue.pk}
    assert ids("upcoming") == {upcoming.pk, retry_tomorrow.pk}


def test_the_export_is_the_lists_rows(client, world, director):
    response = login(client, director).get(reverse("visits:export") + "?state=open")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert sorted(r[0] for r in rows) == ["张三", "李四", "王五"]
    assert rows[0][9] == "待回访"


def test_a_consultant_may_not_export(client, world, consultant):
    assert login(client, consultant).get(reverse("visits:export")).status_code == 403


def test_the_workbench_shows_my_calls_today_and_the_directors_overdue(
    client, world, make_task, make_customer, consultant, director
):
    make_task(make_customer("孙八"), start_on=date(2026, 9, 18), due_on=date(2026, 9, 25))
    page = login(client, consultant).get("/").content.decode()
    assert "今天要打的回访电话" in page
    assert reverse("visits:detail", args=[world["mine"].pk]) in page
    assert 'data-stat="visits_overdue"' in page
    assert f'href="{reverse("visits:list")}"' in page  # the menu
    page = login(client, director).get("/").content.decode()
    assert 'data-stat="visits_scope_overdue"' in page
    assert "回访督办" in page
    # The director has no visits of their own: no card of three zeros for them.
    assert 'data-stat="visits_today"' not in page
    assert "今天要打的回访电话" not in page
    world["mine"].assignee = director
    world["mine"].save(update_fields=["assignee"])
    page = login(client, director).get("/").content.decode()
    assert 'data-stat="visits_today"' in page


def test_the_director_assigns_from_the_page_and_errors_are_chinese(client, world, director, service):
    task = world["mine"]
    login(client, director)
    response = client.post(reverse("visits:assign", args=[task.pk]), {"assignee": ""})
    assert response.status_code == 400
    assert "请选择回访人" in response.content.decode()
    response = client.post(reverse("visits:assign", args=[task.pk]), {"assignee": service.pk, "note": "深度回访"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == service


def test_the_list_and_the_api_read_a_constant_number_of_queries(client, make_customer, make_task, director):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url, c):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    login(client, director)
    rest = api(director)
    make_task(make_customer("甲"))
    count(reverse("visits:list"), client)  # the first request reads the user's roles once
    few = (count(reverse("visits:list") + "?state=open", client), count("/api/visits/", rest))
    for name in "乙丙丁戊己庚辛":
        make_task(make_customer(name))
    many = (count(reverse("visits:list") + "?state=open", client), count("/api/visits/", rest))
    assert few == many


def test_the_queue_reads_four_queries_and_escapes_names(
    client, make_customer, make_task, consultant, django_assert_num_queries
):
    """Session, user, the page and the bell, whatever the rows: the total comes from the last
    page or afterwards (task_list_count), the plan and project options when the dropdown is
    opened (docs/performance.md, the work queue 2026-12-06)."""
    login(client, consultant)
    for name in ("<i>甲</i>", "乙", "丙"):
        make_task(make_customer(name), status=Status.RETRY, attempts=1, next_attempt_at=cst(2026, 9, 29, 15))
    client.get(reverse("visits:list"))  # the first request reads the user's roles once
    with django_assert_num_queries(4):
        body = client.get(reverse("visits:list") + "?state=mine").content.decode()
    assert "共 3 条" in body
    assert "&lt;i&gt;甲&lt;/i&gt;" in body
    assert "<i>甲</i>" not in body
    assert body.count("已联系 1 次，09-29 15:00 再拨") == 3


def test_a_long_queue_shows_its_rows_first_and_its_total_after(
    client, make_customer, make_task, consultant, django_assert_num_queries
):
    login(client, consultant)
    customer = make_customer("甲")
    for _ in range(30):
        make_task(customer)
    client.get(reverse("visits:list"))
    with django_assert_num_queries(4):
        body = client.get(reverse("visits:list")).content.decode()
    assert 'id="list-total" hx-get="/visits/count/"' in body
    assert '<span id="pager-total"></span>' in body
    assert "下一页" in body
    with django_assert_num_queries(3):  # session, user and the capped count
        total = client.get(reverse("visits:list_count")).content.decode()
    assert "共 30 条" in total
    assert 'id="pager-total" hx-swap-oob="true"> / 2' in total


def test_the_total_keeps_the_filters_and_the_scope(client, world, make_customer, make_task, consultant, outsider):
    make_task(make_customer("赵六"), channel="sms")
    count = reverse("visits:list_count")
    login(client, consultant)
    assert "共 2 条" in client.get(count).content.decode()  # 我的未完成: not the teammate's or the outsider's
    assert "共 1 条" in client.get(f"{count}?channel=sms&page=9").content.decode()
    assert "共 1 条" in login(client, outsider).get(count).content.decode()
    assert "共 0 条" in client.get(f"{count}?channel=sms").content.decode()


def test_the_plan_and_project_options_are_fetched_when_wanted(client, consultant, plans, project, project_b):
    login(client, consultant)
    body = client.get(reverse("visits:list")).content.decode()
    assert f'hx-get="{reverse("visits:list_options", args=["plan"])}"' in body
    assert '<option value="">全部计划</option></select>' in body  # the plans are not read for the page
    body = client.get(reverse("visits:list"), {"plan": "签约回访"}).content.decode()
    assert '<option value="签约回访" selected>签约回访</option>' in body
    options = client.get(reverse("visits:list_options", args=["plan"]), {"plan": "签约回访"}).content.decode()
    assert options.startswith('<option value="">全部计划</option>')
    assert options.count("签约回访") == 2  # one choice for the name both projects' plans share
    assert '<option value="签约回访" selected>' in options
    projects = client.get(reverse("visits:list_options", args=["project"])).content.decode()
    assert f'<option value="{project.pk}">{project.name}</option>' in projects
    assert client.get(reverse("visits:list_options", args=["status"])).status_code == 404


def test_a_deep_page_of_the_queue_reads_its_ids_first_and_shows_the_same_rows(
    client, make_customer, make_task, consultant, django_assert_num_queries
):
    """From the 200th row the page reads its tasks' ids by the open-task index, then the
    names of those 26 only (CappedPaginator.DEFERRED_FROM): the same rows in the same order
    as the plain read, and the same four queries."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.customers.views import CappedPaginator
    from crm.visits.models import VisitTask

    login(client, consultant)
    customers = [make_customer(f"客户{i:03d}") for i in range(9)]
    for i in range(230):  # due dates repeat: the order falls back on the id
        make_task(customers[i % 9], due_on=date(2026, 10, 1) + timedelta(days=i % 17))
    expected = list(
        VisitTask.objects.filter(assignee=consultant, status__in=list(VisitTask.OPEN))
        .order_by("due_on", "id")
        .values_list("customer__name", flat=True)
    )
    client.get(reverse("visits:list"))
    assert CappedPaginator.DEFERRED_FROM == 200
    with CaptureQueriesContext(connection) as queries, django_assert_num_queries(4):
        body = client.get(reverse("visits:list") + "?state=mine&per_page=25&page=9").content.decode()
    page_sql = [q["sql"] for q in queries.captured_queries if '"visits_visittask"."id" IN (SELECT' in q["sql"]]
    assert len(page_sql) == 1  # offset 200: the ids first
    shown = re.findall(r"客户\d{3}", body)
    assert shown == expected[200:225]
    assert "共 230 条" not in body  # not the last page: the total follows (task_list_count)
    last = client.get(reverse("visits:list") + "?state=mine&per_page=25&page=10").content.decode()
    assert re.findall(r"客户\d{3}", last) == expected[225:]
    assert "共 230 条" in last  # the last page knows the total from itself
