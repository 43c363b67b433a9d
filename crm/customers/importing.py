"""Excel import of customers and deals (导入): read, validate every row, then write in bulk.

The flow (pages in crm.customers.io_views):
1. The upload is checked (size, a real .xlsx, a header row with the required columns) and
   kept as MEDIA_ROOT/imports/<token>.xlsx beside its validation report (<token>.json); no
   database row is written for it.
2. Every row is validated; the report lists each bad row by its Excel line number, its
   column and a Chinese reason.
3. On confirmation the file is read and validated again (the database may have changed
   meanwhile) and written in one transaction: every row, or with "仅导入有效行" only the
   valid ones. A file with errors imports nothing unless the user chose that.

The writes reuse the rules of crm.customers.services (normalised mobiles, one customer per
mobile and company, customer numbers, birth_mmdd, a timeline event,
the unit status and owner stage of a deal) but in bulk: 100,000 rows in a few seconds.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Field
from django.utils import timezone
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from crm.accounts.access import assignable_owners_q, company_of, widest_scope
from crm.accounts.roles import Scope
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.customers.milestones import milestone_errors
from crm.customers.models import (
    Channel,
    ConsentRecord,
    Customer,
    Deal,
    Gender,
    Grade,
    MoveInKind,
    Stage,
    Tag,
    TimelineEvent,
)
from crm.customers.selectors import customers_visible_to
from crm.customers.services import DEAL_DATE_FIELDS, _unit_status_for, default_signing_deadline, next_customer_numbers
from crm.lib.mobile import InvalidMobile, mask_mobile, normalize_mobile
from crm.lib.workcalendar import WorkCalendar
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from crm.accounts.models import User

CUSTOMERS = "customers"
DEALS = "deals"
KINDS = {CUSTOMERS: "客户资料", DEALS: "成交记录"}

MAX_ROWS = 200_000
# How far below the first line a header row is looked for (an export has a title line above it).
HEADER_SEARCH_ROWS = 10
# A .xlsx is a zip; refuse one that would unpack to more than this many times the upload limit.
MAX_UNZIP_RATIO = 50
# Rows written per bulk round; bounds memory and keeps each INSERT reasonable.
WRITE_CHUNK = 5000
# Chunk of values per IN (...) lookup: below SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 900
# Numbers per mobile lookup on PostgreSQL, passed as one array (_mobile_holders); SQLite
# takes them LOOKUP_CHUNK at a time in IN (...).
MOBILE_ARRAY_CHUNK = 20_000
# The template's example row starts with this mark and is skipped on import.
EXAMPLE_MARK = "（示例）"
IMPORT_SOURCE = "Excel导入"


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (not Excel, too large, no header …)."""


class ImportBlocked(DomainError):
    """The file has bad rows and the user did not choose to import only the valid ones."""

    def __init__(self, report: Report, valid_rows: list[Any]) -> None:
        super().__init__(f"文件中有 {report.invalid} 行存在问题，未导入任何数据")
        self.report = report
        self.valid_rows = valid_rows


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""


def _labels(choices: Iterable[tuple[Any, Any]]) -> str:
    return "、".join(str(label) for value, label in choices if value)


CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", True, ("客户姓名",), "必填，最多50字"),
    Column("手机号", "mobile", True, ("手机", "手机号码"), "必填；同一公司内一个手机号只能登记一位客户"),
    Column("备用手机号", "mobile2", False, ("备用手机", "备用电话"), "选填"),
    Column("性别", "gender", False, (), "男 / 女"),
    Column("客户阶段", "stage", False, ("阶段",), f"{_labels(Stage.choices)}；不填为潜在客户"),
    Column("客户等级", "grade", False, ("等级",), "A / B / C（或 A级、B级、C级）；不填为C级"),
    Column("VIP", "is_vip", False, ("是否VIP",), "是 / 否；不填为否"),
    Column("意向楼盘", "project", True, ("楼盘",), "必填，楼盘名称或楼盘编码"),
    Column("来源渠道", "source_channel", True, ("渠道",), f"必填：{_labels(Channel.choices)}"),
    Column("置业顾问", "owner", False, ("顾问",), "员工用户名或姓名；不填为导入人本人"),
    Column("生日", "birthday_on", False, ("出生日期",), "日期，如 1985-03-05、1985/3/5、1985年3月5日"),
    Column("标签", "tags", False, (), "多个标签用逗号分隔，不存在的标签会自动创建"),
    Column("备注", "notes", False, (), "选填"),
    Column("同意关怀短信", "consent_care", False, ("关怀短信",), "是 / 否；客户本人同意后才填“是”"),
)

DEAL_COLUMNS: tuple[Column, ...] = (
    Column("客户编号", "number", False, (), "客户编号与手机号至少填一项"),
    Column("手机号", "mobile", False, ("手机", "手机号码", "客户手机号"), "客户的手机号"),
    Column("楼盘", "project", True, ("项目",), "必填，楼盘名称或编码"),
    Column("楼栋", "building", True, (), "必填，如 1号楼"),
    Column("房号", "unit", True, (), "必填，如 1801"),
    Column("成交总价", "price", False, ("总价", "成交价"), "元；不填取房源总价"),
    Column("认购日期", "subscribed_on", True, (), "必填"),
    Column("签约日期", "contracted_on"),
    Column("全款到账日期", "full_payment_on"),
    Column("合同备案日期", "filed_on"),
    Column("计划交房日期", "delivery_planned_on"),
    Column("实际交房日期", "delivered_on", False, ("交房日期",)),
    Column("入住日期", "moved_in_on"),
    Column("入住方式", "move_in_kind", False, (), "集中 / 零星；填了入住日期时必填"),
)

COLUMNS = {CUSTOMERS: CUSTOMER_COLUMNS, DEALS: DEAL_COLUMNS}
# The label used in the report when a deal's customer cannot be found by either column.
CUSTOMER_REF = "客户编号/手机号"
STAGE_LABELS = _labels(Stage.choices)
CHANNEL_LABELS = _labels(Channel.choices)


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class Report:
    """What validation found: counts and every bad row (line, column, reason)."""

    kind: str
    filename: str = ""
    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def invalid_lines(self) -> set[int]:
        return {e.line for e in self.errors}

    @property
    def invalid(self) -> int:
        return len(self.invalid_lines)

    @property
    def valid(self) -> int:
        return self.total - self.invalid

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "filename": self.filename,
            "total": self.total,
            "errors": [[e.line, e.field, e.message] for e in self.errors],
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            kind=data["kind"],
            filename=data.get("filename", ""),
            total=data["total"],
            errors=[RowError(*e) for e in data["errors"]],
            notes=list(data.get("notes", [])),
        )


