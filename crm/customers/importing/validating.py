"""Validating an import (Sheet → Validation): every row checked, every problem reported.

The report lists each bad row by its Excel line number, its column and a Chinese reason;
the valid rows come out as CustomerRow or DealRow, ready for
crm.customers.importing.writing. Checks against the database (mobiles already registered,
projects, owners, customers and units of a deal) are made in bulk, one query per chunk of
the file's values, not per row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import connection, models, transaction
from django.db.models import Field
from django.utils import timezone

from crm.accounts.access import assignable_owners_q, company_of, importable_project_ids
from crm.customers.guard import HIDDEN_DUPLICATE, note_hidden_duplicates
from crm.customers.importing.columns import (
    CHANNEL_LABELS,
    COLUMNS,
    CUSTOMER_REF,
    CUSTOMERS,
    DEALS,
    KINDS,
    STAGE_LABELS,
    column_of,
)
from crm.customers.importing.parsing import (
    CHANNELS,
    GENDERS,
    GRADES,
    MOVE_IN_KINDS,
    STAGES,
    Outcome,
    PerValue,
    bool_outcome,
    choice_outcome,
    date_outcome,
    mobile_outcome,
    optional_mobile_outcome,
    parse_price,
    plain_text,
    text,
    text_outcome,
)
from crm.customers.importing.reading import FileInfo, ImportFileError, Sheet, customer_ref_missing, read_sheet
from crm.customers.milestones import milestone_errors
from crm.customers.models import Channel, Customer, Deal, Gender, Grade, Stage
from crm.customers.selectors import customers_visible_to, visible_holders
from crm.customers.services import DEAL_DATE_FIELDS
from crm.lib.mobile import mask_mobile
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from crm.accounts.models import User

# Chunk of values per IN (...) lookup: below SQLite's and PostgreSQL's parameter limits.
LOOKUP_CHUNK = 900
# Numbers per mobile lookup on PostgreSQL, passed as one array (_mobile_holders); SQLite
# takes them LOOKUP_CHUNK at a time in IN (...).
MOBILE_ARRAY_CHUNK = 20_000


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str
    value: str = ""  # the cell as read, where there is one


# The key under which a deal file's missing customer columns are reported.
CUSTOMER_KEY = "customer"
# Characters of a cell kept in the report: enough to recognise it.
VALUE_CHARS = 60


@dataclass
class Report:
    """What validation found: counts, every bad row (line, column, reason, value), and
    what the file lacks before anything can be imported.

    ``missing``: required columns the file lacks and no whole-file value can stand for
    (they can be assigned from the file's other columns); ``needs``: whole-file columns
    (项目, 来源渠道) the file lacks or leaves empty and that have no value chosen yet.
    Either makes the report ``blocked``: nothing can be imported until the page (or the
    API call) supplies them. ``values``: the whole-file values used, {key: as shown}.
    """

    kind: str
    filename: str = ""
    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file: FileInfo | None = None
    headers: list[tuple[str, str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    preview: list[list[str]] = field(default_factory=list)

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

    @property
    def blocked(self) -> bool:
        return bool(self.missing or self.needs)

    @property
    def missing_labels(self) -> list[str]:
        return [_label(self.kind, key) for key in self.missing]

    @property
    def needs_labels(self) -> list[str]:
        return [_label(self.kind, key) for key in self.needs]

    @property
    def unknown_headers(self) -> list[str]:
        return [label for label, key, how in self.headers if not key]

    def blocked_message(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"文件缺少必填列：{'、'.join(self.missing_labels)}（可把文件中的列对应为这些列）")
        if self.needs:
            parts.append(f"请为整个文件选择：{'、'.join(self.needs_labels)}（文件中没有填写）")
        return "；".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "filename": self.filename,
            "total": self.total,
            "errors": [[e.line, e.field, e.message, e.value] for e in self.errors],
            "notes": self.notes,
            "file": self.file.to_dict() if self.file else None,
            "headers": [list(h) for h in self.headers],
            "missing": self.missing,
            "needs": self.needs,
            "values": self.values,
            "preview": self.preview,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            kind=data["kind"],
            filename=data.get("filename", ""),
            total=data["total"],
            errors=[RowError(*e) for e in data["errors"]],
            notes=list(data.get("notes", [])),
            file=FileInfo.from_dict(data["file"]) if data.get("file") else None,
            headers=[(h[0], h[1], h[2]) for h in data.get("headers", [])],
            missing=list(data.get("missing", [])),
            needs=list(data.get("needs", [])),
            values=dict(data.get("values", {})),
            preview=[list(row) for row in data.get("preview", [])],
        )


def _label(kind: str, key: str) -> str:
    if key == CUSTOMER_KEY:
        return "客户编号或手机号（至少一列）"
    return column_of(kind, key).header


@dataclass(frozen=True)
class Options:
    """What the user chose for a file: a text file's ``encoding`` ("" to detect it),
    whole-file ``values`` ({column key: the value as a cell would hold it: a project's
    name, a channel, an owner's username}, used where the column is missing or its cell
    empty) and column ``choices`` ({normalised header: column key, "" to leave it out})."""

    encoding: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, str] = field(default_factory=dict)


# Called with (step, done, total) while a file is checked: the import page shows it.
Progress = Callable[[str, int, int], None]
READING = "读取文件"
CHECKING_ROWS = "逐行校验"
CHECKING_DATABASE = "核对已有数据"
# Rows between two progress calls.
PROGRESS_ROWS = 10_000


@dataclass
class Validation:
    report: Report
    rows: list[Any]  # the valid rows, CustomerRow or DealRow


def chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``: one IN (...) list each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------- problems by line and column


class _Errors:
    """Collects RowErrors in the order of the columns, one per (line, column)."""

    def __init__(self, kind: str, known: Iterable[RowError] = ()) -> None:
        self.kind = kind
        self.labels = {c.key: c.header for c in COLUMNS[kind]}
        self.by_line: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
        for error in known:
            self.by_line[error.line][error.field] = (error.message, error.value)

    def add(self, line: int, key_or_label: str, message: str, value: Any = "") -> None:
        shown = value if value.__class__ is str else text(value)
        self.by_line[line].setdefault(self.labels.get(key_or_label, key_or_label), (message, shown[:VALUE_CHARS]))

    def __contains__(self, line: int) -> bool:
        return line in self.by_line

    def as_list(self) -> list[RowError]:
        order = {c.header: i for i, c in enumerate(COLUMNS[self.kind])}
        order[CUSTOMER_REF] = -1
        return [
            RowError(line, label, message, value)
            for line in sorted(self.by_line)
            for label, (message, value) in sorted(self.by_line[line].items(), key=lambda item: order.get(item[0], 99))
        ]


# ---------------------------------------------------------------- column parsing


class ColumnParser(NamedTuple):
    """How the cells of one column are read.

    ``parse`` gives (value, Chinese problem or ""); the value fills the row's field
    ``fills``, a problem is reported under the column ``key``. With ``if_empty`` an empty cell
    is that problem (a required column) and is not parsed; its value is None.
    """

    key: str
    fills: str
    parse: Callable[[Any], Outcome]
    if_empty: str = ""


def _parsers(kind: str, parsers: list[ColumnParser], *, fills: Sequence[str] | None = None) -> list[ColumnParser]:
    """``parsers``, checked to be one per column of ``kind`` in the Sheet's order (and to
    fill ``fills`` in that order, where rows are built from the values by position)."""
    if [p.key for p in parsers] != [c.key for c in COLUMNS[kind]]:
        raise ValueError(f"the {kind} parsers must follow the columns of the file, one each")
    if fills is not None and [p.fills for p in parsers] != list(fills):
        raise ValueError(f"the {kind} parsers must fill {', '.join(fills)} in this order")
    return parsers


def parse_row(
    parsers: Sequence[ColumnParser], line: int, cells: Sequence[Any], errors: _Errors
) -> tuple[list[Any], list[str]]:
    """One row's cells through their columns' parsers: the values in column order, and the
    keys of the columns whose cell could not be read (an empty required cell is not among
    them). Every problem goes to ``errors``."""
    values: list[Any] = []
    unreadable: list[str] = []
    # Unpacked, not read by attribute, and a list, not a dict: this runs for every cell of
    # a file (1.4 million for 100,000 customers); a dict of values and keyword arguments
    # for CustomerRow took 0.2 s more per 100,000 rows.
    for (key, _, parse, if_empty), raw in zip(parsers, cells, strict=True):
        if if_empty and not text(raw):
            errors.add(line, key, if_empty)
            values.append(None)
            continue
        value, problem = parse(raw)
        if problem:
            errors.add(line, key, problem, raw)
            unreadable.append(key)
        values.append(value)
    return values, unreadable


# ---------------------------------------------------------------- lookups


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


_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def _nothing(raw: Any) -> Outcome:
    return None, ""


def _with_file_values(
    parsers: list[ColumnParser], kind: str, values: Mapping[str, str], skip: Iterable[str]
) -> list[ColumnParser]:
    """``parsers`` with the whole-file values: a column with a value chosen for the whole
    file reads it where its cell is empty (so an empty cell is no problem there), and the
    columns in ``skip`` (reported as missing from the file) read nothing: no row is
    reported for what the report already says once.

    A chosen value that is itself wrong (a project the user may not import into) fails
    the file, naming it, instead of every row repeating it.
    """
    skipped = set(skip)
    result = []
    for parser in parsers:
        default = values.get(parser.key, "")
        if parser.key in skipped:
            result.append(ColumnParser(parser.key, parser.fills, _nothing))
        elif default:
            fallback = parser.parse(default)
            if fallback[1]:
                header = column_of(kind, parser.key).header
                raise ImportFileError(f"为整个文件选择的{header}不可用：{fallback[1]}", field=parser.key)
            result.append(ColumnParser(parser.key, parser.fills, partial(_or_default, parser.parse, fallback)))
        else:
            result.append(parser)
    return result


def _or_default(parse: Callable[[Any], Outcome], fallback: Outcome, raw: Any) -> Outcome:
    if raw is None or raw == "" or (raw.__class__ is str and not raw.strip()):
        return fallback
    return parse(raw)


def _gaps(sheet: Sheet, values: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(missing, needs) of a Report: required columns the file lacks, and whole-file
    columns it lacks or leaves empty without a value chosen for them."""
    missing: list[str] = [CUSTOMER_KEY] if customer_ref_missing(sheet) else []
    needs: list[str] = []
    for column in COLUMNS[sheet.kind]:
        if not column.required:
            continue
        if column.whole_file:
            if (column.key in sheet.absent or column.key in sheet.blank) and not values.get(column.key):
                needs.append(column.key)
        elif column.key in sheet.absent:
            missing.append(column.key)
    return missing, needs


def _report(sheet: Sheet, errors: _Errors, missing: list[str], needs: list[str], values: dict[str, str]) -> Report:
    return Report(
        kind=sheet.kind,
        total=len(sheet.rows),
        errors=errors.as_list(),
        notes=list(sheet.notes),
        file=sheet.file,
        headers=list(sheet.headers),
        missing=missing,
        needs=needs,
        values=values,
        preview=sheet.preview,
    )


def _customer_parsers(user: User) -> list[ColumnParser]:
    """The customer file's columns for ``user``: projects, owners and their permissions
    looked up once. Cells that repeat from row to row (genders, stages, channels, projects,
    owners…) are worked out once per distinct value."""
    projects = _project_lookup(user)
    owners = _owner_lookup(user)
    today = timezone.localdate()
    restricted_projects = importable_project_ids(user)

    def name_of(raw: Any) -> tuple[str, str]:
        name = plain_text(raw)
        return name, "姓名过长（最多50字）" if len(name) > 50 else ""

    def project_of(raw: Any) -> tuple[int, str]:
        name = text(raw)
        project = _find_project(projects, name)
        if project is None:
            return 0, f"楼盘不存在：{name}（请填写本公司楼盘的名称或编码）"
        if restricted_projects is not None and project.pk not in restricted_projects:
            return 0, f"您不属于楼盘 {project.name}，不能向其导入客户"
        return project.pk, ""

    def owner_of(raw: Any) -> tuple[int, str]:
        name = text(raw)
        return _owner_outcome(name, owners) if name else (user.pk, "")

    def birthday_of(raw: Any) -> tuple[date | None, str]:
        birthday, problem = date_outcome(raw, examples="1985-03-05、1985/3/5 或 1985年3月5日")
        if birthday and birthday > today:
            return birthday, "生日不能晚于今天"
        return birthday, problem

    def tags_of(raw: Any) -> tuple[list[str], str]:
        tag_text = text(raw) if raw != "" else ""
        tags = list(dict.fromkeys(t for t in _TAG_SPLIT.split(tag_text) if t)) if tag_text else []
        long_tags = [t for t in tags if len(t) > 20]
        return tags, f"标签过长（每个最多20字）：{long_tags[0]}" if long_tags else ""

    def choice(mapping: Mapping[str, str], default: str, allowed: str) -> PerValue:
        return PerValue(partial(choice_outcome, mapping=mapping, default=default, allowed=allowed))

    booleans = PerValue(bool_outcome)
    return _parsers(
        CUSTOMERS,
        [
            ColumnParser("name", "name", name_of, if_empty="姓名不能为空"),
            ColumnParser("mobile", "mobile", mobile_outcome),
            ColumnParser("mobile2", "mobile2", optional_mobile_outcome),
            ColumnParser("gender", "gender", choice(GENDERS, Gender.UNKNOWN, "男、女")),
            ColumnParser("stage", "stage", choice(STAGES, Stage.PROSPECT, STAGE_LABELS)),
            ColumnParser("grade", "grade", choice(GRADES, Grade.C, "A、B、C")),
            ColumnParser("is_vip", "is_vip", booleans),
            ColumnParser("project", "project_id", PerValue(project_of), if_empty="意向楼盘不能为空"),
            ColumnParser(
                "source_channel", "source_channel", choice(CHANNELS, "", CHANNEL_LABELS), if_empty="来源渠道不能为空"
            ),
            ColumnParser("owner", "owner_id", PerValue(owner_of)),
            ColumnParser("birthday_on", "birthday_on", birthday_of),
            ColumnParser("tags", "tags", tags_of),
            ColumnParser("notes", "notes", text_outcome),
            ColumnParser("consent_care", "consent_care", booleans),
        ],
        fills=CustomerRow.__slots__[1:],  # after the line
    )


def validate_customers(
    sheet: Sheet, *, user: User, values: Mapping[str, str] | None = None, progress: Progress | None = None
) -> Validation:
    """Check every row; return the report and the rows that may be imported.

    ``values``: whole-file values (Options.values). Duplicates are checked within the file
    (the later row names the earlier line) and against the company's customers, in bulk:
    one query per chunk of the file's mobiles.
    """
    values = values or {}
    missing, needs = _gaps(sheet, values)
    errors = _Errors(CUSTOMERS)
    parsers = _with_file_values(_customer_parsers(user), CUSTOMERS, values, missing + needs)
    rows: list[CustomerRow] = []
    first_line: dict[str, int] = {}  # mobile -> line where it first appears in the file
    total = len(sheet.rows)
    for count, (line, cells) in enumerate(sheet.rows, start=1):
        if progress is not None and count % PROGRESS_ROWS == 0:
            progress(CHECKING_ROWS, count, total)
        # A bad row too, for its mobiles: they are checked against the company's as well.
        row = CustomerRow(line, *parse_row(parsers, line, cells, errors)[0])
        rows.append(row)
        if row.mobile2 == row.mobile:
            row.mobile2 = ""
        if row.mobile and (earlier := first_line.setdefault(row.mobile, line)) != line:
            errors.add(line, "mobile", f"手机号 {row.mobile} 与第 {earlier} 行重复", row.mobile)
        if row.mobile2 and (earlier := first_line.setdefault(row.mobile2, line)) != line:
            errors.add(line, "mobile2", f"手机号 {row.mobile2} 与第 {earlier} 行重复", row.mobile2)

    if progress is not None:
        progress(CHECKING_DATABASE, total, total)
    _flag_existing_mobiles(rows, errors, user)
    report = _report(sheet, errors, missing, needs, _shown_values(CUSTOMERS, values, user))
    return Validation(report=report, rows=[r for r in rows if r.line not in errors])


def _flag_existing_mobiles(rows: Sequence[CustomerRow], errors: _Errors, user: User) -> None:
    existing = _existing_mobiles(user, [n for r in rows for n in (r.mobile, r.mobile2) if n])
    for row in rows:
        for key, number in (("mobile", row.mobile), ("mobile2", row.mobile2)):
            if number in existing:
                errors.add(row.line, key, existing[number], number)


def recheck_customers(validation: Validation, *, user: User) -> Validation:
    """The upload's validation brought up to date with the database, for the confirm step.

    The file cannot change between upload and confirmation, so its per-row checks stand;
    what may have changed is the database: a mobile registered meanwhile, a project
    removed, an owner who left or whom the user may no longer assign.
    """
    report = validation.report
    errors = _Errors(CUSTOMERS, report.errors)
    projects = set(Project.objects.filter(company_id=company_of(user)).values_list("id", flat=True))
    if (importable := importable_project_ids(user)) is not None:
        projects &= importable
    owners = _owner_lookup(user)
    for row in validation.rows:
        if row.project_id not in projects:
            errors.add(row.line, "project", "该楼盘已不存在或您已无权导入，请重新上传")
        if row.owner_id not in owners.allowed:
            errors.add(row.line, "owner", "该置业顾问已停用或您已无权分配，请重新上传")
    _flag_existing_mobiles(validation.rows, errors, user)
    fresh = replace(report, errors=errors.as_list())
    return Validation(report=fresh, rows=[r for r in validation.rows if r.line not in errors])


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
        for chunk in chunks(wanted, LOOKUP_CHUNK):
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
            for chunk in chunks(wanted, MOBILE_ARRAY_CHUNK):
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
    for chunk in chunks(ids):
        # The one rule for naming a duplicate's holder (crm.customers.selectors.visible_holders).
        holders_seen = visible_holders(user, chunk).values_list("id", "name", "number", "is_archived")
        for pk, name, number, archived in holders_seen:
            visible[pk] = (name, number, archived)
    reasons: dict[str, str] = {}
    hidden = 0
    for mobile, pk in holders.items():
        holder = visible.get(final(pk))
        if holder is None:
            # The same rule as registration (crm.customers.guard): existence, not whose.
            reasons[mobile] = f"手机号 {mask_mobile(mobile)} {HIDDEN_DUPLICATE}"
            hidden += 1
        else:
            name, number, archived = holder
            state = "已归档客户" if archived else "客户"
            reasons[mobile] = f"手机号已存在：{state} {name}（{number}），不能重复登记"
    if hidden:
        # A file can test thousands of numbers at once: beyond the hourly limit of hidden
        # duplicates the supervisors are alerted (the list says no more than "已存在").
        note_hidden_duplicates(user, count=hidden, now=timezone.now())
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


def _deal_parsers(user: User) -> list[ColumnParser]:
    """The deal file's columns; the customer and the unit are looked up afterwards, in bulk."""
    projects = _project_lookup(user)

    def project_of(raw: Any) -> tuple[Project | None, str]:
        name = text(raw)
        project = _find_project(projects, name)
        return project, "" if project is not None else f"楼盘不存在：{name}"

    def price_of(raw: Any) -> tuple[Decimal | None, str]:
        try:
            return parse_price(raw), ""
        except ValueError:
            return None, f"成交总价格式不正确：{text(raw)}（填写金额，单位元）"

    def number_of(raw: Any) -> tuple[str, str]:
        return text(raw).upper(), ""

    date_of = partial(date_outcome, examples="2026-03-05、2026/3/5 或 2026年3月5日")
    subscribed_on, *milestones = DEAL_DATE_FIELDS
    return _parsers(
        DEALS,
        [
            ColumnParser("number", "number", number_of),
            ColumnParser("mobile", "mobile", optional_mobile_outcome),
            ColumnParser("project", "project", project_of, if_empty="楼盘不能为空"),
            ColumnParser("building", "building", text_outcome, if_empty="楼栋不能为空"),
            ColumnParser("unit", "unit", text_outcome, if_empty="房号不能为空"),
            ColumnParser("price", "price", price_of),
            ColumnParser(subscribed_on, subscribed_on, date_of, if_empty="认购日期不能为空"),
            *(ColumnParser(key, key, date_of) for key in milestones),
            ColumnParser(
                "move_in_kind",
                "move_in_kind",
                partial(choice_outcome, mapping=MOVE_IN_KINDS, default="", allowed="集中、零星"),
            ),
        ],
    )


def validate_deals(
    sheet: Sheet, *, user: User, values: Mapping[str, str] | None = None, progress: Progress | None = None
) -> Validation:
    """Check every deal row: the customer (by number or mobile, within the user's scope),
    the unit (project + building + number, still unsold), the price and milestone dates.
    ``values``: whole-file values (the project)."""
    file_values = values or {}
    missing, needs = _gaps(sheet, file_values)
    errors = _Errors(DEALS)
    parsers = _with_file_values(_deal_parsers(user), DEALS, file_values, missing + needs)
    fills = [p.fills for p in parsers]
    today = timezone.localdate()

    parsed: list[dict[str, Any]] = []
    total = len(sheet.rows)
    for count, (line, cells) in enumerate(sheet.rows, start=1):
        if progress is not None and count % PROGRESS_ROWS == 0:
            progress(CHECKING_ROWS, count, total)
        cell_values, unreadable = parse_row(parsers, line, cells, errors)
        p = dict(zip(fills, cell_values, strict=True))
        # Neither column given (an unreadable mobile is reported as such).
        if CUSTOMER_KEY in missing:
            pass
        elif not p["number"] and not p["mobile"] and "mobile" not in unreadable:
            errors.add(line, CUSTOMER_REF, "请填写客户编号或手机号")
        dates: dict[str, date | None] = {key: p[key] for key in DEAL_DATE_FIELDS}
        # The order of the milestones is checked only when every date could be read.
        if not any(key in unreadable for key in DEAL_DATE_FIELDS):
            for key, message in milestone_errors(dates, today=today).items():
                errors.add(line, key, message, dates.get(key) or "")
        if dates["moved_in_on"] and not p["move_in_kind"] and "move_in_kind" not in unreadable:
            errors.add(line, "move_in_kind", "填写了入住日期，请填写入住方式（集中/零星）")
        p["line"], p["dates"] = line, dates
        parsed.append(p)

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
                errors.add(line, "number", f"客户不存在或无权操作：{p['number']}", p["number"])
        if p["mobile"]:
            by_phone = by_mobile.get(p["mobile"])
            if p["number"]:
                # Both given: they must name the same customer.
                if customer is not None and (by_phone is None or by_phone.pk != customer.pk):
                    errors.add(line, CUSTOMER_REF, f"客户编号 {p['number']} 与手机号不是同一位客户")
            elif by_phone is None:
                errors.add(line, "mobile", f"找不到手机号为 {p['mobile']} 的客户（或无权操作）", p["mobile"])
            else:
                customer = by_phone

        unit_ref = None
        project = p["project"]
        if project is not None and p["building"] and p["unit"]:
            unit_ref = _find_unit(units, project.pk, p["building"], p["unit"])
            if unit_ref is None:
                errors.add(line, "unit", f"房源不存在：{project.name} {p['building']} {p['unit']}", p["unit"])
            elif unit_ref.pk in sold:
                errors.add(line, "unit", f"房源 {unit_ref.label} 已售出（已有有效的成交记录）", p["unit"])
            else:
                earlier = unit_lines.setdefault(unit_ref.pk, line)
                if earlier != line:
                    errors.add(line, "unit", f"房源 {unit_ref.label} 与第 {earlier} 行重复", p["unit"])

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
    report = _report(sheet, errors, missing, needs, _shown_values(DEALS, file_values, user))
    return Validation(report=report, rows=rows)


def _customer_refs(user: User, parsed: list[dict[str, Any]]) -> tuple[dict[str, _CustomerRef], dict[str, _CustomerRef]]:
    """The user's visible, unarchived customers named in the file, by number and by mobile."""
    scope = customers_visible_to(user)
    fields = ("id", "number", "stage", "owner_id", "mobile", "mobile2")
    by_number: dict[str, _CustomerRef] = {}
    by_mobile: dict[str, _CustomerRef] = {}
    numbers = sorted({p["number"] for p in parsed if p["number"]})
    for chunk in chunks(numbers):
        for pk, number, stage, owner_id, _m, _m2 in scope.filter(number__in=chunk).values_list(*fields):
            by_number[number] = _CustomerRef(pk, number, stage, owner_id)
    mobiles = {p["mobile"] for p in parsed if p["mobile"]}
    # The company's holders of the numbers (see _mobile_holders), then those the user sees.
    held = sorted({pk for pk, _, _ in _mobile_holders(company_of(user), mobiles, ("id", "mobile", "mobile2"))})
    visible: list[tuple[Any, ...]] = []
    for chunk in chunks(held):
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
    for chunk in chunks(ids):
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
    for chunk in chunks(ids):
        sold.update(Deal.objects.filter(unit_id__in=chunk, status=Deal.Status.ACTIVE).values_list("unit_id", flat=True))
    return sold


def validate_file(
    path: Path,
    kind: str,
    *,
    user: User,
    filename: str = "",
    options: Options | None = None,
    progress: Progress | None = None,
) -> Validation:
    """Read the file (with the user's ``options``) and check every row."""
    if not company_of(user):
        raise ImportFileError("您的账号未关联公司，不能导入")
    options = options or Options()

    def reading(done: int) -> None:
        if progress is not None:
            progress(READING, done, 0)

    sheet = read_sheet(path, kind, encoding=options.encoding, choices=options.choices, progress=reading)
    validate = validate_customers if kind == CUSTOMERS else validate_deals
    validation = validate(sheet, user=user, values=options.values, progress=progress)
    validation.report.filename = filename
    return validation


def _shown_values(kind: str, values: Mapping[str, str], user: User) -> dict[str, str]:
    """The whole-file values as the review shows them: {column key: name or label}."""
    shown = {key: value for key, value in values.items() if value}
    if channel := shown.get("source_channel"):
        shown["source_channel"] = str(dict(Channel.choices).get(CHANNELS.get(channel.lower(), ""), channel))
    if owner := shown.get("owner"):
        from crm.accounts.models import User as UserModel

        found = UserModel.objects.filter(company_id=company_of(user), username__iexact=owner).first()
        shown["owner"] = str(found) if found else owner
    return shown


def _concrete_field(model: type[models.Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field


def file_value_choices(user: User, kind: str) -> dict[str, list[tuple[str, str]]]:
    """What may be chosen for a whole file, per column: [(value as a cell holds it, label)].

    Projects the user may import into (crm.accounts.access.importable_project_ids), the
    channels, and the owners the user may name (themselves only, unless they may reassign
    customers: crm.accounts.access.assignable_owners_q).
    """
    projects = Project.objects.filter(company_id=company_of(user)).order_by("name")
    if (importable := importable_project_ids(user)) is not None:
        projects = projects.filter(pk__in=importable)
    choices: dict[str, list[tuple[str, str]]] = {"project": [(p.name, p.name) for p in projects]}
    if kind == CUSTOMERS:
        choices["source_channel"] = [(str(value), str(label)) for value, label in Channel.choices]
        owners = _owner_lookup(user)
        choices["owner"] = sorted(
            (
                (
                    username,
                    owners.names[pk] if owners.names[pk].lower() == username else f"{owners.names[pk]}（{username}）",
                )
                for username, pk in owners.by_username.items()
                if pk in owners.allowed
            ),
            key=lambda item: (item[0] != user.username.lower(), item[1]),
        )
    return choices
