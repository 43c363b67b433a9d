"""The seed's approval rules: approval follows each rule's setting; event notices are
planned from the event's date and move with it; the signing reminder names the deal's
signing deadline, never a holiday."""

from datetime import date

import pytest

from crm.care import planning, services
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.core.errors import DomainError, PermissionDenied
from crm.core.models import AuditLog
from crm.customers import services as customer_services
from crm.customers.models import Customer

Status = OutboundMessage.Status
NOW = local(date(2026, 12, 10), 9)


@pytest.fixture
def reachable_owner(owner):
    Customer.objects.filter(pk=owner.pk).update(consent_marketing=True)
    return owner


def rule(project, trigger):
    return services.rule_for(project.pk, trigger)


def test_the_seed_decides_which_rules_need_approval(project):
    rules = {r.trigger: r.needs_approval for r in services.ensure_rules(project)}
    assert rules[Trigger.CONSTRUCTION] is True
    assert all(rules[t] for t in (Trigger.SPRING_FESTIVAL, Trigger.MID_AUTUMN, Trigger.NATIONAL_DAY))
    for trigger in (Trigger.BAD_WEATHER, Trigger.SHOW_FLAT_OPEN, Trigger.SHOW_FLAT_CLOSE, Trigger.EVENT):
        assert rules[trigger] is False, trigger


class TestBroadcastApproval:
    def test_a_bad_weather_warning_goes_out_without_approval(self, owner, service):
        draft = services.compose_broadcast(
            owner.project,
            actor=service,
            trigger=Trigger.BAD_WEATHER,
            send_on=date(2026, 12, 10),
            values={"原因": "寒潮来袭"},
            now=NOW,
        )
        assert (draft.status, draft.decided_by, draft.comment) == (
            Draft.Status.APPROVED,
            service,
            services.DIRECT_COMMENT,
        )
        [message] = OutboundMessage.objects.filter(draft=draft)
        assert (message.status, message.scheduled_at, message.window_ends_at) == (
            Status.SCHEDULED,
            local(date(2026, 12, 10), 17),
            local(date(2026, 12, 10), 20),
        )
        assert "寒潮来袭" in message.text
        assert draft.recipient_count == 1
        assert AuditLog.objects.filter(summary__contains="无需审批").exists()

    def test_an_administrator_can_ask_approval_for_it(self, owner, service, approver):
        CareRule.objects.filter(pk=rule(owner.project, Trigger.BAD_WEATHER).pk).update(needs_approval=True)
        draft = services.compose_broadcast(
            owner.project,
            actor=service,
            trigger=Trigger.BAD_WEATHER,
            send_on=date(2026, 12, 10),
            values={"原因": "寒潮来袭"},
            now=NOW,
        )
        assert draft.status == Draft.Status.PENDING
        assert not OutboundMessage.objects.exists()
        assert services.approve_draft(draft, actor=approver, now=local(date(2026, 12, 10), 16)) == 1

    def test_only_care_staff_compose(self, owner, consultant):
        with pytest.raises(PermissionDenied):
            services.compose_broadcast(
                owner.project,
                actor=consultant,
                trigger=Trigger.BAD_WEATHER,
                send_on=date(2026, 12, 10),
                values={"原因": "寒潮"},
                now=NOW,
            )
        assert not Draft.objects.exists()

    def test_a_window_already_over_without_catch_up_is_refused(self, owner, service):
        with pytest.raises(DomainError, match="发送时段已过") as exc:
            services.compose_broadcast(
                owner.project,
                actor=service,
                trigger=Trigger.BAD_WEATHER,
                send_on=date(2026, 12, 10),
                values={"原因": "寒潮"},
                now=local(date(2026, 12, 10), 20, 30),
            )
        assert exc.value.field == "send_on"
        assert not Draft.objects.exists()

    def test_an_approval_after_the_window_goes_in_the_catch_up_window(self, reachable_owner, service, approver):
        project = reachable_owner.project
        CareRule.objects.filter(pk=rule(project, Trigger.SHOW_FLAT_OPEN).pk).update(needs_approval=True)
        draft = services.compose_broadcast(
            project,
            actor=service,
            trigger=Trigger.SHOW_FLAT_OPEN,
            send_on=date(2026, 12, 10),
            values={"户型": "A1", "面积": "118", "日期": "12月12日"},
            now=NOW,
        )
        # Approved the evening after its 10:00–18:00 window: sent the next day (catch-up 1 day).
        assert services.approve_draft(draft, actor=approver, now=local(date(2026, 12, 10), 19)) == 1
        [message] = OutboundMessage.objects.filter(draft=draft)
        assert message.scheduled_at == local(date(2026, 12, 11), 10)
        assert "顺延至 12月11日" in message.error


