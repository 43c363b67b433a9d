"""Retention of archived complaints (DESIGN 3.4, PIPL minimum retention).

An archived complaint is kept ``COMPLAINT_RETENTION_DAYS`` days (365: one year) counted in
local calendar days from the day it was archived: archived on 2025-11-23 it is kept
through 2026-11-23 and purged by the job's first run on 2026-11-24. A complaint marked
important (``is_important``, set by the director) is kept indefinitely; a reopened one is
no longer archived and so not purged.

Purging a complaint removes the complaint, its events, the linked customer's timeline
entries about it (their summaries quote the notes, which may hold personal data; the
customer's timeline then simply no longer shows that complaint), and the files of any
attachment model pointing at it. Mail intake rows keep only their message key (so the
mail is never registered again) and lose sender, subject and raw mail; so do, after the
same period, the rows of mails that became no complaint (``forget_old_mails``). What
remains is a
``PurgeRecord``: number, category, channel, registration and archiving times, when it
was purged and how many rows went, with no personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction

from crm.complaints.models import Complaint, InboundMail, PurgeRecord
from crm.customers.models import TimelineEvent
from crm.lib.dates import local_day, local_midnight

logger = logging.getLogger("crm.complaints.retention")

SOURCE_TYPE = Complaint._meta.label_lower


def purge_cutoff(now: datetime) -> datetime:
    """Complaints archived before this moment have expired: the start of the local day
    that is the retention period before today."""
    return local_midnight(local_day(now) - timedelta(days=settings.COMPLAINT_RETENTION_DAYS))


def expired_q(now: datetime) -> models.Q:
    return models.Q(status=Complaint.Status.ARCHIVED, is_important=False, archived_at__lt=purge_cutoff(now))


def _attachment_files(complaint: Complaint) -> list[tuple[models.fields.files.FieldFile, str]]:
    """Files of rows pointing at the complaint (an attachment model of another module):
    found through the model's relations, so this module names no such model."""
    files = []
    for relation in Complaint._meta.related_objects:
        if not relation.one_to_many or relation.related_model is Complaint:
            continue
        model = relation.related_model
        file_fields = [f.name for f in model._meta.get_fields() if isinstance(f, models.FileField)]
        if not file_fields:
            continue
        for row in model._default_manager.filter(**{relation.field.name: complaint}):
            for name in file_fields:
                file = getattr(row, name)
                if file:
                    files.append((file, file.name))
    return files


def purge_complaint(complaint_pk: int, *, now: datetime) -> PurgeRecord | None:
    """Purge one expired complaint (re-checked under the row lock: a complaint reopened or
    marked important meanwhile is kept). Returns the record, or None when it was kept."""
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update()
            .select_related("category")
            .filter(expired_q(now), pk=complaint_pk)
            .first()
        )
        if complaint is None or complaint.archived_at is None:
            return None
        files = _attachment_files(complaint)
        timeline_deleted, _ = TimelineEvent.objects.filter(source_type=SOURCE_TYPE, source_id=complaint.pk).delete()
        mails = InboundMail.objects.filter(complaint=complaint).update(
            complaint=None, sender_email="", sender_name="", subject="", raw=b"", reason="投诉已按保存期限清除"
        )
        record, _ = PurgeRecord.objects.get_or_create(
            number=complaint.number,
            defaults={
                "company_id": complaint.company_id,
                "category_name": complaint.category.name,
                "channel": complaint.channel,
                "registered_at": complaint.registered_at,
                "archived_at": complaint.archived_at,
                "purged_at": now,
                "event_count": complaint.events.count(),
                "timeline_count": timeline_deleted,
                "mail_count": mails,
                "file_count": len(files),
            },
        )
        complaint.delete()  # events and attachment rows go with it (CASCADE)

        def delete_files() -> None:
            # After the commit: a rollback must not leave rows pointing at deleted files.
            for file, name in files:
                try:
                    file.storage.delete(name)
                except OSError:
                    logger.warning("purged complaint %s: could not delete file %s", record.number, name)

        transaction.on_commit(delete_files)
    return record


def purge_expired(*, now: datetime, limit: int = 500) -> int:
    """The retention job: purge up to ``limit`` expired complaints, each in its own
    transaction with its PurgeRecord. Idempotent: a purged complaint is gone, so a rerun
    finds nothing more to do. Returns how many were purged."""
    pks = list(
        Complaint.objects.filter(expired_q(now)).order_by("archived_at", "id").values_list("pk", flat=True)[:limit]
    )
    purged = sum(1 for pk in pks if purge_complaint(pk, now=now) is not None)
    forget_old_mails(now=now)
    return purged


def forget_old_mails(*, now: datetime) -> int:
    """Mail records that became no complaint (skipped, or held and then handled by the
    director) keep the sender and subject for the same period, then only their key (so the
    mail is never registered again). Held mails still waiting for the director are kept."""
    return (
        InboundMail.objects.filter(
            status__in=(InboundMail.Status.SKIPPED, InboundMail.Status.HANDLED),
            received_at__lt=purge_cutoff(now),
        )
        .exclude(sender_email="", sender_name="", subject="")
        .update(sender_email="", sender_name="", subject="", raw=b"")
    )
