"""The uploaded file between upload and confirmation, kept on disk, never in the database.

MEDIA_ROOT/imports/<token>.xlsx holds the checked upload, <token>.json beside it its
validation report (and a customer file's valid rows, so that confirming need not parse the
file again), <token>.lock a confirmation under way. Uploads nobody confirmed are purged:
they hold customers' personal information (PIPL).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from crm.core.errors import DomainError
from crm.customers.importing.columns import CUSTOMERS
from crm.customers.importing.reading import ImportFileError, check_workbook_file
from crm.customers.importing.validating import CustomerRow, Report, Validation

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile


def import_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


_TOKEN = re.compile(r"[0-9a-f]{32}")


def upload_path(token: str) -> Path:
    if not _TOKEN.fullmatch(token):
        raise ImportFileError("导入文件已失效，请重新上传")
    return import_dir() / f"{token}.xlsx"


def store_upload(upload: UploadedFile[Any]) -> str:
    """Check an uploaded file and keep it under MEDIA_ROOT/imports; return its token.

    Refused with a Chinese message: a file over IMPORT_MAX_BYTES, another extension, and
    content that is not an Excel workbook (a CSV or text file renamed to .xlsx, a legacy
    or encrypted .xls, a zip that unpacks to an absurd size).
    """
    name = upload.name or ""
    suffix = Path(name).suffix.lower()
    limit_mb = settings.IMPORT_MAX_BYTES // (1024 * 1024)
    if suffix == ".csv":
        raise ImportFileError("不支持 CSV 文件：请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再上传")
    if suffix == ".xls":
        raise ImportFileError("不支持旧版 .xls 文件：请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再上传")
    if suffix != ".xlsx":
        raise ImportFileError("只支持 Excel 工作簿（.xlsx）文件，请下载导入模板填写后上传")
    if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            f"文件过大（{upload.size / 1024 / 1024:.1f} MB），单个文件不能超过 {limit_mb} MB，请拆分后分批导入"
        )
    if not upload.size:
        raise ImportFileError("上传的文件是空的")
    directory = import_dir()
    directory.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    path = upload_path(token)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    try:
        check_workbook_file(path)
    except ImportFileError:
        path.unlink(missing_ok=True)
        raise
    return token


def save_report(token: str, report: Report, rows: Sequence[Any] | None = None) -> None:
    """Keep the report (and the valid customer rows, so confirming need not parse the file again)."""
    data = report.to_dict()
    if rows is not None and report.kind == CUSTOMERS:
        data["rows"] = [_row_to_json(row) for row in rows]
    path = upload_path(token).with_suffix(".json")
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _load(token: str) -> dict[str, Any] | None:
    path = upload_path(token).with_suffix(".json")
    if not path.exists() or not upload_path(token).exists():
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
    try:
        path = upload_path(token)
    except ImportFileError:
        return
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)


@contextmanager
def claim_upload(token: str) -> Iterator[None]:
    """Only one confirmation of an upload at a time: a double click must not import twice
    (on SQLite the second would also wait for the first's write lock and time out)."""
    lock = upload_path(token).with_suffix(".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError as exc:
        raise DomainError("该文件正在导入，请稍候，不要重复提交") from exc
    os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def purge_stale_uploads(*, now: datetime | None = None, max_age: timedelta = timedelta(days=1)) -> int:
    """Delete uploads nobody confirmed: they hold customers' personal information (PIPL)."""
    directory = import_dir()
    if not directory.is_dir():
        return 0
    cutoff = (now or timezone.now()).timestamp() - max_age.total_seconds()
    removed = 0
    for path in directory.iterdir():
        if path.suffix in {".xlsx", ".json", ".lock"} and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
