"""The timeline's writers: one event (record) and a batch of them (record_many)."""

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from crm.customers import timeline
from crm.customers.models import TimelineEvent

Kind = TimelineEvent.Kind


def test_record_many_writes_what_record_would_in_one_insert(
    customer, make_customer, consultant, unit, django_assert_num_queries
):
    other = make_customer("李四")
    at = timezone.now() - timedelta(hours=1)
    entries = [
        timeline.Entry(customer, Kind.MESSAGE, "长" * 400, at=at, source=unit),
        timeline.Entry(other.pk, Kind.NOTE, "电话回访", actor=consultant, data={"by": "phone"}),
        timeline.Entry(other, Kind.NOTE, "匿名", actor=AnonymousUser()),
    ]
    with django_assert_num_queries(1):
        events = timeline.record_many(entries)
    assert len(events) == 3
    first, second, third = TimelineEvent.objects.exclude(kind=Kind.CREATED).order_by("id")
    assert (first.customer_id, first.summary, first.occurred_at) == (customer.pk, "长" * 300, at)
    assert (first.source_type, first.source_id, first.actor, first.data) == ("projects.unit", unit.pk, None, {})
    assert (second.customer_id, second.actor, second.data, second.source_type) == (
        other.pk,
        consultant,
        {"by": "phone"},
        "",
    )
    assert abs(second.occurred_at - timezone.now()) < timedelta(minutes=1)
    assert third.actor is None


def test_record_many_with_nothing_writes_nothing(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        assert timeline.record_many([]) == []


def test_record_keeps_its_shape(customer, consultant):
    event = timeline.record(customer, Kind.NOTE, "x" * 301, actor=consultant)
    event.refresh_from_db()
    assert (event.summary, event.actor, event.data, event.source_id) == ("x" * 300, consultant, {}, None)
