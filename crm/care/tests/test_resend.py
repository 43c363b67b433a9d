"""补发: a failed, expired or held message goes again — the same row in a fresh window,
once, audited, and only when nothing would stop it at send time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm.accounts.roles import Role
from crm.care import dispatch, planning, resend, services
from crm.care.models import CareRule, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.core.errors import DomainError, PermissionDenied
from crm.core.models import AuditLog
from crm.customers import services as customer_services
from crm.projects.models import Project
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.base import Outcome

Status = OutboundMessage.Status
BIRTHDAY = date(2026, 11, 23)
NEXT_DAY = BIRTHDAY + timedelta(days=1)


@pytest.fixture
def birthday(owner):
    """The owner's birthday greeting as planning writes it: 10:00–10:30 on the day."""
    planning.plan_birthdays(now=local(BIRTHDAY, 1))
    return OutboundMessage.objects.get(trigger=Trigger.BIRTHDAY)


def set_status(message, status, **fields):
    OutboundMessage.objects.filter(pk=message.pk).update(status=status, **fields)
    message.refresh_from_db()
    return message


@pytest.fixture
def expired(birthday):
    # A rule without catch-up: the greeting expires when its window closes unsent.
    CareRule.objects.filter(pk=birthday.rule_id).update(catch_up_days=0)
    dispatch.expire_overdue(now=local(BIRTHDAY, 11, 28))
    birthday.refresh_from_db()
    assert birthday.status == Status.EXPIRED
    return birthday


# ---------------------------------------------------------------- the new window


def test_an_expired_message_goes_again_in_the_rest_of_todays_window(expired, service):
    message = resend.resend_message(expired, actor=service, now=local(NEXT_DAY, 10, 12))
    assert message.status == Status.SCHEDULED
    assert (message.scheduled_at, message.next_attempt_at) == (local(NEXT_DAY, 10, 12), local(NEXT_DAY, 10, 12))
    assert message.window_ends_at == local(NEXT_DAY, 10, 30)
    assert (message.attempts, message.error, message.claimed_at) == (0, "", None)


@pytest.mark.parametrize(
    ("hour", "minute", "starts"),
    [
        (8, 0, local(BIRTHDAY, 10, 0)),  # before today's window: wait for it
        (10, 26, local(NEXT_DAY, 10, 0)),  # four minutes left: too short, tomorrow's
        (11, 28, local(NEXT_DAY, 10, 0)),  # after today's window: tomorrow's
    ],
)
def test_the_new_window_is_todays_when_enough_is_left_else_tomorrows(expired, service, hour, minute, starts):
    set_status(expired, Status.EXPIRED, scheduled_at=local(BIRTHDAY - timedelta(days=1), 10))
    message = resend.resend_message(expired, actor=service, now=local(BIRTHDAY, hour, minute))
    assert message.scheduled_at == starts
    assert message.window_ends_at == starts.replace(minute=30)


def test_the_same_row_goes_again_so_the_occasion_is_sent_once(expired, service, director):
    resend.resend_message(expired, actor=service, now=local(NEXT_DAY, 10, 5))
    with pytest.raises(DomainError, match="只有发送失败、过期未发或暂缓发送的短信可以补发"):
        resend.resend_message(expired, actor=director, now=local(NEXT_DAY, 10, 6))
    gateway = LocmemGateway()
    assert dispatch.send_due_messages(now=local(NEXT_DAY, 10, 7), gateway=gateway) == 1
    assert dispatch.send_due_messages(now=local(NEXT_DAY, 10, 8), gateway=gateway) == 0
    assert OutboundMessage.objects.count() == 1
    assert [m.reference for m in locmem.outbox] == [str(expired.pk)]
    expired.refresh_from_db()
    assert expired.status == Status.SENT


