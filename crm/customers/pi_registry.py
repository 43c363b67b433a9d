"""The registry of personal information (个人信息清单, PIPL art. 51 and 54): every model
field in the crm apps that holds personal information, with its category, the purpose it
is kept for, how long, and the roles that may read it in full.

``REGISTRY`` lists the personal-information fields; ``NON_PI`` lists, explicitly, every
other field. crm/customers/tests/test_pi_registry.py fails when a model field of any crm
app is in neither, so a new field is classified when it is added, not found in an audit.
The data-subject copy (PIPL art. 45) exports the REGISTRY fields of a customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crm.accounts.roles import ROLE_SPECS, Role


class Category(StrEnum):
    IDENTITY = "身份信息"
    CONTACT = "联系方式"
    SENSITIVE = "敏感个人信息"
    MINOR = "未成年人信息"
    PROFILE = "客户档案"
    TRANSACTION = "交易信息"
    CONSENT = "授权记录"
    COMMUNICATION = "沟通与服务记录"
    STAFF = "员工信息"
    LOG = "日志"


def roles_with(permission: str) -> tuple[Role, ...]:
    """The roles whose permissions include ``permission`` (from the one role table)."""
    return tuple(role for role, spec in ROLE_SPECS.items() if permission in spec.permissions)


# Who reads what in full: every role that sees a customer reads its ordinary fields within
# its data scope; full numbers only through the audited reveal (decision 0008).
CUSTOMER_READERS = roles_with("customers.view_customer")
REVEALERS = roles_with("customers.reveal_contact")
COMPLAINT_READERS = roles_with("complaints.view_complaint")
VISIT_READERS = roles_with("visits.view_visittask")
CARE_READERS = roles_with("care.manage_messages")
CASE_READERS = roles_with("complaints.view_customerissue")
AUDIT_READERS = roles_with("customers.view_audit")
REPAIR_READERS = roles_with("visits.view_repair")
DUTY_READERS = roles_with("service.view_shift")
HANDOVER_READERS = roles_with("service.view_handover")
GIFT_READERS = roles_with("service.view_giftissue")
BIRTHDAY_READERS = roles_with("service.view_birthdayentry")
INSPECTION_READERS = roles_with("service.view_inspection")
PRIVACY_READERS = roles_with("privacy.view_datasubjectrequest")
EVENT_READERS = roles_with("events.view_event")
PORTRAIT_READERS = roles_with("portraits.view_portrait")
# A training record is read in full by its own attendee (every role) and by these.
TRAINING_READERS = roles_with("training.view_training_records")
REFERRAL_READERS = roles_with("referrals.view_referral")
REWARD_READERS = roles_with("referrals.view_reward")
# A notification is shown to its recipient only; the alerts that quote a customer come
# from complaints and casework, so their recipients are complaint readers.
NOTIFICATION_READERS = COMPLAINT_READERS
ADMINS = (Role.ADMIN,)

CUSTOMER_LIFE = "客户关系存续期间；潜在客户无往来满24个月匿名化；删除请求即删除"
COMPLAINT_LIFE = "投诉归档后1年（重要投诉长期），随后清除并留清除记录"
DEAL_LIFE = "成交记录按合同与财务档案期限保存"
STAFF_LIFE = "在职期间及离职后按人事档案期限"
# crm.privacy.jobs.blank_service_notes (SERVICE_NOTES) and the erasure's QUOTES.
DUTY_LIFE = (
    "写入后 SERVICE_NOTES_RETENTION_DAYS（默认365天）清除文字、保留记录行；删除客户时清除提及其姓名或手机号的文字"
)
DUTY_LOG_LIFE = "写入后 SERVICE_NOTES_RETENTION_DAYS（默认365天）清除文字；删除客户时清除关联或提及该客户的记录"
NOTIFICATION_LIFE = "已读满 NOTIFICATION_RETENTION_DAYS（默认90天）后删除；未读保留"
PRIVACY_LIFE = "作为依法答复的凭证保存，期限待定（尚无清除任务）"


@dataclass(frozen=True)
class PIField:
    model: str
    field: str
    category: Category
    purpose: str
    retention: str
    full_read: tuple[Role, ...]


def _entries(
    model: str, names: str, category: Category, purpose: str, retention: str, full_read: tuple[Role, ...]
) -> list[PIField]:
    return [PIField(model, name, category, purpose, retention, full_read) for name in names.split()]


_BIRTHDAY = "birthday_on birthday_is_lunar lunar_month lunar_day lunar_is_leap birth_mmdd"
_PROFILE = (
    "address employer office_phone home_phone native_place education family_status marital_status "
    "spouse_info spouse_education spouse_interests closest_person dining_place shopping_place cuisine "
    "drinking smoking travel_mode social_organizations social_enthusiasm current_residence "
    "property_investment ideal_residence purchase_reason purchase_details brand_awareness "
    "cares_about_neighbours job_title car_brand plate_number dress_style info_source admired_person "
    "career_goal_long career_goal_short personal_goal_long personal_goal_short proudest_thing independence"
)

REGISTRY: tuple[PIField, ...] = (
    # ---- customers
    *_entries(
        "customers.Customer", "name gender", Category.IDENTITY, "识别客户、称呼", CUSTOMER_LIFE, CUSTOMER_READERS
    ),
    *_entries(
        "customers.Customer",
        "mobile mobile2",
        Category.CONTACT,
        "联系客户、查重（一客一档）、短信",
        CUSTOMER_LIFE,
        REVEALERS,
    ),
    *_entries(
        "customers.Customer",
        "id_number_encrypted id_number_hash id_number_hint",
        Category.SENSITIVE,
        "签约、备案核验身份（加密存储，盲索引查找）",
        CUSTOMER_LIFE,
        REVEALERS,
    ),
    *_entries(
        "customers.Customer", _BIRTHDAY, Category.IDENTITY, "生日关怀与生日回访", CUSTOMER_LIFE, CUSTOMER_READERS
    ),
    *_entries(
        "customers.Customer",
        "notes stage grade is_vip referrer tags archived_note",
        Category.PROFILE,
        "跟进与服务",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.Customer",
        "consent_notification consent_care consent_marketing consent_source consent_at has_opted_out opted_out_at",
        Category.CONSENT,
        "按授权发送短信（工信部令第31号）",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.CustomerProfile",
        _PROFILE,
        Category.PROFILE,
        "客户信息档案（种子004），服务与营销",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.CustomerProfile",
        "parents_status health",
        Category.SENSITIVE,
        "客户信息档案敏感项，公司开启后方可记录",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.CustomerProfile",
        "children_status children_consent_at",
        Category.MINOR,
        "子女信息，须公司开启且取得监护人单独同意",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.FamilyMember",
        f"relation name gender notes {_BIRTHDAY}",
        Category.PROFILE,
        "家庭成员生日关怀（配偶信息仅记录客户愿意提供的）",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries("customers.FamilyMember", "mobile", Category.CONTACT, "家庭成员关怀短信", CUSTOMER_LIFE, REVEALERS),
    *_entries(
        "customers.FamilyMember",
        "guardian_consent_at consent_care",
        Category.CONSENT,
        "子女信息与生日关怀的同意",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.ConsentRecord",
        "purpose is_granted source notice_version recorded_at",
        Category.CONSENT,
        "证明授权与撤回（个人信息保护法第14、15条）",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.Deal",
        "unit price subscribed_on contracted_on full_payment_on filed_on delivered_on moved_in_on cancelled_on",
        Category.TRANSACTION,
        "成交与交付服务、回访、关怀",
        DEAL_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.TimelineEvent",
        "summary data",
        Category.COMMUNICATION,
        "客户360°动态",
        CUSTOMER_LIFE,
        CUSTOMER_READERS,
    ),
    *_entries(
        "customers.ExportRequest",
        "params filters_text",
        Category.LOG,
        "导出审批（筛选条件可能含搜索的号码）",
        "随审计日志保存",
        roles_with("customers.approve_export"),
    ),
    # ---- care messages
    *_entries(
        "care.OutboundMessage",
        "contact_mobile contact_name text params",
        Category.COMMUNICATION,
        "发送关怀与通知短信、送达核对",
        CUSTOMER_LIFE,
        CARE_READERS,
    ),
    *_entries(
        "care.OptedOutMobile", "mobile", Category.CONSENT, "退订后不再发送", "长期（退订须持续有效）", CARE_READERS
    ),
    *_entries(
        "care.InboundReply", "mobile text", Category.COMMUNICATION, "处理回复与退订", CUSTOMER_LIFE, CARE_READERS
    ),
    # ---- complaints and casework
    *_entries(
        "complaints.Complaint",
        "complainant_name complainant_mobile complainant_email content event_place unit_text plan satisfaction",
        Category.COMMUNICATION,
        "受理、处理和回复投诉",
        COMPLAINT_LIFE,
        COMPLAINT_READERS,
    ),
    *_entries(
        "complaints.ComplaintEvent", "note", Category.COMMUNICATION, "投诉处理过程", COMPLAINT_LIFE, COMPLAINT_READERS
    ),
    *_entries(
        "complaints.ComplaintAttachment",
        "file thumbnail original_name",
        Category.COMMUNICATION,
        "投诉证据",
        COMPLAINT_LIFE,
        COMPLAINT_READERS,
    ),
    *_entries(
        "complaints.Consultation",
        "question answer contact_name contact_mobile",
        Category.COMMUNICATION,
        "咨询登记与回复",
        CUSTOMER_LIFE,
        roles_with("complaints.view_consultation"),
    ),
    *_entries(
        "complaints.CustomerIssue",
        "subject description contact_name contact_mobile",
        Category.COMMUNICATION,
        "首问责任制：跟进到客户得到答复",
        CUSTOMER_LIFE,
        CASE_READERS,
    ),
    *_entries(
        "complaints.IssueHandOff", "asked answer", Category.COMMUNICATION, "转交责任部门", CUSTOMER_LIFE, CASE_READERS
    ),
    *_entries("complaints.IssueEscalation", "reason", Category.COMMUNICATION, "升级处理", CUSTOMER_LIFE, CASE_READERS),
    *_entries("complaints.IssueCallback", "result", Category.COMMUNICATION, "回复客户", CUSTOMER_LIFE, CASE_READERS),
    *_entries("complaints.IssueEvent", "note", Category.COMMUNICATION, "处理过程", CUSTOMER_LIFE, CASE_READERS),
    *_entries(
        "complaints.SurveyInvitation",
        "rating comment",
        Category.COMMUNICATION,
        "满意度评价",
        COMPLAINT_LIFE,
        COMPLAINT_READERS,
    ),
    *_entries(
        "complaints.InboundMail",
        "sender_email sender_name subject raw",
        Category.COMMUNICATION,
        "邮件投诉受理",
        COMPLAINT_LIFE,
        ADMINS,
    ),
    # ---- visits
    *_entries(
        "visits.VisitTask",
        "scores satisfaction opinions",
        Category.COMMUNICATION,
        "回访结果与满意度统计",
        CUSTOMER_LIFE,
        VISIT_READERS,
    ),
    *_entries("visits.VisitEvent", "note", Category.COMMUNICATION, "回访过程", CUSTOMER_LIFE, VISIT_READERS),
    # 回访督查: the supervisor's comment on a visit record and the visitor's answer quote the call.
    *_entries(
        "visits.ReviewFlag", "comment answer", Category.COMMUNICATION, "回访质量督查", CUSTOMER_LIFE, VISIT_READERS
    ),
    *_entries("visits.FlagEvent", "note", Category.COMMUNICATION, "回访质量督查", CUSTOMER_LIFE, VISIT_READERS),
    # A consultant's improvement plan is about the member of staff; the visits score page
    # and the KPI scorecard (crm.kpis) both show it.
    *_entries(
        "visits.ImprovementPlan",
        "plan",
        Category.STAFF,
        "顾问月度考核与改进",
        STAFF_LIFE,
        tuple(dict.fromkeys((*VISIT_READERS, *roles_with("kpis.view_scorecard")))),
    ),
    *_entries(
        "visits.VisitIssue",
        "description resolution",
        Category.COMMUNICATION,
        "回访中提出的问题及处理",
        CUSTOMER_LIFE,
        VISIT_READERS,
    ),
    *_entries("visits.IssueEvent", "note", Category.COMMUNICATION, "回访问题处理过程", CUSTOMER_LIFE, VISIT_READERS),
    *_entries("visits.Repair", "problem", Category.COMMUNICATION, "报修登记与报修回访", CUSTOMER_LIFE, REPAIR_READERS),
    # ---- service centre: duty, handover, gifts, birthdays, inspection
    *_entries(
        "service.DutyLogEntry",
        "caller_name content",
        Category.COMMUNICATION,
        "值班来电来访登记与上报",
        DUTY_LOG_LIFE,
        DUTY_READERS,
    ),
    *_entries(
        "service.Handover",
        "log_summary open_matters major_repair_note",
        Category.COMMUNICATION,
        "交接班（值班记录摘要与未尽事宜可能写到来电人、客户及房号）",
        DUTY_LIFE,
        HANDOVER_READERS,
    ),
    *_entries(
        "service.HandoverItem",
        "explanation",
        Category.COMMUNICATION,
        "交接物品损坏、缺失的原因说明",
        DUTY_LIFE,
        HANDOVER_READERS,
    ),
    *_entries(
        "service.HandoverEvent",
        "note",
        Category.COMMUNICATION,
        "交接班过程（拒接原因引用维修情况）",
        DUTY_LIFE,
        HANDOVER_READERS,
    ),
    *_entries(
        "service.DutyCheck", "note", Category.STAFF, "值班抽查（对值班人员的检查情况）", STAFF_LIFE, DUTY_READERS
    ),
    *_entries(
        "service.GiftIssue",
        "visitor_name reason",
        Category.COMMUNICATION,
        "礼品发放登记与核对",
        CUSTOMER_LIFE,
        GIFT_READERS,
    ),
    *_entries(
        "service.StockMovement",
        "note",
        Category.COMMUNICATION,
        "礼品库存台账（发放行写有领取的客户或来访人姓名）",
        "随库存台账保存；删除客户时清除提及其姓名或手机号的说明",
        ADMINS,
    ),
    *_entries(
        "service.GiftTask",
        "milestone_on",
        Category.TRANSACTION,
        "按成交节点送礼（节点日期取自成交记录）",
        DEAL_LIFE,
        roles_with("service.view_gifttask"),
    ),
    *_entries(
        "service.BirthdayEntry",
        "name relation birthday_on is_lunar month",
        Category.IDENTITY,
        "每月生日名单：生日关怀与礼品",
        CUSTOMER_LIFE,
        BIRTHDAY_READERS,
    ),
    *_entries(
        "service.Finding",
        "photo description handled_note",
        Category.COMMUNICATION,
        "巡查问题及处理（照片可能拍到业主、访客或车牌，描述可能写到客户或房号）",
        DUTY_LIFE,
        INSPECTION_READERS,
    ),
    # ---- customer events (客户活动): the customer's reply and attendance
    *_entries(
        "events.Invitee",
        "rsvp rsvp_note invited_at attended_at",
        Category.COMMUNICATION,
        "客户活动邀请、回执与签到",
        CUSTOMER_LIFE,
        EVENT_READERS,
    ),
    # ---- reports: snapshots of a period (customer names masked, numbers in text masked)
    *_entries(
        "reports.ReportPack",
        "data summary next_focus",
        Category.COMMUNICATION,
        "周报、月报等报告快照（客户编号与遮盖后的姓名、员工姓名、问题摘要）与撰写人的总结",
        "随报告保存，期限待定（快照提交后不变；删除客户时清除其客户编号及提及其姓名或手机号的文字，含已提交的报告）",
        roles_with("reports.view_reportpack"),
    ),
    # ---- 客户描摹: the structured answers profile the customer; the free text quotes their
    # personal life (family, hobbies, home) and is blanked by an erasure.
    *_entries(
        "portraits.Portrait",
        "industry family_structure hobby living_situation purchase_motive decision_maker",
        Category.PROFILE,
        "客户描摹：季度客户群分析与客户维护",
        CUSTOMER_LIFE,
        PORTRAIT_READERS,
    ),
    *_entries(
        "portraits.Portrait",
        "occupation family_note interests living_note notes",
        Category.PROFILE,
        "客户描摹：置业顾问记录的客户职业、家庭、爱好与居住情况",
        CUSTOMER_LIFE,
        PORTRAIT_READERS,
    ),
    # ---- 培训: staff attendance, assessment scores and summaries; an outside trainer's name
    *_entries(
        "training.Attendance",
        "status score summary summary_at",
        Category.STAFF,
        "员工培训档案：出勤、考核成绩与培训总结",
        STAFF_LIFE,
        TRAINING_READERS,
    ),
    *_entries(
        "training.TrainingSession",
        "trainer_name",
        Category.STAFF,
        "培训安排（外请讲师姓名）",
        STAFF_LIFE,
        TRAINING_READERS,
    ),
    # ---- referrals: 老带新 (who brought whom is a social relation of both customers)
    *_entries(
        "referrals.Referral",
        "referrer referred channel visited_on",
        Category.PROFILE,
        "老带新：推荐关系、推荐方式与到访，用于奖励与留存率统计",
        CUSTOMER_LIFE,
        REFERRAL_READERS,
    ),
    *_entries(
        "referrals.Reward",
        "kind amount state note decision_note",
        Category.TRANSACTION,
        "老带新奖励的审批与发放（奖励给推荐人）",
        DEAL_LIFE,
        REWARD_READERS,
    ),
    # ---- privacy: data-subject requests
    *_entries(
        "privacy.DataSubjectRequest",
        "details outcome identity_check",
        Category.COMMUNICATION,
        "答复个人信息权利申请（个人信息保护法第44–47条）；核验方式不含证件号码",
        PRIVACY_LIFE,
        PRIVACY_READERS,
    ),
    # ---- staff and logs
    *_entries(
        "accounts.User",
        "username first_name last_name email display_name mobile date_joined last_login password",
        Category.STAFF,
        "员工账号、登录与工作分派（密码仅存哈希）",
        STAFF_LIFE,
        ADMINS,
    ),
    *_entries(
        "accounts.User",
        "totp_secret totp_enabled_at totp_last_step password_changed_at",
        Category.STAFF,
        "登录安全：动态验证码（密钥加密存储）与密码有效期",
        STAFF_LIFE,
        ADMINS,
    ),
    # django-axes' rows, shown through these proxies (crm.accounts.models.LoginLock…)
    *_entries(
        "accounts.LoginLock",
        "username ip_address user_agent http_accept get_data post_data",
        Category.LOG,
        "登录防护：按用户名计连续登录失败次数并锁定（不含密码）",
        "登录成功、冷却期满或管理员解除锁定时删除",
        ADMINS,
    ),
    *_entries(
        "accounts.LoginRecord",
        "username ip_address user_agent http_accept",
        Category.LOG,
        "登录记录（安全审查）",
        "保留至管理员清理（manage.py axes_reset_logs --age 天数）；尚无自动清理",
        ADMINS,
    ),
    *_entries(
        "accounts.LoginFailure",
        "username ip_address user_agent http_accept",
        Category.LOG,
        "登录失败记录（安全审查）",
        "保留至管理员清理（manage.py axes_reset_failure_logs --age 天数）；尚无自动清理",
        ADMINS,
    ),
    *_entries(
        "core.Notification",
        "title text",
        Category.COMMUNICATION,
        "站内提醒（可能引用投诉内容、处理方案、邮件发件人与主题）",
        NOTIFICATION_LIFE,
        NOTIFICATION_READERS,
    ),
    *_entries(
        "core.AuditLog",
        "summary changes reason target_label ip",
        Category.LOG,
        "审计（号码一律脱敏）",
        "至少6个月（AUDIT_RETENTION_DAYS）",
        AUDIT_READERS,
    ),
)

# Every other field of every crm model, by model: not personal information (keys,
# configuration, states, dates of work, counts), or a link to a row registered above.
NON_PI: dict[str, frozenset[str]] = {
    "core.AuditLog": frozenset({"at", "actor", "action", "target_type", "target_id", "customer_id", "company_id"}),
    "core.Counter": frozenset({"key", "value"}),
    "core.CalendarYear": frozenset({"year", "source", "entered_by", "entered_at"}),
    "core.CalendarDay": frozenset({"day", "is_working_day", "name"}),
    "core.Notification": frozenset({"recipient", "kind", "link", "dedupe_key", "created_at", "read_at"}),
    "accounts.Company": frozenset({"name", "sms_signature", "created_at"}),
    "accounts.Department": frozenset({"company", "name"}),
    "accounts.Team": frozenset({"department", "name", "leader"}),
    "accounts.LoginLock": frozenset({"attempt_time", "failures_since_start", "path_info"}),
    "accounts.LoginRecord": frozenset({"attempt_time", "logout_time", "path_info", "session_hash"}),
    "accounts.LoginFailure": frozenset({"attempt_time", "locked_out", "path_info"}),
    "accounts.User": frozenset(
        {
            "is_superuser",
            "is_staff",
            "is_active",
            "company",
            "department",
            "team",
            "access_stamp",
            "groups",
            "user_permissions",
            "projects",
        }
    ),
    "projects.Project": frozenset(
        {
            "company",
            "name",
            "code",
            "city",
            "address",
            "sales_phone",
            "service_phone",
            "property_phone",
            "is_active",
            "created_at",
        }
    ),
    "projects.Building": frozenset({"project", "name", "floors"}),
    "projects.Unit": frozenset({"project", "building", "number", "layout", "area", "price", "status"}),
    "customers.Tag": frozenset({"company", "name"}),
    "customers.Customer": frozenset(
        {
            "company",
            "number",
            "owner",
            "advisor",
            "project",
            "source_channel",
            "is_archived",
            "archived_reason",
            "archived_at",
            "merged_into",
            "created_by",
            "created_at",
            "updated_at",
        }
    ),
    "customers.CustomerProfile": frozenset({"customer", "updated_at"}),
    "customers.FamilyMember": frozenset({"customer"}),
    "customers.ConsentRecord": frozenset({"customer", "recorded_by"}),
    "customers.Deal": frozenset(
        {
            "company",
            "customer",
            "project",
            "consultant",
            "status",
            "signing_deadline_on",
            "delivery_planned_on",
            "move_in_kind",
            "created_at",
            "updated_at",
        }
    ),
    "customers.TimelineEvent": frozenset({"customer", "kind", "occurred_at", "actor", "source_type", "source_id"}),
    "customers.ImportJob": frozenset(
        {
            "company",
            "owner",
            "kind",
            "filename",
            "token",
            "size",
            "options",
            "status",
            "only_valid",
            "step",
            "done",
            "total",
            "rows",
            "invalid",
            "message",
            "result",
            "ip",
            "created_at",
            "updated_at",
            "expires_at",
        }
    ),
    "customers.ImportColumnChoice": frozenset({"user", "kind", "header", "key"}),
    "customers.CompanyPrivacy": frozenset(
        {
            "company",
            "archive_sensitive_fields",
            "export_approval_threshold",
            "open_limit_per_hour",
            "reveal_limit_per_hour",
            "duplicate_limit_per_hour",
        }
    ),
    "customers.ExportRequest": frozenset(
        {
            "company",
            "kind",
            "requested_by",
            "count",
            "with_contact",
            "purpose",
            "status",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "downloaded_at",
        }
    ),
    "customers.AccessEvent": frozenset({"user", "kind", "customer_id", "at"}),
    "customers.AccessAlert": frozenset(
        {"company", "user", "kind", "count", "limit", "raised_at", "resolved_by", "resolved_at", "resolution"}
    ),
    "care.CareRule": frozenset(
        {
            "project",
            "trigger",
            "is_enabled",
            "template",
            "purpose",
            "audience",
            "window_start",
            "window_end",
            "offset_days",
            "needs_approval",
            "catch_up_days",
            "working_days_only",
            "gateway_template_code",
            "updated_at",
            "updated_by",
        }
    ),
    "care.MoveInBatch": frozenset({"project", "name", "starts_on", "ends_on"}),
    "care.Draft": frozenset(
        {
            "project",
            "rule",
            "occasion",
            "send_on",
            "event_on",
            "text",
            "values",
            "audience_filter",
            "status",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
            "comment",
            "recipient_count",
        }
    ),
    "care.OutboundMessage": frozenset(
        {
            "customer",
            "family_member",
            "project",
            "rule",
            "trigger",
            "occasion",
            "draft",
            "purpose",
            "status",
            "scheduled_at",
            "window_ends_at",
            "next_attempt_at",
            "attempts",
            "claimed_at",
            "handed_at",
            "gateway",
            "gateway_message_id",
            "error_code",
            "error",
            "submitted_at",
            "delivered_at",
            "created_at",
            "updated_at",
        }
    ),
    "care.OptedOutMobile": frozenset({"opted_out_at", "source"}),
    "care.InboundReply": frozenset(
        {"received_at", "gateway", "dedup_key", "is_opt_out", "customers_opted_out", "created_at"}
    ),
    "care.DeliveryReceipt": frozenset(
        {"dedup_key", "message", "gateway", "delivered", "code", "reported_at", "created_at"}
    ),
    "care.GatewayState": frozenset({"gateway", "paused_until", "reason", "updated_at"}),
    "complaints.Category": frozenset({"company", "name", "department", "owner", "sort_order", "is_active"}),
    "complaints.Complaint": frozenset(
        {
            "company",
            "number",
            "channel",
            "status",
            "event_at",
            "project",
            "unit",
            "customer",
            "category",
            "assignee",
            "registered_by",
            "is_special",
            "is_important",
            "is_repeat",
            "repeat_of",
            "registered_at",
            "first_response_due_at",
            "resolution_due_at",
            "dispatched_at",
            "acknowledged_at",
            "plan_approved_at",
            "resolved_at",
            "confirmed_at",
            "archived_at",
            "cancelled_at",
            "paused_at",
            "paused_from",
            "dissatisfied_at",
            "escalation_level",
            "escalated_at",
            "updated_at",
        }
    ),
    "complaints.ComplaintEvent": frozenset(
        {"complaint", "kind", "actor", "from_status", "to_status", "by_complainant", "at"}
    ),
    "complaints.ComplaintAttachment": frozenset(
        {"complaint", "content_type", "size", "width", "height", "uploaded_by", "uploaded_at"}
    ),
    "complaints.IntegrationClient": frozenset(
        {"company", "name", "channel", "key_prefix", "key_hash", "is_enabled", "created_at", "last_used_at"}
    ),
    "complaints.ConsultationTopic": frozenset({"company", "name", "sort_order", "is_active"}),
    "complaints.Consultation": frozenset(
        {
            "company",
            "channel",
            "topic",
            "customer",
            "project",
            "answered_by",
            "asked_at",
            "needs_follow_up",
            "complaint",
            "created_at",
        }
    ),
    "complaints.CustomerIssue": frozenset(
        {
            "company",
            "number",
            "status",
            "source",
            "customer",
            "project",
            "first_responder",
            "consultation",
            "complaint",
            "media_finding",
            "received_at",
            "closed_at",
            "cancelled_at",
            "updated_at",
        }
    ),
    "complaints.IssueHandOff": frozenset(
        {"issue", "department", "to_user", "handed_by", "handed_at", "respond_by", "answered_at", "answered_by"}
    ),
    "complaints.IssueEscalation": frozenset({"issue", "hand_off", "escalated_by", "escalated_at"}),
    "complaints.IssueCallback": frozenset({"issue", "called_by", "called_at", "is_reached"}),
    "complaints.IssueEvent": frozenset({"issue", "kind", "actor", "from_status", "to_status", "at"}),
    "complaints.Medium": frozenset({"company", "name", "kind", "url", "sort_order", "is_active"}),
    "complaints.MediaCheck": frozenset({"company", "medium", "week_on", "checked_by", "checked_at", "note"}),
    "complaints.MediaFinding": frozenset(
        {
            "company",
            "medium",
            "project",
            "found_at",
            "link",
            "summary",
            "sentiment",
            "recorded_by",
            "response",
            "responded_by",
            "responded_at",
            "complaint",
        }
    ),
    "complaints.SurveyInvitation": frozenset({"complaint", "token_hash", "created_at", "expires_at", "used_at"}),
    "complaints.InboundMail": frozenset(
        {
            "company",
            "message_key",
            "mailbox",
            "uid",
            "status",
            "reason",
            "sent_at",
            "received_at",
            "complaint",
            "handled_by",
            "handled_at",
        }
    ),
    "complaints.MailboxState": frozenset(
        {"mailbox", "last_polled_at", "last_success_at", "last_error", "last_error_at", "failures"}
    ),
    "complaints.PurgeRecord": frozenset(
        {
            "company",
            "number",
            "category_name",
            "channel",
            "registered_at",
            "archived_at",
            "purged_at",
            "event_count",
            "timeline_count",
            "mail_count",
            "file_count",
        }
    ),
    "visits.VisitPlan": frozenset(
        {
            "company",
            "project",
            "name",
            "occasion",
            "offset_months",
            "offset_days",
            "offset_in_working_days",
            "window_days",
            "window_in_working_days",
            "channel",
            "assignee_rule",
            "assignee",
            "purpose",
            "script",
            "questions",
            "max_attempts",
            "lead_days",
            "catch_up_days",
            "is_active",
            "sort_order",
        }
    ),
    "visits.VisitTask": frozenset(
        {
            "company",
            "customer",
            "project",
            "plan",
            "occasion",
            "deal",
            "occasion_on",
            "purpose",
            "channel",
            "questions",
            "assignee",
            "status",
            "start_on",
            "due_on",
            "due_note",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "reached",
            "completed_at",
            "completed_by",
            "created_at",
            "updated_at",
            "kind",
            "campaign",
            "repair",
            "source_task",
            "escalation_level",
            "escalated_at",
        }
    ),
    "visits.VisitEvent": frozenset({"task", "kind", "actor", "from_status", "to_status", "channel", "at"}),
    "visits.IssueCategory": frozenset({"company", "name", "department", "sort_order", "is_active"}),
    "visits.VisitIssue": frozenset(
        {
            "company",
            "task",
            "customer",
            "project",
            "category",
            "department",
            "promised_on",
            "status",
            "raised_by",
            "raised_at",
            "resolved_at",
            "informed_at",
            "closed_at",
            "complaint",
            "converted_at",
            "converted_by",
        }
    ),
    "visits.IssueEvent": frozenset({"issue", "actor", "from_status", "to_status", "at"}),
    "visits.IssueReminder": frozenset({"issue", "kind", "on", "department", "recipient", "created_at"}),
    "visits.Repair": frozenset(
        {"company", "customer", "project", "unit", "source", "contractor", "completed_at", "recorded_by", "created_at"}
    ),
    "visits.ForbiddenPhrase": frozenset({"company", "is_active", "phrase"}),
    "visits.ReviewFlag": frozenset(
        {
            "company",
            "task",
            "visitor",
            "source",
            "phrase",
            "status",
            "flagged_by",
            "flagged_at",
            "answered_at",
            "closed_at",
        }
    ),
    "visits.FlagEvent": frozenset({"flag", "kind", "actor", "at"}),
    "visits.ImprovementPlan": frozenset({"company", "consultant", "month", "updated_at", "updated_by"}),
    "visits.RecheckSample": frozenset(
        {"company", "quarter", "rate_percent", "population", "size", "seed", "per_project", "drawn_at"}
    ),
    # A campaign's audience is a filter (grade, stage, tags, dates), not a list of people.
    "visits.Campaign": frozenset(
        {
            "company",
            "project",
            "name",
            "purpose",
            "script",
            "questions",
            "channel",
            "grade",
            "stage",
            "milestone",
            "tags",
            "registered_from",
            "registered_to",
            "assign",
            "assignees",
            "start_on",
            "due_on",
            "created_by",
            "created_at",
            "launched_at",
            "complaint_category",
            "complaints_from",
            "complaints_to",
        }
    ),
    # An event is about the company's activity; its description names no customer.
    "events.Event": frozenset(
        {
            "company",
            "project",
            "kind",
            "title",
            "starts_on",
            "starts_at_time",
            "place",
            "capacity",
            "description",
            "organiser",
            "status",
            "invitations_sent_at",
            "created_by",
            "created_at",
            "updated_at",
        }
    ),
    "events.Invitee": frozenset(
        {
            "event",
            "customer",
            "added_by",
            "added_at",
            "invite_message",
            "notice_message",
            "rsvp_by",
            "rsvp_at",
            "checked_in_by",
            # 现场登记 or invited; who admitted the invitee beyond the event's capacity, when.
            "source",
            "over_capacity_by",
            "over_capacity_at",
        }
    ),
    "events.EventGift": frozenset({"event", "invitee", "issue"}),
    "service.DutyItem": frozenset({"company", "name", "sort_order", "is_active"}),
    # The roster remark is about the shift (替班、调班), like the links to the staff on it.
    "service.Shift": frozenset(
        {
            "company",
            "project",
            "officer",
            "manager",
            "starts_at",
            "ends_at",
            "is_holiday",
            "note",
            "created_by",
            "created_at",
        }
    ),
    "service.DutyLogEntry": frozenset({"shift", "kind", "at", "customer", "is_escalated", "recorded_by"}),
    "service.Handover": frozenset(
        {
            "company",
            "project",
            "shift",
            "outgoing",
            "incoming",
            "status",
            "log_clear",
            "area_clean",
            "major_repair_open",
            "refused_at",
            "refusal_reasons",  # the labels of the refusal rules only (services.refuse)
            "created_at",
            "submitted_at",
            "accepted_at",
        }
    ),
    "service.HandoverItem": frozenset({"handover", "name", "state", "explained_by", "sort_order"}),
    "service.HandoverEvent": frozenset({"handover", "kind", "actor", "from_status", "to_status", "at"}),
    "service.DutyCheck": frozenset({"shift", "checked_by", "checked_at", "result"}),
    "service.Gift": frozenset({"company", "name", "unit", "price", "description", "is_active"}),
    "service.GiftStock": frozenset({"gift", "project", "quantity"}),
    "service.StockMovement": frozenset({"stock", "kind", "quantity", "balance", "actor", "at"}),
    "service.GiftTask": frozenset(
        {"company", "project", "customer", "deal", "consultant", "occasion", "status", "created_at", "done_at"}
    ),
    "service.GiftIssue": frozenset(
        {"company", "project", "customer", "task", "gift", "quantity", "occasion", "issuer", "issued_at"}
    ),
    "service.BirthdayEntry": frozenset({"company", "project", "customer", "member", "consultant"}),
    "service.InspectionArea": frozenset({"project", "name", "standard", "sort_order", "is_active"}),
    "service.Inspection": frozenset({"company", "project", "day", "inspector", "started_at", "completed_at", "note"}),
    "service.InspectionResult": frozenset({"inspection", "area", "result", "note", "sort_order"}),
    "service.Finding": frozenset(
        {
            "inspection",
            "area",
            "department",
            "found_at",
            "due_at",
            "reported_by",
            "handled_at",
            "handled_by",
        }
    ),
    "service.InspectionReport": frozenset({"company", "project", "day", "inspection", "summary", "created_at"}),
    "reports.ReportPack": frozenset(
        {
            "company",
            "kind",
            "project",
            "period_start",
            "period_end",
            "version",
            "status",
            "generated_at",
            "generated_by",
            "author",
            "submitted_at",
            "erasure_count",
            "erased_at",
        }
    ),
    "portraits.Portrait": frozenset(
        {"company", "project", "customer", "consultant", "quarter", "submitted_on", "submitted_at", "updated_at"}
    ),
    "training.TrainingPlan": frozenset(
        {
            "company",
            "title",
            "topic",
            "starts_on",
            "ends_on",
            "audience",
            "description",  # the plan's content, about no one in particular
            "created_by",
            "created_at",
        }
    ),
    "training.TrainingSession": frozenset(
        {"company", "plan", "topic", "trainer", "starts_at", "hours", "location", "created_by", "created_at"}
    ),
    "training.Attendance": frozenset({"session", "attendee", "recorded_by", "recorded_at"}),
    "referrals.Referral": frozenset({"company", "recorded_by", "created_at"}),
    "referrals.Reward": frozenset(
        {
            "referral",
            "proposed_by",
            "proposed_at",
            "approved_by",
            "approved_at",
            "paid_by",
            "paid_at",
            "rejected_by",
            "rejected_at",
        }
    ),
    # 项目资料与现场公示: sales materials of a project (plans, brochures) and the display
    # checklist; who uploaded or checked is a staff link.
    "service.Material": frozenset(
        {"company", "project", "kind", "title", "is_active", "created_by", "created_at", "updated_at"}
    ),
    "service.MaterialVersion": frozenset(
        {
            "material",
            "number",
            "file",
            "original_name",
            "content_type",
            "size",
            "note",
            "is_current",
            "uploaded_by",
            "uploaded_at",
        }
    ),
    "service.DisplayItem": frozenset(
        {
            "project",
            "name",
            "standard",
            "sort_order",
            "is_active",
            "last_checked_on",
            "last_checked_by",
            "last_status",
        }
    ),
    "service.DisplayCheck": frozenset(
        {"inspection", "item", "name", "sort_order", "status", "note", "checked_by", "checked_at", "finding"}
    ),
    "privacy.DataSubjectRequest": frozenset(
        {
            "company",
            "number",
            "customer",
            "kind",
            "received_via",
            "received_on",
            "deadline_on",
            "deadline_is_estimate",
            "status",
            "handler",
            "created_by",
            "created_at",
            "updated_at",
            "closed_at",
        }
    ),
    # The legal ground of a hold (诉讼保全、监管要求), per crm.privacy.erasure.NOT_PERSONAL.
    "privacy.LegalHold": frozenset({"customer", "reason", "set_by", "set_at", "released_by", "released_at"}),
    # The erasure ledger names the customer by id and number only (crm.privacy.models).
    "privacy.ErasureRecord": frozenset(
        {"company", "customer_pk", "customer_number", "kind", "reason", "erased_by", "erased_at", "request", "rows"}
    ),
    "privacy.RetentionRun": frozenset(
        {"company", "job", "started_at", "finished_at", "cutoff_at", "examined", "anonymised", "held", "note"}
    ),
    # Counts per project and month (crm.kpis.counting): no row of a person.
    "kpis.MonthCount": frozenset({"company", "project", "month", "source", "counts", "counted_at"}),
    "kpis.VisitDayCount": frozenset({"company", "project", "day", "groups", "counted_at"}),
    "kpis.MonthCountRun": frozenset({"company", "first_month", "last_month", "counted_at"}),
}
