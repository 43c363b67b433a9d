"""Per-installation secrets for `make run` and development: a file under VAR_DIR, mode 0600.

The first start writes three random keys (Django's SECRET_KEY, the field-encryption key of
ID numbers, the blind-index key) to ``secrets.json``; later starts read them. No key comes
from the repository, so a copy of ``var/*.sqlite3`` does not decrypt with public knowledge.

One exception keeps old demo installations readable (docs/decisions/0023): until this file
existed, DEBUG derived the two field keys from the development SECRET_KEY in the repository.
When the file is missing but the SQLite database already holds customers, the old derived
keys are written into the file once (``legacy_dev_keys``) and a warning says so on every
start; a new database (delete ``var/estatecrm.sqlite3``) gets random keys, and so does one
without a customer — the empty file `manage.py makemigrations --check` (in `make check`)
leaves behind, or a bare `migrate`: nothing in it was encrypted with the public keys.

Plain Python, read by config/settings.py before Django is set up.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sqlite3
import stat
import sys
from contextlib import closing
from pathlib import Path
from typing import TextIO

FILE_NAME = "secrets.json"
KEYS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY")
# The development SECRET_KEY the repository used before instance secrets (public knowledge).
LEGACY_DEV_SECRET_KEY = "dev-insecure-key-change-me"
# A blind-index key given as raw bytes in hex (the old derived key was 32 raw bytes).
HEX_PREFIX = "hex:"


class SecretsFileError(RuntimeError):
    """The secrets file exists but cannot be used (unreadable, not JSON, a key missing)."""


def new_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        # Fernet: urlsafe base64 of 32 random bytes.
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }


def legacy_dev_secrets() -> dict[str, str]:
    """The keys DEBUG used to derive from LEGACY_DEV_SECRET_KEY (crm.lib.crypto before decision 0023)."""

    def derived(purpose: str) -> bytes:
        return hashlib.sha256(f"{purpose}:{LEGACY_DEV_SECRET_KEY}".encode()).digest()

    return {
        # Sessions need no continuity: a fresh SECRET_KEY only logs everyone out once.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(derived("field-encryption")).decode(),
        "BLIND_INDEX_KEY": HEX_PREFIX + derived("blind-index").hex(),
    }


def load_or_create(var_dir: Path, *, existing_database: Path | None, warn: TextIO | None = None) -> dict[str, str]:
    """The installation's keys from ``var_dir/secrets.json``, creating the file on first use.

    ``existing_database``: the SQLite file whose rows may have been encrypted with the
    old development keys; when it exists and the secrets file does not, those keys are kept.
    """
    warn = warn if warn is not None else sys.stderr
    path = var_dir / FILE_NAME
    if not path.exists():
        legacy = existing_database is not None and _holds_customers(existing_database)
        values = legacy_dev_secrets() if legacy else new_secrets()
        _write_new(path, {**values, "legacy_dev_keys": legacy})
    data = _read(path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
        print(f"警告：{path} 的权限过宽，已改为仅所有者可读写（0600）。", file=warn)
    if data.get("legacy_dev_keys"):
        print(
            f"警告：现有数据库中的身份证号仍使用旧版公开的开发密钥加密（{path}）。"
            "演示数据可删除 var/estatecrm.sqlite3 与该文件后重新生成；正式数据请按 docs/operations.md 更换密钥。",
            file=warn,
        )
    return {key: str(data[key]) for key in KEYS}


def _holds_customers(database: Path) -> bool:
    """Whether the SQLite file has customer rows (their ID numbers may be encrypted with the
    old keys). A file that cannot be read as a database is assumed to have them: keeping the
    old keys loses nothing, new ones would make its ID numbers unreadable."""
    if not database.exists():
        return False
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)) as db:
            table = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customers_customer'"
            ).fetchone()
            return table is not None and db.execute("SELECT 1 FROM customers_customer LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return True


def _write_new(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes and the other reads its file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SecretsFileError(f"cannot read the secrets file {path}: {exc}") from exc
    if not isinstance(data, dict) or any(not isinstance(data.get(key), str) or not data[key] for key in KEYS):
        raise SecretsFileError(f"the secrets file {path} lacks one of {', '.join(KEYS)}")
    return data


def blind_index_key_bytes(value: str) -> bytes:
    """The blind-index key as bytes: ``hex:…`` is raw bytes in hex, anything else its UTF-8."""
    if value.startswith(HEX_PREFIX):
        return bytes.fromhex(value[len(HEX_PREFIX) :])
    return value.encode()
