"""Notices to the complainant through the care outbox, and the one-time survey link.

Unlinked complainants (no customer row) and linked ones; exactly once; send windows and
quiet hours; opt-out by reply; the survey used once, expired, unknown, low ratings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from crm.care import dispatch
from crm.care.models import OptedOutMobile, OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import notices, services
from crm.complaints.models import Complaint, ComplaintEvent, SurveyInvitation
from crm.core.models import AuditLog
from crm.customers.models import TimelineEvent
from crm.lib.dates import CHINA_TZ
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.base import InboundReply

from .conftest import REGISTERED_AT

Status = Complaint.Status
MStatus = OutboundMessage.Status
MOBILE = "13800001111"  # the conftest complainant's, no customer has it


@pytest.fixture(autouse=True)
def _locmem():
    locmem.reset()
    yield
    locmem.reset()


@pytest.fixture
def gateway() -> LocmemGateway:
    return LocmemGateway()


def at(hour: int, minute: int = 0, *, day: int = 29, month: int = 9) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


def rows(complaint: Complaint, trigger: str | None = None):
    qs = OutboundMessage.objects.filter(occasion__startswith=f"{complaint.number}:")
    return qs.filter(trigger=trigger) if trigger else qs


def resolved(complaint: Complaint, service, director, *, now: datetime) -> Complaint:
    services.acknowledge_complaint(complaint, actor=service, now=now)
    services.start_investigation(complaint, actor=service, now=now)
    services.propose_plan(complaint, actor=service, plan="道歉并更换接待人员", now=now)
    services.approve_plan(complaint, actor=director, now=now)
    services.start_work(complaint, actor=service, now=now)
    return services.resolve_complaint(complaint, actor=service, note="已更换接待人员并当面致歉", now=now)


def survey_token(complaint: Complaint) -> str:
    """The link as the complainant reads it: from the outbox row's text."""
    text = rows(complaint, Trigger.COMPLAINT_SURVEY).get().text
    match = re.search(r"https?://\S+?/complaints/survey/([\w-]+)/", text)
    assert match, text
    return match.group(1)


# ------------------------------------------------------------------ notices


def test_registration_queues_the_acceptance_now_and_the_reply_the_next_morning(make_complaint):
    c = make_complaint()
    accepted = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    assert accepted.customer is None  # an unlinked contact
    assert (accepted.contact_mobile, accepted.contact_name) == (MOBILE, "张三")
    assert accepted.status == MStatus.SCHEDULED
    assert accepted.purpose == "notification"
    assert c.number in accepted.text
    assert "张三" in accepted.text
    assert "10月9日" in accepted.text
    assert accepted.scheduled_at == REGISTERED_AT
    reply = rows(c, Trigger.COMPLAINT_REPLY).get()
    # Seed 001: 第二日…以短信方式回复，并表示感谢客户的意见.
    assert reply.scheduled_at == at(10, day=30)
    assert reply.window_ends_at == at(11, day=30)
    assert "感谢" in reply.text


def test_notices_are_queued_once_however_often_the_trigger_runs(make_complaint, gateway):
    c = make_complaint()
    notices.registered(c, now=REGISTERED_AT)
    notices.registered(c, now=REGISTERED_AT + timedelta(minutes=5))
    assert rows(c).count() == 2
    assert dispatch.send_due_messages(now=at(17, 1), gateway=gateway) == 1
    assert dispatch.send_due_messages(now=at(17, 2), gateway=gateway) == 0
    notices.registered(c, now=at(17, 3))
    assert dispatch.send_due_messages(now=at(17, 4), gateway=gateway) == 0
    assert len(locmem.outbox) == 1


