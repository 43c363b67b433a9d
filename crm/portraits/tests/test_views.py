"""客户描摹 pages: the form keeps to the consultant's customers, lists by scope, the quota,
the analysis, the export and the API."""

from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.core.cards import Card
from crm.lib.dates import local_day
from crm.portraits import cards
from crm.portraits.models import Portrait

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db


def now_cn():
    return timezone.localtime(timezone.now())


def test_a_consultant_submits_a_portrait_of_their_own_customer(login, consultant, customer):
    client = login(consultant)
    page = client.get("/portraits/new/")
    assert customer.number in page.content.decode()  # the picker offers their customers
    response = client.post("/portraits/new/", ANSWERS | {"customer_number": customer.number}, follow=True)
    portrait = Portrait.objects.get()
    assert response.redirect_chain[-1][0] == f"/portraits/{portrait.pk}/"
    assert "客户描摹已提交（本季度 1/3）" in response.content.decode()
    assert portrait.customer == customer
    assert portrait.interests == "周末喜欢带孩子露营"


def test_a_consultant_cannot_pick_another_consultants_customer(login, consultant, make_customer, outsider, project_b):
    theirs = make_customer("外组客户", owner=outsider, project=project_b)
    response = login(consultant).post("/portraits/new/", ANSWERS | {"customer_number": theirs.number})
    assert response.status_code == 200
    assert "该客户不在您的客户范围内" in response.content.decode()
    assert not Portrait.objects.exists()


def test_missing_choices_are_shown_in_chinese(login, consultant, customer):
    response = login(consultant).post("/portraits/new/", {"customer_number": customer.number})
    body = response.content.decode()
    assert "请选择行业" in body
    assert "请选择购房决策人" in body


def test_lists_keep_to_mine_team_and_all(
    submit, login, consultant, teammate, outsider, leader, director, make_customer, project_b
):
    mine = submit(make_customer("甲"), consultant, now_cn())
    team = submit(make_customer("乙", owner=teammate), teammate, now_cn())
    other = submit(make_customer("丙", owner=outsider, project=project_b), outsider, now_cn())

    def listed(user, **params):
        page = login(user).get("/portraits/", params).context["page"]
        return {p.pk for p in page}

    assert listed(consultant) == {mine.pk}
    assert listed(leader) == {mine.pk, team.pk}
    assert listed(leader, show="mine") == set()
    assert listed(director) == {mine.pk, team.pk, other.pk}
    assert login(consultant).get(f"/portraits/{team.pk}/").status_code == 404
    assert login(outsider).get(f"/portraits/{mine.pk}/edit/").status_code == 404
    assert login(leader).get(f"/portraits/{mine.pk}/").status_code == 200


def test_the_author_edits_their_portrait(submit, login, consultant, customer):
    portrait = submit(customer, consultant, now_cn())
    response = login(consultant).post(f"/portraits/{portrait.pk}/edit/", ANSWERS | {"hobby": "reading"})
    assert response.status_code == 302
    portrait.refresh_from_db()
    assert portrait.hobby == "reading"


def test_the_quota_page_shows_submitted_against_three(submit, login, consultant, teammate, leader, make_customer):
    submit(make_customer("甲"), consultant, now_cn())
    body = login(leader).get("/portraits/quota/").content.decode()
    assert 'data-consultant="consultant"' in body
    assert "还差 2 份" in body
    assert "还差 3 份" in body  # the teammate has none
    rows = login(consultant).get("/portraits/quota/").context["rows"]
    assert [(r.consultant, r.submitted) for r in rows] == [(consultant, 1)]


def test_the_analysis_counts_each_field_per_project(
    submit, login, director, consultant, outsider, make_customer, project, project_b
):
    submit(make_customer("甲"), consultant, now_cn())
    submit(make_customer("乙"), consultant, now_cn(), industry="it")
    submit(make_customer("丙", owner=outsider, project=project_b), outsider, now_cn())
    response = login(director).get("/portraits/analysis/")
    result = response.context["result"]
    assert result["total"] == 3
    industry = next(f for f in result["fields"] if f["name"] == "industry")
    finance = next(r for r in industry["rows"] if r["label"] == "金融")
    names = [p["name"] for p in result["projects"]]
    assert finance["total"] == 2
    assert finance["cells"][names.index(project.name)] == 1
    assert finance["cells"][names.index(project_b.name)] == 1
    body = response.content.decode()
    assert 'id="chart-portrait-industry"' in body
    assert login(director).get("/portraits/analysis/", {"project": project_b.pk}).context["result"]["total"] == 1
    assert login(consultant).get("/portraits/analysis/").status_code == 403


def test_the_export_is_a_workbook_of_the_listed_portraits(submit, login, director, consultant, customer):
    submit(customer, consultant, now_cn())
    response = login(director).get("/portraits/export/")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("季度", "提交日期", "置业顾问")
    assert rows[2][5] == "张三"
    assert "金融" in rows[2]
    assert login(consultant).get("/portraits/export/").status_code == 403


def test_the_card_shows_my_quarter_against_the_quota(submit, consultant, customer, leader):
    submit(customer, consultant, now_cn())
    card = next(c for c in cards.workbench_cards(consultant, today=local_day(timezone.now())) if isinstance(c, Card))
    assert card.stats[0].value == 1
    assert "1/3" in card.stats[0].label
    assert cards.workbench_cards(leader, today=local_day(timezone.now())) == []


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_api_lists_retrieves_and_submits_in_scope(submit, consultant, outsider, customer, make_customer, project_b):
    theirs = make_customer("外组客户", owner=outsider, project=project_b)
    response = api(consultant).post("/api/portraits/", ANSWERS | {"customer": customer.pk}, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["quarter"] == f"{now_cn().year}Q{(now_cn().month - 1) // 3 + 1}"
    assert [r["id"] for r in api(consultant).get("/api/portraits/").json()["results"]] == [pk]
    assert api(consultant).get(f"/api/portraits/{pk}/").json()["customer_name"] == "张三"
    assert api(outsider).get(f"/api/portraits/{pk}/").status_code == 404
    refused = api(consultant).post("/api/portraits/", ANSWERS | {"customer": theirs.pk}, format="json")
    assert refused.status_code == 400
    again = api(consultant).post("/api/portraits/", ANSWERS | {"customer": customer.pk}, format="json")
    assert again.status_code == 400
    assert "已提交过该客户的描摹" in str(again.json())
