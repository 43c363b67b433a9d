"""The copy a customer may ask for (PIPL art. 45): every personal field, as JSON and CSV.

Read through the same table the erasure uses (crm.privacy.erasure.PLAN), so what a copy
shows and what an erasure removes are one list. The ID number appears as its stored hint
(``110105********002X``): the customer knows it, and a file handed over the counter must
not carry it in full (DESIGN 3.7: never in exports). Producing a copy is audited.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from crm.core.xlsx import neutralise
from crm.customers.models import Customer
from crm.privacy import erasure

CUSTOMER_FIELDS = (
    "number",
    "name",
    "gender",
    "mobile",
    "mobile2",
    "id_number_hint",
    "birthday_on",
    "birthday_is_lunar",
    "lunar_month",
    "lunar_day",
    "stage",
    "source_channel",
    "notes",
    "consent_notification",
    "consent_care",
    "consent_marketing",
    "consent_source",
    "consent_at",
    "has_opted_out",
    "opted_out_at",
    "created_at",
)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return ""
    return value


def _row(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        f = obj._meta.get_field(name)
        label = str(getattr(f, "verbose_name", name))
        display = getattr(obj, f"get_{name}_display", None)
        value = display() if getattr(f, "choices", None) and display is not None else getattr(obj, name)
        out[label] = _plain(value)
    return out


def personal_data(customer: Customer) -> dict[str, Any]:
    """{section title: a record or a list of records}, labels in Chinese."""
    data: dict[str, Any] = {"客户": _row(customer, CUSTOMER_FIELDS)}
    for label, qs in erasure.matched_rows(customer).items():
        rule = next(r for r in erasure.PLAN if r.label == label)
        fields = rule.copy_fields or tuple(erasure.rule_fields(rule))
        fields = tuple(f for f in fields if f != "children_consent_at")
        rows = [_row(obj, fields) for obj in qs.order_by("pk")]
        if label == "customers.customerprofile":
            data[rule.title] = {k: v for k, v in rows[0].items() if v} if rows else {}
        elif rows:
            data[rule.title] = rows
    return data


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def as_csv(data: dict[str, Any]) -> bytes:
    """One line per value: 类别, 序号, 项目, 内容 (UTF-8 with BOM so Excel reads Chinese);
    a value a spreadsheet would evaluate is neutralised like the workbooks' cells."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["类别", "序号", "项目", "内容"])
    for section, value in data.items():
        records = value if isinstance(value, list) else [value]
        for n, record in enumerate(records, start=1):
            for key, item in record.items():
                text = "" if item is None else str(item)
                writer.writerow([section, n, key, neutralise(text)[0]])
    return out.getvalue().encode("utf-8")
