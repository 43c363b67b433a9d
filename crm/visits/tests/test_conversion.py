"""A serious visit issue converted into a complaint (issue 12, item 4): through
crm.complaints.services, channel 转办, the customer linked, the issue keeps the link, once."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from crm.accounts.models import Department
from crm.complaints import services as complaint_services
from crm.complaints.models import Category, Complaint
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.visits import conversion, services
from crm.visits.models import IssueCategory, IssueEvent, VisitIssue
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
NOW = cst(2026, 9, 28, 10, 30)


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def issue(company, make_task, customer, consultant, make_deal) -> VisitIssue:
    complaint_services.ensure_default_categories(company)
    services.ensure_default_issue_categories(company)
    category = IssueCategory.objects.get(company=company, name="产品质量")
    category.department = Department.objects.create(company=company, name="工程部")
    category.save()
    deal = make_deal(customer)
    task = make_task(customer, deal=deal)
    scores = dict.fromkeys(task.questions, 2)
    _, raised = services.record_visit(
        task,
        actor=consultant,
        reached=True,
        channel="phone",
        scores=scores,
        opinions="客户情绪激动，要求赔偿",
        issues=[
            services.IssueDraft(category=category, description="卫生间大面积渗水<b>", promised_on=date(2026, 10, 9))
        ],
        now=NOW,
    )
    return raised[0]


def test_the_director_converts_an_issue_once(issue, director, customer):
    category = conversion.suggested_category(issue, director)
    assert category is not None
    assert category.name == "产品质量"
    complaint, created = conversion.convert_to_complaint(issue, actor=director, category=category, note="质量纠纷")
    assert created
    assert complaint.channel == "transferred"
    assert complaint.customer_id == customer.pk
    assert complaint.project_id == issue.project_id
    assert complaint.unit_id == issue.task.deal.unit_id
    assert "回访问题 #" in complaint.content
    assert "卫生间大面积渗水" in complaint.content
    assert "客户意见：客户情绪激动" in complaint.content
    assert "转投诉说明：质量纠纷" in complaint.content
    issue.refresh_from_db()
    assert issue.complaint_id == complaint.pk
    assert issue.converted_by == director
    assert IssueEvent.objects.filter(issue=issue, note__startswith=f"已转为投诉 {complaint.number}").count() == 1
    assert TimelineEvent.objects.filter(customer=customer, summary__contains=f"转为投诉 {complaint.number}").exists()
    # A second conversion (another click, another person) returns the same complaint.
    again, created = conversion.convert_to_complaint(issue, actor=director, category=category)
    assert (again.pk, created) == (complaint.pk, False)
    assert Complaint.objects.count() == 1
    assert IssueEvent.objects.filter(issue=issue, note__startswith="已转为投诉").count() == 1


def test_a_category_is_required(issue, service):
    with pytest.raises(DomainError, match="请选择投诉类别"):
        conversion.convert_to_complaint(issue, actor=service, category=None)
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("who", ["consultant", "outsider", "supervisor"])
def test_only_the_director_and_service_staff_convert(issue, who, request, company):
    user = request.getfixturevalue(who)
    category = Category.objects.get(company=company, name="产品质量")
    with pytest.raises(NotAllowed):
        conversion.convert_to_complaint(issue, actor=user, category=category)
    assert not Complaint.objects.exists()


def test_the_button_converts_and_a_second_click_shows_the_complaint(client, issue, service, company):
    client.force_login(service)
    page = client.get(reverse("visits:issue", args=[issue.pk]))
    assert "转为投诉" in page.content.decode()
    bad = client.post(reverse("visits:issue_convert", args=[issue.pk]), {"category": "", "note": "严重"})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "请选择投诉类别" in body
    assert "严重" in body
    category = Category.objects.get(company=company, name="产品质量")
    url = reverse("visits:issue_convert", args=[issue.pk])
    first = client.post(url, {"category": category.pk, "note": "严重"})
    complaint = Complaint.objects.get()
    assert first.status_code == 302
    assert first.url == reverse("complaints:detail", args=[complaint.pk])
    second = client.post(url, {"category": category.pk})
    assert second.status_code == 302
    assert second.url == first.url
    assert Complaint.objects.count() == 1
    page = client.get(reverse("visits:issue", args=[issue.pk])).content.decode()
    assert complaint.number in page
    assert 'class="issue-convert"' not in page
    # The complaint page says where it came from (its content), escaped.
    shown = client.get(first.url).content.decode()
    assert "回访转投诉" in shown
    assert "<b>" not in shown.split("卫生间大面积渗水")[1][:10]


def test_the_consultant_sees_no_button_and_the_outsider_no_issue(client, issue, consultant, outsider):
    client.force_login(consultant)
    page = client.get(reverse("visits:issue", args=[issue.pk])).content.decode()
    assert 'class="issue-convert"' not in page
    assert client.post(reverse("visits:issue_convert", args=[issue.pk]), {}).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("visits:issue", args=[issue.pk])).status_code == 404


def test_the_api_converts_once_in_the_same_scope(issue, service, outsider, company):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def api(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    url = f"/api/visits/issues/{issue.pk}/convert/"
    category = Category.objects.get(company=company, name="产品质量")
    assert api(outsider).post(url, {"category": category.pk}, format="json").status_code == 404
    refused = api(service).post(url, {"category": 999_999}, format="json")
    assert refused.status_code == 400
    assert "请选择投诉类别" in refused.content.decode()
    first = api(service).post(url, {"category": category.pk, "note": "严重"}, format="json")
    assert first.status_code == 201
    second = api(service).post(url, {"category": category.pk}, format="json")
    assert second.status_code == 200
    assert second.json()["complaint"] == first.json()["complaint"]
    assert api(service).get(f"/api/visits/issues/{issue.pk}/").json()["complaint"] == first.json()["complaint"]
