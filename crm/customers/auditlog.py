"""The audit log page (系统设置 › 审计日志): who may read which rows, its filters, and its
Excel export.

Reading rules (docs/privacy.md):
1. Only the reader's own company's rows (AuditLog.company_id); rows of no company (a
   failed login with an unknown username, the purge's own record) only for superusers.
2. By role: a reader whose roles see the whole company sees every customer row of it; any
   other reader (a project-wide director, say) only rows of customers in their scope and
   their own actions. Logins, failed logins, permission changes and alerts (security rows)
   only for holders of customers.view_security_audit (行政主管, 系统管理员).
3. Filters by customer name or number and by staff name or account, never internal ids.
4. Nothing shows a full mobile or ID number: crm.core.audit_display masks again on display.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import IO, TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.accounts.access import NOTHING, company_of, sees_company
from crm.accounts.models import User as UserModel
from crm.core import audit
from crm.core.audit_display import AuditLine, describe
from crm.core.models import AuditLog
from crm.core.xlsx import Workbook
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to

if TYPE_CHECKING:
    from crm.accounts.models import User

SECURITY_ACTIONS = (
    AuditLog.Action.LOGIN,
    AuditLog.Action.LOGIN_FAILED,
    AuditLog.Action.PERMISSION,
    AuditLog.Action.ALERT,
)
EXPORT_LIMIT = 50_000
# Customers a name filter may match before it is narrowed (a common surname).
NAME_MATCH_LIMIT = 2000


def audit_rows_visible_to(user: User) -> QuerySet[AuditLog]:
    """The audit rows the user may read (rules 1 and 2)."""
    if not user.is_authenticated or not user.has_perm("customers.view_audit"):
        return AuditLog.objects.none()
    in_company = Q(company_id=user.company_id) if user.company_id else NOTHING
    if user.is_superuser:
        return AuditLog.objects.filter(in_company | Q(company_id__isnull=True))
    rows = AuditLog.objects.filter(in_company)
    if not sees_company(user):
        visible = customers_visible_to(user, include_archived=True).values("pk")
        rows = rows.filter(Q(customer_id__in=visible) | Q(actor_id=user.pk))
    if not user.has_perm("customers.view_security_audit"):
        rows = rows.exclude(action__in=SECURITY_ACTIONS)
    return rows


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, label="操作", choices=[("", "全部操作"), *AuditLog.Action.choices])
    customer = forms.CharField(required=False, max_length=50, label="客户", help_text="姓名或客户编号")
    staff = forms.CharField(required=False, max_length=30, label="操作人", help_text="姓名或账号")
    start = forms.DateField(required=False, label="起始日期")
    end = forms.DateField(required=False, label="截止日期")

    def __init__(self, data: Mapping[str, Any] | None, *, user: User) -> None:
        super().__init__(data)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "截止日期不能早于起始日期")
        return data

    def applied(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {name: str(value) for name, value in self.cleaned_data.items() if value not in (None, "")}

    def queryset(self) -> QuerySet[AuditLog]:
        rows = audit_rows_visible_to(self.user).select_related("actor")
        if not self.is_valid():
            return rows
        data = self.cleaned_data
        if data["action"]:
            rows = rows.filter(action=data["action"])
        if text := (data["customer"] or "").strip():
            rows = rows.filter(_customer_q(self.user, text))
        if text := (data["staff"] or "").strip():
            staff = UserModel.objects.filter(company_id=company_of(self.user)).filter(
                Q(display_name__contains=text) | Q(username=text)
            )
            rows = rows.filter(actor__in=staff.values("pk"))
        if data["start"]:
            rows = rows.filter(at__gte=_midnight(data["start"]))
        if data["end"]:
            rows = rows.filter(at__lt=_midnight(data["end"], next_day=True))
        return rows


def _midnight(day: date, *, next_day: bool = False) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=int(next_day)), time.min))


def _customer_q(user: User, text: str) -> Q:
    """Rows about customers whose number is ``text`` or whose name contains it (in the
    reader's company), and rows whose label names it (customers since erased)."""
    customers = Customer.objects.filter(company_id=company_of(user)).filter(
        Q(number=text.upper()) | Q(name__contains=text)
    )
    ids = list(customers.values_list("pk", flat=True)[:NAME_MATCH_LIMIT])
    return Q(customer_id__in=ids) | Q(target_label__contains=text)


HEADERS = ["时间", "操作人", "操作", "对象", "内容", "事由", "IP"]


def export_audit_rows(user: User, form: AuditFilterForm, *, ip: str | None = None) -> tuple[IO[bytes], int]:
    """The filtered log as a workbook (masked as on the page), itself audited."""
    now = timezone.now()
    workbook = Workbook()
    sheet = workbook.add_sheet("审计日志", widths=[20, 14, 14, 30, 60, 24, 16], freeze="A3")
    sheet.append_note(
        f"导出人：{user}（{user.username}） 导出时间：{timezone.localtime(now):%Y-%m-%d %H:%M} 仅限内部使用，请勿外传"
    )
    sheet.append_header(HEADERS)
    count = 0
    rows = form.queryset()[:EXPORT_LIMIT]
    batch: list[AuditLog] = []

    def flush() -> None:
        for line in describe(batch):
            sheet.append(_cells(line))

    for row in rows.iterator(chunk_size=2000):
        batch.append(row)
        count += 1
        if len(batch) >= 500:
            flush()
            batch = []
    flush()
    file = workbook.save()
    audit.log(
        AuditLog.Action.EXPORT,
        actor=user,
        target_type="core.auditlog",
        target_label="审计日志",
        company_id=user.company_id,
        summary=f"导出审计日志 {count} 条",
        changes={"count": count, "filters": form.applied()},
        ip=ip,
    )
    return file, count


def _cells(line: AuditLine) -> list[Any]:
    row = line.row
    return [
        timezone.localtime(row.at).replace(tzinfo=None),
        str(row.actor) if row.actor else "系统",
        row.get_action_display(),
        line.label,
        "；".join(line.changes) or line.summary,
        line.reason,
        row.ip or "",
    ]
