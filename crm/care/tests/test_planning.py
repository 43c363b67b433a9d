"""Planning on real dates: birthdays (solar and lunar), subscriptions around weekends and
National Day, signing reminders, move-in, festival and construction drafts."""

from datetime import date

import pytest

from crm.care import planning, services
from crm.care.models import Draft, MoveInBatch, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.core.models import CalendarDay, CalendarYear
from crm.customers import services as customer_services
from crm.customers.models import Stage


def planned(trigger):
    return list(OutboundMessage.objects.filter(trigger=trigger).order_by("id"))


class TestBirthdays:
    def test_an_owners_birthday_is_planned_in_its_window_once(self, owner):
        assert planning.plan_birthdays(now=local(date(2026, 11, 23), 1)) == 1
        assert planning.plan_birthdays(now=local(date(2026, 11, 23), 9)) == 0
        [message] = planned(Trigger.BIRTHDAY)
        assert message.customer == owner
        assert message.scheduled_at == local(date(2026, 11, 23), 10)
        assert message.window_ends_at == local(date(2026, 11, 23), 10, 30)
        assert message.text.startswith("温馨速递 亲爱的客户您好！祝您生日快乐")
        assert "测试置业敬上" in message.text
        assert message.text.endswith("拒收请回复R")

    def test_prospects_and_customers_without_care_consent_get_nothing(self, make_customer, owner):
        make_customer("潜在", birthday_on=date(1990, 11, 23), consent_care=True)
        owner.consent_care = False
        owner.save()
        assert planning.plan_birthdays(now=local(date(2026, 11, 23))) == 0

    def test_a_lunar_birthday_moves_with_the_lunar_calendar(self, owner):
        # Born 1980-09-23 = 八月十五: 2026-09-25 and 2027-09-15 (no work calendar needed).
        customer_services.update_customer(
            owner, actor=owner.owner, birthday_on=date(1980, 9, 23), birthday_is_lunar=True
        )
        assert planning.plan_birthdays(now=local(date(2026, 9, 23))) == 0
        assert planning.plan_birthdays(now=local(date(2026, 9, 25))) == 1
        assert planning.plan_birthdays(now=local(date(2027, 9, 15))) == 1
        assert [m.occasion for m in planned(Trigger.BIRTHDAY)] == ["2026-09-25", "2027-09-15"]

    def test_a_family_members_birthday_needs_their_consent(self, owner, consultant):
        customer_services.add_family_member(
            owner, actor=consultant, relation="spouse", name="林太太", birthday_on=date(1982, 3, 8), consent_care=True
        )
        customer_services.add_family_member(
            owner, actor=consultant, relation="parent", name="林父", birthday_on=date(1950, 3, 8)
        )
        assert planning.plan_birthdays(now=local(date(2027, 3, 8))) == 1
        [message] = planned(Trigger.FAMILY_BIRTHDAY)
        assert "林太太" in message.text


class TestSubscriptions:
    @pytest.fixture
    def subscribe(self, make_customer, make_unit, consultant):
        def do(on, **kw):
            customer = make_customer("认购客户", consent_care=True, **kw)
            return customer_services.create_deal(
                actor=consultant, customer=customer, unit=make_unit(), subscribed_on=on
            )

        return do

    def test_a_friday_subscription_is_congratulated_on_monday(self, subscribe):
        deal = subscribe(date(2026, 11, 20))
        assert planning.plan_subscription_congratulations(now=local(date(2026, 11, 21), 9)) == 0  # Saturday
        assert planning.plan_subscription_congratulations(now=local(date(2026, 11, 23), 9)) == 1
        [message] = planned(Trigger.SUBSCRIPTION)
        assert message.occasion == f"deal:{deal.pk}"
        assert message.scheduled_at == local(date(2026, 11, 23), 10)
        assert "恭喜您成功认购锦华苑" in message.text

    def test_a_subscription_on_the_eve_of_national_day_waits_for_the_first_working_day(self, subscribe, settings):
        subscribe(date(2026, 9, 30))
        for day in range(1, 8):
            assert planning.plan_subscription_congratulations(now=local(date(2026, 10, day), 9)) == 0
        assert planning.plan_subscription_congratulations(now=local(date(2026, 10, 8), 9)) == 1

    def test_a_signing_reminder_goes_on_day_five_only_while_unsigned(self, subscribe, consultant):
        unsigned = subscribe(date(2026, 11, 18))
        signed = subscribe(date(2026, 11, 18))
        customer_services.update_deal(signed, actor=consultant, contracted_on=date(2026, 11, 22))  # day 4
        assert planning.plan_signing_reminders(now=local(date(2026, 11, 22))) == 0
        assert planning.plan_signing_reminders(now=local(date(2026, 11, 23))) == 1
        [message] = planned(Trigger.SIGNING_REMINDER)
        assert message.customer_id == unsigned.customer_id
        assert message.scheduled_at == local(date(2026, 11, 23), 16)
        assert "您应于2026年11月25日办理房屋签约手续" in message.text
        assert not message.text.endswith("拒收请回复R")  # a notification, not promotion