def test_an_unlinked_complainant_gets_the_sms_through_the_gateway(make_complaint, gateway):
    c = make_complaint()
    assert c.customer_id is None
    assert dispatch.send_due_messages(now=at(17, 1), gateway=gateway) == 1
    [sms] = locmem.outbox
    assert sms.mobile == MOBILE
    assert c.number in sms.text
    message = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    assert message.status == MStatus.SENT
    assert sms.reference == str(message.pk)
    # The receipt settles it like any other message; no customer, so no timeline to write.
    assert dispatch.settle_submitting(now=at(18), gateway=gateway) == 0
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MESSAGE).exists()


def test_a_complaint_registered_at_night_is_told_after_the_quiet_hours(make_complaint, gateway):
    c = make_complaint(now=at(21, 30))
    accepted = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    assert accepted.scheduled_at == at(8, day=30)
    assert "顺延" in accepted.error
    assert dispatch.send_due_messages(now=at(21, 31), gateway=gateway) == 0
    assert dispatch.send_due_messages(now=at(7, 59, day=30), gateway=gateway) == 0
    assert locmem.outbox == []
    assert dispatch.send_due_messages(now=at(8, 1, day=30), gateway=gateway) == 1


def test_progress_is_told_only_when_the_owner_chooses(make_complaint, service):
    c = make_complaint()
    services.acknowledge_complaint(c, actor=service, now=at(17, 5))
    services.record_progress(c, actor=service, note="内部：核对监控录像", now=at(17, 10))
    assert not rows(c, Trigger.COMPLAINT_PROGRESS).exists()
    event = services.record_progress(
        c,
        actor=service,
        note="已调取录像，明日与您电话沟通 http://evil.example 【假签名】",
        notify=True,
        now=at(17, 20),
    )
    message = rows(c, Trigger.COMPLAINT_PROGRESS).get()
    assert message.occasion == f"{c.number}:progress:{event.pk}"
    assert "已调取录像，明日与您电话沟通" in message.text
    assert "evil" not in message.text
    assert "【" not in message.text


def test_an_opted_out_number_is_not_sent_and_the_reason_is_shown(make_complaint, client, service, gateway):
    c = make_complaint()
    dispatch.record_replies([InboundReply(mobile=MOBILE, text="TD", received_at=at(17, 30))], gateway_name="locmem")
    assert OptedOutMobile.objects.filter(mobile=MOBILE).exists()
    # The reply cancels what was waiting at once.
    assert set(rows(c).values_list("status", flat=True)) == {MStatus.CANCELLED}
    assert "该号码已退订短信" in rows(c, Trigger.COMPLAINT_REPLY).get().error
    # A later complaint from the same number is recorded as cancelled, with the reason.
    later = make_complaint(now=at(18))
    accepted = rows(later, Trigger.COMPLAINT_ACCEPTED).get()
    assert accepted.status == MStatus.CANCELLED
    assert accepted.error == "该号码已退订短信（回复退订），不再发送"
    assert dispatch.send_due_messages(now=at(18, 1), gateway=gateway) == 0
    assert locmem.outbox == []
    client.force_login(service)
    page = client.get(f"/complaints/{later.pk}/").content.decode()
    assert "该号码已退订短信" in page
    assert "已取消" in page


def test_an_opt_out_after_the_claim_stops_the_hand_off(make_complaint, gateway):
    c = make_complaint()
    message = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    [pk] = dispatch.claim(at(17, 1), 10)
    OptedOutMobile.objects.create(mobile=MOBILE, opted_out_at=at(17, 1))  # arrives mid-batch
    message.refresh_from_db()
    assert dispatch._hand(message, at(17, 1), gateway.name) is False
    dispatch._not_handed(message, at(17, 1), dispatch._Batch.load([message], at(17, 1)))
    message.refresh_from_db()
    assert (pk, message.status) == (message.pk, MStatus.CANCELLED)
    assert locmem.outbox == []


