"""Roles (as Django groups), their Chinese labels, data scope and permissions.

A role grants permissions and a data scope; a user with several roles has the union of
their permissions and of their scopes (crm.accounts.access decides every row filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from django.db import models


class Scope(IntEnum):
    """How much customer data a role sees. Higher is wider."""

    NONE = 0
    OWN = 1  # customers the user owns or advises
    TEAM = 2  # customers owned by anyone in the user's team
    PROJECT = 3  # customers of the projects the user belongs to
    COMPANY = 4  # every customer of the user's company


class Role(models.TextChoices):
    CONSULTANT = "consultant", "置业顾问"
    TEAM_LEADER = "team_leader", "销售组长"
    SERVICE = "service", "客服专员"
    DUTY = "duty", "值班人员"
    DIRECTOR = "director", "客服中心主任"
    SUPERVISOR = "supervisor", "行政主管"
    ANALYST = "analyst", "市场专员"
    APPROVER = "approver", "综合组审批人"
    MANAGEMENT = "management", "管理层"
    ADMIN = "admin", "系统管理员"


@dataclass(frozen=True)
class RoleSpec:
    scope: Scope
    permissions: tuple[str, ...]


_VIEW = ("projects.view_project", "projects.view_unit", "customers.view_customer", "customers.view_deal")
# 温馨速递: 客服专员, 客服中心主任 and administrators compose broadcasts, fill and cancel
# messages and edit drafts; 综合组 approves them (DESIGN 3.8); rules are configuration.
_CARE_WORK = ("care.manage_messages",)
# 补发 (resending a failed, expired or held message): the same people who run the messages.
# 客服专员 included: the morning's expired and failed messages are their daily work, a
# resend adds no new text and reaches only the customer it was planned for, once per
# occasion, and each one is audited; waiting for the director would delay the notices.
_CARE_RESEND = ("care.resend_message",)
_CARE_APPROVE = ("care.approve_draft",)
_CARE_RULES = ("care.change_carerule",)
# 投诉 (crm.complaints): 值班人员 register complaints (intake); 客服专员 register and handle
# them; 客服中心主任 also dispatches, approves plans, cancels and reopens; 管理层 reads.
_COMPLAINTS_READ = ("complaints.view_complaint",)
_COMPLAINTS_INTAKE = (*_COMPLAINTS_READ, "complaints.add_complaint")
_COMPLAINTS_WORK = (*_COMPLAINTS_INTAKE, "complaints.change_complaint", "complaints.export_complaints")
_COMPLAINTS_DIRECT = (*_COMPLAINTS_WORK, "complaints.approve_plan", "complaints.manage_complaint")
# 客服运营 (crm.service), 值班与交接班: 值班人员 keep the duty log and hand over shifts;
# 客服中心主任 also plans the roster, spot-checks duty and exports; holiday shifts need a
# mid-level manager or above (seed 004): 客服中心主任, 行政主管, 管理层.
_DUTY_READ = ("service.view_shift", "service.view_handover")
_DUTY_WORK = (*_DUTY_READ, "service.keep_duty_log")
_DUTY_DIRECT = (*_DUTY_WORK, "service.plan_roster", "service.check_duty", "service.export_duty")
_HOLIDAY_LEAD = ("service.lead_holiday_duty",)
# 礼品发放: consultants, team leaders and specialists hand gifts over (their own tasks and
# birthday lists by scope); 客服中心主任 and administrators keep the catalogue and stock.
_GIFTS_READ = ("service.view_gift", "service.view_giftissue", "service.view_gifttask", "service.view_birthdayentry")
_GIFTS_WORK = (*_GIFTS_READ, "service.add_giftissue")
_GIFTS_DIRECT = (
    *_GIFTS_WORK,
    "service.manage_gift_stock",
    "service.export_gifts",
    "service.add_gift",
    "service.change_gift",
)
# 日常巡查: 客服专员 inspect and handle what they find; 客服中心主任 also exports; 行政主管
# audits inspection (DESIGN 1) and handles findings; 管理层 reads.
_INSPECT_READ = ("service.view_inspection",)
_INSPECT_WORK = (*_INSPECT_READ, "service.add_inspection", "service.handle_finding")
_INSPECT_DIRECT = (*_INSPECT_WORK, "service.export_inspection")
_EDIT_CUSTOMERS = (
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_deal",
    "customers.change_deal",
)

ROLE_SPECS: dict[Role, RoleSpec] = {
    Role.CONSULTANT: RoleSpec(
        Scope.OWN,
        (
            *_VIEW,
            *_EDIT_CUSTOMERS,
            "customers.reveal_contact",
            "customers.import_customers",
            "customers.export_customers",
            *_GIFTS_WORK,
        ),
    ),
    Role.TEAM_LEADER: RoleSpec(
        Scope.TEAM,
        (
            *_VIEW,
            *_EDIT_CUSTOMERS,
            "customers.reveal_contact",
            "customers.reassign_customer",
            "customers.import_customers",
            "customers.export_customers",
            "customers.archive_customer",
            *_GIFTS_WORK,
        ),
    ),
    Role.SERVICE: RoleSpec(
        Scope.PROJECT,
        (
            *_VIEW,
            "customers.change_customer",
            "customers.reveal_contact",
            "customers.export_customers",
            *_CARE_WORK,
            *_CARE_RESEND,
            *_COMPLAINTS_WORK,
            *_DUTY_WORK,
            *_GIFTS_WORK,
            *_INSPECT_WORK,
        ),
    ),
    Role.DUTY: RoleSpec(Scope.PROJECT, (*_VIEW, "customers.reveal_contact", *_COMPLAINTS_INTAKE, *_DUTY_WORK)),
    Role.DIRECTOR: RoleSpec(
        Scope.PROJECT,
        (
            *_VIEW,
            *_EDIT_CUSTOMERS,
            "customers.reveal_contact",
            "customers.reassign_customer",
            "customers.merge_customers",
            "customers.export_customers",
            "customers.export_contact",
            "customers.archive_customer",
            *_CARE_WORK,
            *_CARE_RESEND,
            *_COMPLAINTS_DIRECT,
            *_DUTY_DIRECT,
            *_HOLIDAY_LEAD,
            *_GIFTS_DIRECT,
            *_INSPECT_DIRECT,
        ),
    ),
    Role.SUPERVISOR: RoleSpec(
        Scope.COMPANY,
        (
            *_VIEW,
            "customers.view_audit",
            "customers.export_customers",
            *_DUTY_READ,
            "service.export_duty",
            *_HOLIDAY_LEAD,
            *_GIFTS_READ,
            "service.export_gifts",
            *_INSPECT_READ,
            "service.handle_finding",
            "service.export_inspection",
        ),
    ),
    Role.ANALYST: RoleSpec(Scope.COMPANY, (*_VIEW, "customers.export_customers", *_GIFTS_READ, "service.export_gifts")),
    Role.APPROVER: RoleSpec(Scope.NONE, ("projects.view_project", *_CARE_APPROVE)),
    Role.MANAGEMENT: RoleSpec(
        Scope.COMPANY,
        (
            *_VIEW,
            "customers.export_customers",
            "customers.view_audit",
            *_COMPLAINTS_READ,
            *_DUTY_READ,
            *_HOLIDAY_LEAD,
            *_GIFTS_READ,
            *_INSPECT_READ,
        ),
    ),
    Role.ADMIN: RoleSpec(
        Scope.COMPANY,
        (
            *_VIEW,
            *_EDIT_CUSTOMERS,
            "customers.reveal_contact",
            "customers.reassign_customer",
            "customers.merge_customers",
            "customers.import_customers",
            "customers.export_customers",
            "customers.export_contact",
            "customers.archive_customer",
            "customers.view_audit",
            "projects.add_project",
            "projects.change_project",
            "projects.add_unit",
            "projects.change_unit",
            "projects.add_building",
            "projects.change_building",
            "core.add_calendaryear",  # 工作日历: next year's holidays (crm.core.views)
            *_CARE_WORK,
            *_CARE_RESEND,
            *_CARE_APPROVE,
            *_CARE_RULES,
            *_COMPLAINTS_DIRECT,
            "complaints.add_category",
            "complaints.change_category",
            *_DUTY_DIRECT,
            "service.add_dutyitem",
            "service.change_dutyitem",
            *_GIFTS_DIRECT,
            *_INSPECT_DIRECT,
            "service.add_inspectionarea",
            "service.change_inspectionarea",
        ),
    ),
}


def group_name(role: Role) -> str:
    """Groups are named by their Chinese label so the admin reads naturally."""
    return str(role.label)