def test_a_message_the_gateway_refused_is_sent_after_the_resend(birthday, service):
    gateway = LocmemGateway()
    locmem.script(Outcome.FAILED)
    dispatch.send_due_messages(now=local(BIRTHDAY, 10, 1), gateway=gateway)
    birthday.refresh_from_db()
    assert birthday.status == Status.FAILED
    assert locmem.outbox == []

    resend.resend_message(birthday, actor=service, now=local(BIRTHDAY, 10, 10))
    assert dispatch.send_due_messages(now=local(BIRTHDAY, 10, 11), gateway=gateway) == 1
    birthday.refresh_from_db()
    assert birthday.status == Status.SENT
    assert len(locmem.outbox) == 1
    assert len(locmem.calls) == 2  # the refused attempt and the resend


def test_a_resend_is_audited_with_what_it_was_before(expired, service):
    resend.resend_message(expired, actor=service, now=local(NEXT_DAY, 10, 5))
    log = AuditLog.objects.get(target_type="care.outboundmessage", target_id=str(expired.pk))
    assert log.actor == service
    assert log.customer_id == expired.customer_id
    assert "补发短信 生日祝福（原状态：已过期未发）" in log.summary
    assert log.changes["status"] == ["expired", "scheduled"]
    assert log.reason == f"补发前：{expired.error}"


# ---------------------------------------------------------------- what cannot be resent


@pytest.mark.parametrize(
    "status", [Status.SCHEDULED, Status.SUBMITTING, Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.CANCELLED]
)
def test_only_failed_expired_and_held_messages_can_be_resent(birthday, service, status):
    set_status(birthday, status)
    with pytest.raises(DomainError, match="只有发送失败、过期未发或暂缓发送的短信可以补发"):
        resend.resend_message(birthday, actor=service, now=local(BIRTHDAY, 10, 5))
    assert OutboundMessage.objects.get(pk=birthday.pk).status == status
    assert not AuditLog.objects.filter(target_type="care.outboundmessage").exists()


def test_an_opted_out_customer_is_not_resent(expired, service):
    services.opt_out(expired.customer, actor=service, source="客户来电要求")
    with pytest.raises(DomainError, match="客户已退订，不能补发"):
        resend.resend_message(expired, actor=service, now=local(NEXT_DAY, 10, 5))
    assert OutboundMessage.objects.get(pk=expired.pk).status == Status.EXPIRED


def test_a_customer_who_withdrew_consent_is_not_resent(expired, service):
    customer_services.set_consent(expired.customer, actor=service, purpose="care", granted=False)
    with pytest.raises(DomainError, match="客户未同意接收关怀问候短信"):
        resend.resend_message(expired, actor=service, now=local(NEXT_DAY, 10, 5))


def test_a_switched_off_rule_is_not_resent(expired, service, admin_user):
    services.update_rule(expired.rule, actor=admin_user, is_enabled=False)
    with pytest.raises(DomainError, match="“生日祝福”短信已停用"):
        resend.resend_message(expired, actor=service, now=local(NEXT_DAY, 10, 5))


def test_a_message_of_unknown_outcome_needs_the_users_check(birthday, service):
    set_status(birthday, Status.FAILED, error="无法确认是否已发出（网关未返回回执），未自动重发，请人工核对")
    assert "请先核实" in resend.fix_hint(birthday)
    with pytest.raises(DomainError, match="发送结果不明"):
        resend.resend_message(birthday, actor=service, now=local(BIRTHDAY, 10, 5))
    message = resend.resend_message(birthday, actor=service, now=local(BIRTHDAY, 10, 5), confirmed=True)
    assert message.status == Status.SCHEDULED


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.APPROVER, Role.SUPERVISOR, Role.MANAGEMENT, Role.DUTY])
def test_only_care_staff_may_resend(expired, make_staff, project, role):
    user = make_staff(f"no-resend-{role}", role, projects=(project,))
    assert not resend.may_resend(user)
    with pytest.raises(PermissionDenied):
        resend.resend_message(expired, actor=user, now=local(NEXT_DAY, 10, 5))
    assert OutboundMessage.objects.get(pk=expired.pk).status == Status.EXPIRED


