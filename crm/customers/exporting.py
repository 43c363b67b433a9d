"""Excel workbooks: customer and deal exports, import templates, the import problem list.

Exports read through the selectors (data scope decided in one place), mask mobiles unless
the user holds customers.export_contact, never contain ID numbers (PIPL: sensitive
personal information never leaves in exports), carry a "导出人 … 仅限内部使用" line above
the header, and are audited. Every workbook is written through crm.core.xlsx, which
neutralises cells a spreadsheet would read as formulas (formula injection).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils import timezone

from crm.accounts.access import company_of
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.xlsx import CONTENT_TYPE, Style, Workbook
from crm.customers.filters import CustomerFilterForm, DealFilterForm
from crm.customers.guard import privacy_of
from crm.customers.importing import CUSTOMER_COLUMNS, CUSTOMERS, DEAL_COLUMNS, DEALS, EXAMPLE_MARK, Report
from crm.customers.models import Channel, Customer, Deal, Gender, Grade, MoveInKind, Stage, Tag
from crm.lib.mobile import mask_mobile
from crm.projects.models import Project, Unit
from crm.projects.selectors import UNIT_ORDER

if TYPE_CHECKING:
    from crm.accounts.models import User

XLSX_CONTENT_TYPE = CONTENT_TYPE
ROW_CHUNK = 2000


@dataclass
class Export:
    """A finished workbook in a temporary file (deleted when closed)."""

    file: IO[bytes]
    filename: str
    count: int
    ascii_filename: str = "export.xlsx"

    @property
    def content_disposition(self) -> str:
        """An attachment with an ASCII fallback name and the Chinese name per RFC 5987/6266."""
        return f"attachment; filename=\"{self.ascii_filename}\"; filename*=UTF-8''{quote(self.filename)}"


def watermark(user: User, *, now: datetime | None = None) -> str:
    when = timezone.localtime(now or timezone.now())
    who = str(user) if str(user) == user.username else f"{user}（{user.username}）"
    return f"导出人：{who} 导出时间：{when:%Y-%m-%d %H:%M} 仅限内部使用，请勿外传"


def export_list(
    user: User,
    rows: Iterable[Iterable[Any]],
    *,
    title: str,
    headers: Iterable[str],
    ascii_name: str,
    now: datetime,
    ip: str | None = None,
) -> Export:
    """A list page's Excel export: one sheet ``title`` with the watermark, ``headers`` and
    ``rows``; audited as 导出{title} N 条; named ``{title}_YYYYMMDD.xlsx`` (ASCII fallback
    ``{ascii_name}_YYYYMMDD.xlsx``). The shape the list exports of 客户描摹, 老带新 and 培训
    share: each builds only its rows."""
    workbook = Workbook()
    sheet = workbook.add_sheet(title, freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(headers)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出{title} {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"{title}_{stamp}.xlsx", count, ascii_filename=f"{ascii_name}_{stamp}.xlsx")


def _local(value: datetime | None) -> datetime | None:
    # Excel has no time zones: write Beijing time without tzinfo.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _yes(value: bool) -> str:
    return "是" if value else "否"


# ---------------------------------------------------------------- customers


def applied_filters(form: CustomerFilterForm | DealFilterForm) -> dict[str, str]:
    """The list filters in effect, for the audit row: {name: value as shown}."""
    applied: dict[str, str] = {}
    for name in form.fields:
        value = form.value(name)
        if name not in {"per_page", "sort"} and value not in (None, "", False):
            applied[name] = f"{value} (#{value.pk})" if hasattr(value, "pk") else str(value)
    return applied


def describe_filters(form: CustomerFilterForm | DealFilterForm) -> str:
    """The filters in effect as the approver reads them: "阶段：成交客户；楼盘：锦华苑"."""
    parts = []
    for name, field in form.fields.items():
        value = form.value(name)
        if name in {"per_page", "sort"} or value in (None, "", False):
            continue
        choices = dict(getattr(field, "choices", None) or ())
        shown = choices.get(value, value) if not hasattr(value, "pk") else value
        parts.append(f"{field.label or name}：{shown}")
    return "；".join(parts)[:300]


CUSTOMER_EXPORT_HEADERS = (
    "客户编号",
    *(c.header for c in CUSTOMER_COLUMNS),
    "同意营销短信",
    "已退订短信",
    "录入时间",
)
CUSTOMER_EXPORT_WIDTHS = (13, 10, 14, 14, 6, 10, 9, 6, 14, 11, 10, 12, 18, 24, 12, 12, 10, 18)


class ApprovalRequired(DomainError):
    """The export holds more customers than the company lets anyone export without a
    supervisor's approval (DESIGN 3.7): the caller offers an ExportRequest instead."""

    def __init__(self, kind: str, count: int, threshold: int, params: dict[str, str], filters_text: str) -> None:
        super().__init__(f"本次导出 {count} 条，超过 {threshold} 条需主管审批，请填写用途提交申请")
        self.kind, self.count, self.threshold = kind, count, threshold
        self.params, self.filters_text = params, filters_text