class TestEventNotices:
    def compose(self, owner, service, event_on, now=NOW, **values):
        return services.compose_broadcast(
            owner.project,
            actor=service,
            trigger=Trigger.EVENT,
            event_on=event_on,
            send_on=date(2026, 12, 31),  # ignored: an event notice follows the event's date
            values={"活动": "业主冬至联谊会", "时间": "12月20日（周日）14:00", **values},
            now=now,
        )

    def test_it_goes_three_days_before_the_event_without_approval(self, reachable_owner, service):
        draft = self.compose(reachable_owner, service, date(2026, 12, 20))
        assert (draft.event_on, draft.send_on, draft.status) == (
            date(2026, 12, 20),
            date(2026, 12, 17),
            Draft.Status.APPROVED,
        )
        [message] = OutboundMessage.objects.filter(draft=draft)
        assert (message.scheduled_at, message.window_ends_at) == (
            local(date(2026, 12, 17), 10),
            local(date(2026, 12, 17), 10, 30),
        )

    def test_it_needs_the_events_date(self, reachable_owner, service):
        with pytest.raises(DomainError, match="请填写活动日期") as exc:
            self.compose(reachable_owner, service, None)
        assert exc.value.field == "event_on"

    def test_an_event_too_close_to_announce_is_refused(self, reachable_owner, service):
        # Tomorrow's event, composed after today's 10:00–10:30 window: the next one is the
        # event's own day.
        with pytest.raises(DomainError, match="活动日期太近") as exc:
            self.compose(reachable_owner, service, date(2026, 12, 11), now=local(date(2026, 12, 10), 11))
        assert exc.value.field == "event_on"
        # In two days: due yesterday, caught up today (still before the event).
        draft = self.compose(reachable_owner, service, date(2026, 12, 12))
        [message] = OutboundMessage.objects.filter(draft=draft)
        assert message.scheduled_at == local(date(2026, 12, 10), 10)

    def test_the_notice_moves_with_the_event(self, reachable_owner, service):
        draft = self.compose(reachable_owner, service, date(2026, 12, 20))
        moved = services.move_event(draft, actor=service, event_on=date(2026, 12, 26), now=NOW)
        assert (moved.moved, moved.already_sent) == (1, 0)
        draft.refresh_from_db()
        assert (draft.event_on, draft.send_on) == (date(2026, 12, 26), date(2026, 12, 23))
        assert "12月26日（周六）14:00" in draft.text
        assert draft.values["时间"] == "12月26日（周六）14:00"
        [message] = OutboundMessage.objects.filter(draft=draft)
        assert message.scheduled_at == local(date(2026, 12, 23), 10)
        assert "12月26日（周六）14:00" in message.text
        assert AuditLog.objects.filter(summary__startswith="活动改期").exists()

    def test_a_notice_already_sent_is_counted_not_changed(self, reachable_owner, service):
        draft = self.compose(reachable_owner, service, date(2026, 12, 20))
        OutboundMessage.objects.filter(draft=draft).update(status=Status.SENT)
        moved = services.move_event(draft, actor=service, event_on=date(2026, 12, 27), now=NOW)
        assert (moved.moved, moved.already_sent) == (0, 1)
        assert "12月20日" in OutboundMessage.objects.get(draft=draft).text

    def test_an_approved_texts_wording_is_not_changed_behind_the_approver(self, reachable_owner, service, approver):
        CareRule.objects.filter(pk=rule(reachable_owner.project, Trigger.EVENT).pk).update(needs_approval=True)
        draft = self.compose(reachable_owner, service, date(2026, 12, 20))
        assert draft.status == Draft.Status.PENDING
        # Pending: the date moves and the text may change.
        services.move_event(draft, actor=service, event_on=date(2026, 12, 19), values={"活动": "冬至游园会"}, now=NOW)
        draft.refresh_from_db()
        assert "冬至游园会" in draft.text
        services.approve_draft(draft, actor=approver, now=NOW)
        with pytest.raises(DomainError, match="只能改期"):
            services.move_event(draft, actor=service, event_on=date(2026, 12, 26), values={"活动": "新年会"}, now=NOW)
        services.move_event(draft, actor=service, event_on=date(2026, 12, 26), now=NOW)
        assert OutboundMessage.objects.get(draft=draft).scheduled_at == local(date(2026, 12, 23), 10)

    def test_only_event_notices_move(self, owner, service):
        draft = services.compose_broadcast(
            owner.project,
            actor=service,
            trigger=Trigger.BAD_WEATHER,
            send_on=date(2026, 12, 10),
            values={"原因": "寒潮"},
            now=NOW,
        )
        with pytest.raises(DomainError, match="只有活动通知"):
            services.move_event(draft, actor=service, event_on=date(2026, 12, 20), now=NOW)

    def test_the_preview_shows_the_computed_send_day(self, reachable_owner):
        preview = services.preview_broadcast(
            reachable_owner.project,
            trigger=Trigger.EVENT,
            values={"活动": "联谊会", "时间": "12月20日"},
            event_on=date(2026, 12, 20),
        )
        assert (preview.send_on, preview.needs_approval, preview.recipients) == (date(2026, 12, 17), False, 1)


