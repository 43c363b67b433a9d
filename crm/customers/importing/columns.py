"""The two kinds of import file and their columns.

One list per kind: the header row of a file is matched against the headers and aliases
(crm.customers.importing.reading), the report names a column by its header, and the
template and its help sheet (crm.customers.exporting) list them in this order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm.customers.models import Channel, Stage

CUSTOMERS = "customers"
DEALS = "deals"
KINDS = {CUSTOMERS: "客户资料", DEALS: "成交记录"}

# The template's example row starts with this mark and is skipped on import.
EXAMPLE_MARK = "（示例）"


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