def test_a_linked_customer_who_refused_marketing_still_gets_the_notice_and_a_timeline_entry(
    make_complaint, make_customer, gateway
):
    customer = make_customer("李四", mobile="13922223333", consent_marketing=False)
    c = make_complaint(complainant_mobile="13922223333", complainant_name="李四")
    assert c.customer_id == customer.pk
    message = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    assert (message.customer_id, message.contact_mobile) == (customer.pk, "13922223333")
    assert dispatch.send_due_messages(now=at(17, 1), gateway=gateway) == 1
    assert locmem.outbox[0].mobile == "13922223333"
    assert TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.MESSAGE).exists()


def test_a_linked_customer_who_opted_out_entirely_is_not_sent(make_complaint, make_customer, gateway):
    from crm.care import services as care_services

    customer = make_customer("王五", mobile="13933334444")
    care_services.opt_out(customer, actor=None, source="客户来电要求")
    c = make_complaint(complainant_mobile="13933334444", complainant_name="王五")
    accepted = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    assert (accepted.status, accepted.error) == (MStatus.CANCELLED, "客户已退订")
    assert dispatch.send_due_messages(now=at(17, 1), gateway=gateway) == 0


def test_a_switched_off_rule_queues_nothing(make_complaint, project):
    from crm.care.models import CareRule

    make_complaint()  # the project's rules exist now
    CareRule.objects.filter(project=project, trigger=Trigger.COMPLAINT_ACCEPTED).update(is_enabled=False)
    c = make_complaint(now=at(18))
    assert list(rows(c).values_list("trigger", flat=True)) == [Trigger.COMPLAINT_REPLY]


def test_cancelling_a_complaint_withdraws_its_unsent_notices(make_complaint, director):
    c = make_complaint()
    services.cancel_complaint(c, actor=director, note="重复登记", now=at(17, 30))
    assert set(rows(c).values_list("status", flat=True)) == {MStatus.CANCELLED}


# ------------------------------------------------------------------ the survey link


def test_resolving_sends_the_result_and_a_survey_link(make_complaint, service, director, settings):
    settings.SITE_URL = "https://crm.example.cn"
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    result = rows(c, Trigger.COMPLAINT_REPLY).exclude(occasion=f"{c.number}:reply").get()
    assert "已处理完毕：已更换接待人员并当面致歉" in result.text
    survey = rows(c, Trigger.COMPLAINT_SURVEY).get()
    assert "https://crm.example.cn/complaints/survey/" in survey.text
    assert "7天内有效" in survey.text
    invitation = SurveyInvitation.objects.get(complaint=c)
    token = survey_token(c)
    assert token not in invitation.token_hash  # only the hash is stored
    assert invitation.expires_at == at(17, 30) + timedelta(days=7)


def test_the_survey_confirms_the_complaint_as_done_by_the_complainant(
    make_complaint, make_customer, service, director, client, time_machine
):
    time_machine.move_to(at(17, 45))  # the public page reads the clock
    customer = make_customer("李四", mobile="13922223333")
    c = resolved(make_complaint(complainant_mobile="13922223333"), service, director, now=at(17, 30))
    token = survey_token(c)
    page = client.get(f"/complaints/survey/{token}/")
    assert page.status_code == 200
    assert c.number in page.content.decode()
    response = client.post(f"/complaints/survey/{token}/", {"rating": "4", "comment": "<b>满意</b>"})
    assert response.status_code == 200
    assert "已确认处理完毕" in response.content.decode()
    c.refresh_from_db()
    assert (c.status, c.satisfaction) == (Status.CONFIRMED, 4)
    event = c.events.get(to_status=Status.CONFIRMED)
    assert event.actor is None
    assert event.by_complainant
    assert event.actor_label == "投诉人（短信评价链接）"
    assert event.note == "短信评价 4 分：<b>满意</b>"
    assert TimelineEvent.objects.filter(customer=customer, summary__contains="投诉人通过短信评价链接").exists()
    assert AuditLog.objects.filter(summary__contains="投诉人通过短信评价链接", actor__isnull=True).exists()
    # Staff see it, escaped.
    client.force_login(service)
    detail = client.get(f"/complaints/{c.pk}/").content.decode()
    assert "客户已确认" in detail
    assert "投诉人（短信评价链接）" in detail
    assert "&lt;b&gt;满意&lt;/b&gt;" in detail


