"""The next-day reply (seed 001: 第二日对客户所需内容以短信方式回复) worded per complaint by its
owner while it waits: the queued outbox row is re-rendered in place (same key, same window),
never once it has been handed to the gateway, and sent exactly once with the new words."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from crm.care import dispatch
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import services
from crm.complaints.models import ComplaintEvent
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.lib.dates import CHINA_TZ
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway

from .conftest import REGISTERED_AT

pytestmark = pytest.mark.django_db
MStatus = OutboundMessage.Status
WORDS = "您反映的接待问题已由销售经理核实，明日将当面致歉并更换接待人员"
NEXT_MORNING = datetime(2026, 9, 30, 10, 5, tzinfo=CHINA_TZ)


@pytest.fixture(autouse=True)
def _locmem():
    locmem.reset()
    yield
    locmem.reset()


def reply_row(complaint):
    return OutboundMessage.objects.get(trigger=Trigger.COMPLAINT_REPLY, occasion=f"{complaint.number}:reply")


def test_the_owner_words_the_reply_and_it_goes_once_with_those_words(make_complaint, service):
    c = make_complaint()
    before = reply_row(c)
    services.reword_reply(c, actor=service, text=WORDS, now=REGISTERED_AT)
    after = reply_row(c)
    assert after.pk == before.pk  # the same row: same exactly-once key, same window
    assert (after.scheduled_at, after.window_ends_at) == (before.scheduled_at, before.window_ends_at)
    assert WORDS in after.text
    assert "已由专人跟进处理" not in after.text
    assert after.status == MStatus.SCHEDULED
    assert c.events.get(kind=ComplaintEvent.Kind.REPLY).note == f"次日回复短信改为：{WORDS}"
    gateway = LocmemGateway()
    dispatch.send_due_messages(now=NEXT_MORNING, gateway=gateway)
    sent = [m for m in locmem.outbox if WORDS in m.text]
    assert len(sent) == 1
    assert reply_row(c).status == MStatus.SENT
    # Once it has gone it can no longer be changed; nothing is sent again.
    with pytest.raises(DomainError, match="已发出或已取消"):
        services.reword_reply(c, actor=service, text="再改一次", now=NEXT_MORNING)
    dispatch.send_due_messages(now=NEXT_MORNING, gateway=gateway)
    assert len([m for m in locmem.outbox if WORDS in m.text]) == 1
    assert OutboundMessage.objects.filter(occasion=f"{c.number}:reply").count() == 1
    assert not c.events.filter(kind=ComplaintEvent.Kind.REPLY, note__contains="再改一次").exists()


def test_a_claimed_reply_is_not_rewritten(make_complaint, service):
    c = make_complaint()
    row = reply_row(c)
    OutboundMessage.objects.filter(pk=row.pk).update(status=MStatus.SUBMITTING, claimed_at=NEXT_MORNING)
    with pytest.raises(DomainError, match="已发出或已取消"):
        services.reword_reply(c, actor=service, text=WORDS, now=NEXT_MORNING)
    assert WORDS not in reply_row(c).text


def test_only_the_owner_or_the_director_words_it_and_within_80_characters(make_complaint, duty, director, service):
    c = make_complaint()
    with pytest.raises(NotAllowed):
        services.reword_reply(c, actor=duty, text=WORDS, now=REGISTERED_AT)
    with pytest.raises(DomainError, match="80"):
        services.reword_reply(c, actor=service, text="很" * 81, now=REGISTERED_AT)
    with pytest.raises(DomainError, match="请填写回复内容"):
        services.reword_reply(c, actor=service, text="  ", now=REGISTERED_AT)
    services.reword_reply(c, actor=director, text=WORDS, now=REGISTERED_AT)
    assert WORDS in reply_row(c).text


def test_links_and_brackets_typed_into_the_reply_are_cleaned(make_complaint, service):
    c = make_complaint()
    services.reword_reply(c, actor=service, text="【通知】详见 http://evil.example/x 谢谢", now=REGISTERED_AT)
    text = reply_row(c).text
    assert "evil.example" not in text
    assert "【通知】" not in text


def test_the_reply_form_on_the_detail_page(client, make_complaint, service):
    c = make_complaint()
    client.force_login(service)
    page = client.get(reverse("complaints:detail", args=[c.pk])).content.decode()
    assert "修改次日回复短信" in page
    url = reverse("complaints:reply", args=[c.pk])
    response = client.post(url, {"text": "很" * 81})
    assert response.status_code == 400
    assert "回复内容不能超过 80 个字" in response.content.decode()
    assert client.post(url, {"text": WORDS}).status_code == 302
    assert WORDS in reply_row(c).text
    OutboundMessage.objects.filter(pk=reply_row(c).pk).update(status=MStatus.SENT)
    assert "修改次日回复短信" not in client.get(reverse("complaints:detail", args=[c.pk])).content.decode()
