"""The consultation, first-responder and media pages, their exports, cards and the API:
same scope as the selectors, Chinese errors that keep what was typed, stored text escaped."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.models import Department
from crm.accounts.roles import Role
from crm.complaints import cards, consultations, issues, media
from crm.complaints.models import Consultation, ConsultationTopic, CustomerIssue, MediaFinding, Medium
from crm.core.cards import Card

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def topic(company) -> ConsultationTopic:
    consultations.ensure_default_topics(company)
    return ConsultationTopic.objects.get(company=company, name="价格与优惠")


@pytest.fixture
def analyst(make_staff):
    return make_staff("analyst", Role.ANALYST, display_name="马市场")


def issue_for(actor, project, mobile="13812345678"):
    return issues.register_issue(
        issues.IssueIntake(
            subject="维修进度",
            description="客户问维修何时上门",
            contact_name="张三",
            contact_mobile=mobile,
            project=project,
        ),
        actor=actor,
    )


def test_registering_a_consultation_keeps_what_was_typed_on_error(client, service, project, topic):
    login(client, service)
    data = {
        "channel": "walk_in",
        "contact_name": "<b>林先生</b>",
        "contact_mobile": "123",
        "project": project.pk,
        "topic": topic.pk,
        "question": "首付最低几成？",
        "answer": "",
    }
    response = client.post(reverse("complaints:consultation_new"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "首付最低几成？" in body
    assert not Consultation.objects.exists()
    data["contact_mobile"] = "13600007777"
    response = client.post(reverse("complaints:consultation_new"), data)
    assert "请填写答复内容" in response.content.decode()
    data["answer"] = "首套房最低两成"
    response = client.post(reverse("complaints:consultation_new"), data)
    consultation = Consultation.objects.get()
    assert response["Location"] == reverse("complaints:consultation_detail", args=[consultation.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "&lt;b&gt;林先生&lt;/b&gt;" in detail
    assert "<b>林先生</b>" not in detail


def test_a_follow_up_consultation_opens_its_issue_page(client, service, project, topic):
    login(client, service)
    response = client.post(
        reverse("complaints:consultation_new"),
        {
            "channel": "phone",
            "contact_name": "林先生",
            "contact_mobile": "13600007777",
            "project": project.pk,
            "topic": topic.pk,
            "question": "团购有没有优惠？",
            "needs_follow_up": "on",
        },
    )
    issue = CustomerIssue.objects.get()
    assert response["Location"] == reverse("complaints:issue_detail", args=[issue.pk])
    assert issue.first_responder == service


def test_consultation_list_search_export_and_summary(client, service, director, project, topic):
    for question in ("团购有没有优惠？", "团购有没有优惠？", '=HYPERLINK("http://x","y")'):
        consultations.register_consultation(
            consultations.ConsultationIntake(
                channel="phone",
                topic=topic,
                question=question,
                answer="有",
                contact_name="林先生",
                contact_mobile="13600007777",
                project=project,
            ),
            actor=service,
        )
    login(client, director)
    listed = client.get(reverse("complaints:consultation_list"), {"q": "团购"}).content.decode()
    assert listed.count("团购有没有优惠") == 2
    export = client.get(reverse("complaints:consultation_export"))
    sheet = load_workbook(BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "咨询时间"
    assert len(rows) == 5
    assert any(r[6] == '\'=HYPERLINK("http://x","y")' for r in rows[2:])
    assert all(r[3] == "136****7777" for r in rows[2:])
    summary = client.get(reverse("complaints:consultation_summary")).content.decode()
    assert "团购有没有优惠？" in summary
    assert "（2 次）" in summary
    workbook = client.get(reverse("complaints:consultation_summary_export"))
    book = load_workbook(BytesIO(b"".join(workbook.streaming_content)))
    assert book.sheetnames == ["概况", "按主题", "按渠道", "按楼盘", "按接待人", "常见问题"]
    assert list(book["按主题"].iter_rows(values_only=True))[1] == ("价格与优惠", 3)


def test_consultations_are_not_for_a_consultant(client, consultant):
    login(client, consultant)
    assert client.get(reverse("complaints:consultation_list")).status_code == 403


def test_issue_pages_keep_to_the_scope(client, consultant, teammate, service, project, make_customer):
    theirs = make_customer("同组客户", owner=teammate)
    issue = issue_for(service, project, mobile=theirs.mobile)
    login(client, consultant)
    assert client.get(reverse("complaints:issue_detail", args=[issue.pk])).status_code == 404
    assert client.post(reverse("complaints:issue_callback", args=[issue.pk]), {"result": "x"}).status_code == 404
    assert api(consultant).get(f"/api/issues/{issue.pk}/").status_code == 404
    assert api(consultant).get("/api/issues/").json()["results"] == []
    login(client, service)
    assert client.get(reverse("complaints:issue_detail", args=[issue.pk])).status_code == 200


def test_the_issue_page_workflow_and_a_refused_close(client, service, project, company):
    dept = Department.objects.create(company=company, name="工程部")
    issue = issue_for(service, project)
    login(client, service)
    url = reverse("complaints:issue_detail", args=[issue.pk])
    response = client.post(reverse("complaints:issue_hand_off", args=[issue.pk]), {"department": dept.pk, "hours": 24})
    assert response.status_code == 400
    assert "请写明需要部门答复的事项" in response.content.decode()
    client.post(
        reverse("complaints:issue_hand_off", args=[issue.pk]),
        {"department": dept.pk, "asked": "维修何时上门", "hours": 24},
    )
    hand_off = issue.hand_offs.get()
    response = client.post(
        reverse("complaints:issue_callback", args=[issue.pk]), {"is_reached": "yes", "result": "已告知", "close": "on"}
    )
    assert response.status_code == 400
    assert "还有部门未答复" in response.content.decode()
    client.post(reverse("complaints:issue_answer", args=[issue.pk, hand_off.pk]), {"answer": "明天上午上门"})
    client.post(
        reverse("complaints:issue_callback", args=[issue.pk]),
        {"is_reached": "yes", "result": "已告知客户", "close": "on"},
    )
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.CLOSED
    assert "已回复结案" in client.get(url).content.decode()


def test_the_workbench_card_counts_my_pending_callbacks(service, director, project):
    pending = issue_for(service, project)
    issues.mark_answered(pending, actor=service)
    issue_for(service, project)
    items = cards.workbench_cards(service, today=timezone.localdate())
    card = next(i for i in items if isinstance(i, Card) and i.key == "first_responder")
    stats = {s.key: s for s in card.stats}
    assert stats["issues_callback_mine"].value == 1
    assert stats["issues_callback_mine"].warn
    assert stats["issues_mine"].value == 2
    assert "state=callback_mine" in stats["issues_callback_mine"].url
    assert "issues_escalated" not in stats
    director_card = next(
        i
        for i in cards.workbench_cards(director, today=timezone.localdate())
        if getattr(i, "key", "") == "first_responder"
    )
    assert {s.key for s in director_card.stats} >= {"issues_escalated"}
    assert next(s for s in director_card.stats if s.key == "issues_callback_mine").value == 0


def test_the_media_card_shows_while_the_week_is_incomplete(client, company, analyst):
    media.ensure_default_media(company)
    today = timezone.localdate()
    keys = [getattr(i, "key", "") for i in cards.workbench_cards(analyst, today=today)]
    assert "media_review" in keys
    now = timezone.now()
    for medium in Medium.objects.filter(company=company):
        media.check_medium(medium, actor=analyst, now=now)
    keys = [getattr(i, "key", "") for i in cards.workbench_cards(analyst, today=timezone.localdate(now))]
    assert "media_review" not in keys
    login(client, analyst)
    assert "本周已全部浏览" in client.get(reverse("complaints:media_review")).content.decode()


def test_the_media_review_page_checks_a_medium(client, company, analyst):
    login(client, analyst)
    page = client.get(reverse("complaints:media_review")).content.decode()
    assert "未浏览 7 个" in page
    medium = Medium.objects.get(company=company, name="本地日报")
    client.post(reverse("complaints:media_check", args=[medium.pk]), {"note": "无相关报道"})
    page = client.get(reverse("complaints:media_review")).content.decode()
    assert "未浏览 6 个" in page
    assert "无相关报道" in page


def test_a_finding_turns_into_a_complaint_on_its_page(client, company, director, project, category):
    media.ensure_default_media(company)
    login(client, director)
    medium = Medium.objects.get(company=company, name="业主论坛")
    response = client.post(
        reverse("complaints:finding_new"),
        {"medium": medium.pk, "sentiment": "negative", "summary": "", "link": "not a url"},
    )
    body = response.content.decode()
    assert "请填写内容摘要" in body
    assert "请填写正确的网址" in body
    client.post(
        reverse("complaints:finding_new"),
        {"medium": medium.pk, "sentiment": "negative", "summary": "外墙渗水", "project": project.pk},
    )
    finding = MediaFinding.objects.get()
    response = client.post(reverse("complaints:finding_to_complaint", args=[finding.pk]), {"category": category.pk})
    finding.refresh_from_db()
    assert finding.complaint is not None
    assert response["Location"] == reverse("complaints:detail", args=[finding.complaint.pk])
    export = client.get(reverse("complaints:finding_export"))
    rows = list(load_workbook(BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True))
    assert rows[2][1:5] == ("业主论坛", "锦华苑", "负面", "外墙渗水")


def test_the_api_lists_and_creates_with_the_same_scope(consultant, service, analyst, project, topic, customer, company):
    response = api(service).post(
        "/api/consultations/",
        {
            "channel": "phone",
            "topic": topic.pk,
            "question": "有无现房？",
            "answer": "有",
            "contact_name": "张三",
            "contact_mobile": customer.mobile,
            "project": project.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["mobile"] == "138****5678"
    assert api(consultant).get("/api/consultations/").status_code == 403
    response = api(consultant).post(
        "/api/issues/",
        {
            "subject": "网签",
            "description": "何时网签",
            "contact_name": "张三",
            "contact_mobile": customer.mobile,
            "project": project.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["first_responder"] == consultant.pk
    response = api(consultant).post(
        "/api/issues/",
        {
            "subject": "网签",
            "description": "何时网签",
            "contact_name": "路人",
            "contact_mobile": "13900000123",
            "project": project.pk,
        },
        format="json",
    )
    assert response.status_code in (400, 403)
    assert "只能为自己的客户" in str(response.json())
    assert [r["subject"] for r in api(consultant).get("/api/issues/").json()["results"]] == ["网签"]
    media.ensure_default_media(company)
    medium = Medium.objects.filter(company=company).first()
    response = api(analyst).post(
        "/api/media-findings/", {"medium": medium.pk, "summary": "好评", "sentiment": "positive"}, format="json"
    )
    assert response.status_code == 201
    assert api(analyst).get("/api/media-findings/", {"sentiment": "negative"}).json()["results"] == []
    assert api(consultant).get("/api/media-findings/").status_code == 403


def test_menu_shows_the_complaints_area_by_role(client, consultant, analyst):
    from crm.workbench.navigation import menu_for

    assert [i["label"] for i in menu_for(consultant, "/") if i["label"] in ("咨询", "首问事项", "媒体监督")] == [
        "首问事项"
    ]
    labels = [i["label"] for i in menu_for(analyst, "/complaints/media/")]
    assert "媒体监督" in labels
    assert next(i for i in menu_for(analyst, "/complaints/media/") if i["active"])["label"] == "媒体监督"


def test_an_escalation_old_enough_shows_the_button(client, service, project, company):
    dept = Department.objects.create(company=company, name="财务部")
    issue = issue_for(service, project)
    issues.hand_off(issue, actor=service, department=dept, asked="退款进度", now=timezone.now() - timedelta(days=10))
    login(client, service)
    page = client.get(reverse("complaints:issue_detail", args=[issue.pk])).content.decode()
    assert "投诉部门超时" in page
    hand_off = issue.hand_offs.get()
    client.post(reverse("complaints:issue_escalate", args=[issue.pk, hand_off.pk]))
    assert issue.escalations.count() == 1


def test_a_complaint_becomes_its_receivers_issue_once(client, make_complaint, service):
    complaint = make_complaint()
    login(client, service)
    assert "我来首问负责" in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    response = client.post(reverse("complaints:issue_from_complaint", args=[complaint.pk]))
    issue = CustomerIssue.objects.get()
    assert response["Location"] == reverse("complaints:issue_detail", args=[issue.pk])
    assert (issue.first_responder, issue.complaint, issue.source) == (service, complaint, "complaint")
    client.post(reverse("complaints:issue_from_complaint", args=[complaint.pk]))
    assert CustomerIssue.objects.count() == 1


def test_an_outsider_cannot_take_a_complaint_as_first_responder(client, make_complaint, outsider):
    complaint = make_complaint()
    login(client, outsider)
    assert client.post(reverse("complaints:issue_from_complaint", args=[complaint.pk])).status_code == 404
    assert not CustomerIssue.objects.exists()


def test_the_owner_marks_an_issue_answered_without_a_department(client, service, project):
    issue = issue_for(service, project)
    login(client, service)
    client.post(reverse("complaints:issue_move", args=[issue.pk, "answered"]))
    issue.refresh_from_db()
    assert issue.status == CustomerIssue.Status.CALLBACK_DUE
    response = client.post(reverse("complaints:issue_move", args=[issue.pk, "cancel"]), {"note": "客户撤回"})
    assert response.status_code == 400
    assert "只有客服中心主任可以撤销" in response.content.decode()


def test_the_admin_lists_the_companys_media(client, admin_user, company):
    media.ensure_default_media(company)
    client.force_login(admin_user)
    page = client.get("/admin/complaints/medium/").content.decode()
    assert "业主论坛" in page
    assert client.get("/admin/complaints/consultationtopic/").status_code == 200


def test_a_consultation_without_mobile_asks_for_one_to_become_a_complaint(client, service, project, topic, category):
    consultation = consultations.register_consultation(
        consultations.ConsultationIntake(
            channel="walk_in",
            topic=topic,
            question="售楼处人员态度差",
            answer="已致歉",
            contact_name="林先生",
            contact_mobile="",
            project=project,
        ),
        actor=service,
    )
    login(client, service)
    url = reverse("complaints:consultation_to_complaint", args=[consultation.pk])
    response = client.post(url, {"category": category.pk})
    assert response.status_code == 400
    assert "请填写投诉人的联系电话" in response.content.decode()
    response = client.post(url, {"category": category.pk, "complainant_mobile": "13600008888"})
    consultation.refresh_from_db()
    assert consultation.complaint is not None
    assert consultation.complaint.complainant_mobile == "13600008888"


def test_consultations_keep_to_the_project_scope(client, service, make_staff, project, project_b, topic):
    other = make_staff("service_b", Role.SERVICE, projects=(project_b,), display_name="钱客服")
    consultation = consultations.register_consultation(
        consultations.ConsultationIntake(
            channel="phone",
            topic=topic,
            question="有没有现房？",
            answer="有",
            contact_name="林先生",
            contact_mobile="",
            project=project,
        ),
        actor=service,
    )
    login(client, other)
    assert client.get(reverse("complaints:consultation_detail", args=[consultation.pk])).status_code == 404
    assert "有没有现房" not in client.get(reverse("complaints:consultation_list")).content.decode()
    assert api(other).get(f"/api/consultations/{consultation.pk}/").status_code == 404
    login(client, service)
    assert "有没有现房" in client.get(reverse("complaints:consultation_list")).content.decode()


def test_the_issue_list_filters_by_state(client, service, director, project, company):
    dept = Department.objects.create(company=company, name="工程部")
    waiting = issue_for(service, project)
    issues.mark_answered(waiting, actor=service)
    late = issue_for(service, project)
    issues.hand_off(late, actor=service, department=dept, asked="?", now=timezone.now() - timedelta(days=20))
    issues.escalate_hand_off(late.hand_offs.get(), actor=service, reason="超时")
    login(client, service)
    page = client.get(reverse("complaints:issue_list"), {"state": "callback_mine"}).content.decode()
    assert waiting.number in page
    assert late.number not in page
    login(client, director)
    page = client.get(reverse("complaints:issue_list"), {"state": "escalated"}).content.decode()
    assert late.number in page
    assert waiting.number not in page
    assert [r["number"] for r in api(director).get("/api/issues/", {"state": "overdue"}).json()["results"]] == [
        late.number
    ]


def test_the_workbench_page_shows_the_first_responder_card(client, consultant, project, customer):
    issue = issues.register_issue(
        issues.IssueIntake(
            subject="网签时间",
            description="客户问何时网签",
            contact_name="张三",
            contact_mobile=customer.mobile,
            project=project,
        ),
        actor=consultant,
    )
    issues.mark_answered(issue, actor=consultant)
    login(client, consultant)
    page = client.get("/").content.decode()
    assert "首问责任" in page
    assert "待回复客户" in page
    assert "state=callback_mine" in page
