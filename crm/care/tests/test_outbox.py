"""The outbox's fast inserts (crm.care.outbox) against what the ORM writes, and conflicts.

Rows are compared as stored (raw SELECT, no Django converters): on SQLite that is the text
of every datetime and of the JSON, so a format differing from the ORM's fails here even
where reading it back through the model would hide it.
"""

from datetime import date, datetime
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Q

from crm.care import outbox, planning, services
from crm.care.models import Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.customers import services as customer_services
from crm.customers.models import Customer

DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 23, 17, 1, 2, 345678, tzinfo=local(DAY).tzinfo)  # created_at/updated_at of both
COLUMNS = [str(f.column) for f in OutboundMessage._meta.concrete_fields]


def stored(message_id: int, *, leave_out: tuple[str, ...] = ("id", "customer_id", "family_member_id")) -> dict:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in COLUMNS)} FROM {quote(OutboundMessage._meta.db_table)} WHERE id = %s",
            [message_id],
        )
        row = dict(zip(COLUMNS, cursor.fetchone(), strict=True))
    return {column: value for column, value in row.items() if column not in leave_out}


def spec(rule, text: str = "温馨速递 祝林太太生日快乐！测试置业敬上。拒收请回复R", **params: str) -> dict:
    return {
        "project_id": rule.project_id,
        "rule_id": rule.pk,
        "trigger": rule.trigger,
        "purpose": rule.purpose,
        "text": text,
        "params": params,
        "scheduled_at": local(DAY, 10),
        "next_attempt_at": local(DAY, 10),
        "window_ends_at": local(DAY, 10, 30),
    }


@pytest.fixture
def rule(project):
    return services.rule_for(project.pk, Trigger.FAMILY_BIRTHDAY)


@pytest.fixture
def family(make_customer, consultant):
    """Two owners, each with a consenting family member: (customer, member) pairs."""
    pairs = []
    for name in ("林业主", "王业主"):
        customer = make_customer(name, consent_care=True)
        member = customer_services.add_family_member(
            customer, actor=consultant, relation="spouse", name=f"{name}太太", birthday_on=date(1982, 11, 24)
        )
        pairs.append((customer, member))
    return pairs


