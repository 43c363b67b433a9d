"""Repairs from an Excel workbook (报修记录导入): one row per repair, the columns 客户编号,
房号, 报修问题, 维修单位, 完工时间 (the first row is the header; 房号 and 完工时间 may be
empty). The file is checked and read the way customer imports are (crm.lib.sheets: the
archive checked first, read in a child process with limits).

Every row is checked before anything is written: if one row is wrong, nothing is
imported and each wrong row is listed with its Excel line number and a Chinese message
(nothing dropped silently). Otherwise every row is recorded through
``repairs.record_repair`` (source 导入), so a completed repair gets its callback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.core.errors import DomainError
from crm.lib import sheets
from crm.lib.dates import CHINA_TZ
from crm.visits import repairs
from crm.visits.models import Repair

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.lib.workcalendar import WorkCalendar

COLUMNS = ("客户编号", "房号", "报修问题", "维修单位", "完工时间")
REQUIRED = ("客户编号", "报修问题", "维修单位")
MAX_ROWS = 2000
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


@dataclass
class ImportResult:
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)
    if isinstance(value, date):
        return datetime.combine(value, time(12, 0), tzinfo=CHINA_TZ)
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(_text(value), fmt).replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
    raise DomainError("完工时间格式不对，请填写如 2026-09-28 15:00")


def _rows(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        names = sheets.check_zip(path, max_unpacked=settings.IMPORT_MAX_UNPACKED_BYTES)
        if "xl/workbook.xml" not in names:
            raise DomainError("文件内容不是 Excel 工作簿（.xlsx）")
        rows = list(
            sheets.iter_sheet_rows(
                path,
                max_cells=settings.IMPORT_MAX_CELLS,
                memory_bytes=settings.IMPORT_READER_MEMORY_BYTES,
                cpu_seconds=settings.IMPORT_READER_CPU_SECONDS,
            )
        )
    except sheets.UnreadableSheet as exc:
        raise DomainError(exc.message) from exc
    return [(line, cells) for line, cells in rows if line > 0]


def import_repairs(
    path: Path, *, actor: User, now: datetime | None = None, calendar: WorkCalendar | None = None
) -> ImportResult:
    """Check every row, then record them all (or none); see the module docstring."""
    from crm.customers.selectors import customers_visible_to
    from crm.projects.models import Unit

    if not actor.has_perm(repairs.ADD):
        raise DomainError("您没有登记报修的权限")
    now = now or timezone.now()
    rows = _rows(path)
    if not rows:
        raise DomainError(
            "工作表是空的：第一行为表头（客户编号、房号、报修问题、维修单位、完工时间），从第二行起每行一条报修"
        )
    header_line, header = rows[0]
    positions = {_text(cell): i for i, cell in enumerate(header) if _text(cell)}
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise DomainError(f"第 {header_line} 行表头缺少列：{'、'.join(missing)}")
    data = [(line, cells) for line, cells in rows[1:] if any(_text(c) for c in cells)]
    if len(data) > MAX_ROWS:
        raise DomainError(f"一次最多导入 {MAX_ROWS} 条报修，请拆分文件")

    def cell(cells: list[Any], name: str) -> Any:
        i = positions.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    customers = customers_visible_to(actor)
    result = ImportResult()
    checked: list[dict[str, Any]] = []
    for line, cells in data:
        try:
            number = _text(cell(cells, "客户编号"))
            if not number:
                raise DomainError("请填写客户编号")
            customer = customers.filter(number__iexact=number).first()
            if customer is None:
                raise DomainError(f"没有找到客户编号 {number}（或不在您的范围内）")
            problem, contractor = _text(cell(cells, "报修问题")), _text(cell(cells, "维修单位"))
            if not problem:
                raise DomainError("请填写报修问题")
            if not contractor:
                raise DomainError("请填写维修单位")
            room = _text(cell(cells, "房号"))
            unit = None
            if room:
                units = Unit.objects.filter(project_id=customer.project_id, number=room)
                unit = units.filter(deals__customer=customer).first() or units.first()
                if unit is None:
                    raise DomainError(f"客户所属楼盘没有房号 {room}")
            completed_at = _when(cell(cells, "完工时间"))
            if completed_at is not None and completed_at > now:
                raise DomainError("完工时间不能晚于现在")
        except DomainError as exc:
            result.errors.append((line, exc.message))
            continue
        checked.append(
            {
                "customer": customer,
                "unit": unit,
                "problem": problem,
                "contractor": contractor,
                "completed_at": completed_at,
            }
        )
    if result.errors:
        return result
    with transaction.atomic():
        for fields in checked:
            repairs.record_repair(actor=actor, source=Repair.Source.IMPORT, now=now, calendar=calendar, **fields)
    result.created = len(checked)
    return result
