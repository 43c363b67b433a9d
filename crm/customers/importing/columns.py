"""The two kinds of import file and their columns, with the headers other systems give them.

One list per kind: the header row of a file is matched against each column's header and
synonyms (``header_keys``: case, spaces, stars and bracketed notes do not count), the
report names a column by its header, and the template and its help sheet
(crm.customers.exporting) list them in this order. A header no synonym matches can be
assigned a column on the review page; the choice is remembered per user
(crm.customers.models.ImportColumnChoice). A column marked ``whole_file`` may instead get
one value for the whole file on that page (项目, 来源渠道, 置业顾问), used where its cell is
empty or the file has no such column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from crm.customers.models import Channel, ImportJob, Stage

CUSTOMERS = str(ImportJob.Kind.CUSTOMERS)
DEALS = str(ImportJob.Kind.DEALS)
KINDS = {str(value): str(label) for value, label in ImportJob.Kind.choices}

# The template's example row starts with this mark and is skipped on import.
EXAMPLE_MARK = "（示例）"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""
    whole_file: bool = False


def _labels(choices: Iterable[tuple[Any, Any]]) -> str:
    return "、".join(str(label) for value, label in choices if value)


CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", True, ("客户姓名", "客户名称", "客户名", "名字", "联系人", "name"), "必填，最多50字"),
    Column(
        "手机号",
        "mobile",
        True,
        ("手机", "手机号码", "联系电话", "电话", "电话号码", "移动电话", "联系方式", "客户手机", "客户电话", "mobile"),
        "必填；同一公司内一个手机号只能登记一位客户",
    ),
    Column("备用手机号", "mobile2", False, ("备用手机", "备用电话", "其他电话", "第二联系电话", "手机号2"), "选填"),
    Column("性别", "gender", False, ("gender", "sex"), "男 / 女"),
    Column("客户阶段", "stage", False, ("阶段", "客户状态"), f"{_labels(Stage.choices)}；不填为潜在客户"),
    Column(
        "客户等级", "grade", False, ("等级", "客户级别", "级别", "意向等级"), "A / B / C（或 A级、B级、C级）；不填为C级"
    ),
    Column("VIP", "is_vip", False, ("是否VIP", "VIP客户"), "是 / 否；不填为否"),
    Column(
        "意向楼盘",
        "project",
        True,
        ("楼盘", "项目", "项目名称", "楼盘名称", "意向项目", "project"),
        "必填，楼盘名称或楼盘编码；文件中没有时可在页面上为整个文件选择",
        whole_file=True,
    ),
    Column(
        "来源渠道",
        "source_channel",
        True,
        ("渠道", "来源", "客户来源", "获客渠道", "来访渠道", "source", "channel"),
        f"必填：{_labels(Channel.choices)}；文件中没有时可在页面上为整个文件选择",
        whole_file=True,
    ),
    Column(
        "置业顾问",
        "owner",
        False,
        ("顾问", "销售顾问", "归属顾问", "跟进顾问", "跟进人", "负责人", "业务员"),
        "员工用户名或姓名；不填为导入人本人，也可在页面上为整个文件选择",
        whole_file=True,
    ),
    Column(
        "生日",
        "birthday_on",
        False,
        ("出生日期", "生日日期", "出生年月日"),
        "日期，如 1985-03-05、1985/3/5、1985年3月5日",
    ),
    Column("标签", "tags", False, ("客户标签",), "多个标签用逗号分隔，不存在的标签会自动创建"),
    Column("备注", "notes", False, ("备注信息", "客户备注", "说明"), "选填"),
    Column("同意关怀短信", "consent_care", False, ("关怀短信", "接收关怀短信"), "是 / 否；客户本人同意后才填“是”"),
)

DEAL_COLUMNS: tuple[Column, ...] = (
    Column("客户编号", "number", False, ("客户号", "客户代码"), "客户编号与手机号至少填一项"),
    Column(
        "手机号",
        "mobile",
        False,
        ("手机", "手机号码", "客户手机号", "客户手机", "联系电话", "电话", "电话号码"),
        "客户的手机号",
    ),
    Column(
        "楼盘",
        "project",
        True,
        ("项目", "项目名称", "楼盘名称", "意向楼盘"),
        "必填，楼盘名称或编码；文件中没有时可在页面上为整个文件选择",
        whole_file=True,
    ),
    Column("楼栋", "building", True, ("栋号", "楼号", "幢号", "楼栋号"), "必填，如 1号楼"),
    Column("房号", "unit", True, ("房间号", "房号名称", "单元房号"), "必填，如 1801"),
    Column("成交总价", "price", False, ("总价", "成交价", "合同总价", "成交金额", "合同金额"), "元；不填取房源总价"),
    Column("认购日期", "subscribed_on", True, ("认购时间", "认购日"), "必填"),
    Column("签约日期", "contracted_on", False, ("签约时间", "网签日期", "合同签订日期")),
    Column("全款到账日期", "full_payment_on", False, ("全款到账", "到账日期", "付清日期")),
    Column("合同备案日期", "filed_on", False, ("备案日期", "备案时间")),
    Column("计划交房日期", "delivery_planned_on", False, ("约定交房日期", "合同交房日期")),
    Column("实际交房日期", "delivered_on", False, ("交房日期", "交付日期")),
    Column("入住日期", "moved_in_on", False, ("入住时间",)),
    Column("入住方式", "move_in_kind", False, ("入住类型",), "集中 / 零星；填了入住日期时必填"),
)

COLUMNS = {CUSTOMERS: CUSTOMER_COLUMNS, DEALS: DEAL_COLUMNS}
# The label used in the report when a deal's customer cannot be found by either column.
CUSTOMER_REF = "客户编号/手机号"
STAGE_LABELS = _labels(Stage.choices)
CHANNEL_LABELS = _labels(Channel.choices)

_NOTE = re.compile(r"[（(][^）)]*[）)]")
_NOISE = re.compile(r"[\s*＊:：_\-]")


def normalise_header(value: Any) -> str:
    """A header as compared: full-width letters narrowed, bracketed notes ("（必填）"),
    spaces, stars, colons, underscores and hyphens removed, lower-cased."""
    text = unicodedata.normalize("NFKC", value if isinstance(value, str) else str(value or ""))
    return _NOISE.sub("", _NOTE.sub("", text)).lower()


@cache
def header_keys(kind: str) -> dict[str, str]:
    """{normalised header or synonym: column key} for a kind of file; a synonym naming two
    columns would make a file's meaning depend on the order of this list, so it fails here."""
    keys: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for name in (column.header, *column.aliases):
            normalised = normalise_header(name)
            if keys.setdefault(normalised, column.key) != column.key:
                raise ValueError(f"the header {name!r} names two {kind} columns")
    return keys


def column_of(kind: str, key: str) -> Column:
    return next(c for c in COLUMNS[kind] if c.key == key)


def whole_file_keys(kind: str) -> tuple[str, ...]:
    return tuple(c.key for c in COLUMNS[kind] if c.whole_file)
