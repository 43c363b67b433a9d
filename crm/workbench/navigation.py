"""The left-hand menu (DESIGN 3.8): one list, each item shown only to users who may use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse

from crm.accounts.roles import Role

if TYPE_CHECKING:
    from crm.accounts.models import User


@dataclass(frozen=True)
class NavItem:
    """A menu entry. With ``permission`` and/or ``roles`` set, a user needs that permission
    or one of those roles (superusers have every role); with neither, everyone sees it."""

    label: str
    url_name: str
    icon: str
    permission: str | None = None
    staff_only: bool = False
    match: tuple[str, ...] = field(default_factory=tuple)
    roles: tuple[Role, ...] = ()

    def allows(self, user: User) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        if self.permission is None and not self.roles:
            return True
        if self.permission is not None and user.has_perm(self.permission):
            return True
        return bool(self.roles) and (user.is_superuser or user.has_role(*self.roles))


MENU: tuple[NavItem, ...] = (
    NavItem("工作台", "workbench", "home"),
    NavItem("客户", "customers:list", "users", "customers.view_customer", match=("/customers/",)),
    NavItem("成交", "customers:deal_list", "key", "customers.view_deal", match=("/customers/deals",)),
    NavItem(
        "温馨速递",
        "care:home",
        "message",
        roles=(Role.SERVICE, Role.DIRECTOR, Role.APPROVER, Role.ADMIN),
        match=("/sms/",),
    ),
    NavItem("导入导出", "customers:import", "upload", "customers.import_customers", match=("/customers/import",)),
    NavItem("审计日志", "audit_log", "shield", "customers.view_audit", match=("/audit/",)),
    NavItem("系统设置", "admin:index", "settings", staff_only=True, match=("/admin/",)),
)


def menu_for(user: User, path: str) -> list[dict[str, object]]:
    items = []
    for item in MENU:
        if not item.allows(user):
            continue
        url = reverse(item.url_name)
        matches = item.match or ((url,) if url != "/" else ())
        active = path == url or any(path.startswith(m) for m in matches)
        items.append({"label": item.label, "url": url, "icon": item.icon, "active": active})
    # The most specific match wins (客户 vs 成交 both match /customers/deals).
    active_items = [i for i in items if i["active"]]
    if len(active_items) > 1:
        best = max(active_items, key=lambda i: len(str(i["url"])))
        for i in items:
            i["active"] = i is best
    return items
