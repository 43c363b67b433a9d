"""Special campaigns (专项回访): the audience by filter within the director's scope, tasks
once per customer however often it is launched, owner or round-robin assignment, the
progress page; bad input refused in Chinese with what was typed kept."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import Stage, Tag
from crm.visits import campaigns, services
from crm.visits.models import Campaign, TaskKind, VisitTask
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
NOW = cst(2026, 9, 28, 10)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(make_customer, consultant, teammate, outsider, project, project_b, make_deal, company):
    school = Tag.objects.create(company=company, name="学区需求")
    a = make_customer("甲", owner=consultant)
    b = make_customer("乙", owner=teammate)
    c = make_customer("丙", owner=outsider, project=project_b)
    d = make_customer("丁", owner=consultant)
    a.tags.add(school)
    c.tags.add(school)
    make_deal(a, contracted_on=date(2026, 9, 21))
    return {"a": a, "b": b, "c": c, "d": d, "school": school}


def new(actor, **kw):
    fields = {
        "name": "学区政策专项",
        "purpose": "告知学区划分新政策，了解客户意见",
        "questions": "对政策告知的满意程度",
        "start_on": date(2026, 9, 28),
        "due_on": date(2026, 10, 16),
        "now": NOW,
    } | kw
    return campaigns.create_campaign(actor=actor, **fields)


def test_the_audience_is_filtered_within_the_scope(world, director, leader, project):
    spec = campaigns.Audience
    assert set(campaigns.audience(director, spec())) == {world["a"], world["b"], world["c"], world["d"]}
    assert set(campaigns.audience(director, spec(project_id=project.pk))) == {world["a"], world["b"], world["d"]}
    assert set(campaigns.audience(director, spec(tag_ids=(world["school"].pk,)))) == {world["a"], world["c"]}
    assert set(campaigns.audience(director, spec(milestone="contracted"))) == {world["a"]}
    assert set(campaigns.audience(director, spec(stage=Stage.OWNER))) == set(
        campaigns.audience(director, spec()).filter(stage=Stage.OWNER)
    )
    # A team leader's scope is the team: the other team's customer is not in it.
    assert world["c"] not in set(campaigns.audience(leader, spec()))


def test_a_campaign_makes_one_task_per_customer_however_often_launched(world, director, consultant, teammate, project):
    campaign = new(director, project=project)
    assert campaigns.launch(campaign, actor=director, now=NOW) == 3
    assert campaigns.launch(campaign, actor=director, now=NOW) == 0
    tasks = VisitTask.objects.filter(campaign=campaign)
    assert {t.kind for t in tasks} == {TaskKind.CAMPAIGN}
    assert {(t.customer.name, t.assignee) for t in tasks} == {
        ("甲", consultant),
        ("乙", teammate),
        ("丁", consultant),
    }
    assert all(t.questions == ["对政策告知的满意程度"] and t.due_on == date(2026, 10, 16) for t in tasks)
    # A customer who newly matches is added on the next launch, once.
    services_customer = world["b"].__class__.objects.create(
        company=world["a"].company, name="戊", number="KH99", owner=consultant, project=project, mobile="13900000099"
    )
    assert campaigns.launch(campaign, actor=director, now=NOW) == 1
    assert VisitTask.objects.filter(campaign=campaign, customer=services_customer).count() == 1


def test_round_robin_spreads_the_tasks_evenly(world, director, service, teammate):
    campaign = new(director, assign=Campaign.Assign.ROUND_ROBIN, assignees=[service, teammate])
    assert campaigns.launch(campaign, actor=director, now=NOW) == 4
    counts = {u: VisitTask.objects.filter(campaign=campaign, assignee=u).count() for u in (service, teammate)}
    assert counts == {service: 2, teammate: 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": " "}, "请填写专项名称"),
        ({"purpose": ""}, "请填写回访目的"),
        ({"due_on": date(2026, 9, 27), "start_on": date(2026, 9, 20)}, "完成期限不能早于今天"),
        ({"due_on": date(2026, 9, 29), "start_on": date(2026, 9, 30)}, "完成期限不能早于开始日期"),
        ({"assign": Campaign.Assign.ROUND_ROBIN}, "轮流分配时请选择回访人员"),
    ],
)
def test_bad_campaigns_are_refused_in_chinese(director, change, message):
    with pytest.raises(DomainError, match=message):
        new(director, **change)
    assert not Campaign.objects.exists()


def test_only_the_director_creates_and_launches(world, director, consultant, approver):
    with pytest.raises(NotAllowed):
        new(consultant)
    campaign = new(director)
    with pytest.raises(NotAllowed):
        campaigns.launch(campaign, actor=consultant)
    with pytest.raises(NotAllowed):
        new(approver, assign=Campaign.Assign.ROUND_ROBIN)


def test_the_progress_counts_done_reached_and_satisfaction(world, director, consultant, teammate, project):
    campaign = new(director, project=project)
    campaigns.launch(campaign, actor=director, now=NOW)
    a_task = VisitTask.objects.get(campaign=campaign, customer=world["a"])
    services.record_outcome(
        a_task, actor=consultant, reached=True, channel="phone", scores={"对政策告知的满意程度": 4}, now=NOW
    )
    b_task = VisitTask.objects.get(campaign=campaign, customer=world["b"])
    services.record_outcome(b_task, actor=teammate, reached=False, channel="phone", now=NOW)
    p = campaigns.progress(campaign, today=date(2026, 10, 20))
    assert (p.total, p.done, p.reached, p.open, p.overdue, p.satisfaction) == (3, 1, 1, 2, 2, 4.0)
    assert p.done_percent == 33


def test_the_pages_preview_keep_typing_create_launch_and_show_progress(client, world, director, project):
    client.force_login(director)
    data = {
        "name": "学区政策专项",
        "purpose": "告知<b>学区</b>新政策",
        "channel": "phone",
        "project": str(project.pk),
        "start_on": "2026-09-28",
        "due_on": "明天",
        "assign": "owner",
    }
    response = client.post(reverse("visits:campaign_new"), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "请填写正确的日期" in page
    assert "告知&lt;b&gt;学区&lt;/b&gt;新政策" in page
    data["due_on"] = "2026-10-16"
    page = client.post(reverse("visits:campaign_new"), {**data, "preview": "1"}).content.decode()
    assert "符合条件的客户：<b>3</b> 人" in page
    assert not Campaign.objects.exists()
    response = client.post(reverse("visits:campaign_new"), data)
    campaign = Campaign.objects.get()
    assert response.url == reverse("visits:campaign", args=[campaign.pk])
    client.post(reverse("visits:campaign_launch", args=[campaign.pk]))
    client.post(reverse("visits:campaign_launch", args=[campaign.pk]))
    assert VisitTask.objects.filter(campaign=campaign).count() == 3
    page = client.get(reverse("visits:campaign", args=[campaign.pk])).content.decode()
    assert "<b>0</b> / 3 已完成" in page
    assert "已下发" in client.get(reverse("visits:campaigns")).content.decode()


def test_the_campaign_api_shows_progress_to_directors_only(world, director, consultant):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    campaign = new(director)
    campaigns.launch(campaign, actor=director, now=NOW)

    def api(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    rows = api(director).get("/api/visits/campaigns/").json()["results"]
    assert rows[0]["progress"]["total"] == 4
    assert api(consultant).get("/api/visits/campaigns/").status_code == 403


def test_the_task_page_shows_the_campaigns_script(client, world, director, consultant, project):
    campaign = new(director, project=project, script="您好，{客户}，我是{楼盘}的置业顾问")
    campaigns.launch(campaign, actor=director, now=NOW)
    task = VisitTask.objects.get(campaign=campaign, customer=world["a"])
    client.force_login(consultant)
    assert (
        f"您好，甲，我是{project.name}的置业顾问"
        in client.get(reverse("visits:detail", args=[task.pk])).content.decode()
    )


def test_the_audience_by_grade_and_registration_dates(world, director):
    from crm.customers.models import Customer

    Customer.objects.filter(pk=world["a"].pk).update(grade="A", created_at=cst(2026, 3, 1))
    Customer.objects.filter(pk=world["b"].pk).update(grade="B", created_at=cst(2026, 6, 30, 23, 30))
    spec = campaigns.Audience
    assert set(campaigns.audience(director, spec(grade="A"))) == {world["a"]}
    window = spec(registered_from=date(2026, 3, 1), registered_to=date(2026, 6, 30))
    assert set(campaigns.audience(director, window)) == {world["a"], world["b"]}
    with pytest.raises(DomainError, match="录入日期的结束不能早于开始"):
        new(director, registered_from=date(2026, 6, 1), registered_to=date(2026, 5, 1))


def test_the_list_reads_the_progress_of_all_campaigns_in_one_query(client, world, director, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(director)
    first = new(director, project=project)
    campaigns.launch(first, actor=director, now=NOW)
    client.get(reverse("visits:campaigns"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("visits:campaigns"))
    for i in range(3):
        campaigns.launch(new(director, name=f"专项{i}"), actor=director, now=NOW)
    with CaptureQueriesContext(connection) as four:
        page = client.get(reverse("visits:campaigns")).content.decode()
    assert len(four) == len(one)
    assert "3/0" not in page
    assert campaigns.progress_of([first.pk], today=date(2026, 9, 28))[first.pk].total == 3


# ---------------------------------------------------------------- by complaint category


@pytest.fixture
def complained(world, company, project, project_b, director):
    """甲 产品质量 (09-10), 丙 产品质量 in 滨江御府 (09-20), 丁 合同 (09-25); 乙's 产品质量
    complaint was cancelled (registered in error), so it does not count."""
    from crm.complaints import services as complaint_services
    from crm.complaints.models import Category

    complaint_services.ensure_default_categories(company)
    quality = Category.objects.get(company=company, name="产品质量")
    contract = Category.objects.get(company=company, name="合同")

    def register(customer, category, when, on_project=project):
        intake = complaint_services.Intake(
            channel="phone",
            complainant_name=customer.name,
            complainant_mobile=customer.mobile,
            content="墙面开裂",
            project=on_project,
            category=category,
        )
        return complaint_services.register_complaint(intake, actor=director, now=when)

    register(world["a"], quality, cst(2026, 9, 10))
    register(world["c"], quality, cst(2026, 9, 20), on_project=project_b)
    register(world["d"], contract, cst(2026, 9, 25))
    cancelled = register(world["b"], quality, cst(2026, 9, 26))
    complaint_services.cancel_complaint(cancelled, actor=director, note="登记错误", now=cst(2026, 9, 26, 10))
    return {"quality": quality, "contract": contract}


def test_the_audience_by_complaint_category_and_dates(world, complained, director, service):
    spec = campaigns.Audience
    quality = complained["quality"].pk
    assert set(campaigns.audience(director, spec(complaint_category_id=quality))) == {world["a"], world["c"]}
    by_dates = spec(complaints_from=date(2026, 9, 15), complaints_to=date(2026, 9, 30))
    assert set(campaigns.audience(director, by_dates)) == {world["c"], world["d"]}
    both = spec(complaint_category_id=quality, complaints_from=date(2026, 9, 15))
    assert set(campaigns.audience(director, both)) == {world["c"]}
    # The complaint scope counts too: 客服专员 of 锦华苑 sees 甲's complaint, not 丙's.
    assert set(campaigns.audience(service, spec(complaint_category_id=quality))) == {world["a"]}


def test_a_campaign_by_complaint_category_is_previewed_saved_and_launched(client, world, complained, director):
    client.force_login(director)
    data = {
        "name": "质量投诉客户回访",
        "purpose": "了解维修后的满意度",
        "channel": "phone",
        "complaint_category": str(complained["quality"].pk),
        "complaints_from": "2026-09-30",
        "complaints_to": "2026-09-01",
        "start_on": "2026-09-28",
        "due_on": "2026-10-16",
        "assign": "owner",
    }
    refused = client.post(reverse("visits:campaign_new"), data)
    assert refused.status_code == 400
    assert "投诉日期的结束不能早于开始" in refused.content.decode()
    data["complaints_from"], data["complaints_to"] = "", ""
    page = client.post(reverse("visits:campaign_new"), {**data, "preview": "1"}).content.decode()
    assert "符合条件的客户：<b>2</b> 人" in page
    client.post(reverse("visits:campaign_new"), data)
    campaign = Campaign.objects.get()
    assert campaign.complaint_category == complained["quality"]
    client.post(reverse("visits:campaign_launch", args=[campaign.pk]))
    assert set(VisitTask.objects.filter(campaign=campaign).values_list("customer", flat=True)) == {
        world["a"].pk,
        world["c"].pk,
    }
    assert "有投诉（产品质量）" in client.get(reverse("visits:campaign", args=[campaign.pk])).content.decode()
