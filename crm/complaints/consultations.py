"""咨询 (consultations): recording a question and its answer, turning one into a complaint
or a first-responder issue, and the quarterly summary for the director (seed 004 咨询服务
管理规定: every consultation is recorded; at the end of each quarter the records are
summarised and reported to the customer-service director, who picks the next quarter's
notice-board topics from the questions asked most)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from crm.complaints import services
from crm.complaints.models import Category, Channel, Complaint, Consultation, ConsultationChannel, ConsultationTopic
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.customers.services import find_by_mobile
from crm.lib.dates import local_midnight
from crm.lib.mobile import InvalidMobile, normalize_mobile

if TYPE_CHECKING:
    from crm.accounts.models import Company, User
    from crm.projects.models import Project

VIEW = "complaints.view_consultation"
ADD = "complaints.add_consultation"
EXPORT = "complaints.export_consultations"

DEFAULT_TOPICS = ("房源与户型", "价格与优惠", "付款与按揭", "合同与手续", "工程进度", "交房与物业", "其他")

# How a consultation's channel becomes a complaint's when it is turned into one.
COMPLAINT_CHANNEL = {
    ConsultationChannel.PHONE: Channel.PHONE,
    ConsultationChannel.WALK_IN: Channel.WALK_IN,
    ConsultationChannel.WECHAT: Channel.WECHAT,
    ConsultationChannel.WEBSITE: Channel.WEBSITE,
    ConsultationChannel.EMAIL: Channel.EMAIL,
    ConsultationChannel.OTHER: Channel.TRANSFERRED,
}


def ensure_default_topics(company: Company) -> int:
    """The default topics for a company that has none yet; returns how many were made."""
    if ConsultationTopic.objects.filter(company=company).exists():
        return 0
    ConsultationTopic.objects.bulk_create(
        [ConsultationTopic(company=company, name=name, sort_order=i) for i, name in enumerate(DEFAULT_TOPICS, 1)],
        ignore_conflicts=True,
    )
    return len(DEFAULT_TOPICS)


def clean_mobile(raw: str, *, field: str) -> str:
    """A normalised mobile, or "" for none; a wrong one is a DomainError on ``field``."""
    if not raw.strip():
        return ""
    try:
        return normalize_mobile(raw)
    except InvalidMobile as exc:
        raise DomainError(exc.message, field=field) from exc


@dataclass(frozen=True)
class ConsultationIntake:
    channel: str
    topic: ConsultationTopic
    question: str
    answer: str
    contact_name: str
    contact_mobile: str
    project: Project
    needs_follow_up: bool = False
    asked_at: datetime | None = None


def register_consultation(intake: ConsultationIntake, *, actor: User, now: datetime | None = None) -> Consultation:
    """Record a consultation answered by ``actor``.

    1. The contact's mobile links the customer holding it (else an unlinked contact).
    2. The linked customer's timeline gets a 咨询 entry.
    3. One that needs follow-up (the answer is not known yet) becomes a first-responder
       issue owned by ``actor`` (crm.complaints.issues), in the same transaction.
    """
    if not actor.has_perm(ADD):
        raise NotAllowed("您没有登记咨询的权限")
    company_id = actor.company_id
    if company_id is None or intake.project.company_id != company_id or intake.topic.company_id != company_id:
        raise DomainError("楼盘或咨询主题不属于本公司")
    if intake.channel not in ConsultationChannel.values:
        raise DomainError("请选择咨询渠道", field="channel")
    question = intake.question.strip()
    if not question:
        raise DomainError("请填写咨询问题", field="question")
    answer = intake.answer.strip()
    if not answer and not intake.needs_follow_up:
        raise DomainError("请填写答复内容；当场无法答复的请勾选“需要跟进”", field="answer")
    mobile = clean_mobile(intake.contact_mobile, field="contact_mobile")
    if intake.needs_follow_up and not mobile:
        raise DomainError("需要跟进回复的咨询请留下联系电话", field="contact_mobile")
    now = now or timezone.now()
    asked_at = intake.asked_at or now
    if asked_at > now:
        raise DomainError("咨询时间不能晚于现在", field="asked_at")
    customer = find_by_mobile(company_id, mobile) if mobile else None
    with transaction.atomic():
        consultation = Consultation.objects.create(
            company_id=company_id,
            channel=intake.channel,
            topic=intake.topic,
            question=question,
            answer=answer,
            contact_name=intake.contact_name.strip(),
            contact_mobile=mobile,
            customer=customer,
            project=intake.project,
            answered_by=actor,
            asked_at=asked_at,
            needs_follow_up=intake.needs_follow_up,
        )
        if customer is not None:
            timeline.record(
                customer,
                TimelineEvent.Kind.CONSULTATION,
                f"咨询（{intake.topic.name}）：{question[:120]}" + ("，待跟进回复" if intake.needs_follow_up else ""),
                actor=actor,
                at=asked_at,
                data={"consultation": consultation.pk},
                source=consultation,
            )
        audit.log(
            audit.AuditLog.Action.CREATE,
            actor=actor,
            target=consultation,
            customer_id=consultation.customer_id,
            summary=f"登记咨询：{question[:80]}",
        )
        if intake.needs_follow_up:
            from crm.complaints import issues

            issues.issue_from_consultation(consultation, actor=actor, now=now)
    return consultation


def consultation_to_complaint(
    consultation: Consultation,
    *,
    actor: User,
    category: Category,
    complainant_mobile: str = "",
    now: datetime | None = None,
) -> Complaint:
    """The consultation was really a complaint: register one (services.register_complaint,
    so numbering, deadlines and dispatch are the complaint's own) and link it. A mobile
    given here fills in one the consultation did not record."""
    if consultation.complaint_id is not None:
        raise DomainError("这条咨询已转为投诉")
    intake = services.Intake(
        channel=COMPLAINT_CHANNEL[ConsultationChannel(consultation.channel)],
        complainant_name=consultation.contact_name,
        complainant_mobile=consultation.contact_mobile or complainant_mobile,
        content=consultation.question,
        project=consultation.project,
        category=category,
    )
    with transaction.atomic():
        # The row lock makes two clicks register one complaint, not two.
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.complaint_id is not None:
            raise DomainError("这条咨询已转为投诉")
        complaint = services.register_complaint(intake, actor=actor, now=now)
        Consultation.objects.filter(pk=consultation.pk).update(complaint=complaint)
    consultation.refresh_from_db()
    return complaint


# ---------------------------------------------------------------- the quarterly summary


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """[start, end) of a quarter, local midnights."""
    if quarter not in (1, 2, 3, 4):
        raise DomainError("季度应为 1–4")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return local_midnight(start), local_midnight(end)


@dataclass(frozen=True)
class Row:
    label: str
    count: int


@dataclass(frozen=True)
class QuarterSummary:
    year: int
    quarter: int
    total: int
    follow_ups: int
    to_complaints: int
    by_topic: list[Row]
    by_channel: list[Row]
    by_project: list[Row]
    by_staff: list[Row]
    top_questions: list[Row]

    @property
    def title(self) -> str:
        return f"{self.year}年第{self.quarter}季度咨询汇总"


TOP_QUESTIONS = 10


def quarterly_summary(rows: QuerySet[Consultation], *, year: int, quarter: int) -> QuarterSummary:
    """Counts of the quarter's consultations (``rows``: already scoped to the reader) by
    topic, channel, project and staff, and the questions asked most often (the same text
    after trimming; the director's material for the next quarter's notice board)."""
    start, end = quarter_bounds(year, quarter)
    period = rows.filter(asked_at__gte=start, asked_at__lt=end)

    def grouped(field: str, label: str) -> list[Row]:
        counted = period.values(field, label).annotate(n=Count("pk")).order_by("-n", label)
        return [Row(str(r[label] or "—"), r["n"]) for r in counted]

    channels = dict(ConsultationChannel.choices)
    by_channel = [
        Row(str(channels.get(r["channel"], r["channel"])), r["n"])
        for r in period.values("channel").annotate(n=Count("pk")).order_by("-n", "channel")
    ]
    staff = [
        Row(r["answered_by__display_name"] or r["answered_by__username"], r["n"])
        for r in period.values("answered_by", "answered_by__display_name", "answered_by__username")
        .annotate(n=Count("pk"))
        .order_by("-n", "answered_by")
    ]
    top = [
        Row(r["question"], r["n"])
        for r in period.values("question").annotate(n=Count("pk")).order_by("-n", "question")[:TOP_QUESTIONS]
    ]
    totals = period.aggregate(
        total=Count("pk"),
        follow_ups=Count("pk", filter=Q(needs_follow_up=True)),
        to_complaints=Count("pk", filter=Q(complaint__isnull=False)),
    )
    return QuarterSummary(
        year=year,
        quarter=quarter,
        total=totals["total"],
        follow_ups=totals["follow_ups"],
        to_complaints=totals["to_complaints"],
        by_topic=grouped("topic", "topic__name"),
        by_channel=by_channel,
        by_project=grouped("project", "project__name"),
        by_staff=staff,
        top_questions=top,
    )