@dataclass
class Validation:
    report: Report
    rows: list[Any]  # the valid rows, CustomerRow or DealRow


@dataclass
class ImportResult:
    kind: str
    imported: int
    skipped: int
    first_number: str = ""
    last_number: str = ""


# ---------------------------------------------------------------- the uploaded file


def import_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


_TOKEN = re.compile(r"[0-9a-f]{32}")


def upload_path(token: str) -> Path:
    if not _TOKEN.fullmatch(token):
        raise ImportFileError("导入文件已失效，请重新上传")
    return import_dir() / f"{token}.xlsx"


def store_upload(upload: UploadedFile) -> str:
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
        _check_workbook_file(path)
    except ImportFileError:
        path.unlink(missing_ok=True)
        raise
    return token


def _check_workbook_file(path: Path) -> None:
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("该文件是旧版 .xls 或已加密的 Excel 文件：请取消密码并“另存为”.xlsx 后再上传")
    if not head.startswith(b"PK\x03\x04"):
        if _looks_like_text(head):
            raise ImportFileError(
                "该文件实际是 CSV/文本文件（只是扩展名改成了 .xlsx）：请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再上传"
            )
        raise ImportFileError("文件内容不是 Excel 工作簿（.xlsx），可能已损坏或格式不对")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportFileError("Excel 文件已损坏，无法打开") from exc
    if "xl/workbook.xml" not in names:
        raise ImportFileError("文件内容不是 Excel 工作簿（可能是 Word 等其他文件改了扩展名）")
    if unpacked > settings.IMPORT_MAX_BYTES * MAX_UNZIP_RATIO:
        raise ImportFileError("Excel 文件解压后过大，请删除多余的工作表或格式后再上传")


def _looks_like_text(head: bytes) -> bool:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # Incremental: the head may end in the middle of a multi-byte character.
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return all(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return False


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


# ---------------------------------------------------------------- reading


@dataclass
class Sheet:
    """The data rows of the first worksheet: (Excel line number, the cells in COLUMNS order).

    A column missing from the file reads as "" in every row.
    """

    kind: str
    columns: dict[str, int]
    rows: list[tuple[int, tuple[Any, ...]]]
    notes: list[str] = field(default_factory=list)


def text(value: Any) -> str:
    """A cell as trimmed text; integral numbers without ".0" (Excel stores them as floats)."""
    if value.__class__ is str:  # most cells: checked first, this runs a million times per import
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _normalise_header(value: Any) -> str:
    header = re.sub(r"[（(][^）)]*[）)]", "", text(value))
    return re.sub(r"[\s*＊]", "", header)


def read_sheet(path: Path, kind: str) -> Sheet:
    """Read the first worksheet with python-calamine and find the header row.

    Line numbers are the ones the user sees in Excel: the first row is line 1.
    """
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several error types for broken files
        raise ImportFileError("无法读取该 Excel 文件，文件可能已损坏或已加密") from exc
    with workbook:
        index = next(
            (
                i
                for i, meta in enumerate(workbook.sheets_metadata)
                if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
            ),
            None,
        )
        if index is None:
            raise ImportFileError("文件中没有工作表")
        try:
            cells = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except Exception as exc:
            raise ImportFileError("无法读取该 Excel 文件，文件可能已损坏") from exc
    if not any(_has_value(row) for row in cells):
        raise ImportFileError("工作表是空的：请在第一个工作表中填写表头和数据（可下载导入模板）")
    return _parse_cells(cells, kind)


def _has_value(row: Sequence[Any]) -> bool:
    return any(cell is not None and (not isinstance(cell, str) or cell.strip()) for cell in row)


def _parse_cells(cells: list[list[Any]], kind: str) -> Sheet:
    columns = COLUMNS[kind]
    canonical: dict[str, str] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            canonical[name] = column.key
    header_index = None
    for i, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
        if any(_normalise_header(cell) in canonical for cell in row):
            header_index = i
            break
    if header_index is None:
        expected = "、".join(c.header for c in columns[:4])
        raise ImportFileError(f"找不到表头行：第一行应为列名（如 {expected}…），请使用导入模板")
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(cells[header_index]):
        name = _normalise_header(cell)
        if not name:
            continue
        key = canonical.get(name)
        if key is None:
            ignored.append(text(cell))
        elif key not in found:
            found[key] = i
    missing = [c.header for c in columns if c.required and c.key not in found]
    if kind == DEALS and "number" not in found and "mobile" not in found:
        missing.insert(0, "客户编号或手机号（至少一列）")
    if missing:
        raise ImportFileError(f"表头缺少必填列：{'、'.join(missing)}（请使用导入模板）")
    notes = [f"已忽略无法识别的列：{'、'.join(ignored)}"] if ignored else []
    # calamine pads every row to the sheet's width; one more "" stands in for missing columns.
    width = max(len(row) for row in cells)
    pick = itemgetter(*(found.get(c.key, width) for c in columns))
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for i in range(header_index + 1, len(cells)):
        row = cells[i]
        if not _has_value(row):
            continue
        row.extend([""] * (width + 1 - len(row)))
        values = pick(row)
        if text(values[0]).startswith(EXAMPLE_MARK):
            notes.append(f"第 {i + 1} 行是模板中的示例行，已忽略")
            continue
        rows.append((i + 1, values))
    if not rows:
        raise ImportFileError("表格中没有数据行（只有表头）")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"单次最多导入 {MAX_ROWS:,} 行，本文件有 {len(rows):,} 行，请拆分后分批导入")
    return Sheet(kind=kind, columns=found, rows=rows, notes=notes)


# ---------------------------------------------------------------- value parsing

