"""客户活动 (customer events): owners' gatherings, seminars, community and festival
activities, site tours (seeds 001, 003, 004), their invitees and the gifts issued there.

An event's lifecycle is a table (``Event.ALLOWED_MOVES``) read by the one guarded mover in
crm.events.services. Invitations and the 3-day notice are care messages
(crm.care.services.queue_event_message): each invitee row points at its outbox rows so the
list shows whether the message went and, if not, why.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class Event(models.Model):
    class Kind(models.TextChoices):
        GATHERING = "gathering", "业主联谊会"
        SEMINAR = "seminar", "讲座/说明会"
        COMMUNITY = "community", "社区活动"
        FESTIVAL = "festival", "节日活动"
        SITE_TOUR = "site_tour", "工地参观"
        VIP = "vip", "VIP专属活动"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        DRAFT = "draft", "筹备中"
        PUBLISHED = "published", "已发布"
        DONE = "done", "已结束"
        CANCELLED = "cancelled", "已取消"

    ALLOWED_MOVES: ClassVar[dict[str, frozenset[str]]] = {
        Status.DRAFT: frozenset({Status.PUBLISHED, Status.CANCELLED}),
        Status.PUBLISHED: frozenset({Status.DONE, Status.CANCELLED}),
        Status.DONE: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    OPEN = (Status.DRAFT, Status.PUBLISHED)

    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="customer_events", verbose_name="楼盘"
    )
    kind = models.CharField("活动类型", max_length=12, choices=Kind.choices, default=Kind.GATHERING)
    title = models.CharField("活动名称", max_length=40)
    starts_on = models.DateField("活动日期")
    starts_at_time = models.TimeField("开始时间")
    place = models.CharField("活动地点", max_length=60)
    capacity = models.PositiveIntegerField("名额", null=True, blank=True, help_text="不填为不限")
    description = models.TextField("活动内容", blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="负责人"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    invitations_sent_at = models.DateTimeField("邀请发送时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "客户活动"
        ordering = ("-starts_on", "-id")
        permissions = [
            ("manage_invitees", "登记活动回执与签到"),
            ("export_events", "导出活动邀请名单"),
        ]
        indexes = [
            # plan_event_notices: published events by date; the workbench's upcoming events.
            models.Index(fields=("status", "starts_on"), name="event_due"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.starts_on:%Y-%m-%d}）"

    @property
    def key(self) -> str:
        """The key of the event's care messages (crm.care.services.event_occasion)."""
        return f"ev{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Invitee(models.Model):
    """One customer invited to an event: the invitation, the reply (回执) and attendance."""

    class Rsvp(models.TextChoices):
        UNKNOWN = "unknown", "未回复"
        YES = "yes", "参加"
        NO = "no", "不参加"

    class Source(models.TextChoices):
        INVITED = "invited", "邀请名单"
        WALK_IN = "walk_in", "现场登记"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitees", verbose_name="活动")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name="客户")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="添加人"
    )
    added_at = models.DateTimeField("添加时间")
    invited_at = models.DateTimeField("邀请时间", null=True, blank=True)
    invite_message = models.ForeignKey(
        "care.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notice_message = models.ForeignKey(
        "care.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rsvp = models.CharField("回执", max_length=8, choices=Rsvp.choices, default=Rsvp.UNKNOWN)
    rsvp_note = models.CharField("回执备注", max_length=100, blank=True)
    rsvp_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rsvp_at = models.DateTimeField("回执登记时间", null=True, blank=True)
    attended_at = models.DateTimeField("签到时间", null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.INVITED)
    # A seat taken beyond the event's capacity by someone allowed to (events.change_event)
    # who confirmed it (超出名额仍登记): who and when, for the organiser's count.
    over_capacity_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="超出名额登记人",
    )
    over_capacity_at = models.DateTimeField("超出名额登记时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "活动邀请"
        ordering = ("event", "id")
        constraints = [
            # Adding the same filter twice (or two organisers at once) invites a customer once.
            models.UniqueConstraint(fields=("event", "customer"), name="uniq_event_invitee"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.customer}"

    @property
    def has_attended(self) -> bool:
        return self.attended_at is not None

    @property
    def is_walk_in(self) -> bool:
        return self.source == self.Source.WALK_IN

    @property
    def is_over_capacity(self) -> bool:
        return self.over_capacity_at is not None


class EventGift(models.Model):
    """A gift issued at the event (活动礼品): the issue itself is crm.service's (stock,
    ledger, timeline); this links it to the event and the invitee."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="gifts", verbose_name="活动")
    invitee = models.ForeignKey(
        Invitee, on_delete=models.CASCADE, related_name="gifts", null=True, blank=True, verbose_name="受邀客户"
    )
    issue = models.OneToOneField(
        "service.GiftIssue", on_delete=models.CASCADE, related_name="+", verbose_name="礼品发放"
    )

    class Meta:
        verbose_name = verbose_name_plural = "活动礼品"
        ordering = ("event", "id")

    def __str__(self) -> str:
        return f"{self.event} {self.issue}"
