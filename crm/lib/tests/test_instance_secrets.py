"""The installation's own keys: created once with mode 0600, reused, never the repository's;
an existing demo database keeps the old derived keys so its ID numbers still decrypt."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import stat
from contextlib import closing

import pytest
from cryptography.fernet import Fernet

from crm.lib import instance_secrets
from crm.lib.instance_secrets import KEYS, SecretsFileError, blind_index_key_bytes, load_or_create


def test_first_start_creates_the_file_readable_by_its_owner_only(tmp_path):
    keys = load_or_create(tmp_path, existing_database=tmp_path / "estatecrm.sqlite3", warn=io.StringIO())
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(keys) == set(KEYS)
    assert keys["SECRET_KEY"] != instance_secrets.LEGACY_DEV_SECRET_KEY
    assert len(keys["SECRET_KEY"]) >= 50
    Fernet(keys["FIELD_ENCRYPTION_KEY"].encode())  # a valid Fernet key
    assert json.loads(path.read_text())["legacy_dev_keys"] is False


def test_later_starts_reuse_the_same_keys(tmp_path):
    first = load_or_create(tmp_path, existing_database=None, warn=io.StringIO())
    second = load_or_create(tmp_path, existing_database=None, warn=io.StringIO())
    assert first == second


def test_two_installations_get_different_keys(tmp_path):
    one = load_or_create(tmp_path / "a", existing_database=None, warn=io.StringIO())
    two = load_or_create(tmp_path / "b", existing_database=None, warn=io.StringIO())
    assert all(one[key] != two[key] for key in KEYS)


def _database_with(path, *, customers: int) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE customers_customer (id integer PRIMARY KEY, id_number_enc text)")
        db.executemany("INSERT INTO customers_customer (id_number_enc) VALUES (?)", [("x",)] * customers)
        db.commit()


def test_an_existing_database_keeps_the_old_derived_keys_with_a_warning(tmp_path):
    database = tmp_path / "estatecrm.sqlite3"
    _database_with(database, customers=1)
    # A value encrypted before this change: Fernet key derived from the old dev SECRET_KEY.
    old = hashlib.sha256(b"field-encryption:dev-insecure-key-change-me").digest()
    token = Fernet(base64.urlsafe_b64encode(old)).encrypt(b"110101199003070018")
    warnings = io.StringIO()
    keys = load_or_create(tmp_path, existing_database=database, warn=warnings)
    assert Fernet(keys["FIELD_ENCRYPTION_KEY"].encode()).decrypt(token) == b"110101199003070018"
    assert (
        blind_index_key_bytes(keys["BLIND_INDEX_KEY"])
        == hashlib.sha256(b"blind-index:dev-insecure-key-change-me").digest()
    )
    assert keys["SECRET_KEY"] != instance_secrets.LEGACY_DEV_SECRET_KEY  # sessions need no continuity
    assert "旧版公开的开发密钥" in warnings.getvalue()
    # Once written, the file decides: the warning repeats on every start until replaced.
    again = io.StringIO()
    assert load_or_create(tmp_path, existing_database=database, warn=again) == keys
    assert "旧版公开的开发密钥" in again.getvalue()


def test_a_file_readable_by_others_is_narrowed_to_the_owner(tmp_path):
    load_or_create(tmp_path, existing_database=None, warn=io.StringIO())
    path = tmp_path / "secrets.json"
    path.chmod(0o644)
    warnings = io.StringIO()
    load_or_create(tmp_path, existing_database=None, warn=warnings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "0600" in warnings.getvalue()


@pytest.mark.parametrize("content", ["not json", "{}", '{"SECRET_KEY": "x", "FIELD_ENCRYPTION_KEY": ""}'])
def test_a_broken_file_is_an_error_not_new_keys(tmp_path, content):
    path = tmp_path / "secrets.json"
    path.write_text(content)
    with pytest.raises(SecretsFileError):
        load_or_create(tmp_path, existing_database=None, warn=io.StringIO())
    assert path.read_text() == content  # never silently replaced: that would lose every ID number


def test_blind_index_key_bytes():
    assert blind_index_key_bytes("plain") == b"plain"
    assert blind_index_key_bytes("hex:00ff") == b"\x00\xff"


@pytest.mark.parametrize("setup", ["empty file", "no customers table", "no customer yet"])
def test_a_database_without_customers_gets_new_keys_without_a_warning(tmp_path, setup):
    """`make check` runs `makemigrations --check`, which leaves an empty var/estatecrm.sqlite3:
    a `make run` afterwards must not take the public development keys for it."""
    database = tmp_path / "estatecrm.sqlite3"
    if setup == "empty file":
        database.touch()  # what opening a connection leaves: no table, no page
    elif setup == "no customers table":
        with closing(sqlite3.connect(database)) as db:
            db.execute("CREATE TABLE django_migrations (id integer PRIMARY KEY)")
            db.commit()
    else:
        _database_with(database, customers=0)
    warnings = io.StringIO()
    keys = load_or_create(tmp_path, existing_database=database, warn=warnings)
    old = base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:dev-insecure-key-change-me").digest()).decode()
    assert keys["FIELD_ENCRYPTION_KEY"] != old
    assert json.loads((tmp_path / "secrets.json").read_text())["legacy_dev_keys"] is False
    assert warnings.getvalue() == ""


def test_a_file_that_is_not_a_readable_database_keeps_the_old_keys(tmp_path):
    database = tmp_path / "estatecrm.sqlite3"
    database.write_bytes(b"SQLite format 3\x00" + b"\xff" * 100)
    keys = load_or_create(tmp_path, existing_database=database, warn=io.StringIO())
    old = base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:dev-insecure-key-change-me").digest()).decode()
    assert keys["FIELD_ENCRYPTION_KEY"] == old
