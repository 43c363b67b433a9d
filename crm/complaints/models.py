"""Complaints (投诉): categories with their responsible owner, the complaint and its events.

The lifecycle is a table (``Complaint.ALLOWED_MOVES``) read by the one guarded mover in
crm.complaints.services; facts that are not states (deadlines, escalation level, the
assignee, the repeat flag) are fields.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import models

from crm.lib.dates import local_day
from crm.lib.mobile import mask_mobile


class Category(models.Model):
    """A complaint category (服务质量, 合同 …) and who is responsible for it: dispatch at
    registration goes to ``owner``; ``department`` is the team behind them."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="complaint_categories")
    name = models.CharField("类别名称", max_length=40)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="责任部门",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="责任人",
        help_text="登记后立即分派给此人；未设置时由客服中心主任分派",
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "投诉类别"
        verbose_name_plural = "投诉类别"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("company", "name"), name="uniq_complaint_category_name")]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    PHONE = "phone", "电话"
    WALK_IN = "walk_in", "来访"
    WRITTEN = "written", "书面"
    TRANSFERRED = "transferred", "转办"
    EMAIL = "email", "邮件"
    WECHAT = "wechat", "微信"
    WEBSITE = "website", "网站"
    MEDIA = "media", "媒体"


class _DeadlineColumns(Protocol):
    """The columns ComplaintFacts reads (a Complaint, or the list's plain row)."""

    @property
    def status(self) -> str: ...
    @property
    def complainant_mobile(self) -> str: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def first_response_due_at(self) -> datetime: ...
    @property
    def resolution_due_at(self) -> datetime: ...
    @property
    def paused_at(self) -> datetime | None: ...


class ComplaintFacts:
    """What a complaint's own columns say: the model's answers, shared with the list's plain
    rows (crm.complaints.views.ListedComplaint), which are not model instances."""

    __slots__ = ()

    @property
    def masked_mobile(self: _DeadlineColumns) -> str:
        return mask_mobile(self.complainant_mobile) if self.complainant_mobile else ""

    @property
    def resolution_due_day(self: _DeadlineColumns) -> date:
        """The last day to resolve it (the deadline is the end of that day, local time)."""
        return local_day(self.resolution_due_at - timedelta(microseconds=1))

    @property
    def is_open(self: _DeadlineColumns) -> bool:
        return self.status in Complaint.OPEN

    def is_breached(self: _DeadlineColumns, now: datetime) -> bool:
        """Past a deadline and not done: not acknowledged in time, or not resolved in time
        (while waiting for the customer the clock stands at ``paused_at``)."""
        if self.status not in Complaint.OPEN:
            return False
        if self.acknowledged_at is None and now > self.first_response_due_at:
            return True
        clock = self.paused_at or now
        return clock > self.resolution_due_at


