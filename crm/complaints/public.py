"""The public side of complaints: the page anyone may use without an account, the status
page, and what both need — which company they are for, the client's address, the rate
limits, and what a complainant may be told about progress.

Submissions go through ``services.register_external_complaint`` like the integrations'
(channel 网站). Rate limits (crm.complaints.throttle, in the cache): per client IP per
hour and per mobile per day for submissions; per IP per hour for status look-ups, and a
complaint number is locked for a day after a few wrong look-ups, so guessing the 4 digits
cannot work. A wrong number and wrong digits get the same refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.accounts.models import Company
from crm.complaints import services, throttle
from crm.complaints.models import Category, Complaint, ComplaintEvent
from crm.core.errors import DomainError
from crm.lib.mobile import InvalidMobile, normalize_mobile
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.complaints.services import Intake

Status = Complaint.Status
HOUR = 3600
DAY = 24 * HOUR

TOO_FAST = "提交过于频繁，请一小时后再试；如情况紧急，请致电客服热线。"
MOBILE_FULL = "这个手机号今天提交的投诉已达上限，我们会尽快处理已收到的投诉；如需补充，请致电客服热线。"
NOT_FOUND = "没有查到与投诉编号和手机号后四位相符的投诉，请核对后再试。"
LOOKUPS_FULL = "查询次数过多，请稍后再试；如需帮助，请致电客服热线。"


def public_company() -> Company | None:
    """The company the public pages are for: COMPLAINT_PUBLIC_COMPANY (a name), else
    COMPANY_NAME, else the only company of a single-company install."""
    name = settings.COMPLAINT_PUBLIC_COMPANY or settings.COMPANY_NAME
    company = Company.objects.filter(name=name).first()
    if company is None and not settings.COMPLAINT_PUBLIC_COMPANY:
        companies = list(Company.objects.order_by("id")[:2])
        company = companies[0] if len(companies) == 1 else None
    return company


def public_projects(company: Company) -> QuerySet[Project]:
    return Project.objects.filter(company=company).order_by("name")


def public_categories(company: Company) -> QuerySet[Category]:
    services.ensure_default_categories(company)
    return Category.objects.filter(company=company, is_active=True).exclude(name=services.UNSORTED)


def client_ip(request: HttpRequest) -> str:
    """The client's address: CLIENT_IP_HEADER when a proxy sets it, else REMOTE_ADDR."""
    header = settings.CLIENT_IP_HEADER
    value = request.META.get(header, "") if header else ""
    value = str(value).split(",")[0].strip() or str(request.META.get("REMOTE_ADDR", ""))
    return value[:64] or "unknown"


def submission_limits() -> tuple[throttle.Limit, throttle.Limit]:
    return (
        throttle.Limit(settings.COMPLAINT_PUBLIC_PER_IP_HOUR, HOUR),
        throttle.Limit(settings.COMPLAINT_PUBLIC_PER_MOBILE_DAY, DAY),
    )


def allow_attempt(ip: str) -> bool:
    """Every POST of the page counts (right or wrong CAPTCHA): a script guessing answers
    stops at COMPLAINT_PUBLIC_ATTEMPTS_PER_IP_HOUR."""
    return throttle.hit("complaint-attempt", ip, throttle.Limit(settings.COMPLAINT_PUBLIC_ATTEMPTS_PER_IP_HOUR, HOUR))


def submit(intake: Intake, *, company: Company, ip: str, now: datetime) -> Complaint:
    """Register a complaint from the public page, within the per-IP and per-mobile limits
    (refusals are DomainErrors with the Chinese message; nothing is written)."""
    try:
        mobile = normalize_mobile(intake.complainant_mobile)
    except InvalidMobile as exc:
        raise DomainError(exc.message, field="complainant_mobile") from exc
    per_ip, per_mobile = submission_limits()
    if not throttle.hit("complaint-ip", ip, per_ip):
        raise DomainError(TOO_FAST)
    if not throttle.hit("complaint-mobile", mobile, per_mobile):
        raise DomainError(MOBILE_FULL, field="complainant_mobile")
    return services.register_external_complaint(intake, company=company, source="投诉人通过网上投诉页面提交", now=now)


# ---------------------------------------------------------------- the status page