def test_the_survey_link_is_refused_the_second_time(make_complaint, service, director, client, time_machine):
    time_machine.move_to(at(17, 45))  # the public page reads the clock
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    token = survey_token(c)
    assert client.post(f"/complaints/survey/{token}/", {"rating": "5"}).status_code == 200
    again = client.post(f"/complaints/survey/{token}/", {"rating": "1"})
    assert again.status_code == 410
    assert "该链接只能使用一次" in again.content.decode()
    assert client.get(f"/complaints/survey/{token}/").status_code == 410
    c.refresh_from_db()
    assert c.satisfaction == 5
    with pytest.raises(services.SurveyRefused):
        services.submit_survey(token, rating=3, now=at(18))


def test_an_expired_or_unknown_link_is_refused_in_chinese(make_complaint, service, director, client, time_machine):
    time_machine.move_to(at(17, 45))  # the public page reads the clock
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    token = survey_token(c)
    with pytest.raises(services.SurveyRefused, match="已过期"):
        services.submit_survey(token, rating=5, now=at(17, 30) + timedelta(days=7, seconds=1))
    c.refresh_from_db()
    assert c.status == Status.RESOLVED
    unknown = client.get("/complaints/survey/not-a-real-token/")
    assert unknown.status_code == 404
    assert "链接无效" in unknown.content.decode()