_DATE_FORMATS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(value: Any) -> date | None:
    """An Excel date, or text like 2026-03-05, 2026/3/5, 2026年3月5日, 20260305; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if not raw:
        return None
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            if not 1900 <= year <= 2100:
                break
            return date(year, month, day)
    raise ValueError(raw)


def _choice_map(choices: Iterable[tuple[Any, Any]], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value, label in choices:
        mapping[str(value).lower()] = value
        mapping[str(label).lower()] = value
    for key, value in (extra or {}).items():
        mapping[key.lower()] = value
    return mapping


STAGES = _choice_map(
    Stage.choices, {"潜在": Stage.PROSPECT, "意向": Stage.INTERESTED, "成交": Stage.OWNER, "业主": Stage.OWNER}
)
GRADES = _choice_map(Grade.choices, {"a类": Grade.A, "b类": Grade.B, "c类": Grade.C})
CHANNELS = _choice_map(Channel.choices, {"电话": Channel.PHONE, "公众号": Channel.WECHAT, "微信": Channel.WECHAT})
GENDERS = _choice_map(Gender.choices, {"男性": Gender.MALE, "女性": Gender.FEMALE})
MOVE_IN_KINDS = _choice_map(MoveInKind.choices, {"集中": MoveInKind.BATCH, "零星": MoveInKind.INDIVIDUAL})
BOOLEANS = {
    **dict.fromkeys(("是", "y", "yes", "true", "1", "√", "✓", "同意", "vip"), True),
    **dict.fromkeys(("否", "n", "no", "false", "0", "×", "不同意"), False),
}


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = text(value)
    if not raw:
        return None
    found = BOOLEANS.get(raw.lower())
    if found is None:
        raise ValueError(raw)
    return found


def parse_price(value: Any) -> Decimal | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace("，", "").replace("元", "").replace("¥", "").replace("￥", "")
        if not raw:
            return None
        factor = Decimal(1)
        if raw.endswith("万"):
            raw, factor = raw[:-1], Decimal(10000)
        try:
            amount = Decimal(raw) * factor
        except InvalidOperation as exc:
            raise ValueError(raw) from exc
    if not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** 12:
        raise ValueError(str(value))
    return amount.quantize(Decimal("0.01"))


_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def _chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------- lookups


class _Errors:
    """Collects RowErrors in the order of the columns, one per (line, column)."""

    def __init__(self, kind: str, known: Iterable[RowError] = ()) -> None:
        self.kind = kind
        self.labels = {c.key: c.header for c in COLUMNS[kind]}
        self.by_line: dict[int, dict[str, str]] = defaultdict(dict)
        for error in known:
            self.by_line[error.line][error.field] = error.message

    def add(self, line: int, key_or_label: str, message: str) -> None:
        self.by_line[line].setdefault(self.labels.get(key_or_label, key_or_label), message)

    def __contains__(self, line: int) -> bool:
        return line in self.by_line

    def as_list(self) -> list[RowError]:
        order = {c.header: i for i, c in enumerate(COLUMNS[self.kind])}
        order[CUSTOMER_REF] = -1
        return [
            RowError(line, label, message)
            for line in sorted(self.by_line)
            for label, message in sorted(self.by_line[line].items(), key=lambda item: order.get(item[0], 99))
        ]


def _project_lookup(user: User) -> dict[str, Project]:
    """Projects of the user's company by name and by code (codes case-insensitively)."""
    projects = list(Project.objects.filter(company_id=company_of(user)))
    lookup: dict[str, Project] = {}
    for project in projects:
        lookup.setdefault(project.code.lower(), project)
    for project in projects:
        lookup[project.name] = project
    return lookup


def _find_project(lookup: Mapping[str, Project], raw: str) -> Project | None:
    return lookup.get(raw) or lookup.get(raw.lower())


@dataclass
class _Owners:
    by_username: dict[str, int]
    by_name: dict[str, list[int]]
    names: dict[int, str]
    allowed: set[int]
    may_reassign: bool


