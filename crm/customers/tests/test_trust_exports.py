"""Exports and scraping: approval above the threshold, downloaded once; consultants never
get full mobiles; hourly limits on opening customers, revealing numbers and hitting
other colleagues' mobiles stop the user and alert the supervisors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Company
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.core.errors import DomainError
from crm.core.models import AuditLog
from crm.customers import export_requests, guard, services
from crm.customers.models import AccessAlert, AccessEvent, CompanyPrivacy, ExportRequest
from crm.customers.tests.excel import read_xlsx, response_bytes

EXPORT = reverse("customers:export")
EXPORTS = reverse("customers:exports")
CREATE = reverse("customers:create")
PROBE = {"name": "试探", "gender": "M", "stage": "prospect", "grade": "B", "source_channel": "phone"}


@pytest.fixture
def limits(company):
    return CompanyPrivacy.objects.create(
        company=company,
        export_approval_threshold=2,
        open_limit_per_hour=3,
        reveal_limit_per_hour=2,
        duplicate_limit_per_hour=2,
    )


@pytest.fixture
def three(make_customer, consultant):
    return [make_customer(f"客户{i}", owner=consultant) for i in range(3)]


def file_request(client, purpose="季度回访名单"):
    page = client.get(EXPORT)
    assert page.status_code == 200
    assert "需主管审批" in page.content.decode()
    return client.post(EXPORT, {"params": page.context["params"], "purpose": purpose})


# ---------------------------------------------------------------- approval


def test_an_export_below_the_threshold_downloads_at_once(login, consultant, limits, make_customer):
    make_customer("甲")
    response = login(consultant).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(read_xlsx(response_bytes(response))) == 3  # note, header, one customer
    assert not ExportRequest.objects.exists()


def test_an_export_above_the_threshold_needs_a_purpose_then_waits(login, consultant, limits, three):
    client = login(consultant)
    response = file_request(client, purpose="")
    assert response.status_code == 200
    assert "请填写导出用途" in response.content.decode()
    assert not ExportRequest.objects.exists()
    response = file_request(client)
    assert response.status_code == 302
    request = ExportRequest.objects.get()
    assert (request.status, request.count, request.requested_by) == ("requested", 3, consultant)
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, target_type="customers.exportrequest").exists()


def test_the_default_threshold_is_fifty(company, settings):
    assert guard.privacy_of(company.pk).export_approval_threshold == 50


def test_a_supervisor_approves_and_the_requester_downloads_once(login, client, consultant, supervisor, limits, three):
    file_request(login(consultant))
    request = ExportRequest.objects.get()
    client.force_login(supervisor)
    queue = client.get(EXPORTS).content.decode()
    assert "待我审批" in queue
    assert "季度回访名单" in queue
    assert (
        client.post(reverse("customers:export_decide", args=[request.pk]), {"decision": "approve"}).status_code == 302
    )
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", supervisor)
    # Only the requester downloads.
    response = client.post(reverse("customers:export_download", args=[request.pk]))
    assert response.status_code == 302
    client.force_login(consultant)
    response = client.post(reverse("customers:export_download", args=[request.pk]))
    assert response.status_code == 200
    rows = read_xlsx(response_bytes(response))
    assert len(rows) - 2 == 3
    mobiles = [row[rows[1].index("手机号")] for row in rows[2:]]
    assert all("****" in mobile for mobile in mobiles)  # a consultant's export is masked
    request.refresh_from_db()
    assert request.status == "downloaded"
    again = client.post(reverse("customers:export_download", args=[request.pk]), follow=True)
    assert "不能再" in again.content.decode()


def test_a_rejection_needs_a_reason_and_the_file_is_never_available(login, consultant, supervisor, limits, three):
    file_request(login(consultant))
    request = ExportRequest.objects.get()
    with pytest.raises(DomainError, match="驳回时请填写原因"):
        export_requests.reject_export(request, actor=supervisor, note="", now=timezone.now())
    export_requests.reject_export(request, actor=supervisor, note="范围过大", now=timezone.now())
    with pytest.raises(DomainError):
        export_requests.download_export(request, actor=consultant, now=timezone.now())


def test_nobody_approves_their_own_request(login, director, limits, make_customer, project):
    for i in range(3):
        make_customer(f"主任客户{i}")
    file_request(login(director))
    request = ExportRequest.objects.get()
    assert not export_requests.pending_for(director).exists()
    with pytest.raises(DomainError, match="不能审批自己的导出申请"):
        export_requests.approve_export(request, actor=director, now=timezone.now())


def test_a_second_companys_supervisor_cannot_see_or_decide(login, consultant, limits, three):
    file_request(login(consultant))
    request = ExportRequest.objects.get()
    other = Company.objects.create(name="第二置业")
    stranger = create_staff("sup2", company=other, roles=[Role.SUPERVISOR], password="Zz-test-2026")
    client = login(stranger)
    assert "季度回访名单" not in client.get(EXPORTS).content.decode()
    assert (
        client.post(reverse("customers:export_decide", args=[request.pk]), {"decision": "approve"}).status_code == 404
    )
    request.refresh_from_db()
    assert request.status == "requested"


def test_a_consultant_cannot_approve(login, consultant, teammate, limits, make_customer):
    for i in range(3):
        make_customer(f"同组{i}", owner=teammate)
    file_request(login(teammate))
    request = ExportRequest.objects.get()
    response = login(consultant).post(reverse("customers:export_decide", args=[request.pk]), {"decision": "approve"})
    assert response.status_code == 403


def test_the_approver_sees_a_workbench_card(login, consultant, supervisor, limits, three):
    file_request(login(consultant))
    body = login(supervisor).get(reverse("workbench")).content.decode()
    assert "导出待审批" in body
    assert EXPORTS in body


# ---------------------------------------------------------------- full mobiles


def test_consultants_never_bulk_export_full_mobiles_even_with_a_second_role(
    login, make_staff, teams, project, make_customer
):
    both = make_staff("both", Role.CONSULTANT, Role.SERVICE, team=teams[0], projects=(project,))
    make_customer("双角色客户", owner=both, mobile="13822223333")
    response = login(both).get(EXPORT)
    text = str(read_xlsx(response_bytes(response)))
    assert "13822223333" not in text
    assert "138****3333" in text


# ---------------------------------------------------------------- opening customers


def test_opening_more_customers_than_the_limit_stops_the_user_and_alerts(
    login, consultant, supervisor, limits, make_customer
):
    customers = [make_customer(f"浏览{i}") for i in range(4)]
    client = login(consultant)
    for c in customers[:3]:
        assert client.get(reverse("customers:detail", args=[c.pk])).status_code == 200
    response = client.get(reverse("customers:detail", args=[customers[3].pk]))
    assert response.status_code == 429
    assert "系统已暂停您查看更多客户并通知主管" in response.content.decode()
    assert customers[3].name not in response.content.decode()
    # Re-opening one already opened this hour is allowed.
    assert client.get(reverse("customers:detail", args=[customers[0].pk])).status_code == 200
    alert = AccessAlert.objects.get()
    assert (alert.user, alert.kind) == (consultant, "opens")
    body = login(supervisor).get(reverse("workbench")).content.decode()
    assert "异常访问告警" in body


def test_the_window_rolls_an_hour(consultant, limits, make_customer):
    customers = [make_customer(f"窗口{i}") for i in range(4)]
    now = timezone.now()
    for c in customers[:3]:
        guard.check_open(consultant, c.pk, now=now - timedelta(minutes=61))
    guard.check_open(consultant, customers[3].pk, now=now)  # the old ones left the window
    assert AccessEvent.objects.filter(user=consultant).count() == 4


def test_the_api_applies_the_same_limit(client, consultant, limits, make_customer):
    customers = [make_customer(f"接口{i}") for i in range(4)]
    client.force_login(consultant)
    for c in customers[:3]:
        assert client.get(f"/api/customers/{c.pk}/").status_code == 200
    response = client.get(f"/api/customers/{customers[3].pk}/")
    assert response.status_code == 429
    assert "超过 3 位" in response.json()["detail"]


# ---------------------------------------------------------------- reveals


def test_revealing_beyond_the_limit_is_refused_and_alerted(consultant, limits, customer):
    for _ in range(2):
        services.reveal_contact(customer, actor=consultant, field="mobile", reason="回访核对")
    with pytest.raises(guard.AccessStopped):
        services.reveal_contact(customer, actor=consultant, field="mobile", reason="回访核对")
    assert AuditLog.objects.filter(action=AuditLog.Action.REVEAL).count() == 2
    assert AccessAlert.objects.get().kind == "reveals"
    assert AccessAlert.objects.count() == 1  # one alert per hour, not one per refusal


def test_a_reveal_reason_of_one_character_is_refused(consultant, customer):
    with pytest.raises(DomainError, match="至少2个字"):
        services.reveal_contact(customer, actor=consultant, field="mobile", reason=".")


def test_the_default_reveal_limit_is_twenty(company):
    assert guard.privacy_of(company.pk).reveal_limit_per_hour == 20
    assert guard.privacy_of(company.pk).open_limit_per_hour == 200


def test_a_supervisor_resolves_an_alert_with_a_note(login, consultant, supervisor, limits, customer):
    alert = guard.raise_alert(consultant, kind="reveals", count=3, limit=2, now=timezone.now())
    client = login(supervisor)
    client.post(reverse("customers:alert_resolve", args=[alert.pk]), {"note": ""})
    alert.refresh_from_db()
    assert alert.resolved_at is None
    client.post(reverse("customers:alert_resolve", args=[alert.pk]), {"note": "已约谈，属正常回访"})
    alert.refresh_from_db()
    assert alert.resolved_by == supervisor


def test_consultants_cannot_see_alerts(login, consultant):
    assert login(consultant).get(reverse("customers:alerts")).status_code == 403


# ---------------------------------------------------------------- duplicate mobiles


def test_a_hidden_duplicate_says_only_that_it_exists(login, outsider, customer, project_b):
    response = login(outsider).post(CREATE, PROBE | {"mobile": "13812345678", "project": project_b.pk})
    body = response.content.decode()
    assert "已存在，请联系主管" in body
    assert "张三" not in body
    assert customer.number not in body
    assert "置业顾问 王顾问" not in body


def test_hidden_duplicates_are_rate_limited(login, outsider, limits, make_customer, project_b, supervisor):
    held = [make_customer(f"被试探{i}") for i in range(3)]
    client = login(outsider)
    messages = []
    for c in held:
        response = client.post(CREATE, PROBE | {"mobile": c.mobile, "project": project_b.pk})
        messages.append(response.content.decode())
    assert "已存在，请联系主管" in messages[0]
    assert "重复号码提示过于频繁" in messages[2]
    assert "已存在，请联系主管" not in messages[2]
    assert AccessAlert.objects.get(user=outsider).kind == "duplicates"


def test_the_api_duplicate_message_follows_the_same_rule(client, outsider, customer, project_b):
    client.force_login(outsider)
    response = client.post(
        "/api/customers/",
        {"name": "试探", "mobile": "13812345678", "source_channel": "visit", "project": project_b.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["mobile"] == ["已存在，请联系主管"]
    assert "existing_customer" not in response.json()


def test_the_approver_reads_the_filters_in_chinese(login, consultant, limits, three):
    client = login(consultant)
    url = EXPORT + "?q=客户&stage=prospect"
    page = client.get(url)
    assert "需主管审批" in page.content.decode()
    client.post(url, {"params": page.context["params"], "purpose": "回访名单"})
    request = ExportRequest.objects.get()
    assert request.filters_text == "搜索：客户；阶段：潜在客户"
    assert "stage" not in request.filters_text
