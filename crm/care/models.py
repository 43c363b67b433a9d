"""温馨速递: per-project rules, drafts awaiting approval, the outbox and inbound replies."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from crm.care.rules import Audience, Purpose, Trigger
from crm.lib.mobile import mask_mobile


class CareRule(models.Model):
    """One trigger's rule for one project; defaults come from crm.care.rules.DEFAULT_RULES."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="care_rules", verbose_name="楼盘"
    )
    trigger = models.CharField("类型", max_length=20, choices=Trigger.choices)
    is_enabled = models.BooleanField("启用", default=True)
    template = models.TextField("短信模板", help_text="占位符如 {公司}、{楼盘}、{签约日期}")
    purpose = models.CharField("用途", max_length=12, choices=Purpose.choices)
    audience = models.CharField("发送对象", max_length=30, choices=Audience.choices)
    window_start = models.TimeField("发送开始")
    window_end = models.TimeField("发送截止")
    offset_days = models.SmallIntegerField("相对天数", default=0, help_text="相对触发日期的天数，如认购次日为 1")
    needs_approval = models.BooleanField("需综合组审批", default=False)
    catch_up_days = models.PositiveSmallIntegerField(
        "补发期限（天）",
        default=0,
        help_text="错过发送时段的短信（如登记晚了、系统暂停），在计划日之后这么多天内的下一个发送时段补发一次；"
        "超过即过期不发。0 表示不补发；仅工作日发送的规则按工作日计",
    )
    working_days_only = models.BooleanField("仅工作日发送", default=False, help_text="补发时顺延到下一个工作日")
    gateway_template_code = models.CharField(
        "网关模板编号", max_length=40, blank=True, help_text="阿里云 SMS_… / 腾讯云模板ID"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修改人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "温馨速递规则"
        ordering = ["project", "trigger"]
        constraints = [models.UniqueConstraint(fields=["project", "trigger"], name="uniq_care_rule")]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_trigger_display()}"


