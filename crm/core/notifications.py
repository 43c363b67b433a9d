"""站内通知: messages to staff members on their own page (the bell, the 通知 inbox, the
workbench card and ``/api/notifications/``).

Any app tells people about an event with ``notify(recipients, kind=…, title=…, key=…)``
inside the transaction that records the event, so the notice exists exactly when the event
does. ``key`` names the event; a recipient gets one notification per key, however often the
caller runs (a job re-run, a retried request). Delivery is the page only: the system runs on
the company's intranet, where staff are signed in all day; no e-mail or SMS goes out.

Writes (``notify``, ``mark_read``, ``mark_all_read``, the retention job) and reads
(``unread_count``, ``for_user``, ``get_for_user``) live together here, as the audit log's
do in ``crm.core.audit``: the model is core's and knows no app.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from crm.core.models import Notification

TITLE_MAX = 200
TEXT_MAX = 500


def _user_ids(recipients: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for recipient in recipients:
        if recipient is None:
            continue
        pk = recipient if isinstance(recipient, int) else recipient.pk
        if pk is not None and pk not in ids:
            ids.append(pk)
    return ids


def _clip(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def notify(
    recipients: Iterable[Any],
    *,
    kind: str,
    title: str,
    key: str,
    text: str = "",
    link: str = "",
    now: datetime | None = None,
    exclude: Any = None,
) -> int:
    """Notify each recipient (users or user ids; duplicates and ``exclude`` — usually the
    actor, who knows what they just did — left out) once per ``key``.

    Returns how many notifications were written. A recipient who already has ``key`` gets
    nothing new: the unique (recipient, dedupe_key) constraint decides, also when two
    runners write at once (the loser's insert is skipped, not an error that would roll
    back the caller's transaction).
    """
    ids = _user_ids(recipients)
    excluded = set(_user_ids([exclude]))
    ids = [pk for pk in ids if pk not in excluded]
    if not ids:
        return 0
    if link and not url_has_allowed_host_and_scheme(link, allowed_hosts=None):
        raise ValueError(f"notification links stay inside the site: {link!r}")
    now = now or timezone.now()
    known = set(
        Notification.objects.filter(dedupe_key=key, recipient_id__in=ids).values_list("recipient_id", flat=True)
    )
    rows = [
        Notification(
            recipient_id=pk,
            kind=kind,
            title=_clip(title, TITLE_MAX),
            text=_clip(text, TEXT_MAX),
            link=link,
            dedupe_key=key,
            created_at=now,
        )
        for pk in ids
        if pk not in known
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def mark_read(notification: Notification, *, actor: Any, now: datetime | None = None) -> bool:
    """The recipient has seen it; returns whether it was unread. Only the recipient's own
    rows (``get_for_user``) reach here: anyone else's is a 404 before."""
    if notification.recipient_id != actor.pk:
        raise Http404("通知不存在")
    now = now or timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.read_at = notification.read_at or now
    _forget_count(actor)
    return bool(changed)


def mark_all_read(*, actor: Any, now: datetime | None = None) -> int:
    """全部标为已读: every unread notification of the actor; returns how many."""
    changed = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
    _forget_count(actor)
    return changed


def purge_read(*, now: datetime, days: int | None = None) -> int:
    """Retention: notifications read more than ``NOTIFICATION_RETENTION_DAYS`` ago are
    deleted (they only repeat what the complaint's or issue's own history keeps). Unread
    ones stay until read."""
    keep = settings.NOTIFICATION_RETENTION_DAYS if days is None else days
    deleted, _ = Notification.objects.filter(read_at__lt=now - timedelta(days=keep)).delete()
    return deleted


# ---------------------------------------------------------------- reads

_COUNT = "_unread_notifications"


def unread_count(user: Any) -> int:
    """The bell's number: one COUNT over the partial index ``notification_unread_idx``,
    kept on the user object for the rest of the request (the header and the workbench
    card ask for it on the same page)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    cached = user.__dict__.get(_COUNT)
    if cached is None:
        cached = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
        user.__dict__[_COUNT] = cached
    return int(cached)


def _forget_count(user: Any) -> None:
    user.__dict__.pop(_COUNT, None)


def for_user(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first (nobody reads anyone else's)."""
    rows = Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")
    return rows.filter(read_at__isnull=True) if unread_only else rows


def get_for_user(user: Any, pk: int) -> Notification:
    row = for_user(user).filter(pk=pk).first()
    if row is None:
        raise Http404("通知不存在")
    return row