class TestSigningReminder:
    def test_the_reminder_names_the_deals_deadline_not_a_holiday(self, make_customer, make_unit, consultant):
        customer = make_customer("认购客户", consent_notification=True)
        deal = customer_services.create_deal(
            actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 9, 18)
        )
        assert deal.signing_deadline_on == date(2026, 9, 28)  # + 7 would be 中秋
        assert planning.plan_signing_reminders(now=local(date(2026, 9, 23), 1)) == 1
        [message] = OutboundMessage.objects.filter(trigger=Trigger.SIGNING_REMINDER)
        assert "您应于2026年9月28日办理房屋签约手续" in message.text
        assert message.scheduled_at == local(date(2026, 9, 23), 16)

    def test_a_deadline_changed_on_the_deal_is_the_one_named(self, make_customer, make_unit, consultant):
        customer = make_customer("认购客户", consent_notification=True)
        deal = customer_services.create_deal(
            actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 9, 14)
        )
        customer_services.update_deal(deal, actor=consultant, signing_deadline_on=date(2026, 9, 30))
        planning.plan_signing_reminders(now=local(date(2026, 9, 19), 1))
        assert "2026年9月30日" in OutboundMessage.objects.get(trigger=Trigger.SIGNING_REMINDER).text

    def test_a_reminder_planned_after_1700_goes_the_next_afternoon(self, make_customer, make_unit, consultant):
        customer = make_customer("认购客户", consent_notification=True)
        customer_services.create_deal(
            actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 11, 16)
        )
        planning.plan_signing_reminders(now=local(date(2026, 11, 21), 17, 30))
        message = OutboundMessage.objects.get(trigger=Trigger.SIGNING_REMINDER)
        assert message.scheduled_at == local(date(2026, 11, 22), 16)
