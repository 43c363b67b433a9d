"""老客户带新客户: who brought whom, through which strategy, and the rewards for it.

A ``Referral`` links the referring customer (老客户) to the new one; there is at most one
per new customer, and it always agrees with ``Customer.referrer`` (crm.referrals.services
keeps the two in step; customers tells through ``crm.customers.signals.referrer_changed``).
Its status is not stored: it follows the new customer's deal (crm.referrals.selectors
``with_status``): 已推荐 → 已到访 (the arrival registered here) → 已认购 (an active deal)
→ 已签约 (the active deal's contract signed). A cancelled deal (退房) falls back.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class ReferralChannel(models.TextChoices):
    """The seed's strategies of 老客户带新客户 (seed 004 第二篇 三) that bring a person in."""

    CHAIN = "chain", "连锁介绍"
    KEY_PERSON = "key_person", "核心人物介绍"
    CROSS = "cross", "交叉合作"
    OTHER = "other", "其他"


class ReferralStatus(models.TextChoices):
    LEAD = "lead", "已推荐"
    VISITED = "visited", "已到访"
    SUBSCRIBED = "subscribed", "已认购"
    SIGNED = "signed", "已签约"


class Referral(models.Model):
    company = models.ForeignKey(
        "accounts.Company", on_delete=models.CASCADE, related_name="referrals", verbose_name="公司", db_index=False
    )
    referrer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="referrals_given", verbose_name="推荐人(老客户)"
    )
    referred = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="referral_record", verbose_name="新客户"
    )
    channel = models.CharField(
        "推荐方式", max_length=12, choices=ReferralChannel.choices, default=ReferralChannel.CHAIN
    )
    visited_on = models.DateField("到访日期", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登记人",
        db_index=False,
    )
    created_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = verbose_name_plural = "老带新"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("export_referrals", "导出老带新"),
            ("view_referral_stats", "查看老带新统计"),
        ]
        indexes = [
            # The list and the statistics: a company's referrals of a period, newest first.
            models.Index(fields=["company", "-created_at"], name="referral_company_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(referrer=models.F("referred")), name="referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_id}"


class Reward(models.Model):
    """A reward for a referral (seed 003: 鼓励客户推荐新客户, 给予奖励), paid to the referrer
    after approval: 待审批 → 已批准 → 已发放, or 已驳回 (before it is paid)."""

    class Kind(models.TextChoices):
        CASH = "cash", "现金"
        PROPERTY_FEE = "property_fee", "物业费"
        GIFT = "gift", "礼品"
        OTHER = "other", "其他"

    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        PAID = "paid", "已发放"
        REJECTED = "rejected", "已驳回"

    ALLOWED_MOVES: dict[str, frozenset[str]] = {
        State.PENDING: frozenset({State.APPROVED, State.REJECTED}),
        State.APPROVED: frozenset({State.PAID, State.REJECTED}),
        State.PAID: frozenset(),
        State.REJECTED: frozenset(),
    }

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="rewards", verbose_name="老带新")
    kind = models.CharField("奖励类型", max_length=12, choices=Kind.choices)
    amount = models.DecimalField("金额(元)", max_digits=12, decimal_places=2, default=Decimal("0"))
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    note = models.CharField("说明", max_length=200, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="申请人"
    )
    proposed_at = models.DateTimeField("申请时间")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审批人",
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发放人",
    )
    paid_at = models.DateTimeField("发放时间", null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="驳回人",
    )
    rejected_at = models.DateTimeField("驳回时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "老带新奖励"
        ordering = ["-proposed_at", "-id"]
        permissions = [
            ("approve_reward", "审批老带新奖励"),
            ("pay_reward", "发放老带新奖励"),
        ]
        indexes = [
            # The approvers' card and the list's state filter.
            models.Index(fields=["state", "-proposed_at"], name="reward_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="reward_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}（{self.get_state_display()}）"

    @property
    def is_open(self) -> bool:
        return self.state in {self.State.PENDING, self.State.APPROVED}