def test_the_survey_page_keeps_the_comment_when_no_rating_is_chosen(
    make_complaint, service, director, client, time_machine
):
    time_machine.move_to(at(17, 45))  # the public page reads the clock
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    token = survey_token(c)
    response = client.post(f"/complaints/survey/{token}/", {"comment": "处理很及时"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请选择评分（1–5 分）" in body
    assert "处理很及时" in body
    assert SurveyInvitation.objects.get(complaint=c).used_at is None


def test_a_low_rating_does_not_confirm_but_flags_it_for_the_director(
    make_complaint, service, director, client, time_machine
):
    time_machine.move_to(at(17, 45))  # the public page reads the clock
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    token = survey_token(c)
    response = client.post(f"/complaints/survey/{token}/", {"rating": "2", "comment": "问题没有解决"})
    assert "客服中心主任会尽快与您联系" in response.content.decode()
    c.refresh_from_db()
    assert c.status == Status.RESOLVED
    assert c.dissatisfied_at is not None
    event = c.events.get(kind=ComplaintEvent.Kind.SURVEY)
    assert event.by_complainant
    assert "2 分" in event.note
    # The director reopens it: the flag goes, a new round gets a new link.
    services.reopen_complaint(c, actor=director, note="客户不满意，重新处理", now=at(18))
    c.refresh_from_db()
    assert c.dissatisfied_at is None


def test_a_reopened_complaint_spends_the_unused_link_and_withdraws_the_unsent_sms(
    make_complaint, service, director, client, time_machine
):
    time_machine.move_to(at(17, 45))  # the public page reads the clock
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    token = survey_token(c)
    services.reopen_complaint(c, actor=director, note="客户来电仍有问题", now=at(17, 40))
    assert rows(c, Trigger.COMPLAINT_SURVEY).get().status == MStatus.CANCELLED
    assert client.get(f"/complaints/survey/{token}/").status_code == 410


def test_a_phone_confirmation_spends_the_link(make_complaint, service, director):
    c = resolved(make_complaint(), service, director, now=at(17, 30))
    token = survey_token(c)
    services.confirm_resolution(c, actor=service, satisfaction=5, now=at(17, 40))
    with pytest.raises(services.SurveyRefused):
        services.submit_survey(token, rating=4, now=at(17, 41))


def test_the_api_tells_the_complainant_progress_when_asked(make_complaint, service):
    from rest_framework.test import APIClient

    c = make_complaint()
    client = APIClient()
    client.force_authenticate(service)
    assert client.post(f"/api/complaints/{c.pk}/actions/acknowledge/").status_code == 200
    quiet = client.post(f"/api/complaints/{c.pk}/actions/progress/", {"note": "内部记录"}, format="json")
    assert quiet.status_code == 200
    told = client.post(
        f"/api/complaints/{c.pk}/actions/progress/", {"note": "已安排工程部上门查看", "notify": True}, format="json"
    )
    assert told.status_code == 200
    [message] = rows(c, Trigger.COMPLAINT_PROGRESS)
    assert "已安排工程部上门查看" in message.text


def test_staff_see_a_notice_to_an_unlinked_complainant_in_the_outbox_by_scope(
    make_complaint, client, service, consultant
):
    from django.urls import reverse

    c = make_complaint()
    message = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    client.force_login(service)
    listing = client.get(reverse("care:outbox")).content.decode()
    assert "张三" in listing
    assert "138****1111" in listing
    assert MOBILE not in listing
    detail = client.get(reverse("care:message", args=[message.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "未关联客户" in body
    assert f"投诉 {c.number} · 投诉受理" in body
    api = client.get(f"/api/care/messages/{message.pk}/").json()
    assert (api["customer"], api["customer_name"], api["mobile"]) == (None, "张三", "138****1111")
    assert api["occasion_label"] == f"投诉 {c.number} · 投诉受理"
    client.force_login(consultant)  # own customers only: a complainant is not theirs
    assert client.get(reverse("care:message", args=[message.pk])).status_code == 404
    assert client.get(f"/api/care/messages/{message.pk}/").status_code == 404


def test_the_daily_cap_counts_an_unlinked_complainant_by_number(make_complaint, service, gateway, settings):
    settings.CARE_DAILY_CAP = 2
    c = make_complaint()
    services.acknowledge_complaint(c, actor=service, now=at(17, 1))
    services.record_progress(c, actor=service, note="已核实", notify=True, now=at(17, 2))
    services.record_progress(c, actor=service, note="已约见", notify=True, now=at(17, 3))
    assert dispatch.send_due_messages(now=at(17, 5), gateway=gateway) == 2
    assert len(locmem.outbox) == 2
    waiting = rows(c).filter(status=MStatus.SCHEDULED, trigger=Trigger.COMPLAINT_PROGRESS).get()
    assert "每日 2 条上限" in waiting.error


def test_a_failed_notice_to_an_unlinked_complainant_can_be_resent_but_not_after_an_opt_out(
    make_complaint, service, gateway
):
    from crm.care import outbox, resend
    from crm.core.errors import DomainError

    c = make_complaint()
    message = rows(c, Trigger.COMPLAINT_ACCEPTED).get()
    dispatch.claim(at(17, 1), 10)
    message.refresh_from_db()
    outbox.move(message.pk, frm=MStatus.SUBMITTING, to=MStatus.FAILED, claim=message.claimed_at, error="号码错误")
    message.refresh_from_db()
    assert resend.refusal(message) == ""
    resent = resend.resend_message(message, actor=service, now=at(17, 10))
    assert resent.status == MStatus.SCHEDULED
    assert dispatch.send_due_messages(now=at(17, 11), gateway=gateway) == 1
    # Failed again, then the number opts out: no resend.
    other = rows(c, Trigger.COMPLAINT_REPLY).get()
    dispatch.claim(at(10, 1, day=30), 10)
    other.refresh_from_db()
    outbox.move(other.pk, frm=MStatus.SUBMITTING, to=MStatus.FAILED, claim=other.claimed_at, error="网关错误")
    OptedOutMobile.objects.create(mobile=MOBILE, opted_out_at=at(10, 5, day=30))
    other.refresh_from_db()
    assert resend.refusal(other) == "该号码已退订短信，不能补发"
    with pytest.raises(DomainError):
        resend.resend_message(other, actor=service, now=at(10, 6, day=30))
