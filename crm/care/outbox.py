"""The outbox rows (OutboundMessage): fast inserts for planning and approval, and the one
mover every status write goes through.

Moving a row (``move``, ``move_all``, and the named moves ``cancel``, ``release_held``,
``resend``): a compare-and-set ``UPDATE … WHERE id = … AND status = <from>``, refused unless
``OutboundMessage.ALLOWED_MOVES`` allows from → to. A move out of "submitting" names the
claim the caller holds (its ``claimed_at``) and compares it in the same statement: a dispatch
worker that stalled past the lease, whose row settle has since returned to the queue and
another worker claimed or sent, changes nothing. The guard is on the row's own columns (and
an optional ``EXISTS``), never a join, so the UPDATE stays a single-table statement whose
conditions PostgreSQL re-checks on the newest row version after waiting for a lock.

Inserting rows:

The rows of a planning run are mostly the same: what differs per row is only the recipient
(customer, family member) and the occasion, and everything else (rule, text, window…) is one
of a few *specs*. So both functions write through crm.core.bulk, one statement per chunk,
which prepares the per-row values per column and every spec value once (bulk_create would
prepare each of the 24 values of every row through its field: ~90% of a 6,000-row planning
day's time):

- ``queue(rows, specs)``: ``rows`` are ``(customer_id, family_member_id, occasion, k)``
  with ``k`` the index of the row's spec in ``specs`` (a mapping of attname → value, the
  same keys in every spec): the specs are bulk's variants.
- ``queue_for(customers, spec)``: one row per customer of a queryset (an approved draft's
  recipients), as ``INSERT … SELECT`` from the queryset's own SQL: no customer travels
  through Python.

Every other column follows crm.core.bulk's rule: model defaults evaluated once per
statement (fine for this model's ``dict`` and constants), auto_now(_add) fields the
current time, computed once per call.

Both insert with ``ON CONFLICT DO NOTHING`` without a conflict target, which covers both
partial unique keys (uniq_message_occasion, uniq_family_message_occasion): a second run, a
second runner or a redelivered task inserts nothing. Both return the rows actually inserted.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, Q, QuerySet
from django.utils import timezone

from crm.care import templating
from crm.care.audience import CONSENT_FIELD
from crm.care.models import OptedOutMobile, OutboundMessage
from crm.care.rules import Purpose
from crm.core import bulk
from crm.core.errors import DomainError
from crm.customers.models import Customer

Status = OutboundMessage.Status

Row = tuple[int, int | None, str, int]  # (customer id, family member id, occasion, spec index)
ROW_FIELDS = ("customer_id", "family_member_id", "occasion")
CHUNK = 20_000  # rows per statement: bounds the size of one query, not its speed


def queue(rows: Sequence[Row], specs: Sequence[Mapping[str, Any]]) -> int:
    """Insert one outbox row per ``(customer_id, family_member_id, occasion, k)`` with the
    values of ``specs[k]``; returns how many were inserted (conflicts are skipped)."""
    if not rows:
        return 0
    return bulk.insert_rows(OutboundMessage, ROW_FIELDS, rows, variants=specs, skip_conflicts=True, chunk=CHUNK)


def queue_for(customers: QuerySet[Any], spec: Mapping[str, Any]) -> int:
    """Insert one outbox row per customer of ``customers`` with the values of ``spec``
    (everything but ``customer_id``), as one ``INSERT … SELECT`` from the queryset's SQL;
    returns how many were inserted (conflicts are skipped)."""
    recipients = customers.order_by().values("pk")  # one column (Django names it "pk" or not)
    return bulk.insert_for_each(OutboundMessage, "customer_id", recipients, constants=spec, skip_conflicts=True)


def queue_notice_row(fields: Mapping[str, Any]) -> bool:
    """Insert one outbox row (a notice to one person, crm.care.services.queue_notice) unless
    its unique key is taken (ON CONFLICT DO NOTHING: a second call, a concurrent one, inserts
    nothing); returns whether it was inserted."""
    before = OutboundMessage.objects.filter(trigger=fields["trigger"], occasion=fields["occasion"]).count()
    OutboundMessage.objects.bulk_create([OutboundMessage(**fields)], ignore_conflicts=True)
    return OutboundMessage.objects.filter(trigger=fields["trigger"], occasion=fields["occasion"]).count() > before


# ----------------------------------------------------------------------------- moving


class IllegalMove(DomainError):
    """A move the table does not allow (from → to); nothing was written."""

    def __init__(self, frm: Status, to: Status) -> None:
        super().__init__(f"短信状态不能从“{frm.label}”改为“{to.label}”")
        self.frm = frm
        self.to = to


def allowed(frm: str, to: str) -> bool:
    return Status(to) in OutboundMessage.ALLOWED_MOVES[Status(frm)]


def move_all(
    where: Q,
    *,
    frm: str,
    to: str,
    claims: Mapping[int, datetime] | None = None,
    only_if: Q | Exists | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> int:
    """Move every row matching ``where`` that is still in ``frm`` to ``to``; returns how many.

    1. Refused (``IllegalMove``, nothing written) unless the table allows ``frm`` → ``to``.
    2. Out of "submitting", ``claims`` (id → the ``claimed_at`` the caller holds) is required
       and only rows whose claim is still that one move; into it from elsewhere (a claim),
       ``claimed_at`` is.
    3. ``only_if``: a further condition checked in the same statement (dispatch: the customer
       is still reachable when a row is handed to the gateway).
    4. A row leaving "submitting" loses its claim; a row going back to the queue loses its
       hand-off stamp (the next claim is a new attempt); ``updated_at`` is ``now``.
    """
    source, target = Status(frm), Status(to)
    if target not in OutboundMessage.ALLOWED_MOVES[source]:
        raise IllegalMove(source, target)
    rows = OutboundMessage.objects.filter(where, status=source)
    if source == Status.SUBMITTING:
        if claims is None or any(at is None for at in claims.values()):
            raise ValueError("a move out of 'submitting' must name the claims it holds")
        held = (Q(pk=pk, claimed_at=at) for pk, at in claims.items())
        rows = rows.filter(functools.reduce(operator.or_, held, Q(pk__in=[])))  # no claims: no rows
    if target == Status.SUBMITTING and source != Status.SUBMITTING and fields.get("claimed_at") is None:
        raise ValueError("a claim must be stamped with its claimed_at")
    if only_if is not None:
        rows = rows.filter(only_if)
    if target != Status.SUBMITTING:
        fields.setdefault("claimed_at", None)
    if target == Status.SCHEDULED:
        fields.setdefault("handed_at", None)
    return rows.update(status=target, updated_at=now or timezone.now(), **fields)


def move(
    message_id: int,
    *,
    frm: str,
    to: str,
    claim: datetime | None = None,
    only_if: Q | Exists | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> bool:
    """Compare-and-set one row from ``frm`` to ``to`` (see ``move_all``); ``claim``: the
    ``claimed_at`` the caller holds, required out of "submitting" (``fields`` may set a new
    ``claimed_at``: a claim re-taken). Returns whether it moved."""
    if Status(frm) != Status.SUBMITTING:
        claims = None
    elif claim is None:
        raise ValueError("a move out of 'submitting' must name the claim it holds")
    else:
        claims = {message_id: claim}
    return move_all(Q(pk=message_id), frm=frm, to=to, claims=claims, only_if=only_if, now=now, **fields) == 1


def hand_off(
    message_id: int,
    *,
    claim: datetime,
    now: datetime,
    gateway: str,
    purpose: str,
    to_customer: bool = True,
    to_contact: bool = False,
) -> bool:
    """Dispatch's hand-off, "submitting" → "submitting" (a move of the table): re-take the
    claim and stamp ``handed_at`` and the gateway, only while the claim is still ``claim``
    and the recipient may still receive a message of ``purpose``. Returns whether it was
    handed.

    What "may still receive" means depends on the recipient (``to_customer``: the row has
    a customer; ``to_contact``: it goes to its ``contact_mobile``):
    1. a customer: consent for the purpose, not opted out, not archived
       (crm.care.audience.reachable's rule);
    2. a contact number: not opted out (``OptedOutMobile``), checked as well for a
       customer's row that goes to a contact number (a complaint's);
    3. a row without a customer is a service notice to a contact (an unlinked complainant)
       and needs only 2.

    The same compare-and-set ``move`` would write, as one hand-written statement: it runs
    once for every message sent, and building it through the ORM cost about 2 ms of CPU a
    message, two-thirds of the hand-off (docs/performance.md, dispatch throughput).
    """
    if Status.SUBMITTING not in OutboundMessage.ALLOWED_MOVES[Status.SUBMITTING]:
        raise IllegalMove(Status.SUBMITTING, Status.SUBMITTING)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _hand_off_sql(CONSENT_FIELD[Purpose(purpose)], to_customer, to_contact),
            [adapt(now), adapt(now), adapt(now), gateway, message_id, Status.SUBMITTING.value, adapt(claim)],
        )
        return bool(cursor.rowcount == 1)


@functools.cache
def _hand_off_sql(consent_field: str, to_customer: bool = True, to_contact: bool = False) -> str:
    qn = connection.ops.quote_name

    def column(model: Any, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    message, customer, opted = OutboundMessage, Customer, OptedOutMobile
    table = qn(message._meta.db_table)
    contact = (
        f" AND NOT EXISTS (SELECT 1 FROM {qn(opted._meta.db_table)} o"
        f" WHERE o.{column(opted, 'mobile')} = {table}.{column(message, 'contact_mobile')})"
        if to_contact
        else ""
    )
    if not to_customer:
        return (
            f"UPDATE {table} SET {column(message, 'updated_at')} = %s,"
            f" {column(message, 'claimed_at')} = %s, {column(message, 'handed_at')} = %s,"
            f" {column(message, 'gateway')} = %s"
            f" WHERE {column(message, 'id')} = %s AND {column(message, 'status')} = %s"
            f" AND {column(message, 'claimed_at')} = %s AND {column(message, 'customer')} IS NULL"
            f" AND {column(message, 'contact_mobile')} <> ''{contact}"
        )
    return (
        f"UPDATE {qn(message._meta.db_table)} SET {column(message, 'updated_at')} = %s,"
        f" {column(message, 'claimed_at')} = %s, {column(message, 'handed_at')} = %s,"
        f" {column(message, 'gateway')} = %s"
        f" WHERE {column(message, 'id')} = %s AND {column(message, 'status')} = %s"
        f" AND {column(message, 'claimed_at')} = %s"
        f" AND EXISTS (SELECT 1 FROM {qn(customer._meta.db_table)} c"
        f" WHERE c.{column(customer, 'id')} = {qn(message._meta.db_table)}.{column(message, 'customer')}"
        f" AND c.{column(customer, consent_field)} AND NOT c.{column(customer, 'has_opted_out')}"
        f" AND NOT c.{column(customer, 'is_archived')}){contact}"
    )


def cancel(message_id: int, *, reason: str, now: datetime | None = None) -> bool:
    """Cancel a scheduled or held row (staff, opt-out). A claimed row cannot be: the gateway
    may already have it. Returns whether it was cancelled."""
    return any(
        move(message_id, frm=frm, to=Status.CANCELLED, now=now, error=reason[:300])
        for frm in (Status.SCHEDULED, Status.HELD)
    )


def release_held(
    message_id: int,
    *,
    scheduled_at: datetime,
    window_ends_at: datetime,
    text: str | None = None,
    params: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    """A held row, once what held it is fixed, back to the queue for the given window
    (``text``/``params``: the message rendered again). Refused while the text still has an
    unfilled placeholder. Returns whether it was released (False: no longer held)."""
    if text is None:
        text = OutboundMessage.objects.filter(pk=message_id).values_list("text", flat=True).first() or ""
    left = templating.missing_values(text)
    if left:
        raise DomainError(f"短信中还有未填写的内容：{'、'.join('{' + n + '}' for n in left)}", field="text")
    if window_ends_at <= scheduled_at:
        raise DomainError("发送截止时间应晚于计划发送时间", field="window_ends_at")
    fields: dict[str, Any] = {"text": text} | ({"params": dict(params)} if params is not None else {})
    return move(
        message_id,
        frm=Status.HELD,
        to=Status.SCHEDULED,
        now=now,
        scheduled_at=scheduled_at,
        next_attempt_at=scheduled_at,
        window_ends_at=window_ends_at,
        error="",
        error_code="",
        **fields,
    )


def resend(
    message_id: int, *, frm: str, scheduled_at: datetime, window_ends_at: datetime, now: datetime | None = None
) -> bool:
    """补发: a failed or expired row back to the queue for a new window, with its attempts
    reset. Returns whether it moved (False: no longer in ``frm``)."""
    if Status(frm) not in (Status.FAILED, Status.EXPIRED):
        raise IllegalMove(Status(frm), Status.SCHEDULED)
    if window_ends_at <= scheduled_at:
        raise DomainError("发送截止时间应晚于计划发送时间", field="window_ends_at")
    return move(
        message_id,
        frm=frm,
        to=Status.SCHEDULED,
        now=now,
        scheduled_at=scheduled_at,
        next_attempt_at=scheduled_at,
        window_ends_at=window_ends_at,
        attempts=0,
        error="",
        error_code="",
    )


__all__ = [
    "IllegalMove",
    "Row",
    "allowed",
    "cancel",
    "move",
    "move_all",
    "queue",
    "queue_for",
    "release_held",
    "resend",
]
