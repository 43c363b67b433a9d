"""Backup and restore: counts come back, and customers erased after the backup stay erased."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from crm.customers.models import Customer
from crm.privacy import erasure
from crm.privacy.models import ErasureRecord

from .conftest import MOBILE, NAME, NOW


def counts() -> dict[str, int]:
    return {m._meta.label_lower: m._default_manager.count() for m in apps.get_models() if m._meta.managed}


def _round_trip(tmp_path: Path, world, director, make_customer, suffix: str) -> None:
    make_customer("备份后新增", mobile="13555550000")  # exists only before the restore
    Customer.objects.filter(name="备份后新增").delete()
    backup = tmp_path / f"estatecrm.{suffix}"
    call_command("backup", str(backup), ledger=str(tmp_path / "ledger.json"))
    before = counts()
    assert backup.stat().st_size > 0

    # After the backup: the customer is erased and another is added.
    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    make_customer("备份后新增", mobile="13555550001")

    call_command("restore", str(backup), yes=True)
    connection.close()

    after = counts()
    # The rows of the backup are back (the new customer is gone) …
    assert after["customers.customer"] == before["customers.customer"]
    assert not Customer.objects.filter(name="备份后新增").exists()
    # … and the erasure made after the backup was replayed from the ledger.
    customer = Customer.objects.get(pk=world.customer.pk)
    assert customer.name == erasure.ERASED_NAME
    assert customer.mobile != MOBILE
    assert not Customer.objects.filter(name=NAME).exists()
    assert ErasureRecord.objects.filter(customer_pk=customer.pk).count() == 1
    differing = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    # Only what the replay writes differs: the ledger row, its audit row, and the family
    # member the erasure deletes.
    assert set(differing) <= {"privacy.erasurerecord", "core.auditlog", "customers.familymember"}, differing


@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_and_restore_keep_counts_and_erasures(tmp_path, world, director, make_customer):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite round trip; the PostgreSQL one is below")
    _round_trip(tmp_path, world, director, make_customer, "sqlite3")


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_backup_and_restore_keep_counts_and_erasures(tmp_path, world, director, make_customer):
    _round_trip(tmp_path, world, director, make_customer, "dump")


@pytest.mark.django_db
def test_restore_refuses_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="备份文件不存在"):
        call_command("restore", str(tmp_path / "none.sqlite3"), yes=True)