def _check_threshold(user: User, kind: str, qs: Any, params: Mapping[str, str], described: str, approved: bool) -> None:
    if approved:
        return
    threshold = privacy_of(company_of(user)).export_approval_threshold
    count = qs.count()
    if count > threshold:
        kept = {key: str(value) for key, value in params.items() if key not in {"page", "csrfmiddlewaretoken"}}
        raise ApprovalRequired(kind, count, threshold, kept, described)


def export_customers(user: User, params: Mapping[str, str], *, ip: str | None = None, approved: bool = False) -> Export:
    """The customers the user may see, filtered like the list page (crm.customers.filters), as a workbook.

    Mobiles are masked unless the user holds customers.export_contact; ID numbers are
    never exported. More customers than the company's approval threshold raise
    ApprovalRequired unless ``approved`` (an approved ExportRequest being downloaded).
    Writes one audit row (action export) with count, filters and masking.
    """
    unmasked = user.has_perm("customers.export_contact")
    filters = CustomerFilterForm(params, user=user)
    qs, applied = filters.queryset(), applied_filters(filters)
    _check_threshold(user, CUSTOMERS, qs, params, describe_filters(filters), approved)
    now = timezone.now()
    workbook = Workbook()
    sheet = workbook.add_sheet("客户", widths=CUSTOMER_EXPORT_WIDTHS, freeze="C3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(CUSTOMER_EXPORT_HEADERS)

    tags: dict[int, list[str]] = defaultdict(list)
    through = Customer.tags.through
    for customer_id, name in (
        through.objects.filter(customer_id__in=qs.values("pk"))
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    ):
        tags[customer_id].append(name)

    stages, grades, channels, genders = (
        dict(Stage.choices),
        dict(Grade.choices),
        dict(Channel.choices),
        dict(Gender.choices),
    )
    mask = (lambda m: m or None) if unmasked else (lambda m: mask_mobile(m) or None)
    fields = (
        "id",
        "number",
        "name",
        "mobile",
        "mobile2",
        "gender",
        "stage",
        "grade",
        "is_vip",
        "project__name",
        "source_channel",
        "owner__display_name",
        "owner__username",
        "birthday_on",
        "notes",
        "consent_care",
        "consent_marketing",
        "has_opted_out",
        "created_at",
    )
    count = 0
    for (
        pk,
        number,
        name,
        mobile,
        mobile2,
        gender,
        stage,
        grade,
        is_vip,
        project,
        channel,
        owner_name,
        owner_username,
        birthday,
        notes,
        consent_care,
        consent_marketing,
        opted_out,
        created_at,
    ) in qs.values_list(*fields).iterator(chunk_size=ROW_CHUNK):
        sheet.append(
            [
                number,
                name,
                mask(mobile),
                mask(mobile2),
                genders.get(gender) if gender else None,
                stages.get(stage, stage),
                grades.get(grade, grade),
                _yes(is_vip),
                project,
                channels.get(channel, channel),
                owner_name or owner_username,
                birthday,
                ",".join(tags[pk]) if pk in tags else None,
                notes or None,
                _yes(consent_care),
                _yes(consent_marketing),
                _yes(opted_out),
                _local(created_at),
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(
        audit.AuditLog.Action.EXPORT,
        actor=user,
        target_type="customers.customer",
        summary=f"导出客户 {count} 条（{'含完整手机号' if unmasked else '手机号已脱敏'}）",
        changes={"kind": CUSTOMERS, "count": count, "filters": applied, "unmasked": unmasked},
        ip=ip,
    )
    stamp = f"{timezone.localtime(now):%Y%m%d_%H%M}"
    return Export(file=file, filename=f"客户导出_{stamp}.xlsx", count=count, ascii_filename=f"customers_{stamp}.xlsx")


# ---------------------------------------------------------------- deals


DEAL_EXPORT_HEADERS = (
    "客户编号",
    "客户姓名",
    "手机号",
    "楼盘",
    "楼栋",
    "房号",
    "户型",
    "建筑面积(㎡)",
    "成交总价",
    "状态",
    "认购日期",
    "签约日期",
    "全款到账日期",
    "合同备案日期",
    "计划交房日期",
    "实际交房日期",
    "入住日期",
    "入住方式",
    "退房日期",
    "置业顾问",
)
DEAL_EXPORT_WIDTHS = (13, 10, 14, 14, 8, 8, 14, 11, 14, 8, *([12] * 9), 10)


def export_deals(user: User, params: Mapping[str, str], *, ip: str | None = None, approved: bool = False) -> Export:
    """The deals of customers the user may see, as a workbook (masked, approved above the
    threshold and audited like customers)."""
    unmasked = user.has_perm("customers.export_contact")
    filters = DealFilterForm(params, user=user)
    qs, applied = filters.queryset(), applied_filters(filters)
    _check_threshold(user, DEALS, qs, params, describe_filters(filters), approved)
    now = timezone.now()
    workbook = Workbook()
    sheet = workbook.add_sheet("成交", widths=DEAL_EXPORT_WIDTHS, freeze="C3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(DEAL_EXPORT_HEADERS)
    statuses, kinds = dict(Deal.Status.choices), dict(MoveInKind.choices)
    fields = (
        "customer__number",
        "customer__name",
        "customer__mobile",
        "project__name",
        "unit__building__name",
        "unit__number",
        "unit__layout",
        "unit__area",
        "price",
        "status",
        "subscribed_on",
        "contracted_on",
        "full_payment_on",
        "filed_on",
        "delivery_planned_on",
        "delivered_on",
        "moved_in_on",
        "move_in_kind",
        "cancelled_on",
        "consultant__display_name",
        "consultant__username",
    )
    count = 0
    for row in qs.values_list(*fields).iterator(chunk_size=ROW_CHUNK):
        number, name, mobile, project, building, unit, layout, area, price, status = row[:10]
        dates = row[10:17]
        kind, cancelled_on, consultant_name, consultant_username = row[17:]
        sheet.append(
            [
                number,
                name,
                (mobile if unmasked else mask_mobile(mobile)) or None,
                project,
                building,
                unit,
                layout or None,
                area,
                price,
                statuses.get(status, status),
                *dates,
                kinds.get(kind) if kind else None,
                cancelled_on,
                consultant_name or consultant_username,
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(
        audit.AuditLog.Action.EXPORT,
        actor=user,
        target_type="customers.deal",
        summary=f"导出成交 {count} 条（{'含完整手机号' if unmasked else '手机号已脱敏'}）",
        changes={"kind": DEALS, "count": count, "filters": applied, "unmasked": unmasked},
        ip=ip,
    )
    stamp = f"{timezone.localtime(now):%Y%m%d_%H%M}"
    return Export(file=file, filename=f"成交导出_{stamp}.xlsx", count=count, ascii_filename=f"deals_{stamp}.xlsx")


# ---------------------------------------------------------------- templates


# Tags a sales office uses (crm.demo.foundation): the example's tags when the company has them.
EXAMPLE_TAGS = ("学区需求", "改善型")


def _example_tags(company_id: int) -> list[str]:
    """Two of the company's own tags for the template's example row, so that importing it
    as it stands creates no new tag: 学区需求 and 改善型 when it has them, else its first two."""
    existing = list(Tag.objects.filter(company_id=company_id).order_by("name").values_list("name", flat=True))
    preferred = [name for name in EXAMPLE_TAGS if name in existing]
    chosen = (preferred + [name for name in existing if name not in preferred])[:2]
    return chosen or list(EXAMPLE_TAGS)


def _example_row(kind: str, user: User) -> list[Any]:
    project = Project.objects.filter(company_id=company_of(user)).order_by("id").first()
    project_name = project.name if project else "锦华苑"
    if kind == CUSTOMERS:
        return [
            f"{EXAMPLE_MARK}张三",
            "13800138000",
            None,
            "男",
            "意向客户",
            "A",
            "否",
            project_name,
            "来电",
            user.username,
            date(1985, 3, 5),
            ",".join(_example_tags(company_of(user))),
            "周末看房，关注三居",
            "是",
        ]
    unit = (
        Unit.objects.filter(project=project).select_related("building").order_by(*UNIT_ORDER).first()
        if project
        else None
    )
    return [
        f"{EXAMPLE_MARK}KH00000001",
        "13800138000",
        project_name,
        unit.building.name if unit else "1号楼",
        unit.number if unit else "1801",
        1200000,
        date(2026, 3, 5),
        date(2026, 3, 10),
        None,
        None,
        date(2027, 6, 30),
        None,
        None,
        None,
    ]


def build_template(kind: str, user: User) -> Export:
    """An empty import file: the Chinese header row (required columns marked *), one
    example row (skipped on import) and a sheet of instructions."""
    columns = CUSTOMER_COLUMNS if kind == CUSTOMERS else DEAL_COLUMNS
    title = "客户导入" if kind == CUSTOMERS else "成交导入"
    workbook = Workbook()
    sheet = workbook.add_sheet(title, widths=[max(12, len(c.header) * 2 + 4) for c in columns], freeze="A2")
    sheet.append_header([c.header for c in columns], required=[c.header for c in columns if c.required])
    sheet.append(_example_row(kind, user), style=Style.EXAMPLE, date_format="yyyy-mm-dd")

    guide = workbook.add_sheet("填写说明", widths=[16, 10, 70])
    guide.append_header(["列名", "是否必填", "填写说明"])
    for column in columns:
        guide.append([column.header, "必填" if column.required else "", column.help])
    guide.append([])
    tips = [
        "第一行为表头，请勿修改列名；从第二行起每行一条记录。",
        f"第二行是示例（以“{EXAMPLE_MARK}”开头），导入时会自动忽略，可直接覆盖或删除。",
        "上传后系统会先逐行校验，并列出每个有问题的行号和原因；确认后才会写入。",
        "有问题的文件默认不导入任何数据；也可以选择“仅导入有效行”。",
        "日期可填 Excel 日期，或 2026-03-05、2026/3/5、2026年3月5日。",
    ]
    if kind == DEALS:
        tips.append("客户编号与手机号至少填一项；房源按“楼盘 + 楼栋 + 房号”查找，已售出的房源不能再次导入。")
    for tip in tips:
        guide.append([None, None, tip])
    name = "客户导入模板.xlsx" if kind == CUSTOMERS else "成交导入模板.xlsx"
    return Export(file=workbook.save(), filename=name, count=0, ascii_filename=f"{kind}-import-template.xlsx")


def build_problem_list(report: Report) -> Export:
    """The validation report's bad rows (行号, 字段, 内容, 原因) as a workbook; the cells the
    user wrote go through the shared writer like every export, formulas included."""
    workbook = Workbook()
    sheet = workbook.add_sheet("问题清单", widths=[8, 16, 24, 80])
    sheet.append_note(f"文件：{report.filename}  共 {report.total} 行，有问题 {report.invalid} 行")
    sheet.append_header(["行号", "字段", "内容", "原因"])
    for error in report.errors:
        sheet.append([error.line, error.field, error.value or None, error.message])
    stem = report.filename.rsplit(".", 1)[0]
    return Export(
        file=workbook.save(),
        filename=f"导入问题清单_{stem}.xlsx",
        count=len(report.errors),
        ascii_filename="import-problems.xlsx",
    )