class MoveInBatch(models.Model):
    """A batch move-in (集中入住) period of a project; the greeting goes 3 days after it ends."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="move_in_batches", verbose_name="楼盘"
    )
    name = models.CharField("名称", max_length=50)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")

    class Meta:
        verbose_name = verbose_name_plural = "集中入住批次"
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"{self.project} {self.name}"


class Draft(models.Model):
    """A message awaiting the general-affairs group's approval (综合组审批).

    Construction progress, festival greetings and broadcasts are drafted (by a job the
    working day before, or by staff) and send nothing until approved. Approval creates the
    outbox rows; rejection ends the draft.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="care_drafts", verbose_name="楼盘"
    )
    rule = models.ForeignKey(CareRule, on_delete=models.PROTECT, related_name="drafts", verbose_name="规则")
    occasion = models.CharField("场合", max_length=40, help_text="如 2026-09-25、2026-W45")
    send_on = models.DateField("发送日期")
    event_on = models.DateField(
        "活动日期", null=True, blank=True, help_text="活动通知按活动日期计划发送（默认活动前三天），改期时随之调整"
    )
    text = models.TextField("短信内容")
    values = models.JSONField("占位符取值", default=dict, blank=True)
    audience_filter = models.JSONField("对象筛选", default=dict, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="编写人",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    comment = models.CharField("审批意见", max_length=200, blank=True)
    recipient_count = models.PositiveIntegerField("收件人数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "待审批短信"
        ordering = ["-send_on", "-id"]
        permissions = [("approve_draft", "审批温馨速递（综合组）")]
        constraints = [
            # A job drafting the same festival twice (two runners, a retry) gets one draft.
            models.UniqueConstraint(fields=["rule", "occasion"], name="uniq_draft_occasion"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.occasion}"


class OutboundMessage(models.Model):
    """One SMS to one recipient for one occasion: the outbox row the dispatcher sends.

    The recipient is a customer, or, for a complaint notice to a complainant who is not a
    customer (an unlinked contact), ``contact_mobile`` with no customer
    (docs/decisions/0018-complaint-notices-through-the-outbox.md). A row with a customer
    and a ``contact_mobile`` goes to that number (the one the complainant gave).

    Unique per (customer, trigger, occasion, family member), or per (contact mobile,
    trigger, occasion) without a customer: no planning run, second runner or redelivered
    task can create it twice.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "待发送"
        SUBMITTING = "submitting", "提交中"
        SENT = "sent", "已提交网关"
        DELIVERED = "delivered", "已送达"
        UNDELIVERED = "undelivered", "未送达"
        FAILED = "failed", "发送失败"
        EXPIRED = "expired", "已过期未发"
        CANCELLED = "cancelled", "已取消"
        # Not sent because something must be fixed first (a missing project phone, a
        # placeholder without a value); ``error`` says what, in Chinese.
        HELD = "held", "暂缓发送（待处理）"

    OPEN = (Status.SCHEDULED, Status.SUBMITTING)

    # The outbox as a state machine: status writes go through crm.care.outbox.move, which
    # refuses a move not in this table and compares status (and, out of "submitting",
    # the claim) in the same UPDATE. Self-loops are writes that keep the status: a scheduled
    # row moved to another window, a claim re-taken or stamped as handed to the gateway.
    ALLOWED_MOVES: ClassVar[dict[Status, frozenset[Status]]] = {
        Status.SCHEDULED: frozenset(
            {
                Status.SCHEDULED,  # rescheduled (the next window)
                Status.SUBMITTING,  # claimed by a dispatch worker
                Status.CANCELLED,  # opt-out, or staff cancel it
                Status.EXPIRED,  # its window (and catch-up period) passed
                Status.HELD,  # something must be fixed first
                # A receipt proves the gateway has it: never send it again.
                Status.SENT,
                Status.DELIVERED,
                Status.UNDELIVERED,
            }
        ),
        Status.SUBMITTING: frozenset(
            {
                Status.SUBMITTING,  # claim re-taken; handed to the gateway; outcome unknown
                Status.SCHEDULED,  # back to the queue (quiet hours, cap, retry, never handed)
                Status.SENT,
                Status.DELIVERED,
                Status.UNDELIVERED,
                Status.FAILED,
                Status.CANCELLED,  # opted out, no consent, archived, deal cancelled
                Status.HELD,  # a placeholder left unfilled
            }
        ),
        Status.SENT: frozenset({Status.DELIVERED, Status.UNDELIVERED}),
        Status.DELIVERED: frozenset(),
        Status.UNDELIVERED: frozenset({Status.DELIVERED}),  # a carrier's later report
        Status.FAILED: frozenset(
            {
                Status.SCHEDULED,  # resent (补发) by staff
                # A late receipt: the gateway had it after all (a row handed to a person).
                Status.SENT,
                Status.DELIVERED,
                Status.UNDELIVERED,
            }
        ),
        Status.EXPIRED: frozenset({Status.SCHEDULED}),  # resent (补发) by staff
        Status.CANCELLED: frozenset(),
        Status.HELD: frozenset({Status.SCHEDULED, Status.CANCELLED, Status.EXPIRED}),
    }

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name="客户",
    )
    # The number to send to when it is not the customer's own (a complaint's contact
    # number), and the name to show staff for a recipient who is not a customer.
    contact_mobile = models.CharField("收件手机号", max_length=20, blank=True)
    contact_name = models.CharField("收件人", max_length=50, blank=True)
    family_member = models.ForeignKey(
        "customers.FamilyMember",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="家庭成员",
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="messages", verbose_name="楼盘"
    )
    rule = models.ForeignKey(CareRule, on_delete=models.PROTECT, related_name="messages", verbose_name="规则")
    trigger = models.CharField("类型", max_length=20, choices=Trigger.choices)
    occasion = models.CharField("场合", max_length=40)
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages", verbose_name="审批单"
    )
    purpose = models.CharField("用途", max_length=12, choices=Purpose.choices)
    text = models.TextField("短信内容")
    params = models.JSONField("模板参数", default=dict, blank=True, help_text="网关模板变量（按模板顺序）")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_at = models.DateTimeField("计划发送时间")
    window_ends_at = models.DateTimeField("最晚发送时间")
    next_attempt_at = models.DateTimeField("下次尝试时间")
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    claimed_at = models.DateTimeField("领取时间", null=True, blank=True)
    # Set (with the claim re-taken) just before the gateway call: a claimed row without it
    # was never handed over, so the gateway cannot have it and it goes back to the queue.
    handed_at = models.DateTimeField("交给网关时间", null=True, blank=True)
    gateway = models.CharField("网关", max_length=20, blank=True)
    gateway_message_id = models.CharField("网关消息ID", max_length=80, blank=True)
    error_code = models.CharField("错误码", max_length=80, blank=True)
    error = models.CharField("原因", max_length=300, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "短信发件箱"
        ordering = ["-scheduled_at", "-id"]
        permissions = [
            ("manage_messages", "编写、补填和取消温馨速递"),
            ("resend_message", "补发发送失败、过期或暂缓的温馨速递"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "trigger", "occasion"],
                condition=models.Q(family_member__isnull=True),
                name="uniq_message_occasion",
            ),
            models.UniqueConstraint(
                fields=["customer", "trigger", "occasion", "family_member"],
                condition=models.Q(family_member__isnull=False),
                name="uniq_family_message_occasion",
            ),
            # A recipient who is not a customer (an unlinked complainant): one message per
            # (number, trigger, occasion); NULL customers never conflict in the keys above.
            models.UniqueConstraint(
                fields=["contact_mobile", "trigger", "occasion"],
                condition=models.Q(customer__isnull=True),
                name="uniq_contact_message_occasion",
            ),
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | ~models.Q(contact_mobile=""),
                name="message_has_recipient",
            ),
        ]
        indexes = [
            # the dispatch command's count of due rows.
            models.Index(fields=["status", "next_attempt_at"], name="message_due"),
            # send_due_messages: due rows, the earliest window end first (a broadcast never
            # starves a personal message whose window closes sooner).
            models.Index(fields=["status", "window_ends_at", "next_attempt_at", "id"], name="message_due_by_deadline"),
            # settle_submitting: rows left "submitting" (crash or unknown outcome).
            models.Index(fields=["status", "claimed_at"], name="message_claimed"),
            # receipts: find the row by the gateway's id.
            models.Index(fields=["gateway_message_id"], name="message_gateway_id"),
            # the customer's daily cap and 360° page.
            models.Index(fields=["customer", "-scheduled_at"], name="message_customer"),
            # the daily cap of a recipient who is not a customer (dispatch's _Batch.load).
            models.Index(
                fields=["contact_mobile", "submitted_at"],
                condition=models.Q(customer__isnull=True),
                name="message_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} → {self.customer_id or self.masked_recipient_mobile} ({self.get_status_display()})"

    @property
    def recipient_mobile(self) -> str:
        """The number the gateway gets: the contact number when there is one, else the
        customer's mobile."""
        if self.contact_mobile:
            return self.contact_mobile
        return self.customer.mobile if self.customer is not None else ""

    @property
    def masked_recipient_mobile(self) -> str:
        return mask_mobile(self.recipient_mobile) if self.recipient_mobile else ""

    @property
    def recipient_name(self) -> str:
        if self.customer is not None:
            return str(self.customer.name)
        return self.contact_name or "投诉人（未关联客户）"


class OptedOutMobile(models.Model):
    """A number that replied an opt-out word (or was opted out by staff or the gateway's
    blacklist): nothing is sent to it as a contact who is not a customer (a complainant);
    customers with the number are opted out on the customer row as before."""

    mobile = models.CharField("手机号", max_length=20, unique=True)
    opted_out_at = models.DateTimeField("退订时间")
    source = models.CharField("来源", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "已退订号码"
        ordering = ["-opted_out_at"]

    def __str__(self) -> str:
        return mask_mobile(self.mobile)


class InboundReply(models.Model):
    """A reply SMS (上行). Opt-out words (T, TD, R, N, 退订, 拒收) take effect on arrival."""

    mobile = models.CharField("手机号", max_length=20, db_index=True)
    text = models.CharField("内容", max_length=500)
    received_at = models.DateTimeField("接收时间")
    gateway = models.CharField("网关", max_length=20)
    dedup_key = models.CharField(max_length=120, unique=True)
    is_opt_out = models.BooleanField("退订", default=False)
    customers_opted_out = models.PositiveIntegerField("退订客户数", default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "短信回复"
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.mobile}: {self.text}"


class DeliveryReceipt(models.Model):
    """A delivery receipt as received (gateways push the same one several times)."""

    dedup_key = models.CharField(max_length=160, unique=True)
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="receipts"
    )
    gateway = models.CharField(max_length=20)
    delivered = models.BooleanField()
    code = models.CharField(max_length=80, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "送达回执"

    def __str__(self) -> str:
        return self.dedup_key


class GatewayState(models.Model):
    """A paused gateway (balance, daily cap, template not approved…): nothing is sent
    through it until ``paused_until`` or an administrator resumes it."""

    gateway = models.CharField("网关", max_length=20, unique=True)
    paused_until = models.DateTimeField("暂停至", null=True, blank=True)
    reason = models.CharField("原因", max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "网关状态"

    def __str__(self) -> str:
        return f"{self.gateway} {self.reason}"
