"""Writing an import (the confirm step): the file validated again, then its rows in bulk.

The writes reuse the rules of crm.customers.services (normalised mobiles, one customer per
mobile and company, customer numbers, birth_mmdd, a timeline event, the unit status and
owner stage of a deal) but in bulk, through crm.core.bulk: 100,000 rows in a few seconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.accounts.access import company_of
from crm.core import audit, bulk
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.customers.importing.columns import CUSTOMERS, DEALS, KINDS
from crm.customers.importing.validating import (
    CustomerRow,
    DealRow,
    Options,
    Report,
    Validation,
    chunks,
    recheck_customers,
    validate_file,
)
from crm.customers.models import Channel, ConsentRecord, Customer, Deal, Stage, Tag, TimelineEvent
from crm.customers.services import default_signing_deadline, next_customer_numbers, unit_status_for
from crm.projects.models import Unit

if TYPE_CHECKING:
    from crm.accounts.models import User

# Rows written per bulk round; bounds memory and keeps each INSERT reasonable.
WRITE_CHUNK = 5000
# Where imported customers' care consent was recorded (Customer.consent_source, ConsentRecord.source).
IMPORT_SOURCE = "Excel导入"


class ImportBlocked(DomainError):
    """The file has bad rows and the user did not choose to import only the valid ones."""

    def __init__(self, report: Report, valid_rows: list[Any]) -> None:
        super().__init__(f"文件中有 {report.invalid} 行存在问题，未导入任何数据")
        self.report = report
        self.valid_rows = valid_rows


@dataclass
class ImportResult:
    kind: str
    imported: int
    skipped: int
    first_number: str = ""
    last_number: str = ""


def import_file(
    path: Path,
    kind: str,
    *,
    user: User,
    filename: str,
    batch: str,
    only_valid: bool = False,
    ip: str | None = None,
    prevalidated: Validation | None = None,
    options: Options | None = None,
) -> ImportResult:
    """Validate the file again and write it in one transaction.

    1. The file is validated again (with the user's ``options``: encoding, whole-file
       values, column choices); with ``prevalidated`` (the upload's validation of the same
       customer file) only the database-dependent checks are redone.
    2. A file lacking a required column or a whole-file value imports nothing (DomainError);
       any bad row blocks the whole file (ImportBlocked) unless ``only_valid`` is set.
    3. The rows are written in bulk inside ``transaction.atomic``: a failure part-way
       leaves nothing behind, the reserved customer numbers included.
    4. One audit row (action import) summarises the batch.
    """
    if prevalidated is not None and kind == CUSTOMERS:
        validation = recheck_customers(prevalidated, user=user)
    else:
        validation = validate_file(path, kind, user=user, filename=filename, options=options)
    report = validation.report
    if report.blocked:
        raise DomainError(f"{report.blocked_message()}，未导入任何数据")
    if report.errors and not only_valid:
        raise ImportBlocked(report, validation.rows)
    if not validation.rows:
        raise DomainError("没有可导入的有效行")
    try:
        with transaction.atomic():
            if kind == CUSTOMERS:
                result = _write_customers(validation.rows, actor=user, batch=batch)
            else:
                result = _write_deals(validation.rows, actor=user, batch=batch)
            result.skipped = report.invalid
            summary = f"Excel导入{KINDS[kind]} {result.imported} 条（{filename}）"
            if result.skipped:
                summary += f"，跳过有问题的行 {result.skipped} 条"
            audit.log(
                audit.AuditLog.Action.IMPORT,
                actor=user,
                target_type="customers.customer" if kind == CUSTOMERS else "customers.deal",
                target_id=batch,
                summary=summary,
                changes={
                    "kind": kind,
                    "file": filename,
                    "batch": batch,
                    "rows": report.total,
                    "imported": result.imported,
                    "skipped": result.skipped,
                    "only_valid": only_valid,
                    "numbers": [result.first_number, result.last_number] if result.first_number else [],
                },
                ip=ip,
            )
    except IntegrityError as exc:
        # Someone registered the same mobile (or sold the same unit) between validation and write.
        raise DomainError("导入期间有其他人登记了相同的手机号或房源，本次导入已全部撤销，请重新上传校验") from exc
    return result


def _ensure_tags(company_id: int, names: set[str]) -> dict[str, int]:
    wanted = sorted(names)
    ids: dict[str, int] = {}
    for chunk in chunks(wanted):
        ids.update(Tag.objects.filter(company_id=company_id, name__in=chunk).values_list("name", "id"))
    missing = [name for name in wanted if name not in ids]
    if missing:
        Tag.objects.bulk_create([Tag(company_id=company_id, name=name) for name in missing], ignore_conflicts=True)
        for chunk in chunks(missing):
            ids.update(Tag.objects.filter(company_id=company_id, name__in=chunk).values_list("name", "id"))
    return ids


def _write_customers(rows: list[CustomerRow], *, actor: User, batch: str) -> ImportResult:
    company_id = company_of(actor)
    numbers = next_customer_numbers(company_id, len(rows))
    tag_ids = _ensure_tags(company_id, {t for row in rows for t in row.tags})
    now = timezone.now()
    ids = bulk.reserve_ids(Customer, len(rows))
    for start in range(0, len(rows), WRITE_CHUNK):
        _write_customer_chunk(
            rows[start : start + WRITE_CHUNK],
            numbers[start : start + WRITE_CHUNK],
            None if ids is None else ids[start : start + WRITE_CHUNK],
            actor=actor,
            company_id=company_id,
            tag_ids=tag_ids,
            now=now,
            batch=batch,
        )
    return ImportResult(kind=CUSTOMERS, imported=len(rows), skipped=0, first_number=numbers[0], last_number=numbers[-1])


def _write_customer_chunk(
    rows: Sequence[CustomerRow],
    numbers: Sequence[str],
    ids: Sequence[int] | None,
    *,
    actor: User,
    company_id: int,
    tag_ids: Mapping[str, int],
    now: datetime,
    batch: str,
) -> None:
    """Write one chunk: customers, their tags, care consents and timeline events.

    ``ids``: the customers' primary keys when reserved beforehand (PostgreSQL), else None:
    the database assigns them and they are read back by number.
    """
    # Generators: on PostgreSQL the rows are built while the server works through the COPY.
    customer_rows = (
        (
            number,
            row.name,
            row.gender,
            row.mobile,
            row.mobile2,
            row.stage,
            row.grade,
            row.is_vip,
            row.owner_id,
            row.project_id,
            row.source_channel,
            row.notes,
            row.birthday_on,
            # services.birth_mmdd for a solar birthday (imports carry no lunar ones).
            f"{row.birthday_on.month:02d}{row.birthday_on.day:02d}" if row.birthday_on else "",
            row.consent_care,
            IMPORT_SOURCE if row.consent_care else "",
            now if row.consent_care else None,
        )
        for row, number in zip(rows, numbers, strict=True)
    )
    fixed = {"company_id": company_id, "created_by_id": actor.pk}
    customer_ids: Sequence[int]
    if ids is None:
        bulk.insert_rows(Customer, CUSTOMER_INSERT_FIELDS, customer_rows, constants=fixed, now=now)
        customer_ids = _ids_by_number(company_id, numbers)
    else:
        with_ids = ((pk, *values) for pk, values in zip(ids, customer_rows, strict=True))
        bulk.insert_rows(Customer, ("id", *CUSTOMER_INSERT_FIELDS), with_ids, constants=fixed, now=now)
        customer_ids = ids
    links = [(pk, tag_ids[tag]) for pk, row in zip(customer_ids, rows, strict=True) for tag in row.tags]
    if links:
        bulk.insert_rows(Customer.tags.through, ("customer_id", "tag_id"), links, now=now)
    bulk.insert_for_each(
        ConsentRecord,
        "customer_id",
        [pk for pk, row in zip(customer_ids, rows, strict=True) if row.consent_care],
        constants={
            "purpose": ConsentRecord.Purpose.CARE,
            "is_granted": True,
            "source": IMPORT_SOURCE,
            "recorded_by_id": actor.pk,
        },
        now=now,
    )
    summaries = {channel: f"{actor} 通过Excel导入客户（{label}）" for channel, label in Channel.choices}
    # The event's data, {"batch": …, "line": …}, serialised as json.dumps would.
    data = f'{{"batch": {json.dumps(batch)}, "line": '
    bulk.insert_rows(
        TimelineEvent,
        ("customer_id", "summary", "data"),
        (
            (pk, summaries[row.source_channel], f"{data}{row.line}}}")
            for pk, row in zip(customer_ids, rows, strict=True)
        ),
        constants={"kind": TimelineEvent.Kind.IMPORTED, "occurred_at": now, "actor_id": actor.pk},
        now=now,
        prepared={"data"},  # already JSON text
    )


def _ids_by_number(company_id: int, numbers: Sequence[str]) -> list[int]:
    """The new customers' ids, in the order of their (consecutive) numbers (SQLite; on
    PostgreSQL they are reserved beforehand, bulk.reserve_ids).

    One range query over the (company, number) index: a list of thousands of numbers in
    IN (...) would need many queries, and on a table PostgreSQL has not analysed since the
    COPY its planner may scan the table for each of them.
    """
    qs = Customer.objects.filter(company_id=company_id)
    if len(numbers[0]) == len(numbers[-1]):  # same width: string order is number order
        found = dict(qs.filter(number__gte=numbers[0], number__lte=numbers[-1]).values_list("number", "id"))
    else:
        found = {}
        for chunk in chunks(numbers):
            found.update(qs.filter(number__in=chunk).values_list("number", "id"))
    return [found[number] for number in numbers]


CUSTOMER_INSERT_FIELDS = (
    "number",
    "name",
    "gender",
    "mobile",
    "mobile2",
    "stage",
    "grade",
    "is_vip",
    "owner_id",
    "project_id",
    "source_channel",
    "notes",
    "birthday_on",
    "birth_mmdd",
    "consent_care",
    "consent_source",
    "consent_at",
)


def _write_deals(rows: list[DealRow], *, actor: User, batch: str) -> ImportResult:
    """Deals as services.create_deal writes them: unit status, owner stage, timeline events."""
    company_id = company_of(actor)
    now = timezone.now()
    Kind = TimelineEvent.Kind
    cal = work_calendar()
    deals = [
        Deal(
            company_id=company_id,
            customer_id=row.customer_id,
            project_id=row.project_id,
            unit_id=row.unit_id,
            consultant_id=row.owner_id,
            price=row.price,
            move_in_kind=row.move_in_kind,
            signing_deadline_on=default_signing_deadline(
                row.dates.get("subscribed_on"), cal, contracted_on=row.dates.get("contracted_on")
            ),
            **row.dates,
        )
        for row in rows
    ]
    for start in range(0, len(deals), WRITE_CHUNK):
        Deal.objects.bulk_create(deals[start : start + WRITE_CHUNK])

    units_by_status: dict[str, list[int]] = defaultdict(list)
    for deal in deals:
        units_by_status[unit_status_for(deal)].append(deal.unit_id)
    for status, unit_ids in units_by_status.items():
        for chunk in chunks(unit_ids):
            Unit.objects.filter(pk__in=chunk).update(status=status)

    stage_labels = dict(Stage.choices)
    promoted: dict[int, str] = {}
    for row in rows:
        if row.customer_stage != Stage.OWNER:
            promoted.setdefault(row.customer_id, row.customer_stage)
    for chunk in chunks(list(promoted)):
        Customer.objects.filter(pk__in=chunk).update(stage=Stage.OWNER, updated_at=now)

    events = [
        TimelineEvent(
            customer_id=pk,
            kind=Kind.STAGE,
            occurred_at=now,
            actor=actor,
            summary=f"阶段：{stage_labels[old]} → 成交客户",
            data={"batch": batch},
        )
        for pk, old in promoted.items()
    ]
    for deal, row in zip(deals, rows, strict=True):
        source = {"source_type": "customers.deal", "source_id": deal.pk, "data": {"batch": batch, "line": row.line}}
        events.append(
            TimelineEvent(
                customer_id=row.customer_id,
                kind=Kind.DEAL,
                occurred_at=now,
                actor=actor,
                summary=f"认购 {row.project_name} {row.unit_label}（Excel导入）",
                **source,
            )
        )
        for key, label in Deal.MILESTONES[1:]:
            value = row.dates.get(key)
            if value:
                events.append(
                    TimelineEvent(
                        customer_id=row.customer_id,
                        kind=Kind.MILESTONE,
                        occurred_at=now,
                        actor=actor,
                        summary=f"{label}：{value:%Y-%m-%d}（{row.unit_label}）",
                        **source,
                    )
                )
    for start in range(0, len(events), WRITE_CHUNK):
        TimelineEvent.objects.bulk_create(events[start : start + WRITE_CHUNK])
    return ImportResult(kind=DEALS, imported=len(deals), skipped=0)
