"""温馨速递 over the API, for integrators: the outbox with its filters and 补发, rules,
drafts and their approval, opt-outs — the same scope and services as the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from crm.accounts.roles import Role
from crm.care import services
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.core.models import AuditLog
from crm.customers.models import Deal, TimelineEvent
from crm.customers.services import create_deal

from .utils import has_chinese

Status = OutboundMessage.Status
MESSAGES = "/api/care/messages/"


def queue(customer, trigger=Trigger.BIRTHDAY, *, status=Status.SCHEDULED, when=None, occasion=None, error=""):
    rule = services.rule_for(customer.project_id, trigger)
    when = when or timezone.now() + timedelta(hours=1)
    return OutboundMessage.objects.create(
        customer=customer,
        project_id=customer.project_id,
        rule=rule,
        trigger=trigger,
        occasion=occasion or timezone.localtime(when).date().isoformat(),
        purpose=rule.purpose,
        text=services.preview(rule),
        status=status,
        error=error,
        scheduled_at=when,
        window_ends_at=when + timedelta(minutes=30),
        next_attempt_at=when,
    )


@pytest.fixture
def owner(make_customer, consultant, unit):
    customer = make_customer("林业主", mobile="13811112222", consent_care=True)
    create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 1, 5))
    customer.refresh_from_db()
    return customer


@pytest.fixture
def theirs(make_customer, outsider, project_b):
    """Another team's customer (the outsider's)."""
    return make_customer("外组客户", owner=outsider, project=project_b, mobile="13600001111", consent_care=True)


# ---------------------------------------------------------------- the outbox


def test_the_outbox_lists_each_message_with_text_window_status_and_reason(api, consultant, owner):
    deal = Deal.objects.get(customer=owner)
    message = queue(
        owner, Trigger.FULL_PAYMENT, status=Status.EXPIRED, occasion=f"deal:{deal.pk}", error="已过发送时段"
    )
    response = api(consultant).get(MESSAGES)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == message.pk
    assert row["customer"] == owner.pk
    assert row["mobile"] == "138****2222"
    assert "13811112222" not in str(row)
    assert row["text"] == message.text
    assert row["status"] == "expired"
    assert row["status_label"] == "已过期未发"
    assert row["reason"] == "已过发送时段"
    assert "可以补发" in row["fix"]
    assert row["occasion_label"] == "成交 锦华苑 1号楼-1801 · 全款到账"
    assert row["scheduled_at"]
    assert row["window_ends_at"]
    assert row["can_resend"] is False  # a consultant may see it, not resend it


def test_the_outbox_filters_by_customer_status_trigger_and_date(api, service, owner, make_customer):
    now = timezone.now()
    other = make_customer("赵六", consent_care=True)
    birthday = queue(owner, when=now)
    filing = queue(other, Trigger.FILING, status=Status.FAILED, when=now - timedelta(days=3))
    held = queue(other, Trigger.MOVE_IN, status=Status.HELD, when=now)
    client = api(service)

    def ids(**params):
        response = client.get(MESSAGES, params)
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(customer=owner.pk) == [birthday.pk]
    assert ids(status="failed") == [filing.pk]
    assert ids(status="attention") == sorted([filing.pk, held.pk])
    assert ids(trigger="filing") == [filing.pk]
    today = timezone.localdate().isoformat()
    assert ids(date=today) == sorted([birthday.pk, held.pk])
    assert ids(date_to=(timezone.localdate() - timedelta(days=1)).isoformat()) == [filing.pk]
    response = client.get(MESSAGES, {"status": "bogus"})
    assert response.status_code == 400
    assert has_chinese(response.json())


def test_the_outsider_gets_404_for_another_teams_customers_messages(api, outsider, owner, theirs):
    mine = queue(owner)
    their_message = queue(theirs)
    client = api(outsider)
    assert [row["id"] for row in client.get(MESSAGES).json()["results"]] == [their_message.pk]
    response = client.get(f"{MESSAGES}{mine.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "不存在或无权查看。"}
    assert client.get(MESSAGES, {"customer": owner.pk}).status_code == 400  # not a choice for them
    assert client.get(f"{MESSAGES}{their_message.pk}/").status_code == 200


def test_an_approver_without_customer_data_may_not_read_the_outbox(api, approver, owner):
    queue(owner)
    response = api(approver).get(MESSAGES)
    assert response.status_code == 403
    assert has_chinese(response.json())


# ---------------------------------------------------------------- resend


def test_service_staff_resend_an_expired_message(api, service, owner):
    message = queue(owner, status=Status.EXPIRED, when=timezone.now() - timedelta(days=1))
    response = api(service).post(f"{MESSAGES}{message.pk}/resend/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["reason"] == ""
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED
    assert message.scheduled_at >= timezone.now() - timedelta(minutes=1)
    assert AuditLog.objects.filter(target_type="care.outboundmessage", target_id=str(message.pk)).exists()


def test_a_refused_resend_is_400_with_the_reason(api, service, owner):
    message = queue(owner, status=Status.DELIVERED)
    response = api(service).post(f"{MESSAGES}{message.pk}/resend/", {}, format="json")
    assert response.status_code == 400
    assert "只有发送失败、过期未发或暂缓发送的短信可以补发" in response.json()["non_field_errors"][0]


def test_resend_needs_the_permission_and_the_scope(api, consultant, make_staff, project_b, owner):
    message = queue(owner, status=Status.EXPIRED)
    assert api(consultant).post(f"{MESSAGES}{message.pk}/resend/", {}, format="json").status_code == 403
    service_b = make_staff("service-b", Role.SERVICE, projects=(project_b,))
    assert api(service_b).post(f"{MESSAGES}{message.pk}/resend/", {}, format="json").status_code == 404
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.EXPIRED


def test_a_bulk_resend_reports_each_refusal(api, service, owner, make_customer, theirs):
    expired = queue(owner, status=Status.EXPIRED)
    sent = queue(make_customer("已发"), status=Status.SENT)
    foreign = queue(theirs, status=Status.EXPIRED)
    response = api(service).post(
        f"{MESSAGES}resend/", {"ids": [expired.pk, sent.pk, foreign.pk, 999999]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["id"] for row in body["resent"]] == [expired.pk]
    refused = {row["id"]: row["reason"] for row in body["refused"]}
    assert "已提交网关" in refused[sent.pk]
    assert refused[foreign.pk] == refused[999999] == "不存在或无权查看"
    assert OutboundMessage.objects.get(pk=foreign.pk).status == Status.EXPIRED
    assert api(service).post(f"{MESSAGES}resend/", {"ids": []}, format="json").json() == {"ids": ["请至少选择一条短信"]}


# ---------------------------------------------------------------- rules


def test_care_staff_read_the_rules_and_only_administrators_change_them(api, service, admin_user, project):
    response = api(service).get("/api/care/rules/", {"project": project.pk})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == len(Trigger)
    birthday = next(row for row in rows if row["trigger"] == "birthday")
    assert birthday["when"] == "生日当天 10:00-10:30"
    url = f"/api/care/rules/{birthday['id']}/"
    assert api(service).patch(url, {"window_start": "09:30:00"}, format="json").status_code == 403

    response = api(admin_user).patch(url, {"window_start": "09:30", "window_end": "10:00"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["window_start"] == "09:30:00"
    rule = CareRule.objects.get(pk=birthday["id"])
    assert rule.updated_by == admin_user
    assert AuditLog.objects.filter(target_type="care.carerule", target_id=str(rule.pk)).exists()

    response = api(admin_user).patch(url, {"template": "您好{楼层}"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"template": ["模板中有无法识别的占位符：{楼层}"]}
    response = api(admin_user).patch(url, {"window_end": "09:00"}, format="json")
    assert response.json() == {"window_end": ["发送截止时间应晚于开始时间"]}

    response = api(admin_user).patch(url, {"catch_up_days": 2, "working_days_only": True}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["catch_up_days"], response.json()["working_days_only"]) == (2, True)
    rule.refresh_from_db()
    assert (rule.catch_up_days, rule.working_days_only) == (2, True)


def test_a_consultant_reads_no_rules(api, consultant):
    assert api(consultant).get("/api/care/rules/").status_code == 403


# ---------------------------------------------------------------- drafts


@pytest.fixture
def construction_draft(owner, project):
    rule = services.rule_for(project.pk, Trigger.CONSTRUCTION)
    send_on = timezone.localdate() + timedelta(days=2)
    return services.create_draft(rule, occasion=send_on.isoformat(), send_on=send_on)


def test_the_approver_fills_and_approves_a_draft(api, approver, construction_draft, owner):
    client = api(approver)
    [row] = client.get("/api/care/drafts/", {"status": "pending"}).json()["results"]
    assert row["missing"] == ["进度"]
    assert row["recipient_count"] == 1
    url = f"/api/care/drafts/{construction_draft.pk}/approve/"
    response = client.post(url, {}, format="json")
    assert response.status_code == 400
    assert "{进度}" in response.json()["text"][0]

    text = construction_draft.text.replace("{进度}", "完成主体结构封顶")
    response = client.post(url, {"text": text, "comment": "同意"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["queued"] == 1
    assert response.json()["draft"]["status"] == "approved"
    [message] = OutboundMessage.objects.all()
    assert message.customer == owner
    assert "完成主体结构封顶" in message.text


def test_rejecting_needs_a_comment_and_the_approvers_permission(api, approver, service, construction_draft):
    url = f"/api/care/drafts/{construction_draft.pk}/reject/"
    assert api(service).post(url, {"comment": "不发"}, format="json").status_code == 403
    response = api(approver).post(url, {"comment": ""}, format="json")
    assert response.json() == {"comment": ["驳回时请填写意见"]}
    response = api(approver).post(url, {"comment": "进度待工程部确认"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert Draft.objects.get().status == Draft.Status.REJECTED


def test_service_staff_fill_a_draft_but_do_not_approve_it(api, service, construction_draft):
    url = f"/api/care/drafts/{construction_draft.pk}/"
    text = construction_draft.text.replace("{进度}", "完成主体结构封顶")
    response = api(service).patch(url, {"text": text}, format="json")
    assert response.status_code == 200
    assert response.json()["missing"] == []
    assert api(service).post(f"{url}approve/", {}, format="json").status_code == 403
    assert not OutboundMessage.objects.exists()


def test_a_consultant_sees_no_drafts(api, consultant, construction_draft):
    assert api(consultant).get("/api/care/drafts/").status_code == 403


# ---------------------------------------------------------------- opt-outs


def test_register_list_and_withdraw_an_opt_out(api, consultant, owner):
    message = queue(owner)
    client = api(consultant)
    response = client.post("/api/care/opt-outs/", {"customer": owner.pk, "source": "微信公众号退订"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["cancelled"] == 1
    assert response.json()["source"] == "微信公众号退订"
    owner.refresh_from_db()
    assert owner.has_opted_out
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.CANCELLED

    [row] = client.get("/api/care/opt-outs/").json()["results"]
    assert (row["customer"], row["mobile"], row["source"]) == (owner.pk, "138****2222", "微信公众号退订")
    again = client.post("/api/care/opt-outs/", {"customer": owner.pk, "source": "再次"}, format="json")
    assert again.json() == {"customer": ["该客户已经退订，无需重复登记"]}

    url = f"/api/care/opt-outs/{owner.pk}/withdraw/"
    assert client.post(url, {}, format="json").status_code == 400
    response = client.post(url, {"source": "客户到访签署同意书"}, format="json")
    assert response.json() == {"customer": owner.pk, "has_opted_out": False}
    owner.refresh_from_db()
    assert not owner.has_opted_out
    assert TimelineEvent.objects.filter(customer=owner, summary__contains="客户到访签署同意书").exists()
    assert client.post(url, {"source": "再来"}, format="json").json() == {"customer": ["该客户没有退订，无需恢复"]}


def test_opt_outs_of_another_team_are_out_of_reach(api, outsider, owner):
    services.opt_out(owner, actor=None, source="短信回复“TD”")
    client = api(outsider)
    assert client.get("/api/care/opt-outs/").json()["results"] == []
    response = client.post("/api/care/opt-outs/", {"customer": owner.pk, "source": "x"}, format="json")
    assert response.status_code == 400
    assert client.post(f"/api/care/opt-outs/{owner.pk}/withdraw/", {"source": "x"}, format="json").status_code == 404
    owner.refresh_from_db()
    assert owner.has_opted_out


def test_the_schema_describes_the_care_endpoints(api, consultant):
    schema = api(consultant).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (
        "/api/care/messages/",
        "/api/care/messages/{id}/resend/",
        "/api/care/messages/resend/",
        "/api/care/rules/{id}/",
        "/api/care/drafts/{id}/approve/",
        "/api/care/opt-outs/{id}/withdraw/",
    ):
        assert path in schema["paths"], path
    params = {p["name"] for p in schema["paths"]["/api/care/messages/"]["get"]["parameters"]}
    assert {"customer", "status", "trigger", "date", "date_from", "date_to"} <= params