def _owner_lookup(user: User) -> _Owners:
    from crm.accounts.models import User as UserModel

    staff = UserModel.objects.filter(company_id=company_of(user), is_active=True).values_list(
        "id", "username", "display_name"
    )
    by_username: dict[str, int] = {}
    by_name: dict[str, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for pk, username, display_name in staff:
        by_username[username.lower()] = pk
        if display_name:
            by_name[display_name].append(pk)
        names[pk] = display_name or username
    # Owners chosen by a consultant must be themselves unless they may reassign customers.
    may_reassign = user.has_perm("customers.reassign_customer")
    if may_reassign:
        allowed = set(UserModel.objects.filter(assignable_owners_q(user)).values_list("id", flat=True))
    else:
        allowed = {user.pk}
    return _Owners(by_username, by_name, names, allowed, may_reassign)


# ---------------------------------------------------------------- customers


@dataclass(slots=True)
class CustomerRow:
    line: int
    name: str
    mobile: str
    mobile2: str
    gender: str
    stage: str
    grade: str
    is_vip: bool
    project_id: int
    source_channel: str
    owner_id: int
    birthday_on: date | None
    tags: list[str]
    notes: str
    consent_care: bool


CUSTOMER_ROW_BIRTHDAY = CustomerRow.__slots__.index("birthday_on")


def validate_customers(sheet: Sheet, *, user: User) -> Validation:
    """Check every row; return the report and the rows that may be imported.

    Duplicates are checked within the file (the later row names the earlier line) and
    against the company's customers, in bulk: one query per chunk of the file's mobiles.
    """
    errors = _Errors(CUSTOMERS)
    projects = _project_lookup(user)
    owners = _owner_lookup(user)
    today = timezone.localdate()
    restricted_projects: set[int] | None = None
    if widest_scope(user) == Scope.PROJECT:
        restricted_projects = set(user.projects.values_list("id", flat=True))

    def project_of(raw: Any) -> tuple[int, str]:
        name = text(raw)
        if not name:
            return 0, "意向楼盘不能为空"
        project = _find_project(projects, name)
        if project is None:
            return 0, f"楼盘不存在：{name}（请填写本公司楼盘的名称或编码）"
        if restricted_projects is not None and project.pk not in restricted_projects:
            return 0, f"您不属于楼盘 {project.name}，不能向其导入客户"
        return project.pk, ""

    def owner_of(raw: Any) -> tuple[int, str]:
        name = text(raw)
        return _owner_outcome(name, owners) if name else (user.pk, "")

    def channel_of(raw: Any) -> tuple[str, str]:
        if not text(raw):
            return "", "来源渠道不能为空"
        return _choice_outcome(raw, CHANNELS, "", CHANNEL_LABELS)

    # Cells that repeat from row to row, each distinct value worked out once.
    genders = _PerValue(partial(_choice_outcome, mapping=GENDERS, default=Gender.UNKNOWN, allowed="男、女"))
    stages = _PerValue(partial(_choice_outcome, mapping=STAGES, default=Stage.PROSPECT, allowed=STAGE_LABELS))
    grades = _PerValue(partial(_choice_outcome, mapping=GRADES, default=Grade.C, allowed="A、B、C"))
    channels = _PerValue(channel_of)
    booleans = _PerValue(_bool_outcome)
    project_ids = _PerValue(project_of)
    owner_ids = _PerValue(owner_of)

    rows: list[CustomerRow] = []
    first_line: dict[str, int] = {}  # mobile -> line where it first appears in the file
    bad_lines = errors.by_line
    for line, (
        raw_name,
        raw_mobile,
        raw_mobile2,
        raw_gender,
        raw_stage,
        raw_grade,
        raw_vip,
        raw_project,
        raw_channel,
        raw_owner,
        raw_birthday,
        raw_tags,
        raw_notes,
        raw_consent,
    ) in sheet.rows:
        name = text(raw_name)
        if not name:
            errors.add(line, "name", "姓名不能为空")
        elif len(name) > 50:
            errors.add(line, "name", "姓名过长（最多50字）")

        mobile = mobile2 = ""
        try:
            mobile = normalize_mobile(raw_mobile)
        except InvalidMobile as exc:
            errors.add(line, "mobile", exc.message)
        if raw_mobile2 != "" and text(raw_mobile2):
            try:
                mobile2 = normalize_mobile(raw_mobile2)
            except InvalidMobile as exc:
                errors.add(line, "mobile2", exc.message)
        if mobile2 == mobile:
            mobile2 = ""
        if mobile and (earlier := first_line.setdefault(mobile, line)) != line:
            errors.add(line, "mobile", f"手机号 {mobile} 与第 {earlier} 行重复")
        if mobile2 and (earlier := first_line.setdefault(mobile2, line)) != line:
            errors.add(line, "mobile2", f"手机号 {mobile2} 与第 {earlier} 行重复")

        gender, problem = genders(raw_gender)
        if problem:
            errors.add(line, "gender", problem)
        stage, problem = stages(raw_stage)
        if problem:
            errors.add(line, "stage", problem)
        grade, problem = grades(raw_grade)
        if problem:
            errors.add(line, "grade", problem)
        channel, problem = channels(raw_channel)
        if problem:
            errors.add(line, "source_channel", problem)
        is_vip, problem = booleans(raw_vip)
        if problem:
            errors.add(line, "is_vip", problem)
        consent_care, problem = booleans(raw_consent)
        if problem:
            errors.add(line, "consent_care", problem)
        project_id, problem = project_ids(raw_project)
        if problem:
            errors.add(line, "project", problem)
        owner_id, problem = owner_ids(raw_owner)
        if problem:
            errors.add(line, "owner", problem)

        birthday = None
        try:
            birthday = parse_date(raw_birthday) if raw_birthday != "" else None
        except ValueError:
            errors.add(
                line,
                "birthday_on",
                f"日期格式不正确：{text(raw_birthday)}（应为 1985-03-05、1985/3/5 或 1985年3月5日）",
            )
        if birthday and birthday > today:
            errors.add(line, "birthday_on", "生日不能晚于今天")

        tag_text = text(raw_tags) if raw_tags != "" else ""
        tags = list(dict.fromkeys(t for t in _TAG_SPLIT.split(tag_text) if t)) if tag_text else []
        long_tags = [t for t in tags if len(t) > 20]
        if long_tags:
            errors.add(line, "tags", f"标签过长（每个最多20字）：{long_tags[0]}")

        if line in bad_lines:
            rows.append(CustomerRow(line, "", mobile, mobile2, "", "", "", False, 0, "", 0, None, [], "", False))
            continue
        rows.append(
            CustomerRow(
                line,
                name,
                mobile,
                mobile2,
                gender,
                stage,
                grade,
                is_vip,
                project_id,
                channel,
                owner_id,
                birthday,
                tags,
                text(raw_notes),
                consent_care,
            )
        )

    _flag_existing_mobiles(rows, errors, user)
    report = Report(kind=CUSTOMERS, total=len(sheet.rows), errors=errors.as_list(), notes=list(sheet.notes))
    return Validation(report=report, rows=[r for r in rows if r.line not in errors])


def _flag_existing_mobiles(rows: Sequence[CustomerRow], errors: _Errors, user: User) -> None:
    existing = _existing_mobiles(user, [n for r in rows for n in (r.mobile, r.mobile2) if n])
    for row in rows:
        for key, number in (("mobile", row.mobile), ("mobile2", row.mobile2)):
            if number in existing:
                errors.add(row.line, key, existing[number])


def recheck_customers(validation: Validation, *, user: User) -> Validation:
    """The upload's validation brought up to date with the database, for the confirm step.

    The file cannot change between upload and confirmation, so its per-row checks stand;
    what may have changed is the database: a mobile registered meanwhile, a project
    removed, an owner who left or whom the user may no longer assign.
    """
    report = validation.report
    errors = _Errors(CUSTOMERS, report.errors)
    projects = set(Project.objects.filter(company_id=company_of(user)).values_list("id", flat=True))
    if widest_scope(user) == Scope.PROJECT:
        projects &= set(user.projects.values_list("id", flat=True))
    owners = _owner_lookup(user)
    for row in validation.rows:
        if row.project_id not in projects:
            errors.add(row.line, "project", "该楼盘已不存在或您已无权导入，请重新上传")
        if row.owner_id not in owners.allowed:
            errors.add(row.line, "owner", "该置业顾问已停用或您已无权分配，请重新上传")
    _flag_existing_mobiles(validation.rows, errors, user)
    fresh = Report(
        kind=CUSTOMERS, filename=report.filename, total=report.total, errors=errors.as_list(), notes=report.notes
    )
    return Validation(report=fresh, rows=[r for r in validation.rows if r.line not in errors])


class _PerValue:
    """A cell's outcome, (value, Chinese problem or ""), worked out once per distinct value:
    a file of 100,000 rows holds a handful of genders, stages, channels, projects, owners."""

    def __init__(self, outcome: Callable[[Any], tuple[Any, str]]) -> None:
        self.outcome = outcome
        self.known: dict[tuple[type, Any], tuple[Any, str]] = {}

    def __call__(self, raw: Any) -> tuple[Any, str]:
        key = (raw.__class__, raw)  # the class too: True == 1 == 1.0, but they read differently
        try:
            return self.known[key]
        except KeyError:
            found = self.known[key] = self.outcome(raw)
            return found
        except TypeError:  # unhashable
            return self.outcome(raw)


def _choice_outcome(raw: Any, mapping: Mapping[str, str], default: str, allowed: str) -> tuple[str, str]:
    if raw == "" or raw is None:
        return default, ""
    value = text(raw)
    if not value:
        return default, ""
    found = mapping.get(value.lower())
    if found is None:
        return default, f"无法识别：{value}（可填：{allowed}）"
    return found, ""


def _choice(
    errors: _Errors, line: int, key: str, raw: Any, mapping: Mapping[str, str], default: str, allowed: str
) -> str:
    value, problem = _choice_outcome(raw, mapping, default, allowed)
    if problem:
        errors.add(line, key, problem)
    return value


def _bool_outcome(raw: Any) -> tuple[bool, str]:
    """True/False for 是/否 and the like; False for an empty cell."""
    if raw == "" or raw is None:
        return False, ""
    try:
        return bool(parse_bool(raw)), ""
    except ValueError:
        return False, f"无法识别：{text(raw)}（请填“是”或“否”）"


def _owner_outcome(raw: str, owners: _Owners) -> tuple[int, str]:
    """The owner's id for a username or display name; 0 and the reason when not allowed."""
    owner_id = owners.by_username.get(raw.lower())
    if owner_id is None:
        candidates = owners.by_name.get(raw, [])
        if len(candidates) > 1:
            return 0, f"有多名员工叫“{raw}”，请改填用户名"
        owner_id = candidates[0] if candidates else None
    if owner_id is None:
        return 0, f"置业顾问不存在：{raw}（请填写本公司在职员工的用户名或姓名）"
    if owner_id not in owners.allowed:
        if owners.may_reassign:
            return 0, f"无权把客户分配给 {owners.names[owner_id]}（不在您可分配的范围内）"
        return 0, f"无权把客户分配给 {owners.names[owner_id]}：置业顾问只能填写您本人"
    return owner_id, ""


def _mobile_holders(company_id: int, numbers: Iterable[str], fields: Sequence[str]) -> set[tuple[Any, ...]]:
    """``fields`` of each customer of the company whose main or backup mobile is one of ``numbers``.

    ``numbers`` are normalised mobiles (normalize_mobile: digits and "+"). One lookup per
    column, so that each is answered by its btree index (``uniq_customer_mobile`` on company
    + mobile, ``customer_mobile2``). PostgreSQL answers "mobile IN (…) OR mobile2 IN (…)" by
    scanning the table (0.7 s per 900 numbers at 1,000,000 customers), and one column's long
    IN list or "= ANY(array)" with the pg_trgm GIN index, which also serves equality, as soon
    as its estimate beats the btree's: at 1,000,000 customers from about 2,000 backup mobiles
    (2 s for those 2,000) or 10,000 main mobiles (minutes). Chunks of 300 numbers kept the
    btree but took ~700 queries for 100,000 rows, each planning its 300-value list.

    On PostgreSQL the numbers go as one comma-separated text per MOBILE_ARRAY_CHUNK, split
    into rows by the server, each joined LATERAL to a subquery that cannot be flattened
    (OFFSET 0): the planner must run it once per number, an equality on one value, which
    the btree answers (1-3 µs a number at 1,000,000 customers) whatever the size of the
    chunk and the column's statistics. JIT is off meanwhile: the estimated cost grows with
    the chunk and crosses jit_above_cost, and compiling took longer than the lookup (0.4-2 s
    more per 100,000 numbers, depending on the chunk size). SQLite, which has no arrays,
    gets IN (...) lists of LOOKUP_CHUNK numbers, for which it uses the btree indexes.
    """
    wanted = sorted(set(numbers))
    found: set[tuple[Any, ...]] = set()
    if connection.vendor != "postgresql":
        for chunk in _chunks(wanted, LOOKUP_CHUNK):
            for column in ("mobile", "mobile2"):
                found.update(
                    Customer.objects.filter(company_id=company_id, **{f"{column}__in": chunk}).values_list(*fields)
                )
        return found
    if any("," in number for number in wanted):
        raise ValueError("a mobile number with a comma cannot be looked up")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(_concrete_field(Customer, name).column)) for name in fields)
    table = quote(Customer._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit')")
        (jit,) = cursor.fetchone()
        cursor.execute("SET LOCAL jit = off")
        for column, nonempty in (("mobile", ""), ("mobile2", " AND mobile2 <> ''")):
            # customer_mobile2 indexes only the non-empty backup mobiles: say so for the planner.
            sql = (
                f"SELECT held.* FROM unnest(string_to_array(%s, ',')) AS wanted(number) CROSS JOIN LATERAL"
                f" (SELECT {columns} FROM {table} WHERE company_id = %s AND {quote(column)} = wanted.number"
                f"{nonempty} OFFSET 0) AS held"
            )
            for chunk in _chunks(wanted, MOBILE_ARRAY_CHUNK):
                cursor.execute(sql, [",".join(chunk), company_id])
                found.update(cursor.fetchall())
        # Back to the setting before, for the rest of an enclosing transaction.
        cursor.execute("SELECT set_config('jit', %s, true)", [jit])
    return found


def _existing_mobiles(user: User, mobiles: Sequence[str]) -> dict[str, str]:
    """{mobile: Chinese reason} for the numbers already held by a customer of the company.

    Held as main or backup mobile, by any customer of the company (archived and merged
    ones included: the number stays taken). The holder is named only when the user may
    see that customer: otherwise the reason says it belongs to another colleague's
    customer, without revealing whose (data scope).
    """
    wanted = set(mobiles)
    company_id = company_of(user)
    holders: dict[str, int] = {}
    merged_into: dict[int, int] = {}
    holding = _mobile_holders(company_id, wanted, ("is_archived", "id", "mobile", "mobile2", "merged_into_id"))
    # Unarchived holders first, then the oldest, as services.find_by_mobile prefers them.
    for _, pk, mobile, mobile2, merged in sorted(holding):
        for number in (mobile, mobile2):
            if number in wanted and number not in holders:
                holders[number] = pk
        if merged:
            merged_into[pk] = merged
    if not holders:
        return {}
    # A merged duplicate points at the record that stays, following chains of merges.
    pending = set(merged_into.values()) - set(merged_into)
    while pending:
        found = dict(
            Customer.objects.filter(pk__in=pending, merged_into__isnull=False).values_list("id", "merged_into_id")
        )
        merged_into.update(found)
        pending = set(found.values()) - set(merged_into)

    def final(pk: int) -> int:
        seen = set()
        while pk in merged_into and pk not in seen:
            seen.add(pk)
            pk = merged_into[pk]
        return pk

    ids = sorted({final(pk) for pk in holders.values()})
    visible: dict[int, tuple[str, str, bool]] = {}
    scope = customers_visible_to(user, include_archived=True)
    for chunk in _chunks(ids):
        for pk, name, number, archived in scope.filter(pk__in=chunk).values_list("id", "name", "number", "is_archived"):
            visible[pk] = (name, number, archived)
    reasons: dict[str, str] = {}
    for mobile, pk in holders.items():
        holder = visible.get(final(pk))
        if holder is None:
            reasons[mobile] = (
                f"手机号 {mask_mobile(mobile)} 已是本公司其他同事的客户，不能重复登记（如需跟进请联系主管）"
            )
        else:
            name, number, archived = holder
            state = "已归档客户" if archived else "客户"
            reasons[mobile] = f"手机号已存在：{state} {name}（{number}），不能重复登记"
    return reasons


# ---------------------------------------------------------------- deals


@dataclass(slots=True)
class DealRow:
    line: int
    customer_id: int
    customer_stage: str
    owner_id: int
    project_id: int
    project_name: str
    unit_id: int
    unit_label: str
    price: Decimal | None
    dates: dict[str, date | None]
    move_in_kind: str


@dataclass(slots=True)
class _CustomerRef:
    pk: int
    number: str
    stage: str
    owner_id: int


@dataclass(slots=True)
class _UnitRef:
    pk: int
    label: str
    price: Decimal | None


def validate_deals(sheet: Sheet, *, user: User) -> Validation:
    """Check every deal row: the customer (by number or mobile, within the user's scope),
    the unit (project + building + number, still unsold), the price and milestone dates."""
    errors = _Errors(DEALS)
    projects = _project_lookup(user)
    today = timezone.localdate()
    keys = [c.key for c in DEAL_COLUMNS]

    parsed: list[dict[str, Any]] = []
    for line, values in sheet.rows:
        cells = dict(zip(keys, values, strict=True))
        number = text(cells["number"]).upper()
        mobile = ""
        raw_mobile = cells["mobile"]
        if text(raw_mobile):
            try:
                mobile = normalize_mobile(raw_mobile)
            except InvalidMobile as exc:
                errors.add(line, "mobile", exc.message)
        elif not number:
            errors.add(line, CUSTOMER_REF, "请填写客户编号或手机号")

        project = None
        raw_project = text(cells["project"])
        if not raw_project:
            errors.add(line, "project", "楼盘不能为空")
        else:
            project = _find_project(projects, raw_project)
            if project is None:
                errors.add(line, "project", f"楼盘不存在：{raw_project}")
        building = text(cells["building"])
        unit = text(cells["unit"])
        if not building:
            errors.add(line, "building", "楼栋不能为空")
        if not unit:
            errors.add(line, "unit", "房号不能为空")

        price = None
        try:
            price = parse_price(cells["price"])
        except ValueError:
            errors.add(line, "price", f"成交总价格式不正确：{text(cells['price'])}（填写金额，单位元）")

        dates: dict[str, date | None] = {}
        bad_dates = False
        if not text(cells["subscribed_on"]):
            errors.add(line, "subscribed_on", "认购日期不能为空")
        for key in DEAL_DATE_FIELDS:
            raw = cells[key]
            try:
                dates[key] = parse_date(raw)
            except ValueError:
                dates[key] = None
                bad_dates = True
                errors.add(line, key, f"日期格式不正确：{text(raw)}（应为 2026-03-05、2026/3/5 或 2026年3月5日）")
        if not bad_dates:
            for key, message in milestone_errors(dates, today=today).items():
                errors.add(line, key, message)

        move_in_kind = _choice(errors, line, "move_in_kind", cells["move_in_kind"], MOVE_IN_KINDS, "", "集中、零星")
        if dates.get("moved_in_on") and not move_in_kind and not text(cells["move_in_kind"]):
            errors.add(line, "move_in_kind", "填写了入住日期，请填写入住方式（集中/零星）")

        parsed.append(
            {
                "line": line,
                "number": number,
                "mobile": mobile,
                "project": project,
                "building": building,
                "unit": unit,
                "price": price,
                "dates": dates,
                "move_in_kind": move_in_kind,
            }
        )

    by_number, by_mobile = _customer_refs(user, parsed)
    units = _unit_refs([p["project"].pk for p in parsed if p["project"] is not None])
    sold = _sold_unit_ids([u.pk for u in units.values()])

    rows: list[DealRow] = []
    unit_lines: dict[int, int] = {}
    for p in parsed:
        line = p["line"]
        customer = None
        if p["number"]:
            customer = by_number.get(p["number"])
            if customer is None:
                errors.add(line, "number", f"客户不存在或无权操作：{p['number']}")
        if p["mobile"]:
            by_phone = by_mobile.get(p["mobile"])
            if p["number"]:
                # Both given: they must name the same customer.
                if customer is not None and (by_phone is None or by_phone.pk != customer.pk):
                    errors.add(line, CUSTOMER_REF, f"客户编号 {p['number']} 与手机号不是同一位客户")
            elif by_phone is None:
                errors.add(line, "mobile", f"找不到手机号为 {p['mobile']} 的客户（或无权操作）")
            else:
                customer = by_phone

        unit_ref = None
        project = p["project"]
        if project is not None and p["building"] and p["unit"]:
            unit_ref = _find_unit(units, project.pk, p["building"], p["unit"])
            if unit_ref is None:
                errors.add(line, "unit", f"房源不存在：{project.name} {p['building']} {p['unit']}")
            elif unit_ref.pk in sold:
                errors.add(line, "unit", f"房源 {unit_ref.label} 已售出（已有有效的成交记录）")
            else:
                earlier = unit_lines.setdefault(unit_ref.pk, line)
                if earlier != line:
                    errors.add(line, "unit", f"房源 {unit_ref.label} 与第 {earlier} 行重复")

        if line in errors or customer is None or unit_ref is None or project is None:
            continue
        rows.append(
            DealRow(
                line=line,
                customer_id=customer.pk,
                customer_stage=customer.stage,
                owner_id=customer.owner_id,
                project_id=project.pk,
                project_name=project.name,
                unit_id=unit_ref.pk,
                unit_label=unit_ref.label,
                price=p["price"] if p["price"] is not None else unit_ref.price,
                dates=p["dates"],
                move_in_kind=p["move_in_kind"],
            )
        )
    report = Report(kind=DEALS, total=len(sheet.rows), errors=errors.as_list(), notes=list(sheet.notes))
    return Validation(report=report, rows=rows)


def _customer_refs(user: User, parsed: list[dict[str, Any]]) -> tuple[dict[str, _CustomerRef], dict[str, _CustomerRef]]:
    """The user's visible, unarchived customers named in the file, by number and by mobile."""
    scope = customers_visible_to(user)
    fields = ("id", "number", "stage", "owner_id", "mobile", "mobile2")
    by_number: dict[str, _CustomerRef] = {}
    by_mobile: dict[str, _CustomerRef] = {}
    numbers = sorted({p["number"] for p in parsed if p["number"]})
    for chunk in _chunks(numbers):
        for pk, number, stage, owner_id, _m, _m2 in scope.filter(number__in=chunk).values_list(*fields):
            by_number[number] = _CustomerRef(pk, number, stage, owner_id)
    mobiles = {p["mobile"] for p in parsed if p["mobile"]}
    # The company's holders of the numbers (see _mobile_holders), then those the user sees.
    held = sorted({pk for pk, _, _ in _mobile_holders(company_of(user), mobiles, ("id", "mobile", "mobile2"))})
    visible: list[tuple[Any, ...]] = []
    for chunk in _chunks(held):
        visible.extend(scope.filter(pk__in=chunk).values_list(*fields))
    # The oldest visible holder of a number, as main or backup mobile.
    for pk, number, stage, owner_id, mobile, mobile2 in sorted(visible):
        ref = _CustomerRef(pk, number, stage, owner_id)
        for held_number in (mobile, mobile2):
            if held_number in mobiles:
                by_mobile.setdefault(held_number, ref)
    return by_number, by_mobile


def _unit_refs(project_ids: Iterable[int]) -> dict[tuple[int, str, str], _UnitRef]:
    refs: dict[tuple[int, str, str], _UnitRef] = {}
    ids = sorted(set(project_ids))
    for chunk in _chunks(ids):
        for pk, project_id, building, number, price in Unit.objects.filter(project_id__in=chunk).values_list(
            "id", "project_id", "building__name", "number", "price"
        ):
            refs[(project_id, building, number)] = _UnitRef(pk, f"{building}-{number}", price)
    return refs


def _find_unit(
    units: Mapping[tuple[int, str, str], _UnitRef], project_id: int, building: str, number: str
) -> _UnitRef | None:
    """Exact match first; "1" also finds the building "1号楼"/"1栋"/"1幢"."""
    for name in (building, f"{building}号楼", f"{building}栋", f"{building}幢"):
        found = units.get((project_id, name, number))
        if found is not None:
            return found
    return None


def _sold_unit_ids(unit_ids: Sequence[int]) -> set[int]:
    sold: set[int] = set()
    ids = sorted(set(unit_ids))
    for chunk in _chunks(ids):
        sold.update(Deal.objects.filter(unit_id__in=chunk, status=Deal.Status.ACTIVE).values_list("unit_id", flat=True))
    return sold


# ---------------------------------------------------------------- validate / import


def validate_file(path: Path, kind: str, *, user: User, filename: str = "") -> Validation:
    if not company_of(user):
        raise ImportFileError("您的账号未关联公司，不能导入")
    sheet = read_sheet(path, kind)
    validation = validate_customers(sheet, user=user) if kind == CUSTOMERS else validate_deals(sheet, user=user)
    validation.report.filename = filename
    return validation


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
) -> ImportResult:
    """Validate the file again and write it in one transaction.

    1. The file is validated again; with ``prevalidated`` (the upload's validation of the
       same customer file) only the database-dependent checks are redone.
    2. Any bad row blocks the whole file (ImportBlocked) unless ``only_valid`` is set.
    3. The rows are written in bulk inside ``transaction.atomic``: a failure part-way
       leaves nothing behind, the reserved customer numbers included.
    4. One audit row (action import) summarises the batch.
    """
    if prevalidated is not None and kind == CUSTOMERS:
        validation = recheck_customers(prevalidated, user=user)
    else:
        validation = validate_file(path, kind, user=user, filename=filename)
    report = validation.report
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
    for chunk in _chunks(wanted):
        ids.update(Tag.objects.filter(company_id=company_id, name__in=chunk).values_list("name", "id"))
    missing = [name for name in wanted if name not in ids]
    if missing:
        Tag.objects.bulk_create([Tag(company_id=company_id, name=name) for name in missing], ignore_conflicts=True)
        for chunk in _chunks(missing):
            ids.update(Tag.objects.filter(company_id=company_id, name__in=chunk).values_list("name", "id"))
    return ids


