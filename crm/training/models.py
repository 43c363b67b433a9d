"""培训 (training): seed 001 asks for business-etiquette training (社交礼仪, 职场魅力, 拜访礼仪,
电话礼仪) and service standards for the property staff (保安, 保洁, 水吧), applied for through
HR as training plans, run in batches, with each attendee summarising what they learned and
regular assessment.

A ``TrainingPlan`` groups ``TrainingSession`` rows (topic, trainer, time, place); each
session has an ``Attendance`` per attendee: attended / absent / on leave, the assessment
score (0–100, recorded by the trainer or a planner) and the attendee's own summary.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Topic(models.TextChoices):
    ETIQUETTE = "etiquette", "商务礼仪"
    TELEPHONE = "telephone", "电话礼仪"
    VISITING = "visiting", "拜访礼仪"
    PROFESSIONAL_IMAGE = "image", "职场形象与魅力"
    PROPERTY_SERVICE = "property", "物业服务标准（保安、保洁、水吧）"
    SATISFACTION = "satisfaction", "客户满意度与工作职责"
    SALES = "sales", "销售接待流程"
    OTHER = "other", "其他"


class TrainingPlan(models.Model):
    """培训计划: what a period's training covers and who it is for."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("计划名称", max_length=80)
    topic = models.CharField("培训类别", max_length=14, choices=Topic.choices)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    audience = models.CharField("培训对象", max_length=100, blank=True, help_text="如 销售人员第一批、物业服务人员")
    description = models.TextField("培训内容与要求", max_length=2000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "培训计划"
        ordering = ("-starts_on", "-id")
        permissions = [
            ("plan_training", "制定培训计划与安排培训"),
            ("record_training", "登记培训出勤与考核成绩"),
            ("export_training", "导出培训记录"),
            ("view_training_records", "查看员工培训档案"),
        ]

    def __str__(self) -> str:
        return self.title


class TrainingSession(models.Model):
    """一次培训: a topic taught by a trainer (a member of staff, or an outside trainer named
    in ``trainer_name``) at a time and place."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="sessions", verbose_name="培训计划")
    topic = models.CharField("培训主题", max_length=100)
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trainings_given",
        verbose_name="讲师（本公司）",
    )
    trainer_name = models.CharField("外部讲师", max_length=50, blank=True, help_text="外请讲师时填写姓名")
    starts_at = models.DateTimeField("培训时间")
    hours = models.DecimalField("时长（小时）", max_digits=4, decimal_places=1, default=2)
    location = models.CharField("地点", max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "培训场次"
        ordering = ("-starts_at", "-id")
        indexes = [models.Index(fields=("company", "starts_at"), name="training_session_company_start")]

    def __str__(self) -> str:
        return self.topic

    @property
    def trainer_label(self) -> str:
        return str(self.trainer) if self.trainer else self.trainer_name


class Attendance(models.Model):
    """One attendee of one session: 出勤, the score and the attendee's own summary."""

    class Status(models.TextChoices):
        EXPECTED = "expected", "待培训"
        ATTENDED = "attended", "出席"
        ABSENT = "absent", "缺席"
        LEAVE = "leave", "请假"

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendances", verbose_name="培训场次"
    )
    attendee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_attendances", verbose_name="学员"
    )
    status = models.CharField("出勤", max_length=10, choices=Status.choices, default=Status.EXPECTED)
    score = models.PositiveSmallIntegerField(
        "考核成绩", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    summary = models.TextField("培训总结", max_length=2000, blank=True)
    summary_at = models.DateTimeField("总结提交时间", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "培训出勤与考核"
        ordering = ("session", "attendee__username")
        constraints = [
            models.UniqueConstraint(fields=("session", "attendee"), name="uniq_training_attendee"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__lte=100), name="training_score_0_100"
            ),
        ]
        # The workbench card (my upcoming sessions, summaries due) and the personal record.
        indexes = [models.Index(fields=("attendee", "status"), name="training_attendee_status")]

    def __str__(self) -> str:
        return f"{self.session_id} {self.attendee_id}"
