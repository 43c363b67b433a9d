"""Backup and restore of the database, and the erasure ledger's replay after a restore.

- SQLite (embedded default): Python's ``sqlite3`` online backup API, page by page, safe
  while the server and the job runner write (WAL); restore copies the backup into the live
  database the same way.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``; the
  client tools must be of the server's major version or newer.

A backup is older than the erasures made since. ``restore`` therefore reads the erasure
ledger of the database it is about to overwrite (and, optionally, a ledger file written by
``backup --ledger`` or ``restore --ledger``), restores, then anonymises again every
customer the ledger names and writes the missing ledger rows: a customer erased after the
backup stays erased (PIPL art. 47). The field-encryption and blind-index keys are not in
the database: back them up separately (docs/operations.md).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, connections
from django.utils.dateparse import parse_datetime

from crm.customers.models import Customer
from crm.privacy import erasure
from crm.privacy.models import ErasureRecord

LEDGER_FIELDS = ("company_id", "customer_pk", "customer_number", "kind", "reason", "erased_at", "erased_by_id", "rows")


def _pg_env() -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    args = ["--dbname", str(s["NAME"])]
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def backup(path: Path) -> None:
    """Write a consistent copy of the database to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        args, env = _pg_env()
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path), *args], env=env, check=True)
    else:
        raise RuntimeError(f"不支持的数据库：{connection.vendor}")


def read_ledger() -> list[dict[str, Any]]:
    """The erasure ledger of the current database (empty when it cannot be read)."""
    try:
        rows = list(ErasureRecord.objects.exclude(kind=ErasureRecord.Kind.RESTRICT).values(*LEDGER_FIELDS))
    except DatabaseError:
        return []
    for row in rows:
        row["erased_at"] = row["erased_at"].isoformat()
    return rows


def write_ledger(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def load_ledger(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8")))


def _restore_database(path: Path) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    elif connection.vendor == "postgresql":
        connections.close_all()
        args, env = _pg_env()
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(path)],
            env=env,
            check=True,
        )
    else:
        raise RuntimeError(f"不支持的数据库：{connection.vendor}")


@dataclass
class RestoreResult:
    ledger_rows: int
    replayed: int


def replay_ledger(rows: list[dict[str, Any]], *, now: datetime) -> int:
    """Anonymise again every customer the ledger names that the restored database still
    holds in full; returns how many were."""
    replayed = 0
    for row in rows:
        customer = Customer.objects.filter(pk=row["customer_pk"], number=row["customer_number"]).first()
        if customer is None:
            continue
        if (
            customer.name == erasure.ERASED_NAME
            and not erasure.customer_mobiles(customer)
            and erasure.is_erased(customer.pk)
        ):
            continue
        record = ErasureRecord(**{k: row[k] for k in LEDGER_FIELDS if k != "erased_at"})
        record.erased_at = parse_datetime(row["erased_at"]) or now
        erasure.anonymise_customer(customer, actor=None, reason=record.reason, kind=record.kind, now=now, replay=record)
        replayed += 1
    return replayed


def restore(path: Path, *, now: datetime, ledger: Path | None = None) -> RestoreResult:
    """Restore ``path`` over the current database, then replay the erasure ledger."""
    if not path.exists():
        raise FileNotFoundError(path)
    rows = {(r["customer_pk"], r["customer_number"]): r for r in read_ledger()}
    if ledger is not None and ledger.exists():
        rows.update({(r["customer_pk"], r["customer_number"]): r for r in load_ledger(ledger)})
    _restore_database(path)
    replayed = replay_ledger(list(rows.values()), now=now)
    return RestoreResult(len(rows), replayed)