def _write_customers(rows: list[CustomerRow], *, actor: User, batch: str) -> ImportResult:
    company_id = company_of(actor)
    numbers = next_customer_numbers(company_id, len(rows))
    tag_ids = _ensure_tags(company_id, {t for row in rows for t in row.tags})
    now = timezone.now()
    ids = _reserve_ids(Customer, len(rows))
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
    """Write one chunk: customers, their empty archives, tags, care consents, timeline events.

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
        insert_rows(Customer, CUSTOMER_INSERT_FIELDS, customer_rows, fixed=fixed, now=now)
        customer_ids = _ids_by_number(company_id, numbers)
    else:
        with_ids = ((pk, *values) for pk, values in zip(ids, customer_rows, strict=True))
        insert_rows(Customer, ("id", *CUSTOMER_INSERT_FIELDS), with_ids, fixed=fixed, now=now)
        customer_ids = ids
    links = [(pk, tag_ids[tag]) for pk, row in zip(customer_ids, rows, strict=True) for tag in row.tags]
    if links:
        insert_rows(Customer.tags.through, ("customer_id", "tag_id"), links, now=now)
    insert_for_ids(
        ConsentRecord,
        "customer_id",
        [pk for pk, row in zip(customer_ids, rows, strict=True) if row.consent_care],
        fixed={
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
    insert_rows(
        TimelineEvent,
        ("customer_id", "summary", "data"),
        (
            (pk, summaries[row.source_channel], f"{data}{row.line}}}")
            for pk, row in zip(customer_ids, rows, strict=True)
        ),
        fixed={"kind": TimelineEvent.Kind.IMPORTED, "occurred_at": now, "actor_id": actor.pk},
        now=now,
        as_is={"data"},
    )


def _reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """``count`` new primary keys from the table's sequence on PostgreSQL; None elsewhere.

    Rows written with their keys need not be read back to learn them (20 queries reading
    5,000 fresh rows each for 100,000 customers, 0.3 s).
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # The sequence's name once: pg_get_serial_sequence per row cost 0.23 s per 100,000.
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [connection.ops.quote_name(model._meta.db_table), str(model._meta.pk.column)],
        )
        (sequence,) = cursor.fetchone()
        # Usually the values drawn form one unbroken run (nextval never hands out a value
        # twice, so a run as long as the count is all ours): its two ends instead of 100,000
        # rows. If another session drew meanwhile, those values stay unused (gaps in ids are
        # harmless) and a second draw is read value by value.
        cursor.execute(
            "SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) AS drawn",
            [sequence, count],
        )
        low, high = cursor.fetchone()
        if high - low + 1 == count:
            return list(range(low, high + 1))
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
        return [pk for (pk,) in cursor.fetchall()]


