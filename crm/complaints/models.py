"""Complaints (投诉): categories with their responsible owner, the complaint and its events.

The lifecycle is a table (``Complaint.ALLOWED_MOVES``) read by the one guarded mover in
crm.complaints.services; facts that are not states (deadlines, escalation level, the
assignee, the repeat flag) are fields.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

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


class Complaint(models.Model):
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
        ]
        indexes = [
            models.Index(fields=("company", "status", "resolution_due_at"), name="complaint_queue"),
            models.Index(fields=("project", "status"), name="complaint_project_status"),
            # The retention job (jobs.purge_expired): archived complaints by archiving time.
            models.Index(fields=("status", "archived_at"), name="complaint_retention"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.complainant_mobile) if self.complainant_mobile else ""

    @property
    def masked_email(self) -> str:
        """li***@example.com: enough to recognise, not to write to (lists, the detail page)."""
        if "@" not in self.complainant_email:
            return ""
        local, domain = self.complainant_email.split("@", 1)
        return f"{local[:2]}***@{domain}"

    @property
    def resolution_due_day(self) -> date:
        """The last day to resolve it (the deadline is the end of that day, local time)."""
        return local_day(self.resolution_due_at - timedelta(microseconds=1))

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_breached(self, now: datetime) -> bool:
        """Past a deadline and not done: not acknowledged in time, or not resolved in time
        (while waiting for the customer the clock stands at ``paused_at``)."""
        if not self.is_open:
            return False
        if self.acknowledged_at is None and now > self.first_response_due_at:
            return True
        clock = self.paused_at or now
        return clock > self.resolution_due_at


class ComplaintEvent(models.Model):
    """One thing that happened to a complaint: a move (from → to) or a note (progress,
    escalation), with who did it, when and why."""

    class Kind(models.TextChoices):
        MOVE = "move", "状态变更"
        PROGRESS = "progress", "进展"
        ESCALATED = "escalated", "超时升级"
        ASSIGNED = "assigned", "改派"
        REPEAT = "repeat", "重复投诉"
        IMPORTANT = "important", "重要标记"

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MOVE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=24, choices=Complaint.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Complaint.Status.choices, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "投诉处理记录"
        verbose_name_plural = "投诉处理记录"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


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
