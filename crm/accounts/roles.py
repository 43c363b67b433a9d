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
# 回访 (crm.visits): 置业顾问 make the first visits of their own customers (signing,
# birthday); 客服专员 the deep visits and callbacks of their projects; 销售组长 and
# 客服中心主任 also assign, cancel and reopen tasks (the director configures the plans);
# 行政主管 and 市场专员 read and export (supervision, statistics); 管理层 reads.
_VISITS_READ = ("visits.view_visittask", "visits.view_visitissue")
_VISITS_WORK = (*_VISITS_READ, "visits.change_visittask", "visits.add_visitissue")
_VISITS_LEAD = (*_VISITS_WORK, "visits.assign_visittask")
_VISITS_DIRECT = (*_VISITS_LEAD, "visits.export_visits", "visits.view_visitplan", "visits.change_visitplan")
# 咨询, 首问责任制, 媒体监督 (crm.complaints consultations/issues/media): 客服专员 and 值班人员
# record consultations and own issues; 置业顾问 may be first responder for their own
# customers' issues (no register_any_issue: crm.complaints.issues checks the customer);
# 市场专员 watches the media (and may turn a finding into an issue they own); 客服中心主任
# does all of it and sees escalations (manage_complaint); 管理层 reads.
_CONSULT_READ = ("complaints.view_consultation",)
_CONSULT_WORK = (*_CONSULT_READ, "complaints.add_consultation", "complaints.change_consultation")
_ISSUES_READ = ("complaints.view_customerissue",)
_ISSUES_OWN = (*_ISSUES_READ, "complaints.add_customerissue", "complaints.change_customerissue")
_ISSUES_WORK = (*_ISSUES_OWN, "complaints.register_any_issue")
_MEDIA_READ = ("complaints.view_medium", "complaints.view_mediafinding", "complaints.view_mediacheck")
_MEDIA_WORK = (
    *_MEDIA_READ,
    "complaints.add_mediafinding",
    "complaints.change_mediafinding",
    "complaints.add_mediacheck",
)
_CASEWORK_EXPORT = ("complaints.export_consultations", "complaints.export_issues", "complaints.export_media_findings")
# 投诉分析报告 (monthly, crm.complaints.analysis): 客服中心主任, 管理层, 市场专员 and
# administrators (DESIGN 3.7); 市场专员 reads the figures without the complaint list.
_COMPLAINTS_REPORT = ("complaints.view_complaint_report",)
# 报修 (crm.visits.repairs): 客服专员 and 客服中心主任 record repairs and their completion
# (every completed repair gets a callback); the director also sees the quarterly re-check.
_REPAIRS = ("visits.view_repair", "visits.add_repair", "visits.export_repairs")
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
# 项目资料与现场公示 (crm.service, seed 001 项目前期): everyone selling or serving a project
# reads its sales materials and its display checklist; 客服中心主任 and administrators
# upload materials (new versions keep the old) and export; 行政主管 exports (audit);
# administrators keep each project's display checklist (系统设置). The display items are
# confirmed on the daily inspection (_INSPECT_WORK). 工程对接人 (service.engineering_contact)
# is granted to named people of 工程部 in 系统设置, not through a role.
_MATERIALS_READ = ("service.view_material", "service.view_displayitem")
_MATERIALS_DIRECT = (*_MATERIALS_READ, "service.manage_material", "service.export_materials")
# 个人信息申请 (crm.privacy, PIPL 44–47): 客服中心主任 registers and handles requests and
# carries out erasures; 行政主管 reads them (supervision); administrators do everything,
# set legal holds and read the erasure ledger and the retention runs.
_PRIVACY_READ = ("privacy.view_datasubjectrequest",)
_PRIVACY_WORK = (*_PRIVACY_READ, "privacy.add_datasubjectrequest", "privacy.change_datasubjectrequest")
_PRIVACY_ADMIN = (
    *_PRIVACY_WORK,
    "privacy.erase_customer",
    "privacy.add_legalhold",
    "privacy.view_erasurerecord",
    "privacy.view_retentionrun",
)
# 回访转投诉 (crm.visits.conversion): 客服专员 and 客服中心主任 turn a serious visit issue
# into a complaint (they also register complaints). 回访督查 (crm.visits.supervision):
# 行政主管 and 客服中心主任 review visit records and flag them; the director and
# administrators keep the company's list of service phrases (服务忌语). 改进计划: the
# director (and a consultant's own team leader, checked in crm.visits.stats).
_VISITS_CONVERT = ("visits.convert_visitissue",)
_VISITS_REVIEW = ("visits.review_visits", "visits.view_reviewflag")
_VISITS_PHRASES = ("visits.view_forbiddenphrase", "visits.add_forbiddenphrase", "visits.change_forbiddenphrase")
_VISITS_PLANS = ("visits.change_improvementplan",)
# 客户活动 (crm.events): 客服专员 and 客服中心主任 organise events (create, choose invitees,
# send invitations, cancel) and export the invitee list; 置业顾问 and 销售组长 record their
# customers' replies and check them in at the event; 行政主管, 市场专员 and 管理层 read.
_EVENTS_READ = ("events.view_event",)
_EVENTS_CHECKIN = (*_EVENTS_READ, "events.manage_invitees")
_EVENTS_WORK = (*_EVENTS_CHECKIN, "events.add_event", "events.change_event", "events.export_events")
# 报告 (crm.reports): 客服专员 and 客服中心主任 write the weekly and monthly reports (seed
# 001), 市场专员 too (DESIGN 1: reports); 行政主管 and 管理层 read and export them;
# administrators do everything.
_REPORTS_READ = ("reports.view_reportpack", "reports.export_reportpack")
_REPORTS_WRITE = (*_REPORTS_READ, "reports.add_reportpack", "reports.change_reportpack")
# 客户描摹 (crm.portraits): 置业顾问 submit three a quarter and edit their own (scope);
# 销售组长 read the team's, see the quota and the analysis; 客服中心主任, 市场专员 (client
# analysis), 管理层 and administrators read, analyse and export; 行政主管 reads (supervision).
_PORTRAITS_READ = ("portraits.view_portrait",)
_PORTRAITS_WORK = (*_PORTRAITS_READ, "portraits.add_portrait", "portraits.change_portrait")
_PORTRAITS_ANALYSE = (*_PORTRAITS_READ, "portraits.analyse_portraits", "portraits.export_portraits")
# 培训 (crm.training): every member of staff attends and writes their own summaries; seed
# 001 has training plans applied for through HR and run for the sales and property staff:
# 综合组 (approver), 行政主管, 客服中心主任 and administrators plan sessions, record
# attendance and scores, read everyone's record and export; a session's trainer records
# that session (crm.training.services); 管理层 and 销售组长 read their people's records.
_TRAINING_ATTEND = ("training.view_trainingsession",)
_TRAINING_READ_RECORDS = (*_TRAINING_ATTEND, "training.view_training_records")
_TRAINING_PLAN = (
    *_TRAINING_READ_RECORDS,
    "training.plan_training",
    "training.record_training",
    "training.export_training",
)
# 老带新 (crm.referrals): consultants, team leaders and specialists record who brought whom
# and propose the reward once the new customer subscribed; rewards are approved by
# 客服中心主任 and 行政主管 (DESIGN 1: rewards and penalties) and paid by them or
# administrators; team leaders, analysts and management read the statistics (retention KPI).
_REFERRALS_READ = ("referrals.view_referral", "referrals.view_reward")
_REFERRALS_WORK = (*_REFERRALS_READ, "referrals.add_referral", "referrals.change_referral", "referrals.add_reward")
_REFERRALS_STATS = ("referrals.view_referral_stats", "referrals.export_referrals")
_REFERRALS_APPROVE = ("referrals.approve_reward", "referrals.pay_reward")
# 指标看板 (crm.kpis, docs/kpis.md): every figure is computed over the viewer's data scope,
# so a consultant reads their own customers' figures and their own monthly scorecard, a
# team leader the team's (and writes its improvement plans), 行政主管 and 市场专员 analyse
# and export the company's; 管理层 and 客服中心主任 also have the management home (the
# KPIs, the breached complaints, the approvals waiting).
_KPIS_OWN = ("kpis.view_kpis", "kpis.view_scorecard")
_KPIS_ANALYSE = (*_KPIS_OWN, "kpis.export_kpis")
_KPIS_MANAGE = (*_KPIS_ANALYSE, "kpis.view_management_home")
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
            *_VISITS_WORK,
            *_ISSUES_OWN,
            *_GIFTS_WORK,
            *_EVENTS_CHECKIN,
            *_PORTRAITS_WORK,
            *_TRAINING_ATTEND,
            *_REFERRALS_WORK,
            *_KPIS_OWN,
            *_MATERIALS_READ,
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
            *_VISITS_LEAD,
            *_GIFTS_WORK,
            *_EVENTS_CHECKIN,
            *_PORTRAITS_ANALYSE,
            *_TRAINING_READ_RECORDS,
            *_REFERRALS_WORK,
            *_REFERRALS_STATS,
            *_KPIS_ANALYSE,
            *_MATERIALS_READ,
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
            *_VISITS_WORK,
            "visits.export_visits",
            *_CONSULT_WORK,
            *_ISSUES_WORK,
            "complaints.export_consultations",
            "complaints.export_issues",
            *_REPAIRS,
            *_DUTY_WORK,
            *_GIFTS_WORK,
            *_INSPECT_WORK,
            *_MATERIALS_READ,
            *_VISITS_CONVERT,
            *_EVENTS_WORK,
            *_REPORTS_WRITE,
            *_TRAINING_ATTEND,
            *_REFERRALS_WORK,
        ),
    ),
    Role.DUTY: RoleSpec(
        Scope.PROJECT,
        (
            *_VIEW,
            "customers.reveal_contact",
            *_COMPLAINTS_INTAKE,
            *_CONSULT_WORK,
            *_ISSUES_WORK,
            *_DUTY_WORK,
            *_TRAINING_ATTEND,
        ),
    ),
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
            "customers.approve_export",
            *_CARE_WORK,
            *_CARE_RESEND,
            *_COMPLAINTS_DIRECT,
            *_VISITS_DIRECT,
            *_CONSULT_WORK,
            *_ISSUES_WORK,
            *_MEDIA_WORK,
            *_CASEWORK_EXPORT,
            *_COMPLAINTS_REPORT,
            *_REPAIRS,
            "visits.view_rechecksample",
            "visits.manage_campaign",
            *_DUTY_DIRECT,
            *_HOLIDAY_LEAD,
            *_GIFTS_DIRECT,
            *_INSPECT_DIRECT,
            *_MATERIALS_DIRECT,
            *_PRIVACY_WORK,
            "privacy.erase_customer",
            *_VISITS_CONVERT,
            *_VISITS_REVIEW,
            *_VISITS_PHRASES,
            *_VISITS_PLANS,
            *_EVENTS_WORK,
            *_REPORTS_WRITE,
            *_PORTRAITS_ANALYSE,
            *_TRAINING_PLAN,
            *_REFERRALS_WORK,
            *_REFERRALS_STATS,
            *_REFERRALS_APPROVE,
            *_KPIS_MANAGE,
        ),
    ),
    Role.SUPERVISOR: RoleSpec(
        Scope.COMPANY,
        (
            *_VIEW,
            "customers.view_audit",
            # Trust (docs/privacy.md): logins and permission changes in the audit log, the
            # access alerts, and the approval of bulk exports.
            "customers.view_security_audit",
            "customers.approve_export",
            "customers.export_customers",
            *_VISITS_READ,
            "visits.export_visits",
            *_DUTY_READ,
            "service.export_duty",
            *_HOLIDAY_LEAD,
            *_GIFTS_READ,
            "service.export_gifts",
            *_INSPECT_READ,
            "service.handle_finding",
            "service.export_inspection",
            *_MATERIALS_READ,
            "service.export_materials",
            *_PRIVACY_READ,
            *_VISITS_REVIEW,
            *_EVENTS_READ,
            *_REPORTS_READ,
            *_PORTRAITS_READ,
            *_TRAINING_PLAN,
            *_REFERRALS_READ,
            *_REFERRALS_STATS,
            *_REFERRALS_APPROVE,
            *_KPIS_ANALYSE,
        ),
    ),
    Role.ANALYST: RoleSpec(
        Scope.COMPANY,
        (
            *_VIEW,
            "customers.export_customers",
            *_VISITS_READ,
            "visits.export_visits",
            *_MEDIA_WORK,
            *_ISSUES_WORK,
            "complaints.export_media_findings",
            *_COMPLAINTS_REPORT,
            *_GIFTS_READ,
            "service.export_gifts",
            *_EVENTS_READ,
            *_REPORTS_WRITE,
            *_PORTRAITS_ANALYSE,
            *_TRAINING_ATTEND,
            *_REFERRALS_READ,
            *_REFERRALS_STATS,
            *_KPIS_ANALYSE,
        ),
    ),
    Role.APPROVER: RoleSpec(Scope.NONE, ("projects.view_project", *_CARE_APPROVE, *_TRAINING_PLAN)),
    Role.MANAGEMENT: RoleSpec(
        Scope.COMPANY,
        (
            *_VIEW,
            "customers.export_customers",
            "customers.view_audit",
            *_COMPLAINTS_READ,
            *_VISITS_READ,
            *_CONSULT_READ,
            *_ISSUES_READ,
            *_MEDIA_READ,
            *_COMPLAINTS_REPORT,
            *_DUTY_READ,
            *_HOLIDAY_LEAD,
            *_GIFTS_READ,
            *_INSPECT_READ,
            *_EVENTS_READ,
            *_REPORTS_READ,
            *_PORTRAITS_ANALYSE,
            *_TRAINING_READ_RECORDS,
            *_REFERRALS_READ,
            "referrals.view_referral_stats",
            *_KPIS_MANAGE,
            *_MATERIALS_READ,
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
            "customers.view_security_audit",
            "customers.approve_export",
            "projects.add_project",
            "projects.change_project",
            "projects.add_unit",
            "projects.change_unit",
            "projects.add_building",
            "projects.change_building",
            "core.add_calendaryear",  # 工作日历: next year's holidays (crm.core.views)
            *_PRIVACY_ADMIN,
            *_CARE_WORK,
            *_CARE_RESEND,
            *_CARE_APPROVE,
            *_CARE_RULES,
            *_COMPLAINTS_DIRECT,
            *_COMPLAINTS_REPORT,
            "complaints.add_category",
            "complaints.change_category",
            *_VISITS_DIRECT,
            *_REPAIRS,
            "visits.view_rechecksample",
            "visits.manage_campaign",
            "visits.add_visitplan",
            "visits.add_issuecategory",
            "visits.change_issuecategory",
            *_VISITS_CONVERT,
            *_VISITS_REVIEW,
            *_VISITS_PHRASES,
            *_VISITS_PLANS,
            *_CONSULT_WORK,
            *_ISSUES_WORK,
            *_MEDIA_WORK,
            *_CASEWORK_EXPORT,
            "complaints.add_consultationtopic",
            "complaints.change_consultationtopic",
            "complaints.add_medium",
            "complaints.change_medium",
            # 投诉邮件, 投诉邮箱状态, 投诉清除记录: read-only in the admin (crm.complaints.admin).
            "complaints.view_inboundmail",
            "complaints.view_mailboxstate",
            "complaints.view_purgerecord",
            *_DUTY_DIRECT,
            "service.add_dutyitem",
            "service.change_dutyitem",
            *_GIFTS_DIRECT,
            *_INSPECT_DIRECT,
            "service.add_inspectionarea",
            "service.change_inspectionarea",
            *_EVENTS_WORK,
            *_REPORTS_WRITE,
            *_PORTRAITS_WORK,
            "portraits.analyse_portraits",
            "portraits.export_portraits",
            *_TRAINING_PLAN,
            *_REFERRALS_WORK,
            *_REFERRALS_STATS,
            *_REFERRALS_APPROVE,
            *_KPIS_MANAGE,
            *_MATERIALS_DIRECT,
            "service.add_displayitem",
            "service.change_displayitem",
        ),
    ),
}


def group_name(role: Role) -> str:
    """Groups are named by their Chinese label so the admin reads naturally."""
    return str(role.label)