def _ids_by_number(company_id: int, numbers: Sequence[str]) -> list[int]:
    """The new customers' ids, in the order of their (consecutive) numbers (SQLite; on
    PostgreSQL they are reserved beforehand, _reserve_ids).

    One range query over the (company, number) index: a list of thousands of numbers in
    IN (...) would need many queries, and on a table PostgreSQL has not analysed since the
    COPY its planner may scan the table for each of them.
    """
    qs = Customer.objects.filter(company_id=company_id)
    if len(numbers[0]) == len(numbers[-1]):  # same width: string order is number order
        found = dict(qs.filter(number__gte=numbers[0], number__lte=numbers[-1]).values_list("number", "id"))
    else:
        found = {}
        for chunk in _chunks(numbers):
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


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    now: datetime,
    fixed: Mapping[str, Any] | None = None,
    as_is: Collection[str] = (),
) -> None:
    """INSERT many rows of plain Python values.

    ``fields`` name the per-row values (attnames: "owner_id"); ``fixed`` values are the same
    for every row; every other concrete field gets its default, auto_now(_add) fields get
    ``now``. Why not bulk_create: it prepares each value through its field (about 10 µs a
    value), which for 100,000 customers × 40 columns plus archives and events is the better
    part of a minute. Here only dates, datetimes, decimals and JSON are converted, per
    column (not the ``as_is`` fields, whose values are already what the database takes,
    such as JSON as text), and fixed and default values once. SQLite runs one prepared
    statement for every row (executemany, in C); PostgreSQL loads the rows with COPY.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    given = [_concrete_field(model, name) for name in fields]
    constant_fields, constants = _constants(model, {f.attname for f in given}, fixed or {}, now)
    converters = [
        (i, conv) for i, f in enumerate(given) if f.attname not in as_is and (conv := _db_converter(f)) is not None
    ]
    tail = tuple(constants)

    def params(row: Sequence[Any]) -> tuple[Any, ...]:
        if converters:
            row = list(row)
            for i, convert in converters:
                row[i] = convert(row[i])
        return (*row, *tail)

    table = quote(meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in (*given, *constant_fields))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: PostgreSQL's bulk load, several times faster than any INSERT. Errors are
            # wrapped so a unique violation still arrives as django.db.IntegrityError.
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(params(row))
            return
        placeholders = ", ".join(["%s"] * (len(given) + len(constant_fields)))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", [params(row) for row in rows])


def insert_for_ids(
    model: type[models.Model],
    field: str,
    ids: Sequence[int],
    *,
    now: datetime,
    fixed: Mapping[str, Any] | None = None,
) -> None:
    """INSERT one row per id, ``field`` holding the id, the other fields as insert_rows fills them.

    One statement: the ids travel as a single parameter that the database splits into rows,
    every other value once. For rows that differ only in a foreign key (a customer's empty
    archive: 45 columns) this spares formatting every value of every row for COPY, 0.3 s of
    Python for 100,000 archives.
    """
    if not ids:
        return
    target = _concrete_field(model, field)
    constant_fields, constants = _constants(model, {target.attname}, fixed or {}, now)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in (target, *constant_fields))
    if connection.vendor == "postgresql":
        values = ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in constant_fields)
        source = "SELECT CAST(n AS bigint) AS id FROM unnest(string_to_array(%s, ',')) AS n"
        listed = ",".join(map(str, ids))
    else:
        values = ", ".join(["%s"] * len(constant_fields))
        source = "SELECT value AS id FROM json_each(%s)"
        listed = f"[{','.join(map(str, ids))}]"
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT ids.id, {values} FROM ({source}) AS ids"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*constants, listed])


def _constants(
    model: type[models.Model], named: Collection[str], fixed: Mapping[str, Any], now: datetime
) -> tuple[list[Field[Any, Any]], list[Any]]:
    """The concrete fields not ``named`` (but the primary key) and their database values:
    ``fixed``, else ``now`` for auto_now(_add), else the default."""
    constant_fields: list[Field[Any, Any]] = []
    constants: list[Any] = []
    for name, value in fixed.items():
        f = _concrete_field(model, name)
        constant_fields.append(f)
        constants.append(f.get_db_prep_save(value, connection))
    done = {*named, *(f.attname for f in constant_fields)}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in done:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now if isinstance(f, models.DateTimeField) else timezone.localdate(now)
        else:
            value = f.get_default()
        constant_fields.append(f)
        constants.append(f.get_db_prep_save(value, connection))
    return constant_fields, constants


def _concrete_field(model: type[models.Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field


def _db_converter(f: Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a Python value of this field becomes a database parameter; None: as it is."""
    ops = connection.ops
    if isinstance(f, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(f, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(f, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
    if isinstance(f, models.JSONField):
        return partial(ops.adapt_json_value, encoder=f.encoder)
    return None


def _deadline(dates: dict[str, date | None], cal: WorkCalendar) -> date | None:
    """The signing deadline of a deal still to be signed (as services.create_deal records it)."""
    subscribed_on = dates.get("subscribed_on")
    if subscribed_on is None or dates.get("contracted_on"):
        return None
    return default_signing_deadline(subscribed_on, cal)


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
            signing_deadline_on=_deadline(row.dates, cal),
            **row.dates,
        )
        for row in rows
    ]
    for start in range(0, len(deals), WRITE_CHUNK):
        Deal.objects.bulk_create(deals[start : start + WRITE_CHUNK])

    units_by_status: dict[str, list[int]] = defaultdict(list)
    for deal in deals:
        units_by_status[_unit_status_for(deal)].append(deal.unit_id)
    for status, unit_ids in units_by_status.items():
        for chunk in _chunks(unit_ids):
            Unit.objects.filter(pk__in=chunk).update(status=status)

    stage_labels = dict(Stage.choices)
    promoted: dict[int, str] = {}
    for row in rows:
        if row.customer_stage != Stage.OWNER:
            promoted.setdefault(row.customer_id, row.customer_stage)
    for chunk in _chunks(list(promoted)):
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
