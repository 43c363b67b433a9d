"""The uploaded file and its report between upload and import, kept on disk.

MEDIA_ROOT/imports/<token>.upload holds the checked upload as received, <token>.json its
validation report (and a customer file's valid rows, so that importing need not parse the
file again). The ImportJob row (crm.customers.models) says whose they are and until when;
crm.customers.jobs.purge_stale_uploads deletes them on schedule (PIPL: they hold
customers' personal information). They are not encrypted: the directory must be on the
server's own disk, readable by the application's user only (docs/operations.md).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from crm.customers.importing.columns import CUSTOMERS
from crm.customers.importing.reading import EXTENSIONS, ImportFileError, sniff_format
from crm.customers.importing.validating import CustomerRow, Report, Validation

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

_TOKEN = re.compile(r"[0-9a-f]{32}")
SUFFIXES = (".upload", ".json")


def import_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def upload_path(token: str) -> Path:
    if not _TOKEN.fullmatch(token):
        raise ImportFileError("导入文件已失效，请重新上传")
    return import_dir() / f"{token}.upload"


def report_path(token: str) -> Path:
    return upload_path(token).with_suffix(".json")


def check_upload_name_and_size(name: str, size: int | None) -> None:
    """Refuse (ImportFileError) an extension we do not read and a file over IMPORT_MAX_BYTES."""
    suffix = Path(name or "").suffix.lower()
    if suffix not in EXTENSIONS:
        raise ImportFileError(
            "只支持 Excel 工作簿（.xlsx、.xls）或 CSV、文本文件（.csv、.txt），请下载导入模板填写后上传"
        )
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        limit_mb = settings.IMPORT_MAX_BYTES // (1024 * 1024)
        raise ImportFileError(
            f"文件过大（{size / 1024 / 1024:.1f} MB），单个文件不能超过 {limit_mb} MB，请拆分后分批导入"
        )
    if not size:
        raise ImportFileError("上传的文件是空的")


def store_upload(upload: UploadedFile[Any]) -> str:
    """Check an uploaded file and keep it under MEDIA_ROOT/imports; return its token.

    Refused with a Chinese message: another extension, a file over IMPORT_MAX_BYTES, and
    content that is no table we read (crm.customers.importing.reading.sniff_format: a web
    page or an image renamed, a workbook that unpacks to too much, a polyglot).
    """
    check_upload_name_and_size(upload.name or "", upload.size)
    directory = import_dir()
    directory.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    path = upload_path(token)
    written = 0
    with path.open("wb") as out:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > settings.IMPORT_MAX_BYTES:  # a client that declared less than it sends
                break
            out.write(chunk)
    try:
        check_upload_name_and_size(upload.name or "", written)
        sniff_format(path)
    except ImportFileError:
        discard_upload(token)
        raise
    return token


def save_report(token: str, report: Report, rows: Sequence[Any] | None = None) -> None:
    """Keep the report (and the valid customer rows, so confirming need not parse the file again)."""
    data = report.to_dict()
    if rows is not None and report.kind == CUSTOMERS:
        data["rows"] = [_row_to_json(row) for row in rows]
    path = report_path(token)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)  # a reader never sees half a report


def _load(token: str) -> dict[str, Any] | None:
    path = report_path(token)
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_report(token: str) -> Report | None:
    data = _load(token)
    return Report.from_dict(data) if data is not None else None


def load_validation(token: str) -> Validation | None:
    """The upload's validation of a customer file, with its valid rows; None when not kept."""
    data = _load(token)
    if data is None or "rows" not in data:
        return None
    return Validation(report=Report.from_dict(data), rows=[_row_from_json(row) for row in data["rows"]])


CUSTOMER_ROW_BIRTHDAY = CustomerRow.__slots__.index("birthday_on")


def _row_to_json(row: CustomerRow) -> list[Any]:
    values = [getattr(row, name) for name in CustomerRow.__slots__]
    values[CUSTOMER_ROW_BIRTHDAY] = row.birthday_on.isoformat() if row.birthday_on else None
    return values


def _row_from_json(values: list[Any]) -> CustomerRow:
    birthday = values[CUSTOMER_ROW_BIRTHDAY]
    values[CUSTOMER_ROW_BIRTHDAY] = date.fromisoformat(birthday) if birthday else None
    return CustomerRow(*values)


def discard_upload(token: str) -> None:
    """Delete an upload's files (the file, its report)."""
    try:
        path = upload_path(token)
    except ImportFileError:
        return
    for suffix in (*SUFFIXES, ".partial"):
        path.with_suffix(suffix).unlink(missing_ok=True)


def stored_tokens() -> dict[str, float]:
    """{token: newest modification time} of the files under MEDIA_ROOT/imports."""
    directory = import_dir()
    found: dict[str, float] = {}
    if directory.is_dir():
        for path in directory.iterdir():
            if _TOKEN.fullmatch(path.stem):
                found[path.stem] = max(found.get(path.stem, 0.0), path.stat().st_mtime)
    return found