class Complaint(ComplaintFacts, models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "已登记"
        DISPATCHED = "dispatched", "已分派"
        ACKNOWLEDGED = "acknowledged", "已接收"
        INVESTIGATING = "investigating", "调查中"
        PLAN_PROPOSED = "plan_proposed", "方案待审批"
        PLAN_APPROVED = "plan_approved", "方案已批准"
        IN_PROGRESS = "in_progress", "处理中"
        RESOLVED = "resolved", "已处理待确认"
        CONFIRMED = "confirmed", "客户已确认"
        ARCHIVED = "archived", "已归档"
        WAITING = "waiting_for_customer", "等待客户"
        CANCELLED = "cancelled", "已撤销"
        REOPENED = "reopened", "重新处理"

    S = Status
    # The lifecycle (STYLE.md "A lifecycle"): every move a complaint may make. Waiting for
    # the customer returns to the status it left (``paused_from``); a rejected plan goes
    # back to investigating; a reopened complaint is investigated again.
    ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
        S.REGISTERED: frozenset({S.DISPATCHED, S.CANCELLED}),
        S.DISPATCHED: frozenset({S.ACKNOWLEDGED, S.CANCELLED}),
        S.ACKNOWLEDGED: frozenset({S.INVESTIGATING, S.WAITING, S.CANCELLED}),
        S.INVESTIGATING: frozenset({S.PLAN_PROPOSED, S.WAITING, S.CANCELLED}),
        S.PLAN_PROPOSED: frozenset({S.PLAN_APPROVED, S.INVESTIGATING}),
        S.PLAN_APPROVED: frozenset({S.IN_PROGRESS}),
        S.IN_PROGRESS: frozenset({S.RESOLVED, S.WAITING}),
        S.RESOLVED: frozenset({S.CONFIRMED, S.REOPENED}),
        S.CONFIRMED: frozenset({S.ARCHIVED, S.REOPENED}),
        S.ARCHIVED: frozenset({S.REOPENED}),
        S.WAITING: frozenset({S.ACKNOWLEDGED, S.INVESTIGATING, S.IN_PROGRESS, S.CANCELLED}),
        S.REOPENED: frozenset({S.INVESTIGATING}),
        S.CANCELLED: frozenset(),
    }
    # Statuses in which the resolution clock runs or is paused (the complaint is not done).
    OPEN = frozenset(
        {
            S.REGISTERED,
            S.DISPATCHED,
            S.ACKNOWLEDGED,
            S.INVESTIGATING,
            S.PLAN_PROPOSED,
            S.PLAN_APPROVED,
            S.IN_PROGRESS,
            S.WAITING,
            S.REOPENED,
        }
    )
    del S

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="complaints")
    number = models.CharField("投诉编号", max_length=20, unique=True)
    channel = models.CharField("投诉渠道", max_length=20, choices=Channel.choices)
    status = models.CharField("状态", max_length=24, choices=Status.choices, default=Status.REGISTERED)
    complainant_name = models.CharField("投诉人", max_length=50)
    complainant_mobile = models.CharField("联系电话", max_length=20, blank=True, db_index=True)
    complainant_email = models.EmailField("电子邮箱", max_length=254, blank=True)
    content = models.TextField("投诉内容")
    event_at = models.DateTimeField("事件发生时间", null=True, blank=True)
    event_place = models.CharField("事件发生地点", max_length=200, blank=True)
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    unit = models.ForeignKey(
        "projects.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="房号"
    )
    # What a member of the public (or an integration) typed as the unit; staff pick ``unit``.
    unit_text = models.CharField("房号（投诉人填写）", max_length=50, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name="关联客户",
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="complaints", verbose_name="类别")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_complaints",
        verbose_name="责任人",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登记人",
    )
    is_special = models.BooleanField("特殊投诉", default=False, help_text="处理时限为 7 个工作日")
    is_important = models.BooleanField("重要投诉", default=False, help_text="归档后长期保存")
    is_repeat = models.BooleanField("重复投诉", default=False)
    repeat_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="前次投诉"
    )
    plan = models.TextField("处理方案", blank=True)
    satisfaction = models.PositiveSmallIntegerField("满意度", null=True, blank=True)

    registered_at = models.DateTimeField("登记时间")
    first_response_due_at = models.DateTimeField("首次响应期限")
    resolution_due_at = models.DateTimeField("处理期限")
    dispatched_at = models.DateTimeField("分派时间", null=True, blank=True)
    acknowledged_at = models.DateTimeField("接收时间", null=True, blank=True)
    plan_approved_at = models.DateTimeField("方案批准时间", null=True, blank=True)
    resolved_at = models.DateTimeField("处理完成时间", null=True, blank=True)
    confirmed_at = models.DateTimeField("客户确认时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    # Waiting for the customer: when the clock stopped and the status to return to.
    paused_at = models.DateTimeField("暂停计时", null=True, blank=True)
    paused_from = models.CharField(max_length=24, choices=Status.choices, blank=True)
    # The complainant rated the resolution low through the survey link: not confirmed, for
    # the director to decide (reopen, or call the customer). Cleared when it leaves 已处理.
    dissatisfied_at = models.DateTimeField("客户不满意评价时间", null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField("升级级别", default=0)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "投诉"
        verbose_name_plural = "投诉"
        ordering = ("-registered_at", "-id")
        permissions = [
            ("approve_plan", "审批投诉处理方案"),
            ("manage_complaint", "分派、撤销、重新处理投诉"),
            ("export_complaints", "导出投诉"),
            ("view_complaint_report", "查看投诉分析报告"),
        ]
        indexes = [
            models.Index(fields=("company", "status", "resolution_due_at"), name="complaint_queue"),
            models.Index(fields=("project", "status"), name="complaint_project_status"),
            # The list's order (newest first) and the monthly report's month: both read a
            # range of registered_at in the company (docs/performance.md, bench complaints).
            models.Index(fields=("company", "-registered_at", "-id"), name="complaint_registered"),
            # Open at a month's end (crm.complaints.analysis.open_at): those still open now,
            # plus those resolved or cancelled after that end — three small index ranges
            # instead of every complaint registered before it.
            models.Index(
                fields=("registered_at",),
                name="complaint_still_open",
                condition=models.Q(resolved_at__isnull=True, cancelled_at__isnull=True),
            ),
            # Resolved in a period of the company (a pack's 本期处理完成, the open-at-end
            # ranges): the company first, so the count reads the index alone (18 → 2.5 ms
            # for a month at 300,000 complaints).
            models.Index(fields=("company", "resolved_at"), name="complaint_company_resolved"),
            models.Index(fields=("cancelled_at",), name="complaint_cancelled_at"),
            # The retention job (jobs.purge_expired): archived complaints by archiving time.
            models.Index(fields=("status", "archived_at"), name="complaint_retention"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_email(self) -> str:
        """li***@example.com: enough to recognise, not to write to (lists, the detail page)."""
        if "@" not in self.complainant_email:
            return ""
        local, domain = self.complainant_email.split("@", 1)
        return f"{local[:2]}***@{domain}"


class ComplaintEvent(models.Model):
    """One thing that happened to a complaint: a move (from → to) or a note (progress,
    escalation), with who did it, when and why."""

    class Kind(models.TextChoices):
        MOVE = "move", "状态变更"
        PROGRESS = "progress", "进展"
        ESCALATED = "escalated", "超时升级"
        ASSIGNED = "assigned", "改派"
        SURVEY = "survey", "客户评价"
        REPEAT = "repeat", "重复投诉"
        IMPORTANT = "important", "重要标记"
        CORRECTED = "corrected", "更正登记"
        REPLY = "reply", "次日回复"

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MOVE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=24, choices=Complaint.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Complaint.Status.choices, blank=True)
    note = models.TextField(blank=True)
    # Done by the complainant (the survey link), not by a staff member: ``actor`` is empty.
    by_complainant = models.BooleanField("投诉人本人", default=False)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "投诉处理记录"
        verbose_name_plural = "投诉处理记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def actor_label(self) -> str:
        """Who did it, as staff read it: the staff member, the complainant, or the system."""
        if self.by_complainant:
            return "投诉人（短信评价链接）"
        return str(self.actor) if self.actor is not None else "系统"


def _attachment_path(instance: ComplaintAttachment, filename: str) -> str:
    """A random name under a folder the web server must not serve (see docs/complaints.md):
    the file is read only through the view that checks access to the complaint."""
    return f"{ATTACHMENT_DIR}/{uuid.uuid4().hex}{instance.extension}"


def _thumbnail_path(instance: ComplaintAttachment, filename: str) -> str:
    """The thumbnail's own random name in the same private folder (always a JPEG)."""
    return f"{ATTACHMENT_DIR}/{uuid.uuid4().hex}.thumb.jpg"


ATTACHMENT_DIR = "private/complaints"


class ComplaintAttachment(models.Model):
    """An image attached to a complaint (by the complainant on the public page, an
    integration or staff). Only real images are kept (crm.complaints.attachments)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件", upload_to=_attachment_path, max_length=200)
    # A small JPEG for the detail page (crm.complaints.attachments.thumbnail); empty for
    # rows stored before thumbnails (made on first request) and for HEIC rows of that time.
    thumbnail = models.FileField("缩略图", upload_to=_thumbnail_path, max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    width = models.PositiveIntegerField("宽", default=0)
    height = models.PositiveIntegerField("高", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "投诉附件"
        verbose_name_plural = "投诉附件"
        ordering = ("uploaded_at", "id")

    def __str__(self) -> str:
        return self.original_name or str(self.file.name)

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, "")

    @property
    def is_inline(self) -> bool:
        """Browsers show these; HEIC is offered as a download."""
        return self.content_type in ("image/jpeg", "image/png", "image/webp")


EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}


class IntegrationClient(models.Model):
    """A system that may submit complaints over the API (the website, the WeChat official
    account): a name, the channel it stamps, and a key kept only as a hash. The key is
    shown once, when the client is created in 系统设置."""

    class Kind(models.TextChoices):
        WEBSITE = Channel.WEBSITE.value, "官网"
        WECHAT = Channel.WECHAT.value, "微信公众号"

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("名称", max_length=50)
    channel = models.CharField("渠道", max_length=20, choices=Kind.choices, default=Kind.WEBSITE)
    key_prefix = models.CharField("密钥前缀", max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    is_enabled = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "投诉接入方"
        verbose_name_plural = "投诉接入方"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


# ================================================================ consultations (咨询)
# Seed 004 咨询服务管理规定: every consultation is recorded, summarised at the end of each
# quarter for the director, who picks the next quarter's notice-board topics from it.


class ConsultationTopic(models.Model):
    """What a consultation is about (房源, 价格, 按揭 …): configurable per company."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="consultation_topics")
    name = models.CharField("主题", max_length=40)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "咨询主题"
        verbose_name_plural = "咨询主题"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("company", "name"), name="uniq_consultation_topic_name")]

    def __str__(self) -> str:
        return self.name


class ConsultationChannel(models.TextChoices):
    PHONE = "phone", "电话"
    WALK_IN = "walk_in", "来访"
    WECHAT = "wechat", "微信"
    WEBSITE = "website", "网站"
    EMAIL = "email", "邮件"
    OTHER = "other", "其他"


class Consultation(models.Model):
    """One question a customer (or anyone) asked and the answer given (咨询记录)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="consultations")
    channel = models.CharField("咨询渠道", max_length=12, choices=ConsultationChannel.choices)
    topic = models.ForeignKey(
        ConsultationTopic, on_delete=models.PROTECT, related_name="consultations", verbose_name="咨询主题"
    )
    question = models.TextField("咨询问题")
    answer = models.TextField("答复内容", blank=True)
    contact_name = models.CharField("咨询人", max_length=50)
    contact_mobile = models.CharField("联系电话", max_length=20, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name="关联客户",
    )
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="接待人"
    )
    asked_at = models.DateTimeField("咨询时间")
    needs_follow_up = models.BooleanField("需要跟进", default=False)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="转为投诉"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "咨询记录"
        verbose_name_plural = "咨询记录"
        ordering = ("-asked_at", "-id")
        permissions = [("export_consultations", "导出咨询记录和季度汇总")]
        indexes = [
            # The list and the quarterly summary: one company, a period of asked_at.
            models.Index(fields=("company", "asked_at"), name="consultation_period"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_name} {self.asked_at:%Y-%m-%d}"

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.contact_mobile) if self.contact_mobile else ""


# ================================================================ first responder (首问责任制)
# Seed 004 首问责任制管理规定: the first staff member who receives a customer's problem owns
# it (首问责任人) until the customer has been answered; problems outside their duty are
# passed to the department concerned, the owner calls the customer back, and may complain
# to the manager about a department that does not cooperate or answer in time.


class IssueSource(models.TextChoices):
    DIRECT = "direct", "直接受理"
    CONSULTATION = "consultation", "咨询"
    COMPLAINT = "complaint", "投诉"
    MEDIA = "media", "媒体监督"


class CustomerIssue(models.Model):
    """A customer's problem owned by its first responder until the callback."""

    class Status(models.TextChoices):
        OPEN = "open", "受理中"
        HANDED_OFF = "handed_off", "已转部门"
        CALLBACK_DUE = "callback_due", "待回复客户"
        CLOSED = "closed", "已回复结案"
        CANCELLED = "cancelled", "已撤销"

    S = Status
    # The lifecycle (STYLE.md "A lifecycle"): a hand-off while another is pending stays
    # 已转部门 (not a move); the answer of the last pending one makes it 待回复客户; closing
    # needs a reached callback (checked by the mover); the owner never changes on the way.
    ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
        S.OPEN: frozenset({S.HANDED_OFF, S.CALLBACK_DUE, S.CANCELLED}),
        S.HANDED_OFF: frozenset({S.CALLBACK_DUE, S.CANCELLED}),
        S.CALLBACK_DUE: frozenset({S.HANDED_OFF, S.CLOSED, S.CANCELLED}),
        S.CLOSED: frozenset(),
        S.CANCELLED: frozenset(),
    }
    OPEN_STATUSES = frozenset({S.OPEN, S.HANDED_OFF, S.CALLBACK_DUE})
    del S

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="customer_issues")
    number = models.CharField("事项编号", max_length=20, unique=True)
    status = models.CharField("状态", max_length=14, choices=Status.choices, default=Status.OPEN)
    source = models.CharField("来源", max_length=14, choices=IssueSource.choices, default=IssueSource.DIRECT)
    subject = models.CharField("事项", max_length=100)
    description = models.TextField("客户反映的问题")
    contact_name = models.CharField("客户姓名", max_length=50)
    contact_mobile = models.CharField("联系电话", max_length=20, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name="关联客户",
    )
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="first_responder_issues",
        verbose_name="首问责任人",
    )
    consultation = models.OneToOneField(
        Consultation, on_delete=models.SET_NULL, null=True, blank=True, related_name="issue", verbose_name="来自咨询"
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="来自投诉"
    )
    media_finding = models.ForeignKey(
        "complaints.MediaFinding",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="来自媒体",
    )
    received_at = models.DateTimeField("受理时间")
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "首问事项"
        verbose_name_plural = "首问事项"
        ordering = ("-received_at", "-id")
        permissions = [
            ("register_any_issue", "为任意客户登记首问事项"),
            ("export_issues", "导出首问事项"),
        ]
        indexes = [
            # The workbench card "待回复客户": one owner's open issues by status.
            models.Index(fields=("first_responder", "status"), name="issue_owner_status"),
            models.Index(fields=("company", "status"), name="issue_company_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.contact_mobile) if self.contact_mobile else ""

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class IssueHandOff(models.Model):
    """The first responder passes the question to a department (转部门): what was asked,
    by when it must answer (working time), and the answer."""

    issue = models.ForeignKey(CustomerIssue, on_delete=models.CASCADE, related_name="hand_offs")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+", verbose_name="转交部门"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="对接人",
    )
    asked = models.TextField("转交事项")
    handed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_at = models.DateTimeField("转交时间")
    respond_by = models.DateTimeField("答复时限")
    answer = models.TextField("部门答复", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "转交记录"
        verbose_name_plural = "转交记录"
        ordering = ("handed_at", "id")

    def __str__(self) -> str:
        return f"{self.issue} → {self.department}"

    @property
    def is_pending(self) -> bool:
        return self.answered_at is None

    def is_overdue(self, now: datetime) -> bool:
        return self.answered_at is None and now > self.respond_by


class IssueEscalation(models.Model):
    """The first responder complains to the director about a department that did not answer
    in time (seed 004 四); the director's queue shows the open ones."""

    issue = models.ForeignKey(CustomerIssue, on_delete=models.CASCADE, related_name="escalations")
    hand_off = models.OneToOneField(IssueHandOff, on_delete=models.CASCADE, related_name="escalation")
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField("投诉时间")
    reason = models.TextField("说明")

    class Meta:
        verbose_name = "部门超时投诉"
        verbose_name_plural = "部门超时投诉"
        ordering = ("-escalated_at", "-id")

    def __str__(self) -> str:
        return f"{self.hand_off.department} {self.escalated_at:%Y-%m-%d}"


class IssueCallback(models.Model):
    """The first responder's call back to the customer (回复客户): when, what was said, and
    whether the customer was reached; a reached callback is what allows closing."""

    issue = models.ForeignKey(CustomerIssue, on_delete=models.CASCADE, related_name="callbacks")
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    called_at = models.DateTimeField("回复时间")
    is_reached = models.BooleanField("已联系上客户", default=True)
    result = models.TextField("回复结果")

    class Meta:
        verbose_name = "回复客户记录"
        verbose_name_plural = "回复客户记录"
        ordering = ("called_at", "id")

    def __str__(self) -> str:
        return f"{self.issue} {self.called_at:%Y-%m-%d %H:%M}"


class IssueEvent(models.Model):
    """One thing that happened to an issue: a move, a hand-off, an answer, an escalation, a
    callback, with who and when."""

    class Kind(models.TextChoices):
        MOVE = "move", "状态变更"
        HAND_OFF = "hand_off", "转部门"
        ANSWER = "answer", "部门答复"
        ESCALATED = "escalated", "投诉部门超时"
        CALLBACK = "callback", "回复客户"

    issue = models.ForeignKey(CustomerIssue, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MOVE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=14, choices=CustomerIssue.Status.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=CustomerIssue.Status.choices, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "首问事项记录"
        verbose_name_plural = "首问事项记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


# ================================================================ media watch (媒体监督)
# Seed 001 四: watch the network, TV, newspapers and forums for customers' reactions, browse
# the fixed media every week, keep a record, answer problems and pass them on.


class MediumKind(models.TextChoices):
    NETWORK = "network", "网络"
    TV = "tv", "电视"
    NEWSPAPER = "newspaper", "报纸"
    FORUM = "forum", "论坛"


class Medium(models.Model):
    """One of the fixed media browsed every week (configurable in 系统设置)."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="media")
    name = models.CharField("媒体名称", max_length=60)
    kind = models.CharField("类型", max_length=12, choices=MediumKind.choices)
    url = models.URLField("网址", blank=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True, help_text="停用后不再出现在每周浏览清单中")

    class Meta:
        verbose_name = "监督媒体"
        verbose_name_plural = "监督媒体"
        ordering = ("sort_order", "id")
        constraints = [models.UniqueConstraint(fields=("company", "name"), name="uniq_medium_name")]

    def __str__(self) -> str:
        return self.name


class MediaCheck(models.Model):
    """A medium browsed in a week (Monday–Sunday, local time): who, when, a note."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    medium = models.ForeignKey(Medium, on_delete=models.CASCADE, related_name="checks", verbose_name="媒体")
    week_on = models.DateField("周（周一）")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="浏览人"
    )
    checked_at = models.DateTimeField("浏览时间")
    note = models.CharField("备注", max_length=300, blank=True)

    class Meta:
        verbose_name = "媒体浏览记录"
        verbose_name_plural = "媒体浏览记录"
        ordering = ("-week_on", "medium__sort_order")
        # One check per medium and week: checking twice keeps the first.
        constraints = [models.UniqueConstraint(fields=("medium", "week_on"), name="uniq_media_check_week")]

    def __str__(self) -> str:
        return f"{self.medium} {self.week_on}"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "正面"
    NEUTRAL = "neutral", "中性"
    NEGATIVE = "negative", "负面"


class MediaFinding(models.Model):
    """Something said about a project in a medium: where, the link, a summary, its tone,
    and how the company answered; it may become a complaint or a first-responder issue."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="media_findings")
    medium = models.ForeignKey(Medium, on_delete=models.PROTECT, related_name="findings", verbose_name="来源媒体")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="楼盘"
    )
    found_at = models.DateTimeField("发现时间")
    link = models.URLField("链接", max_length=500, blank=True)
    summary = models.TextField("内容摘要")
    sentiment = models.CharField("倾向", max_length=10, choices=Sentiment.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="记录人"
    )
    response = models.TextField("回应", blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="回应人",
    )
    responded_at = models.DateTimeField("回应时间", null=True, blank=True)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="转为投诉"
    )

    class Meta:
        verbose_name = "媒体监督记录"
        verbose_name_plural = "媒体监督记录"
        ordering = ("-found_at", "-id")
        permissions = [("export_media_findings", "导出媒体监督记录")]

    def __str__(self) -> str:
        return f"{self.medium} {self.found_at:%Y-%m-%d}"


class SurveyInvitation(models.Model):
    """A one-time satisfaction-survey link (满意度回访) sent to the complainant by SMS when
    the complaint is resolved.

    The link carries a random token; only its SHA-256 is stored, so the table does not
    hold usable links. Usable once and until ``expires_at``: the use is one conditional
    UPDATE (``used_at`` still empty, not expired), so two submissions at once confirm once.
    """

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="surveys")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("发送时间")
    expires_at = models.DateTimeField("有效期至")
    used_at = models.DateTimeField("评价时间", null=True, blank=True)
    rating = models.PositiveSmallIntegerField("评分", null=True, blank=True)
    comment = models.TextField("客户意见", blank=True)

    class Meta:
        verbose_name = "满意度回访链接"
        verbose_name_plural = "满意度回访链接"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.complaint} {self.created_at:%Y-%m-%d}"


class InboundMail(models.Model):
    """One mail read from the complaint mailbox (crm.complaints.mail_intake) and what became
    of it: registered as a complaint, held for the director (with the reason), or skipped
    (an auto-reply or a bounce). ``message_key`` (the Message-ID, or a hash of the raw mail
    when it has none) is unique: the row is written in the same transaction as the
    complaint, so a mail delivered twice, or read again after a crash before it was flagged
    in the mailbox, never makes a second complaint."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "已登记为投诉"
        HELD = "held", "待人工处理"
        HANDLED = "handled", "已人工处理"
        SKIPPED = "skipped", "已忽略"

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    message_key = models.CharField("邮件标识", max_length=255, unique=True)
    mailbox = models.CharField("邮箱", max_length=255, blank=True)
    uid = models.CharField("邮件 UID", max_length=40, blank=True)
    status = models.CharField("处理结果", max_length=12, choices=Status.choices)
    reason = models.CharField("原因", max_length=300, blank=True)
    sender_email = models.CharField("发件人邮箱", max_length=254, blank=True)
    sender_name = models.CharField("发件人", max_length=100, blank=True)
    subject = models.CharField("主题", max_length=300, blank=True)
    sent_at = models.DateTimeField("发信时间", null=True, blank=True)
    received_at = models.DateTimeField("读取时间")
    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="投诉"
    )
    # A held mail keeps its raw bytes so that the director can read it and register it by
    # hand; registered and skipped mails keep none (the complaint has the content), and a
    # held one loses them once the director has dealt with it.
    raw = models.BinaryField("原始邮件", blank=True, default=b"")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "投诉邮件"
        verbose_name_plural = "投诉邮件"
        ordering = ("-received_at", "-id")
        indexes = [
            # The director's list of held mails (views.complaint_mails) and the count on the list.
            models.Index(fields=("company", "status", "-received_at"), name="inbound_mail_status"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_key


class MailboxState(models.Model):
    """The last poll of the complaint mailbox: when it worked, and the last error (in
    Chinese, for the administrator) while it does not; the job retries on its next run."""

    mailbox = models.CharField("邮箱", max_length=255, unique=True)
    last_polled_at = models.DateTimeField("最近读取", null=True, blank=True)
    last_success_at = models.DateTimeField("最近成功", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    last_error_at = models.DateTimeField("出错时间", null=True, blank=True)
    failures = models.PositiveIntegerField("连续失败次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "投诉邮箱状态"

    def __str__(self) -> str:
        return self.mailbox


class PurgeRecord(models.Model):
    """What the retention job purged and when: no personal data, only the number, the
    category and channel, the dates and how many rows went with it."""

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    number = models.CharField("投诉编号", max_length=20, unique=True)
    category_name = models.CharField("类别", max_length=40)
    channel = models.CharField("投诉渠道", max_length=20, choices=Channel.choices)
    registered_at = models.DateTimeField("登记时间")
    archived_at = models.DateTimeField("归档时间")
    purged_at = models.DateTimeField("清除时间")
    event_count = models.PositiveIntegerField("处理记录数", default=0)
    timeline_count = models.PositiveIntegerField("客户时间线条目数", default=0)
    mail_count = models.PositiveIntegerField("邮件记录数", default=0)
    file_count = models.PositiveIntegerField("附件文件数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "投诉清除记录"
        ordering = ("-purged_at", "-id")

    def __str__(self) -> str:
        return self.number
