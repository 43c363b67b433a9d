"""No unfilled or foreign text: a placeholder without a value holds the message with a
Chinese reason saying what to fix; names customers gave are cleaned before they enter one."""

from datetime import date

import pytest

from crm.care import dispatch, planning, rendering
from crm.care.models import CareRule, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.customers import services as customer_services
from crm.customers.models import MoveInKind
from crm.projects.models import Project
from crm.sms.backends import locmem
from crm.sms.backends.locmem import LocmemGateway

Status = OutboundMessage.Status
MOVED_IN = date(2026, 11, 9)
GREETED = date(2026, 11, 16)  # an individual move-in's 7th day


@pytest.fixture
def moved_in(make_customer, make_unit, consultant):
    customer = make_customer("入住业主", consent_care=True)
    deal = customer_services.create_deal(
        actor=consultant,
        customer=customer,
        unit=make_unit(),
        subscribed_on=date(2025, 3, 1),
        contracted_on=date(2025, 3, 5),
        delivered_on=date(2026, 11, 1),
    )
    customer_services.update_deal(deal, actor=consultant, moved_in_on=MOVED_IN, move_in_kind=MoveInKind.INDIVIDUAL)
    return customer


def greeting():
    [message] = OutboundMessage.objects.filter(trigger=Trigger.MOVE_IN)
    return message


class TestProjectPhones:
    def test_a_move_in_greeting_without_the_projects_phones_is_held_never_sent(self, moved_in):
        assert planning.plan_move_in_greetings(now=local(GREETED, 1)) == 1
        message = greeting()
        assert message.status == Status.HELD
        assert message.error == "楼盘「锦华苑」未设置客服电话、物业电话，请在楼盘设置中填写后补发"
        assert dispatch.send_due_messages(now=local(GREETED, 10, 5), gateway=LocmemGateway()) == 0
        assert dispatch.expire_overdue(now=local(GREETED, 12)) == 0
        assert greeting().status == Status.HELD
        assert locmem.outbox == []

    def test_the_two_phones_are_separate_settings(self, moved_in, project):
        Project.objects.filter(pk=project.pk).update(
            sales_phone="0371-11111111", service_phone="0371-69721888", property_phone="0371-69725555"
        )
        planning.plan_move_in_greetings(now=local(GREETED, 1))
        message = greeting()
        assert message.status == Status.SCHEDULED
        assert "客户关系中心（0371-69721888）或物业管理中心（0371-69725555）" in message.text
        assert "{" not in message.text
        assert message.params["客服电话"] == "0371-69721888"
        assert message.params["物业电话"] == "0371-69725555"

    def test_only_the_missing_phone_is_named(self, moved_in, project):
        Project.objects.filter(pk=project.pk).update(service_phone="0371-69721888")
        planning.plan_move_in_greetings(now=local(GREETED, 1))
        assert greeting().error == "楼盘「锦华苑」未设置物业电话，请在楼盘设置中填写后补发"

    def test_the_projects_settings_page_learns_what_holds_its_messages(self, moved_in, project):
        planning.plan_move_in_greetings(now=local(GREETED, 1))
        reasons = rendering.held_reasons_for_project(project)
        assert [(r.setting, r.held) for r in reasons] == [("客服电话", 1), ("物业电话", 1)]
        assert reasons[1].reason == "楼盘「锦华苑」未设置物业电话，入住祝贺短信会暂缓发送，请在楼盘设置中填写后补发"
        project.service_phone, project.property_phone = "0371-69721888", "0371-69725555"
        project.save()
        assert rendering.held_reasons_for_project(project) == []

    def test_a_disabled_rule_holds_nothing(self, project):
        CareRule.objects.filter(project=project).delete()
        from crm.care import services

        services.ensure_rules(project)
        CareRule.objects.filter(project=project, trigger=Trigger.MOVE_IN).update(is_enabled=False)
        assert rendering.held_reasons_for_project(project) == []

    def test_a_held_message_renders_complete_once_the_phones_are_set(self, moved_in, project):
        planning.plan_move_in_greetings(now=local(GREETED, 1))
        Project.objects.filter(pk=project.pk).update(service_phone="0371-69721888", property_phone="0371-69725555")
        again = rendering.render_message(greeting())
        assert not again.is_held
        assert "（0371-69721888）" in again.text
        assert "（0371-69725555）" in again.text
        assert again.text.endswith("拒收请回复R")