def test_service_staff_the_director_and_administrators_may_resend(service, director, admin_user):
    assert all(resend.may_resend(user) for user in (service, director, admin_user))


def test_the_status_write_is_a_compare_and_set_on_the_status_read(expired):
    stale = OutboundMessage.objects.get(pk=expired.pk)
    set_status(expired, Status.SCHEDULED)  # someone else resent it meanwhile
    assert resend._move(stale, Status.SCHEDULED, now=local(NEXT_DAY, 10)) is False
    assert resend._move(expired, Status.CANCELLED, now=local(NEXT_DAY, 10)) is True


# ---------------------------------------------------------------- held messages


def set_phones(project_id, service_phone, property_phone):
    """The project's 客服电话 and 物业电话 settings."""
    Project.objects.filter(pk=project_id).update(service_phone=service_phone, property_phone=property_phone)


@pytest.fixture
def held_greeting(owner):
    """A move-in greeting held because the project has no 客服电话 and 物业电话 yet."""
    rule = services.rule_for(owner.project_id, Trigger.MOVE_IN)
    text = services.preview(rule)
    assert "{客服电话}" in text
    set_phones(owner.project_id, "", "")
    return OutboundMessage.objects.create(
        customer=owner,
        project_id=owner.project_id,
        rule=rule,
        trigger=Trigger.MOVE_IN,
        occasion="deal:1",
        purpose=rule.purpose,
        text=text,
        status=Status.HELD,
        error="楼盘未设置客服电话、物业电话，暂缓发送",
        scheduled_at=local(BIRTHDAY, 10),
        window_ends_at=local(BIRTHDAY, 11),
        next_attempt_at=local(BIRTHDAY, 10),
    )


def test_a_held_message_says_what_to_fix_and_stays_held_until_it_is(held_greeting, service):
    hint = resend.fix_hint(held_greeting)
    assert "楼盘设置中的“客服电话”、楼盘设置中的“物业电话”" in hint
    with pytest.raises(DomainError, match=r"短信中还有未填写的内容：\{客服电话\}、\{物业电话\}"):
        resend.resend_message(held_greeting, actor=service, now=local(BIRTHDAY, 10, 5))
    assert OutboundMessage.objects.get(pk=held_greeting.pk).status == Status.HELD


def test_a_held_message_goes_with_the_phones_once_they_are_set(held_greeting, service):
    set_phones(held_greeting.project_id, "0371-6000 1234", "0371-6000 5678")
    message = resend.resend_message(held_greeting, actor=service, now=local(BIRTHDAY, 10, 5))
    assert message.status == Status.SCHEDULED
    assert "客户关系中心（0371-6000 1234）或物业管理中心（0371-6000 5678）" in message.text
    assert "{" not in message.text
    assert message.params["客服电话"] == "0371-6000 1234"
    log = AuditLog.objects.get(target_type="care.outboundmessage", target_id=str(message.pk))
    assert log.changes["text"][1] == message.text


# ---------------------------------------------------------------- bulk


def test_a_bulk_resend_sends_what_it_can_and_names_the_rest(expired, make_customer, service):
    other = make_customer("赵六", consent_care=True)
    refused = OutboundMessage.objects.create(
        customer=other,
        project_id=other.project_id,
        rule=expired.rule,
        trigger=Trigger.BIRTHDAY,
        occasion=BIRTHDAY.isoformat(),
        purpose=expired.purpose,
        text=expired.text,
        status=Status.DELIVERED,
        scheduled_at=local(BIRTHDAY, 10),
        window_ends_at=local(BIRTHDAY, 10, 30),
        next_attempt_at=local(BIRTHDAY, 10),
    )
    result = resend.resend_messages([expired, refused], actor=service, now=local(NEXT_DAY, 10, 5))
    assert [m.pk for m in result.resent] == [expired.pk]
    assert [(m.pk, "已送达" in why) for m, why in result.refused] == [(refused.pk, True)]
    assert OutboundMessage.objects.get(pk=refused.pk).status == Status.DELIVERED