# What a complainant is told about each status: a short label and a sentence.
PUBLIC_STATUS: dict[str, tuple[str, str]] = {
    Status.REGISTERED: ("已受理", "我们已收到您的投诉，正在安排负责人。"),
    Status.DISPATCHED: ("已受理", "我们已收到您的投诉，并已安排专人负责。"),
    Status.ACKNOWLEDGED: ("处理中", "负责人已接手您的投诉，将尽快与您联系。"),
    Status.INVESTIGATING: ("处理中", "我们正在调查核实情况。"),
    Status.PLAN_PROPOSED: ("处理中", "我们正在制定处理方案。"),
    Status.PLAN_APPROVED: ("处理中", "处理方案已确定，即将开始处理。"),
    Status.IN_PROGRESS: ("处理中", "我们正在按方案处理。"),
    Status.WAITING: ("等待您的回复", "我们需要向您进一步了解情况，工作人员会与您联系。"),
    Status.RESOLVED: ("已处理，待您确认", "处理已完成，工作人员会向您回访确认结果。"),
    Status.CONFIRMED: ("已办结", "您已确认处理结果，感谢您的反馈。"),
    Status.ARCHIVED: ("已办结", "本投诉已办结，感谢您的反馈。"),
    Status.CANCELLED: ("已撤销", "本投诉已撤销；如有疑问，请致电客服热线。"),
    Status.REOPENED: ("重新处理中", "我们正在重新处理您的投诉。"),
}
# Progress lines shown for moves into these statuses (the rest are internal steps).
PUBLIC_STEPS: dict[str, str] = {
    Status.REGISTERED: "收到投诉",
    Status.DISPATCHED: "安排专人负责",
    Status.ACKNOWLEDGED: "负责人已接手",
    Status.INVESTIGATING: "开始调查核实",
    Status.PLAN_APPROVED: "处理方案已确定",
    Status.IN_PROGRESS: "开始处理",
    Status.WAITING: "等待您补充情况",
    Status.RESOLVED: "处理完成",
    Status.CONFIRMED: "您已确认处理结果",
    Status.ARCHIVED: "办结",
    Status.CANCELLED: "撤销",
    Status.REOPENED: "重新处理",
}


@dataclass(frozen=True)
class Step:
    at: datetime
    text: str


@dataclass(frozen=True)
class PublicStatusView:
    """Everything the status page shows: no names, no notes, no plan text."""

    number: str
    label: str
    explanation: str
    project: str
    registered_at: datetime
    due_day: date | None
    closed: bool
    steps: list[Step] = field(default_factory=list)


class LookupRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def lookup_limits() -> tuple[throttle.Limit, throttle.Limit]:
    return (
        throttle.Limit(settings.COMPLAINT_STATUS_PER_IP_HOUR, HOUR),
        throttle.Limit(settings.COMPLAINT_STATUS_FAILURES_PER_NUMBER, DAY),
    )


def lookup(number: str, last4: str, *, company: Company, ip: str) -> PublicStatusView:
    """The complaint with this number whose mobile ends in ``last4``, or LookupRefused with
    NOT_FOUND for a wrong number and wrong digits alike. Wrong look-ups count against the
    number (existing or not), which is locked after COMPLAINT_STATUS_FAILURES_PER_NUMBER."""
    number = number.strip().upper()[:20]
    last4 = last4.strip()
    per_ip, per_number = lookup_limits()
    if not throttle.hit("status-ip", ip, per_ip):
        raise LookupRefused(LOOKUPS_FULL)
    if throttle.exceeded("status-fail", number, per_number):
        raise LookupRefused(LOOKUPS_FULL)
    complaint = (
        Complaint.objects.select_related("project").filter(company=company, number=number).first() if number else None
    )
    if complaint is None or len(last4) != 4 or not last4.isdigit() or not complaint.complainant_mobile.endswith(last4):
        throttle.hit("status-fail", number, per_number)
        raise LookupRefused(NOT_FOUND)
    return public_view(complaint)


def public_view(complaint: Complaint) -> PublicStatusView:
    label, explanation = PUBLIC_STATUS[complaint.status]
    events = complaint.events.filter(kind=ComplaintEvent.Kind.MOVE).order_by("at", "id")
    steps = [Step(e.at, PUBLIC_STEPS[e.to_status]) for e in events if e.to_status in PUBLIC_STEPS]
    steps += [
        Step(e.at, "处理进展已更新")
        for e in complaint.events.filter(kind=ComplaintEvent.Kind.PROGRESS).order_by("at", "id")
    ]
    steps.sort(key=lambda s: s.at)
    return PublicStatusView(
        number=complaint.number,
        label=label,
        explanation=explanation,
        project=complaint.project.name,
        registered_at=complaint.registered_at,
        due_day=complaint.resolution_due_day if complaint.is_open else None,
        closed=not complaint.is_open,
        steps=steps,
    )
