"""Erasure reaches the report snapshots (PIPL art. 47).

A pack's snapshot masks names but keeps customer numbers (客户编号) and free text copied
from the other apps (客户意见, 投诉内容, 问题描述), so after the live rows are anonymised
(crm.privacy.erasure) a snapshot would still lead to the customer. ``erase_from_packs`` is
registered with the erasure (crm.reports.apps) and, for one customer, in every pack of
the customer's company (any kind, draft or submitted: this is the one change a submitted
pack takes):

1. the customer's rows are found in the tables (sections → tables → rows): a cell equal
   to the customer's number, or to the number of one of their complaints or
   first-responder issues (the rows ``PLAN`` matched, unlinked ones found by mobile too);
2. in those rows the number becomes ``已删除``, the columns copying free text the erasure
   rewrites (``building.CUSTOMER_TEXT_COLUMNS``) and every cell quoting the customer's name
   or mobile, in full or as displayed (张*, 138****5678), become ``（个人信息已删除）``;
3. anywhere else in the snapshot (other rows, figures) and in the author's summary and
   next period's focus, text quoting the full name (two characters or more) or a mobile,
   in full or masked, is replaced the same way, as ``QUOTES`` does for the other apps;
4. a changed pack counts the erasure (``erasure_count``, ``erased_at``) and gets an audit
   row; neither names the customer.

Packs are found by a text search of the snapshot for the customer's number, their
complaints' and issues' numbers and their masked mobiles (ASCII, so the same on SQLite,
which stores JSON with escaped Chinese, and PostgreSQL), and of the author's text for the
name and mobiles: a snapshot quoting only the name, in none of the customer's rows, is not
found. The search reads every pack of the company once per erased customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models.functions import Cast

from crm.core import audit
from crm.lib.mobile import mask_mobile
from crm.privacy.erasure import ERASED_NAME, MIN_QUOTED_NAME, REMOVED, Subject
from crm.reports.building import CUSTOMER_TEXT_COLUMNS, ERASED_NUMBER, mask_name
from crm.reports.models import ReportPack

if TYPE_CHECKING:
    from crm.accounts.models import User

# The rows PLAN matched whose numbers mark a snapshot row as the customer's.
REFERENCE_LABELS = ("complaints.complaint", "complaints.customerissue")


@dataclass(frozen=True)
class Needles:
    """What identifies one customer in a snapshot."""

    number: str
    # Numbers of the customer's complaints and issues: a row carrying one is theirs.
    references: frozenset[str]
    # Within the customer's own rows: the name in full and masked, mobiles in full and masked.
    own: tuple[str, ...]
    # Anywhere: the full name (MIN_QUOTED_NAME characters or more), mobiles in full and masked.
    quoted: tuple[str, ...]

    @property
    def searched(self) -> tuple[str, ...]:
        """The ASCII values a pack holding the customer's rows or quoting a mobile contains."""
        masked = tuple(n for n in self.quoted if n.isascii())
        return tuple(dict.fromkeys(n for n in (self.number, *sorted(self.references), *masked) if n))


def needles_for(number: str, name: str, mobiles: Iterable[str], references: Iterable[str]) -> Needles:
    name = name.strip()
    if name == ERASED_NAME:
        name = ""
    numbers: list[str] = []
    for mobile in mobiles:
        numbers += [mobile, mask_mobile(mobile)]
    numbers = [n for n in dict.fromkeys(numbers) if n]
    names = [name] if len(name) >= MIN_QUOTED_NAME else []
    own = [*names, mask_name(name), *numbers] if name else numbers
    return Needles(
        number=number,
        references=frozenset(r for r in references if r),
        own=tuple(n for n in own if n),
        quoted=(*names, *numbers),
    )


def _quotes(text: str, needles: Iterable[str]) -> bool:
    return any(n in text for n in needles)


def erase_from_snapshot(data: dict[str, Any], needles: Needles) -> bool:
    """Rewrite one snapshot in place (steps 1–3 of the module docstring for ``data``);
    True when anything changed. A second call with the same needles changes nothing."""
    changed = False
    for section in data.get("sections", []):
        for figure in section.get("figures", []):
            value = figure.get("value")
            if isinstance(value, str) and value != REMOVED and _quotes(value, needles.quoted):
                figure["value"] = REMOVED
                changed = True
        for table in section.get("tables", []):
            texts = {i for i, column in enumerate(table.get("columns", [])) if column in CUSTOMER_TEXT_COLUMNS}
            for row in table.get("rows", []):
                own = any(isinstance(v, str) and (v == needles.number or v in needles.references) for v in row)
                for i, value in enumerate(row):
                    if not isinstance(value, str) or value in ("", REMOVED, ERASED_NUMBER):
                        continue
                    if own and value == needles.number:
                        row[i] = ERASED_NUMBER
                    elif (own and (i in texts or _quotes(value, needles.own))) or _quotes(value, needles.quoted):
                        row[i] = REMOVED
                    else:
                        continue
                    changed = True
    return changed


def _references(subject: Subject) -> set[str]:
    found: set[str] = set()
    for label in REFERENCE_LABELS:
        rows = subject.rows.get(label)
        if rows is not None:
            found.update(str(n) for n in rows.values_list("number", flat=True))
    return found


def erase_from_packs(subject: Subject, *, actor: User | None, now: datetime) -> int:
    """Rewrite the customer out of every pack of their company (module docstring); the
    number of packs changed."""
    customer = subject.customer
    needles = needles_for(customer.number, customer.name, subject.mobiles, _references(subject))
    where = models.Q(pk__in=[])
    for value in needles.searched:
        where |= models.Q(snapshot_text__contains=value)
    for value in needles.quoted:
        where |= models.Q(summary__contains=value) | models.Q(next_focus__contains=value)
    with transaction.atomic():
        pks = list(
            ReportPack.objects.filter(company_id=customer.company_id)
            .alias(snapshot_text=Cast("data", models.TextField()))
            .filter(where)
            .values_list("pk", flat=True)
        )
        changed = 0
        for pack in ReportPack.objects.select_for_update().filter(pk__in=pks).order_by("pk"):
            fields = ["data"] if erase_from_snapshot(pack.data, needles) else []
            for name in ("summary", "next_focus"):
                text = getattr(pack, name)
                if text != REMOVED and _quotes(text, needles.quoted):
                    setattr(pack, name, REMOVED)
                    fields.append(name)
            if not fields:
                continue
            pack.erasure_count += 1
            pack.erased_at = now
            pack.save(update_fields=[*fields, "erasure_count", "erased_at"])
            audit.log(
                audit.AuditLog.Action.UPDATE,
                actor=actor,
                target=pack,
                company_id=pack.company_id,
                summary="删除客户个人信息：报告中的客户编号及提及该客户的文字已清除",
            )
            changed += 1
    return changed