@pytest.mark.django_db
class TestQueue:
    def test_rows_are_stored_exactly_as_the_orm_stores_them(self, rule, family):
        (orm_customer, orm_member), (fast_customer, fast_member) = family
        values = spec(rule, 家人="林太太", 公司="测试置业")
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            by_orm = [
                OutboundMessage.objects.create(
                    customer=orm_customer, family_member=member, occasion="2026-11-24", **values
                )
                for member in (orm_member, None)
            ]
            rows = [(fast_customer.pk, fast_member.pk, "2026-11-24", 0), (fast_customer.pk, None, "2026-11-24", 0)]
            assert outbox.queue(rows, [values]) == 2
        fast = OutboundMessage.objects.filter(customer=fast_customer).order_by("family_member_id")
        fast_with, fast_without = sorted(fast, key=lambda m: m.family_member_id is None)
        assert (fast_with.family_member_id, fast_without.family_member_id) == (fast_member.pk, None)
        assert stored(fast_with.pk) == stored(by_orm[0].pk)
        assert stored(fast_without.pk) == stored(by_orm[1].pk)
        assert stored(fast_with.pk)["created_at"] is not None  # the frozen clock was used, not NULL
        assert fast_with.params == {"家人": "林太太", "公司": "测试置业"}
        assert fast_with.scheduled_at == local(DAY, 10)
        assert fast_with.created_at == fast_with.updated_at == NOW

    def test_each_row_gets_its_own_spec(self, rule, family):
        (first, _), (second, _) = family
        specs = [spec(rule, "甲"), spec(rule, "乙") | {"window_ends_at": local(DAY, 11)}]
        assert outbox.queue([(first.pk, None, "x", 1), (second.pk, None, "x", 0)], specs) == 2
        texts = dict(OutboundMessage.objects.values_list("customer_id", "text"))
        assert texts == {first.pk: "乙", second.pk: "甲"}
        assert OutboundMessage.objects.get(customer=first).window_ends_at == local(DAY, 11)

    def test_a_second_run_inserts_nothing_and_says_so(self, rule, family):
        rows = [(c.pk, m.pk, "2026-11-24", 0) for c, m in family] + [(c.pk, None, "2026-11-24", 0) for c, _ in family]
        assert outbox.queue(rows, [spec(rule)]) == 4
        assert outbox.queue(rows, [spec(rule, "改过的文字")]) == 0
        assert OutboundMessage.objects.count() == 4
        assert not OutboundMessage.objects.filter(text="改过的文字").exists()

    def test_a_conflicting_row_is_skipped_and_the_others_go_in(self, rule, family):
        (first, first_member), (second, second_member) = family
        values = spec(rule)
        kept = OutboundMessage.objects.create(customer=first, occasion="2026-11-24", **values | {"text": "已有"})
        kept_member = OutboundMessage.objects.create(
            customer=second, family_member=second_member, occasion="2026-11-24", **values | {"text": "已有"}
        )
        rows = [
            (first.pk, None, "2026-11-24", 0),  # conflicts (uniq_message_occasion)
            (first.pk, first_member.pk, "2026-11-24", 0),  # new: the same customer's family member
            (second.pk, second_member.pk, "2026-11-24", 0),  # conflicts (uniq_family_message_occasion)
            (second.pk, None, "2026-11-24", 0),  # new
            (second.pk, None, "2026-11-25", 0),  # new: another occasion
        ]
        assert outbox.queue(rows, [values]) == 3
        assert OutboundMessage.objects.count() == 5
        kept.refresh_from_db()
        kept_member.refresh_from_db()
        assert (kept.text, kept_member.text) == ("已有", "已有")

    def test_nothing_to_queue(self, rule):
        assert outbox.queue([], [spec(rule)]) == 0
        assert outbox.queue([], []) == 0

    def test_a_spec_must_name_outbox_columns_other_than_the_rows(self, rule, family):
        customer, _ = family[0]
        with pytest.raises(ValueError, match="customer_id"):
            outbox.queue([(customer.pk, None, "x", 0)], [spec(rule) | {"customer_id": 1}])
        with pytest.raises(ValueError, match="same columns"):
            outbox.queue([(customer.pk, None, "x", 0)], [spec(rule), {"text": "x"}])


@pytest.fixture
def with_deal(make_customer, make_unit, admin_user, project):
    """A customer with ``deals`` deals in ``project`` (care consent unless told)."""

    def make(name: str, *, deals: int = 1, project=project, **kw):
        customer = make_customer(name, project=project, **{"consent_care": True} | kw)
        for _ in range(deals):
            customer_services.create_deal(
                actor=admin_user, customer=customer, unit=make_unit(project=project), subscribed_on=date(2026, 1, 5)
            )
        return customer

    return make