class TestMoveIn:
    def test_batch_move_in_waits_for_the_batch_to_end_and_individual_for_seven_days(
        self, make_customer, make_unit, consultant, project
    ):
        def owner_moving_in(on, kind):
            c = make_customer("入住客户", consent_care=True)
            deal = customer_services.create_deal(
                actor=consultant,
                customer=c,
                unit=make_unit(),
                subscribed_on=date(2025, 3, 1),
                contracted_on=date(2025, 3, 5),
                delivered_on=date(2026, 10, 20),
            )
            customer_services.update_deal(deal, actor=consultant, moved_in_on=on, move_in_kind=kind)
            return c

        batch_owner = owner_moving_in(date(2026, 11, 2), "batch")
        single_owner = owner_moving_in(date(2026, 11, 9), "individual")
        MoveInBatch.objects.create(
            project=project, name="一期集中交付", starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 15)
        )
        assert planning.plan_move_in_greetings(now=local(date(2026, 11, 16))) == 1  # the individual's 7th day
        assert planning.plan_move_in_greetings(now=local(date(2026, 11, 18))) == 1  # batch end + 3
        assert [m.customer for m in planned(Trigger.MOVE_IN)] == [single_owner, batch_owner]


class TestDrafts:
    def test_mid_autumn_is_drafted_the_working_day_before_and_sends_only_once_approved(self, owner, approver):
        planning.draft_approval_messages(now=local(date(2026, 9, 23)))
        assert not Draft.objects.filter(rule__trigger=Trigger.MID_AUTUMN).exists()
        planning.draft_approval_messages(now=local(date(2026, 9, 24)))
        draft = Draft.objects.get(rule__trigger=Trigger.MID_AUTUMN)
        assert draft.send_on == date(2026, 9, 25)
        assert draft.status == Draft.Status.PENDING
        assert not OutboundMessage.objects.exists()
        assert services.approve_draft(draft, actor=approver, now=local(date(2026, 9, 24), 17)) == 1
        [message] = planned(Trigger.MID_AUTUMN)
        assert message.scheduled_at == local(date(2026, 9, 25), 10)

    def test_spring_festival_2027_needs_the_2027_calendar_and_goes_before_the_holiday(self, owner):
        assert planning.draft_approval_messages(now=local(date(2027, 2, 3))) == 0  # 2027 unknown: no guess
        CalendarYear.objects.create(year=2027)
        CalendarDay.objects.bulk_create(
            [CalendarDay(day=date(2027, 2, d), is_working_day=False, name="春节") for d in range(5, 13)]
        )
        # The company's holiday starts Fri 2027-02-05; the greeting goes Thu 02-04, drafted Wed 02-03.
        planning.draft_approval_messages(now=local(date(2027, 2, 3)))
        assert Draft.objects.get(rule__trigger=Trigger.SPRING_FESTIVAL).send_on == date(2027, 2, 4)

    def test_construction_progress_is_drafted_for_odd_week_thursdays(self, owner):
        assert planning.draft_approval_messages(now=local(date(2026, 11, 25))) == 0  # Thu 11-26 is ISO week 48
        assert planning.draft_approval_messages(now=local(date(2026, 12, 2))) == 1  # Thu 12-03 is week 49
        draft = Draft.objects.get(rule__trigger=Trigger.CONSTRUCTION)
        assert draft.send_on == date(2026, 12, 3)
        assert "{进度}" in draft.text

    def test_a_draft_with_a_blank_cannot_be_approved_and_a_rejected_one_never_sends(self, owner, approver):
        planning.draft_approval_messages(now=local(date(2026, 12, 2)))
        draft = Draft.objects.get()
        from crm.core.errors import DomainError

        with pytest.raises(DomainError, match="未填写"):
            services.approve_draft(draft, actor=approver, now=local(date(2026, 12, 2), 15))
        services.reject_draft(draft, actor=approver, comment="进度描述待工程部确认")
        assert Draft.objects.get().status == Draft.Status.REJECTED
        assert planning.draft_approval_messages(now=local(date(2026, 12, 2), 15)) == 0  # no second draft
        assert not OutboundMessage.objects.exists()

    def test_only_approvers_approve(self, owner, consultant):
        planning.draft_approval_messages(now=local(date(2026, 9, 24)))
        from crm.core.errors import DomainError

        with pytest.raises(DomainError, match="审批人"):
            services.approve_draft(
                Draft.objects.get(rule__trigger=Trigger.MID_AUTUMN), actor=consultant, now=local(date(2026, 9, 24), 15)
            )


def test_owners_who_are_prospects_in_another_project_are_still_owners(owner):
    assert owner.stage == Stage.OWNER


def test_an_unknown_work_calendar_stops_only_the_planners_that_need_it(owner, consultant, caplog):
    # 2027-01-04: subscription congratulations need the 2027 work calendar (not entered);
    # a birthday on that day is planned all the same.
    customer_services.update_customer(owner, actor=consultant, birthday_on=date(1980, 1, 4))
    assert planning.plan_today(now=local(date(2027, 1, 4), 8)) == 1
    assert planned(Trigger.BIRTHDAY)[0].customer == owner
    assert "2027 年的法定节假日安排尚未录入" in caplog.text
