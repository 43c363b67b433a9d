"""培训 pages: who sees which sessions and records, the recording form, summaries, export,
the card and the API."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.core.cards import Card
from crm.training import cards

from .conftest import cn

pytestmark = pytest.mark.django_db


def test_sessions_are_seen_by_attendees_trainers_planners_and_their_leaders(
    login, make_session, consultant, teammate, outsider, leader, supervisor, service
):
    session = make_session([consultant], trainer=service)

    def listed(user):
        return [s.pk for s in login(user).get("/training/").context["page"]]

    assert listed(consultant) == [session.pk]
    assert listed(service) == [session.pk]  # the trainer
    assert listed(supervisor) == [session.pk]  # a planner
    assert listed(leader) == [session.pk]  # the consultant's team leader
    assert listed(teammate) == []
    assert login(outsider).get(f"/training/sessions/{session.pk}/").status_code == 404


def test_a_planner_plans_and_schedules_on_the_pages(login, supervisor, consultant, teammate):
    client = login(supervisor)
    response = client.post(
        "/training/plans/new/",
        {"title": "物业服务标准培训", "topic": "property", "starts_on": "2026-10-01", "ends_on": "2026-10-31"},
    )
    assert response.status_code == 302
    plan_url = response["Location"]
    plan_id = int(plan_url.rstrip("/").split("/")[-1])
    response = client.post(
        "/training/sessions/new/",
        {
            "plan": plan_id,
            "topic": "水吧服务规范",
            "trainer_name": "物业公司王经理",
            "starts_at": "2026-10-20T15:00",
            "hours": "1.5",
            "location": "水吧",
            "attendees": [consultant.pk, teammate.pk],
        },
        follow=True,
    )
    assert "已安排培训：水吧服务规范" in response.content.decode()
    assert response.context["session"].attendances.count() == 2
    assert login(consultant).get("/training/plans/new/").status_code == 403


def test_the_recording_form_saves_status_and_score_and_refuses_a_bad_score(
    login, make_session, consultant, teammate, supervisor
):
    session = make_session([consultant, teammate], at=cn(2020, 10, 15, 14))
    rows = {a.attendee_id: a.pk for a in session.attendances.all()}
    client = login(supervisor)
    url = f"/training/sessions/{session.pk}/record/"
    bad = client.post(
        url,
        {
            f"status_{rows[consultant.pk]}": "attended",
            f"score_{rows[consultant.pk]}": "120",
            f"status_{rows[teammate.pk]}": "absent",
        },
    )
    assert "成绩须在 0–100 之间" in bad.content.decode()
    good = client.post(
        url,
        {
            f"status_{rows[consultant.pk]}": "attended",
            f"score_{rows[consultant.pk]}": "88",
            f"status_{rows[teammate.pk]}": "absent",
        },
        follow=True,
    )
    assert "已保存出勤与成绩（2 人有变更）" in good.content.decode()
    assert dict(session.attendances.values_list("attendee_id", "score")) == {consultant.pk: 88, teammate.pk: None}
    assert login(consultant).post(url, {f"status_{rows[consultant.pk]}": "attended"}).status_code == 200
    assert session.attendances.get(attendee=consultant).score == 88


def test_an_attendee_writes_a_summary_and_sees_it_on_their_record(login, make_session, consultant, leader, teammate):
    session = make_session([consultant], at=cn(2020, 10, 15, 14))
    client = login(consultant)
    response = client.post(f"/training/sessions/{session.pk}/summary/", {"summary": "电话礼仪三要点"}, follow=True)
    assert "培训总结已保存" in response.content.decode()
    record = client.get("/training/me/", follow=True)
    assert record.context["person"] == consultant
    assert "电话礼仪三要点" in record.content.decode()
    assert login(leader).get(f"/training/people/{consultant.pk}/").status_code == 200
    assert login(teammate).get(f"/training/people/{consultant.pk}/").status_code == 404
    assert login(teammate).post(f"/training/sessions/{session.pk}/summary/", {"summary": "x"}).status_code == 404


def test_the_export_lists_each_attendee(login, make_session, consultant, teammate, supervisor):
    make_session([consultant, teammate])
    response = login(supervisor).get("/training/export/")
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("培训时间", "培训计划", "类别", "培训主题")
    assert sorted(r[6] for r in rows[2:]) == sorted([str(consultant), str(teammate)])
    assert login(consultant).get("/training/export/").status_code == 403


def test_the_card_counts_my_upcoming_sessions_and_summaries_due(make_session, consultant):
    make_session([consultant], at=cn(2099, 1, 1, 9))
    make_session([consultant], at=cn(2020, 1, 1, 9), topic="拜访礼仪")
    card = next(c for c in cards.workbench_cards(consultant, today=cn(2026, 1, 1).date()) if isinstance(c, Card))
    assert {s.key: s.value for s in card.stats} == {"training_upcoming": 1, "training_summaries": 1}


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_api_lists_retrieves_and_schedules(make_session, plan, consultant, outsider, supervisor):
    session = make_session([consultant])
    assert [s["id"] for s in api(consultant).get("/api/training/sessions/").json()["results"]] == [session.pk]
    detail = api(consultant).get(f"/api/training/sessions/{session.pk}/").json()
    assert detail["attendances"][0]["status"] == "expected"
    assert api(outsider).get(f"/api/training/sessions/{session.pk}/").status_code == 404
    body = {
        "plan": plan.pk,
        "topic": "拜访礼仪",
        "starts_at": "2026-11-02T14:00+08:00",
        "trainer_name": "外请讲师",
        "attendees": [consultant.pk],
    }
    assert api(consultant).post("/api/training/sessions/", body, format="json").status_code == 403
    created = api(supervisor).post("/api/training/sessions/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["topic"] == "拜访礼仪"
    assert [p["id"] for p in api(supervisor).get("/api/training/plans/").json()["results"]] == [plan.pk]