@pytest.mark.django_db
class TestApproval:
    @pytest.fixture
    def draft(self, project):
        def make(project=project):
            rule = services.rule_for(project.pk, Trigger.MID_AUTUMN)  # subscribed or signed, care
            return services.create_draft(rule, occasion="2026", send_on=date(2026, 9, 25))

        return make

    def test_queue_for_stores_rows_exactly_as_the_orm_stores_them(self, with_deal, draft):
        mid_autumn = draft()
        first, second = with_deal("甲"), with_deal("乙")
        values = spec(mid_autumn.rule, mid_autumn.text) | {"occasion": "2026", "draft_id": mid_autumn.pk}
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            by_orm = OutboundMessage.objects.create(customer=first, **values)
            assert outbox.queue_for(Customer.objects.filter(pk=second.pk), values) == 1
        fast = OutboundMessage.objects.get(customer=second)
        assert stored(fast.pk) == stored(by_orm.pk)
        assert fast.draft == mid_autumn

    def test_approval_queues_exactly_the_reachable_recipients(self, with_deal, make_customer, draft, approver):
        reached = {with_deal("签约业主").pk, with_deal("两套房业主", deals=2).pk}
        no_consent = with_deal("未同意关怀", consent_care=False)
        opted_out = with_deal("已退订")
        archived = with_deal("已归档")
        make_customer("意向客户", consent_care=True)  # no deal: not in the audience
        Customer.objects.filter(pk=opted_out.pk).update(has_opted_out=True)
        Customer.objects.filter(pk=archived.pk).update(is_archived=True)
        mid_autumn = draft()

        assert services.approve_draft(mid_autumn, actor=approver, now=local(date(2026, 9, 24), 17)) == 2

        messages = OutboundMessage.objects.filter(draft=mid_autumn)
        assert sorted(m.customer_id for m in messages) == sorted(reached)  # one each, two deals or not
        assert OutboundMessage.objects.count() == 2
        assert not messages.filter(customer__in=[no_consent, opted_out, archived]).exists()
        mid_autumn.refresh_from_db()
        assert (mid_autumn.status, mid_autumn.recipient_count) == (Draft.Status.APPROVED, 2)
        for message in messages:
            assert (message.trigger, message.occasion, message.text) == (Trigger.MID_AUTUMN, "2026", mid_autumn.text)
            assert (message.project_id, message.rule_id) == (mid_autumn.project_id, mid_autumn.rule_id)
            assert message.status == OutboundMessage.Status.SCHEDULED
            assert message.scheduled_at == message.next_attempt_at == local(date(2026, 9, 25), 10)
            assert message.window_ends_at == local(date(2026, 9, 25), 12)
            assert message.attempts == 0

    def test_a_customer_greeted_through_another_project_is_not_counted_twice(
        self, with_deal, make_unit, admin_user, draft, approver, project_b
    ):
        both = with_deal("两个楼盘的业主")
        customer_services.create_deal(
            actor=admin_user, customer=both, unit=make_unit(project=project_b), subscribed_on=date(2026, 3, 1)
        )
        only_b = with_deal("只在B的业主", project=project_b)
        assert services.approve_draft(draft(), actor=approver, now=local(date(2026, 9, 24), 17)) == 1
        draft_b = draft(project_b)
        assert services.approve_draft(draft_b, actor=approver, now=local(date(2026, 9, 24), 17)) == 1
        draft_b.refresh_from_db()
        assert draft_b.recipient_count == 1
        assert set(OutboundMessage.objects.values_list("customer_id", "project_id")) == {
            (both.pk, both.project_id),
            (only_b.pk, project_b.pk),
        }


@pytest.mark.django_db
class TestPlanners:
    @pytest.fixture
    def subscribed(self, make_customer, unit, consultant):
        """Subscribed 2026-01-05 (a 三室两厅两卫), not signed: reminded on 2026-01-10."""
        customer = make_customer("认购客户", consent_notification=True, consent_care=True)
        customer_services.create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 1, 5))
        return customer

    def test_a_runner_that_did_not_see_anothers_rows_inserts_and_counts_nothing(self, subscribed, monkeypatch):
        """Two runners at once: each query misses what the other has not committed yet
        (here: not_planned switched off); the unique keys keep one row each and the second
        runner's count says it inserted nothing."""
        Customer.objects.filter(pk=subscribed.pk).update(stage="owner", birth_mmdd="0110")
        assert planning.plan_birthdays(now=local(date(2026, 1, 10), 1)) == 1
        assert planning.plan_signing_reminders(now=local(date(2026, 1, 10))) == 1
        monkeypatch.setattr(planning, "not_planned", lambda *args, **kwargs: Q())
        assert planning.plan_birthdays(now=local(date(2026, 1, 10), 1)) == 0
        assert planning.plan_signing_reminders(now=local(date(2026, 1, 10))) == 0
        assert OutboundMessage.objects.count() == 2

    def test_a_template_using_the_layout_gets_the_deals_unit(self, subscribed, project):
        assert planning.plan_signing_reminders(now=local(date(2026, 1, 10))) == 1
        assert "三室两厅两卫" not in OutboundMessage.objects.get().text  # the default text has no {户型}
        OutboundMessage.objects.all().delete()
        rule = services.rule_for(project.pk, Trigger.SIGNING_REMINDER)
        rule.template = "温馨速递 您认购的{户型}请于{签约日期}前签约。{公司}敬上。"
        rule.save()
        assert planning.plan_signing_reminders(now=local(date(2026, 1, 10))) == 1
        assert OutboundMessage.objects.get().text.startswith("温馨速递 您认购的三室两厅两卫请于2026年1月12日前签约。")