class TestCustomerValues:
    def test_a_phishing_family_name_does_not_reach_the_sms_as_is(self, owner, consultant):
        customer_services.add_family_member(
            owner,
            actor=consultant,
            relation="other",
            name="】【工商银行】您的账户异常，请登录 http://x.cn 验证【",
            birthday_on=date(1982, 3, 8),
            consent_care=True,
        )
        planning.plan_birthdays(now=local(date(2027, 3, 8), 1))
        [message] = OutboundMessage.objects.filter(trigger=Trigger.FAMILY_BIRTHDAY)
        assert message.status == Status.SCHEDULED
        assert "【" not in message.text
        assert "】" not in message.text
        assert "http" not in message.text
        assert "x.cn" not in message.text
        assert "您的家人工商银行您的账户异常" in message.text
        assert "请登录" not in message.text  # capped at 12 characters
        assert "【" not in message.params["家人"]

    def test_a_name_that_was_nothing_but_a_link_holds_the_message(self, owner, consultant):
        customer_services.add_family_member(
            owner,
            actor=consultant,
            relation="spouse",
            name="http://x.cn",
            birthday_on=date(2010, 3, 8),
            consent_care=True,
        )
        planning.plan_birthdays(now=local(date(2027, 3, 8), 1))
        [message] = OutboundMessage.objects.filter(trigger=Trigger.FAMILY_BIRTHDAY)
        assert message.status == Status.HELD
        assert message.error == "家庭成员姓名为空或只含链接、【】等不能发送的字符，请在客户资料中修改后补发"

    def test_a_template_naming_the_customer_gets_the_cleaned_name(self, owner, project):
        owner.name = "林【VIP】业主"
        owner.save(update_fields=["name"])
        planning.plan_birthdays(now=local(date(2026, 11, 22), 1))  # creates the project's rules
        CareRule.objects.filter(project=project, trigger=Trigger.BIRTHDAY).update(
            template="温馨速递 {客户}您好！祝您生日快乐。{公司}敬上。"
        )
        planning.plan_birthdays(now=local(date(2026, 11, 23), 1))
        [message] = OutboundMessage.objects.filter(trigger=Trigger.BIRTHDAY)
        assert message.text.startswith("温馨速递 林VIP业主您好！")


def test_a_blank_unit_layout_holds_the_reminder_with_what_to_fix(make_customer, make_unit, consultant, project):
    customer = make_customer("认购客户", consent_notification=True)
    customer_services.create_deal(actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 1, 5))
    planning.plan_signing_reminders(now=local(date(2026, 1, 9), 1))  # creates the project's rules
    CareRule.objects.filter(project=project, trigger=Trigger.SIGNING_REMINDER).update(
        template="温馨速递 您认购的{户型}请于{签约日期}前签约。{公司}敬上。"
    )
    planning.plan_signing_reminders(now=local(date(2026, 1, 10), 1))
    [message] = OutboundMessage.objects.filter(trigger=Trigger.SIGNING_REMINDER)
    assert message.status == Status.HELD
    assert message.error == "房源未填写户型，请在房源资料中填写后补发"
    assert "2026年1月12日" in message.text


def test_the_project_settings_page_says_which_blank_phone_holds_messages(login, admin_user, project):
    from django.urls import reverse

    from crm.care import services as care_services
    from crm.projects.models import Project

    care_services.ensure_rules(project)
    Project.objects.filter(pk=project.pk).update(service_phone="", property_phone="")
    url = reverse("admin:projects_project_change", args=[project.pk])
    body = login(admin_user).get(url).content.decode()
    assert "温馨速递待处理" in body
    assert "未设置物业电话" in body
    Project.objects.filter(pk=project.pk).update(service_phone="0371-1111", property_phone="0371-2222")
    body = login(admin_user).get(url).content.decode()
    assert "短信所需的楼盘设置均已填写" in body
