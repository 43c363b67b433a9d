"""The retention job: archived complaints purged one year after archiving (to the day),
important ones kept, a PurgeRecord left, reruns idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.complaints import jobs, retention, services
from crm.complaints.models import Complaint, ComplaintEvent, InboundMail, PurgeRecord
from crm.customers.models import TimelineEvent
from crm.lib.dates import CHINA_TZ

Status = Complaint.Status
pytestmark = pytest.mark.django_db

RUN_AT = datetime(2026, 11, 24, 3, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def archived(make_complaint, service):
    """A complaint walked to 已归档 at ``archived_at`` (registered a week before)."""

    def make(archived_at: datetime, **kw) -> Complaint:
        c = make_complaint(now=archived_at - timedelta(days=7), **kw)
        Complaint.objects.filter(pk=c.pk).update(status=Status.CONFIRMED)
        c.refresh_from_db()
        return services.archive_complaint(c, actor=service, now=archived_at)

    return make


def test_exactly_the_complaints_archived_a_year_ago_or_earlier_are_purged(archived, make_customer):
    customer = make_customer("周先生", mobile="13812345678")
    last_day = archived(datetime(2025, 11, 23, 23, 59, tzinfo=CHINA_TZ), complainant_mobile="13812345678")
    kept = archived(datetime(2025, 11, 24, 0, 0, tzinfo=CHINA_TZ), complainant_mobile="13900001111")
    older = archived(datetime(2025, 3, 1, 9, 0, tzinfo=CHINA_TZ), complainant_mobile="13900002222")
    assert last_day.customer == customer
    assert TimelineEvent.objects.filter(source_type="complaints.complaint", source_id=last_day.pk).exists()

    # On the anniversary day itself nothing of that day goes yet.
    assert retention.purge_expired(now=RUN_AT - timedelta(days=1)) == 1
    assert set(Complaint.objects.values_list("pk", flat=True)) == {last_day.pk, kept.pk}

    assert jobs.purge_expired_complaints(now=RUN_AT) == 1
    assert list(Complaint.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not ComplaintEvent.objects.filter(complaint_id__in=[last_day.pk, older.pk]).exists()
    assert not TimelineEvent.objects.filter(source_type="complaints.complaint", source_id=last_day.pk).exists()
    assert set(PurgeRecord.objects.values_list("number", flat=True)) == {last_day.number, older.number}


def test_the_purge_record_holds_no_personal_data(archived):
    complaint = archived(datetime(2025, 1, 10, 10, 0, tzinfo=CHINA_TZ), complainant_mobile="13900003333")
    events = complaint.events.count()
    retention.purge_expired(now=RUN_AT)
    record = PurgeRecord.objects.get()
    assert (record.number, record.category_name, record.channel) == (complaint.number, "服务质量", "phone")
    assert record.archived_at == complaint.archived_at
    assert record.registered_at == complaint.registered_at
    assert record.purged_at == RUN_AT
    assert record.event_count == events
    values = " ".join(str(v) for v in PurgeRecord.objects.values().get().values())
    assert "13900003333" not in values
    assert "张三" not in values


def test_important_open_and_reopened_complaints_are_kept(archived, make_complaint, director, service):
    important = archived(datetime(2025, 1, 10, 10, 0, tzinfo=CHINA_TZ), complainant_mobile="13900004444")
    services.set_important(important, actor=director, important=True, note="涉及媒体")
    reopened = archived(datetime(2025, 1, 10, 10, 0, tzinfo=CHINA_TZ), complainant_mobile="13900005555")
    services.reopen_complaint(reopened, actor=director, note="客户再次反映")
    make_complaint(now=datetime(2025, 1, 3, 10, 0, tzinfo=CHINA_TZ), complainant_mobile="13900006666")
    assert retention.purge_expired(now=RUN_AT) == 0
    assert Complaint.objects.count() == 3
    assert important.events.filter(kind=ComplaintEvent.Kind.IMPORTANT).exists()


def test_unmarking_important_lets_the_usual_retention_apply(archived, director):
    complaint = archived(datetime(2025, 1, 10, 10, 0, tzinfo=CHINA_TZ), is_important=True)
    assert retention.purge_expired(now=RUN_AT) == 0
    services.set_important(complaint, actor=director, important=False)
    assert retention.purge_expired(now=RUN_AT) == 1


def test_a_rerun_is_idempotent(archived):
    archived(datetime(2025, 1, 10, 10, 0, tzinfo=CHINA_TZ))
    assert retention.purge_expired(now=RUN_AT) == 1
    assert retention.purge_expired(now=RUN_AT) == 0
    assert retention.purge_expired(now=RUN_AT + timedelta(days=1)) == 0
    assert PurgeRecord.objects.count() == 1


def test_the_intake_mail_row_keeps_only_its_key(archived, company):
    complaint = archived(datetime(2025, 1, 10, 10, 0, tzinfo=CHINA_TZ))
    InboundMail.objects.create(
        company=company,
        message_key="mid:x@example.com",
        status=InboundMail.Status.REGISTERED,
        sender_email="li@example.com",
        sender_name="李女士",
        subject="投诉",
        received_at=complaint.registered_at,
        complaint=complaint,
    )
    retention.purge_expired(now=RUN_AT)
    mail = InboundMail.objects.get()
    assert (mail.message_key, mail.sender_email, mail.sender_name, mail.subject) == ("mid:x@example.com", "", "", "")
    assert PurgeRecord.objects.get().mail_count == 1


def test_only_the_director_marks_a_complaint_important(make_complaint, service):
    complaint = make_complaint()
    with pytest.raises(services.NotAllowed):
        services.set_important(complaint, actor=service, important=True)


def test_old_skipped_and_handled_mail_records_forget_the_sender(company):
    def record(key: str, status: str, received_at: datetime) -> InboundMail:
        return InboundMail.objects.create(
            company=company,
            message_key=key,
            status=status,
            sender_email="a@example.com",
            sender_name="甲",
            subject="主题",
            received_at=received_at,
        )

    old = datetime(2025, 11, 23, 23, 0, tzinfo=CHINA_TZ)
    skipped = record("k1", InboundMail.Status.SKIPPED, old)
    handled = record("k2", InboundMail.Status.HANDLED, old)
    held = record("k3", InboundMail.Status.HELD, old)
    recent = record("k4", InboundMail.Status.SKIPPED, old + timedelta(hours=1))
    assert retention.forget_old_mails(now=RUN_AT) == 2
    for row in (skipped, handled, held, recent):
        row.refresh_from_db()
    assert (skipped.sender_email, handled.subject) == ("", "")
    assert held.sender_email == recent.sender_email == "a@example.com"
    assert retention.forget_old_mails(now=RUN_AT) == 0
