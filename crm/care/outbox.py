"""Fast inserts of outbox rows (OutboundMessage) for planning and approval.

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

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import QuerySet

from crm.care.models import OutboundMessage
from crm.core import bulk

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


__all__ = ["Row", "queue", "queue_for"]
