"""What care staff see and do on the pages: today's counts on the workbench (each equal to
its list), held and failed messages with their reason and what to fix, 补发 one by one or
ticked in bulk, the occasion in business words, the menu of every role that sees customers,
and the broadcast composer that keeps what was typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.care import services
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.core.models import AuditLog
from crm.customers.models import Deal
from crm.projects.models import Project

Status = OutboundMessage.Status
OUTBOX = reverse("care:outbox")
BULK = reverse("care:outbox_resend")


def queue(customer, trigger=Trigger.BIRTHDAY, *, status=Status.SCHEDULED, when=None, occasion=None, error=""):
    """One outbox row for ``customer`` planned at ``when`` (default: an hour from now)."""
    rule = services.rule_for(customer.project_id, trigger)
    when = when or timezone.now() + timedelta(hours=1)
    return OutboundMessage.objects.create(
        customer=customer,
        project_id=customer.project_id,
        rule=rule,
        trigger=trigger,
        occasion=occasion or f"{timezone.localtime(when).date().isoformat()}",
        purpose=rule.purpose,
        text=services.preview(rule),
        status=status,
        error=error,
        scheduled_at=when,
        window_ends_at=when + timedelta(minutes=30),
        next_attempt_at=when,
    )


@pytest.fixture
def service_b(make_staff, project_b):
    """客服专员 of the other project: may resend, but not project A's customers' messages."""
    return make_staff("service-b", Role.SERVICE, projects=(project_b,), display_name="钱客服")


@pytest.fixture
def manager(make_staff):
    return make_staff("manager", Role.MANAGEMENT, display_name="孙总")


def reachable(make_customer, name):
    return make_customer(name, consent_care=True)


# ---------------------------------------------------------------- the workbench


def test_todays_counts_each_equal_the_list_they_link_to(login, director, make_customer):
    now = timezone.now()
    today_rows = {
        Status.SCHEDULED: 2,
        Status.SUBMITTING: 1,
        Status.SENT: 1,
        Status.DELIVERED: 2,
        Status.FAILED: 1,
        Status.UNDELIVERED: 1,
        Status.EXPIRED: 3,
        Status.HELD: 2,
        Status.CANCELLED: 1,
    }
    n = 0
    for status, count in today_rows.items():
        for _ in range(count):
            n += 1
            queue(make_customer(f"今日{n}"), status=status, when=now)
    queue(make_customer("昨天失败"), status=Status.FAILED, when=now - timedelta(days=1))
    queue(make_customer("六天前暂缓"), status=Status.HELD, when=now - timedelta(days=6))
    queue(make_customer("八天前过期"), status=Status.EXPIRED, when=now - timedelta(days=8))
    queue(make_customer("明天"), when=now + timedelta(days=1))

    client = login(director)
    response = client.get("/")
    stats = {s.key: s for s in response.context["card"]["care"].stats}
    assert {k: s.value for k, s in stats.items()} == {
        "outbox_planned": 3,
        "outbox_sent": 3,
        "outbox_failed": 2,
        "outbox_expired": 3,
        "outbox_held": 2,
        "outbox_attention": 8,  # today's failed 1 + expired 3 + held 2, yesterday's and six days ago
    }
    for stat in stats.values():
        assert client.get(stat.url).context["page"].paginator.count == stat.value, stat.label
    body = response.content.decode()
    for label in ("今日待发", "今日已发", "今日发送失败", "今日过期未发", "今日暂缓发送", "近7天待补发或处理"):
        assert label in body


def test_the_counts_are_of_the_users_customers_only(login, service_b, make_customer, outsider, project_b):
    now = timezone.now()
    queue(make_customer("甲项目"), status=Status.EXPIRED, when=now)
    queue(make_customer("乙项目", owner=outsider, project=project_b), status=Status.EXPIRED, when=now)
    stats = {s.key: s.value for s in login(service_b).get("/").context["card"]["care"].stats}
    assert stats["outbox_expired"] == 1


# ---------------------------------------------------------------- the outbox list


def test_the_list_shows_why_a_message_did_not_go_and_what_to_do(login, service, make_customer):
    held = queue(make_customer("待电话"), Trigger.MOVE_IN, status=Status.HELD, error="楼盘未设置客服电话，暂缓发送")
    queue(make_customer("已过期"), status=Status.EXPIRED, error="已过发送时段")
    queue(make_customer("待发"))
    response = login(service).get(OUTBOX)
    body = response.content.decode()
    assert "楼盘未设置客服电话，暂缓发送" in body
    assert "待填写：客服电话、物业电话，填好后补发" in body
    assert "可以补发" in body
    items = {item["message"].customer.name: item for item in response.context["items"]}
    assert items["待电话"]["resendable"]
    assert items["已过期"]["resendable"]
    assert not items["待发"]["resendable"]
    assert f'name="ids" value="{held.pk}"' in body
    assert body.count('name="ids"') == 2
    assert "补发所选" in body


def test_a_consultant_sees_the_reasons_but_no_resend(login, consultant, customer):
    queue(customer, status=Status.EXPIRED, error="已过发送时段")
    body = login(consultant).get(OUTBOX).content.decode()
    assert "已过发送时段" in body
    assert "可请客服人员补发" in body
    assert "可以补发" not in body
    assert 'name="ids"' not in body
    assert "补发所选" not in body


def test_ticked_messages_are_resent_and_the_others_named(login, service, make_customer, outsider, project_b):
    expired = queue(reachable(make_customer, "过期甲"), status=Status.EXPIRED, error="已过发送时段")
    failed = queue(reachable(make_customer, "失败乙"), status=Status.FAILED, error="号码格式错误")
    opted = queue(reachable(make_customer, "退订丙"), status=Status.EXPIRED)
    services.opt_out(opted.customer, actor=service, source="客户来电要求")
    theirs = queue(make_customer("外组", owner=outsider, project=project_b, consent_care=True), status=Status.EXPIRED)
    back = f"{OUTBOX}?status=attention"
    response = login(service).post(
        BULK, {"ids": [expired.pk, failed.pk, opted.pk, theirs.pk], "next": back}, follow=True
    )
    assert response.redirect_chain[-1][0] == back
    statuses = dict(OutboundMessage.objects.values_list("pk", "status"))
    assert statuses[expired.pk] == statuses[failed.pk] == Status.SCHEDULED
    assert statuses[opted.pk] == Status.EXPIRED
    assert statuses[theirs.pk] == Status.EXPIRED  # another project's customer: not even named
    body = response.content.decode()
    assert "已补发 2 条短信" in body
    assert "退订丙（生日祝福）：客户已退订，不能补发" in body
    assert "外组" not in body
    assert AuditLog.objects.filter(target_type="care.outboundmessage").count() == 2


def test_bulk_resend_needs_the_permission(login, consultant, customer):
    message = queue(customer, status=Status.EXPIRED)
    assert login(consultant).post(BULK, {"ids": [message.pk]}).status_code == 403
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.EXPIRED


# ---------------------------------------------------------------- one message


def test_the_message_page_names_the_occasion_and_the_channel_in_business_words(login, service, owner, consultant):
    deal = Deal.objects.get(customer=owner)
    message = queue(owner, Trigger.FULL_PAYMENT, status=Status.SENT, occasion=f"deal:{deal.pk}")
    OutboundMessage.objects.filter(pk=message.pk).update(gateway="console")
    body = login(service).get(reverse("care:message", args=[message.pk])).content.decode()
    assert "成交 锦华苑 1号楼-1801 · 全款到账" in body
    assert "本机测试通道（未真实发出）" in body
    assert f"deal:{deal.pk}" not in body
    assert "console" not in body


def test_a_held_message_is_resent_from_its_page_once_fixed(login, service, owner):
    message = queue(owner, Trigger.MOVE_IN, status=Status.HELD, error="楼盘未设置客服电话、物业电话，暂缓发送")
    url = reverse("care:message", args=[message.pk])
    client = login(service)
    body = client.get(url).content.decode()
    assert "楼盘未设置客服电话、物业电话，暂缓发送" in body
    assert "请先填写楼盘设置中的“客服电话”、楼盘设置中的“物业电话”" in body
    assert "补发这条短信" in body

    response = client.post(reverse("care:message_resend", args=[message.pk]), follow=True)
    assert "短信中还有未填写的内容：{客服电话}、{物业电话}" in response.content.decode()
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.HELD

    Project.objects.filter(pk=message.project_id).update(service_phone="0371-1111", property_phone="0371-2222")
    response = client.post(reverse("care:message_resend", args=[message.pk]), follow=True)
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED
    assert "（0371-1111）" in message.text
    body = response.content.decode()
    assert "已补发：发给 林业主 的入住祝贺短信将于" in body
    assert "补发短信 入住祝贺（原状态：暂缓发送（待处理））" in body  # the page's 处理记录


def test_a_message_of_unknown_outcome_is_resent_only_when_checked(login, service, owner):
    message = queue(owner, status=Status.FAILED, error="无法确认是否已发出（网关未返回回执），未自动重发，请人工核对")
    client = login(service)
    body = client.get(reverse("care:message", args=[message.pk])).content.decode()
    assert 'name="confirmed"' in body
    url = reverse("care:message_resend", args=[message.pk])
    assert "发送结果不明" in client.post(url, follow=True).content.decode()
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.FAILED
    client.post(url, {"confirmed": "on"})
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.SCHEDULED


def test_resending_another_projects_message_is_404(login, service_b, owner):
    message = queue(owner, status=Status.EXPIRED)
    assert login(service_b).post(reverse("care:message_resend", args=[message.pk])).status_code == 404
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.EXPIRED


def test_a_consultant_sees_their_customers_failed_message_but_cannot_resend(login, consultant, owner):
    message = queue(owner, status=Status.FAILED, error="号码格式错误")
    client = login(consultant)
    body = client.get(reverse("care:message", args=[message.pk])).content.decode()
    assert "号码格式错误" in body
    assert "补发这条短信" not in body
    assert client.post(reverse("care:message_resend", args=[message.pk])).status_code == 403


# ---------------------------------------------------------------- the menu


@pytest.mark.parametrize("persona", ["consultant", "leader", "manager", "supervisor"])
def test_every_role_that_sees_customers_finds_the_outbox_and_opt_outs(request, login, persona):
    client = login(request.getfixturevalue(persona))
    menu = {item["label"]: item["url"] for item in client.get("/").context["menu"]}
    assert menu["温馨速递"] == reverse("care:home")
    response = client.get(reverse("care:home"), follow=True)
    assert response.redirect_chain[-1][0] == OUTBOX
    tabs = [t["label"] for t in response.context["tabs"]]
    assert tabs[0] == "发件箱"
    assert "退订管理" in tabs
    assert client.get(reverse("care:optouts")).status_code == 200


def test_a_consultant_sees_only_their_own_customers_messages(login, consultant, teammate, make_customer):
    mine = queue(make_customer("我的客户"))
    queue(make_customer("同组客户", owner=teammate))
    assert [m.pk for m in login(consultant).get(OUTBOX).context["page"]] == [mine.pk]


# ---------------------------------------------------------------- business words


def test_no_developer_words_on_the_care_pages(login, admin_user, owner, project):
    deal = Deal.objects.get(customer=owner)
    message = queue(owner, Trigger.FILING, status=Status.SENT, occasion=f"deal:{deal.pk}")
    OutboundMessage.objects.filter(pk=message.pk).update(gateway="console")
    client = login(admin_user)
    rule = services.rule_for(project.pk, Trigger.ANNIVERSARY)
    pages = [
        OUTBOX,
        reverse("care:message", args=[message.pk]),
        reverse("care:rules"),
        reverse("care:rule_edit", args=[rule.pk]),
        reverse("care:broadcast"),
        reverse("care:approvals"),
        reverse("care:optouts"),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        for word in ("seed", "种子", "console", "deal:"):
            assert word not in body, (url, word)


# ---------------------------------------------------------------- the broadcast composer


def test_changing_the_type_shows_no_errors_and_keeps_what_was_typed(login, service, project):
    client = login(service)
    typed = {"project": project.pk, "trigger": Trigger.SHOW_FLAT_OPEN, "val_户型": "A1", "val_面积": ""}
    response = client.get(reverse("care:broadcast"), typed, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "errorlist" not in body
    assert 'value="A1"' in body

    response = client.get(reverse("care:broadcast"), {**typed, "trigger": Trigger.EVENT}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert [f.name for f in response.context["form"].value_fields] == ["val_活动", "val_时间"]
    assert "errorlist" not in body
    assert '<input type="hidden" name="val_户型" value="A1">' in body  # rides along for the way back

    back = {**typed, "trigger": Trigger.SHOW_FLAT_CLOSE, "val_活动": "业主中秋游园会"}
    body = client.get(reverse("care:broadcast"), back, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="val_户型"' in body
    assert 'value="A1"' in body
    assert '<input type="hidden" name="val_活动" value="业主中秋游园会">' in body


def test_the_composer_opens_without_errors_and_validates_on_submit(login, service, project):
    client = login(service)
    assert "errorlist" not in client.get(reverse("care:broadcast")).content.decode()
    response = client.post(reverse("care:broadcast"), {"project": project.pk, "trigger": Trigger.SHOW_FLAT_OPEN})
    assert response.context["form"].errors["val_户型"] == ["请填写户型"]
