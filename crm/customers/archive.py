"""Layout of the customer archive (客户信息档案, seed 004's 42 items in six groups), as data.

Each group lists field names in the seed's order. Items 1 (gender) and 6 (mobile) live
on Customer and are shown read-only in the archive editor, with a link to the customer
form; items 39 and 40 (career and personal goals) are each split into a long- and a
short-term field. The sensitive items are hidden unless ARCHIVE_SENSITIVE_FIELDS is on:
PIPL art. 6 (minimum necessary) and art. 28/31 (health and children's data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from crm.customers.guard import privacy_of
from crm.customers.models import Customer, CustomerProfile

if TYPE_CHECKING:
    from collections.abc import Iterator

# Items stored on Customer rather than CustomerProfile.
CUSTOMER_FIELDS = frozenset({"gender", "mobile"})

# Parents' health (14), children (15), health (22).
SENSITIVE_FIELDS = frozenset({"parents_status", "children_status", "health"})

ARCHIVE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "基本信息",
        ("gender", "address", "employer", "office_phone", "home_phone", "mobile", "native_place", "education"),
    ),
    (
        "家庭信息",
        (
            "family_status",
            "marital_status",
            "spouse_info",
            "spouse_education",
            "spouse_interests",
            "parents_status",
            "children_status",
            "closest_person",
        ),
    ),
    (
        "个人生活、安全信息",
        (
            "dining_place",
            "shopping_place",
            "cuisine",
            "drinking",
            "smoking",
            "health",
            "travel_mode",
            "social_organizations",
            "social_enthusiasm",
        ),
    ),
    (
        "个人房产状况",
        (
            "current_residence",
            "property_investment",
            "ideal_residence",
            "purchase_reason",
            "purchase_details",
            "brand_awareness",
            "cares_about_neighbours",
        ),
    ),
    ("受社会尊重信息", ("job_title", "car_brand", "plate_number", "dress_style", "info_source", "admired_person")),
    (
        "自我认同价值",
        (
            "career_goal_long",
            "career_goal_short",
            "personal_goal_long",
            "personal_goal_short",
            "proudest_thing",
            "independence",
        ),
    ),
)

# Items 39 and 40 each span a long- and a short-term field: the short one counts with the long.
PAIRED_WITH = {"career_goal_short": "career_goal_long", "personal_goal_short": "personal_goal_long"}

# Longer hints than the model's help_text, taken from the seed's 注解.
HINTS: dict[str, str] = {
    "dining_place": "午餐、晚餐喜欢在什么地方就餐，餐馆档次",
    "cuisine": "中餐或西餐，川菜或粤菜",
    "drinking": "是否饮酒、饮什么酒；不饮酒是否反对别人饮酒",
    "smoking": "是否抽烟、抽什么烟；不抽烟是否反对别人抽烟",
    "social_organizations": "例如商会、协会会员等",
    "current_residence": "现居住社区、何时置业、是否升值、对目前居住条件是否满意及原因",
    "property_investment": "是否有商业投资、地段、旺铺或稳定收益型；是否有下一步投资打算",
    "ideal_residence": "最关注：社区规划、户型设计、周边配套(学校/医院/商场)、社区配套、绿化景观、产品品质感、品牌及发展商实力",
    "purchase_details": "户型、面积、为谁购买等",
}


def sensitive_fields_enabled(company_id: int | None = None) -> bool:
    """Whether the company shows the sensitive items: its privacy setting (CompanyPrivacy,
    off by default), else ARCHIVE_SENSITIVE_FIELDS."""
    if company_id is None:
        return bool(getattr(settings, "ARCHIVE_SENSITIVE_FIELDS", False))
    return privacy_of(company_id).archive_sensitive_fields


def is_visible(field: str, *, show_sensitive: bool) -> bool:
    return show_sensitive or field not in SENSITIVE_FIELDS


def profile_fields(*, show_sensitive: bool | None = None, company_id: int | None = None) -> list[str]:
    """The CustomerProfile fields the archive editor shows and saves, in seed order."""
    if show_sensitive is None:
        show_sensitive = sensitive_fields_enabled(company_id)
    return [
        name
        for _, names in ARCHIVE_GROUPS
        for name in names
        if name not in CUSTOMER_FIELDS and is_visible(name, show_sensitive=show_sensitive)
    ]


def label(field: str) -> str:
    model = Customer if field in CUSTOMER_FIELDS else CustomerProfile
    return str(getattr(model._meta.get_field(field), "verbose_name", field))


@dataclass(frozen=True)
class ArchiveEntry:
    field: str
    label: str
    value: str
    on_customer: bool


def entries(
    customer: Customer, profile: CustomerProfile | None, *, show_sensitive: bool | None = None
) -> Iterator[tuple[str, list[ArchiveEntry]]]:
    """(group title, [entry]) with the display value of every visible item."""
    if show_sensitive is None:
        show_sensitive = sensitive_fields_enabled(customer.company_id)
    for title, names in ARCHIVE_GROUPS:
        rows = []
        for name in names:
            if not is_visible(name, show_sensitive=show_sensitive):
                continue
            if name == "gender":
                value = customer.get_gender_display() if customer.gender else ""
            elif name == "mobile":
                value = customer.masked_mobile
            else:
                value = str(getattr(profile, name, "") or "") if profile is not None else ""
            rows.append(ArchiveEntry(name, label(name), value, name in CUSTOMER_FIELDS))
        yield title, rows


def completeness(customer: Customer, profile: CustomerProfile | None) -> tuple[int, int]:
    """(filled, total) over the visible seed items (42 with the sensitive ones), for the 360° page."""
    items: dict[str, bool] = {}
    for _, rows in entries(customer, profile):
        for row in rows:
            item = PAIRED_WITH.get(row.field, row.field)
            items[item] = items.get(item, False) or bool(row.value)
    return sum(items.values()), len(items)
