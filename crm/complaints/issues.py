"""首问责任制 (first responder): customer issues owned by the first staff member who
received them, until the customer has been called back.

Seed 004 首问责任制管理规定, as rules:

1. Whoever first receives a customer's problem is its owner (``first_responder``); the
   owner never changes on the way, whatever departments it passes through.
2. A problem outside the owner's duty is handed off to a department (``hand_off``): what
   was asked, to whom, and by when it must answer (``HANDOFF_RESPONSE_HOURS`` of working
   time on the work calendar, settable per hand-off).
3. A department that has not answered by then may be reported to the director
   (``escalate_hand_off``, once per hand-off); the director's queue lists them.
4. The owner calls the customer back (``record_callback``); the issue closes only with a
   callback that reached the customer (``close_issue``; the mover checks it too).

Every status change goes through ``move`` (row lock, the table ``CustomerIssue.
ALLOWED_MOVES``, an IssueEvent, the linked customer's timeline, the audit log).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.accounts.access import may_see_row
from crm.complaints import alerts, deadlines
from crm.complaints.models import (
    Complaint,
    Consultation,
    CustomerIssue,
    IssueCallback,
    IssueEscalation,
    IssueEvent,
    IssueHandOff,
    IssueSource,
    MediaFinding,
)
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.numbering import reserve
from crm.customers import timeline
from crm.customers.models import Customer, TimelineEvent
from crm.customers.services import find_by_mobile
from crm.lib.dates import local_day
from crm.lib.mobile import InvalidMobile, normalize_mobile
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar

if TYPE_CHECKING:
    from crm.accounts.models import Department, User
    from crm.projects.models import Project

Status = CustomerIssue.Status

VIEW = "complaints.view_customerissue"
ADD = "complaints.add_customerissue"
HANDLE = "complaints.change_customerissue"
ANY_CUSTOMER = "complaints.register_any_issue"
EXPORT = "complaints.export_issues"
# The director (客服中心主任) sees escalations, may act on anyone's issue and cancel.
MANAGE = "complaints.manage_complaint"

HANDOFF_RESPONSE_HOURS = 24


class IllegalIssueMove(DomainError):
    def __init__(self, frm: Status, to: Status) -> None:
        super().__init__(f"首问事项状态不能从“{frm.label}”改为“{to.label}”")
        self.frm = frm
        self.to = to


def next_number(moment: datetime) -> str:
    """SW + local date + a 4-digit sequence of that day (a counter row per day)."""
    day = local_day(moment).strftime("%Y%m%d")
    return f"SW{day}{reserve(f'issue:{day}'):04d}"


def respond_by(handed_at: datetime, hours: int, calendar: WorkCalendar) -> datetime:
    """When a department must answer: ``hours`` of working time after the hand-off (rest
    days and holidays do not count; a year not entered yet counts Monday–Friday)."""
    try:
        return deadlines.add_working_time(handed_at, timedelta(hours=hours), calendar)
    except CalendarUnknown:
        return deadlines.add_working_time(handed_at, timedelta(hours=hours), deadlines.lenient(calendar))


# ---------------------------------------------------------------- the mover


def move(
    issue: CustomerIssue,
    to: Status,
    *,
    actor: User | None,
    note: str = "",
    now: datetime | None = None,
    expect: Iterable[Status] | None = None,
) -> CustomerIssue:
    """Move ``issue`` to ``to`` under a row lock, or refuse (IllegalIssueMove). Closing
    needs a callback that reached the customer, whoever calls the mover."""
    now = now or timezone.now()
    with transaction.atomic():
        row = CustomerIssue.objects.select_for_update().get(pk=issue.pk)
        frm = Status(row.status)
        target = Status(to)
        if target not in CustomerIssue.ALLOWED_MOVES[frm] or (expect is not None and frm not in set(expect)):
            raise IllegalIssueMove(frm, target)
        if target == Status.CLOSED and not row.callbacks.filter(is_reached=True).exists():
            raise DomainError("尚未回复客户（需有一次联系上客户的回复记录），不能结案")
        if target == Status.CLOSED:
            row.closed_at = now
        if target == Status.CANCELLED:
            row.cancelled_at = now
        row.status = target
        row.save()
        _event(row, IssueEvent.Kind.MOVE, actor=actor, frm=frm, to=target, note=note, at=now)
    issue.refresh_from_db()
    return row


def _event(
    row: CustomerIssue, kind: str, *, actor: User | None, frm: str = "", to: str = "", note: str = "", at: datetime
) -> IssueEvent:
    event = IssueEvent.objects.create(
        issue=row,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        from_status=frm,
        to_status=to,
        note=note,
        at=at,
    )
    what = Status(to).label if to else IssueEvent.Kind(kind).label
    summary = f"首问事项 {row.number}（{row.subject}）：{what}"
    if row.customer_id is not None:
        # 跟进记录: the timeline has no kind of its own for issues; a consultation's issue
        # reads as the follow-up of that consultation.
        timeline.record(
            row.customer_id,
            TimelineEvent.Kind.NOTE,
            f"{summary}{'，' + note if note else ''}",
            actor=actor,
            at=at,
            data={"issue": row.pk, "number": row.number, "status": row.status},
            source=row,
        )
    audit.log(
        audit.AuditLog.Action.CREATE if to == Status.OPEN and not frm else audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=row,
        customer_id=row.customer_id,
        summary=summary,
        reason=note[:200],
    )
    return event


# ---------------------------------------------------------------- registration


@dataclass(frozen=True)
class IssueIntake:
    subject: str
    description: str
    contact_name: str
    contact_mobile: str
    project: Project
    customer: Customer | None = None
    source: str = IssueSource.DIRECT
    consultation: Consultation | None = None
    complaint: Complaint | None = None
    media_finding: MediaFinding | None = None


def _may_own_customer(actor: User, customer: Customer | None) -> None:
    """A consultant may be first responder only for customers they can see (their own);
    service staff and the director take anyone's."""
    if actor.has_perm(ANY_CUSTOMER):
        return
    if customer is None or not may_see_row(
        actor,
        company_id=customer.company_id,
        owner_id=customer.owner_id,
        advisor_id=customer.advisor_id,
        project_id=customer.project_id,
    ):
        raise NotAllowed("置业顾问只能为自己的客户登记首问事项（请填写客户档案中的手机号）")


def register_issue(intake: IssueIntake, *, actor: User, now: datetime | None = None) -> CustomerIssue:
    """Register an issue with ``actor`` as its first responder (rule 1); the mobile links
    the customer holding it."""
    if not actor.has_perm(ADD):
        raise NotAllowed("您没有登记首问事项的权限")
    company_id = actor.company_id
    if company_id is None or intake.project.company_id != company_id:
        raise DomainError("楼盘不属于本公司", field="project")
    subject = intake.subject.strip()
    description = intake.description.strip()
    if not subject:
        raise DomainError("请填写事项", field="subject")
    if not description:
        raise DomainError("请填写客户反映的问题", field="description")
    if not intake.contact_name.strip():
        raise DomainError("请填写客户姓名", field="contact_name")
    mobile = ""
    if intake.contact_mobile.strip():
        try:
            mobile = normalize_mobile(intake.contact_mobile)
        except InvalidMobile as exc:
            raise DomainError(exc.message, field="contact_mobile") from exc
    elif intake.source != IssueSource.MEDIA:
        raise DomainError("请填写客户联系电话：结案前要回复客户", field="contact_mobile")
    customer = intake.customer or (find_by_mobile(company_id, mobile) if mobile else None)
    _may_own_customer(actor, customer)
    now = now or timezone.now()
    with transaction.atomic():
        issue = CustomerIssue.objects.create(
            company_id=company_id,
            number=next_number(now),
            source=intake.source,
            subject=subject[:100],
            description=description,
            contact_name=intake.contact_name.strip(),
            contact_mobile=mobile,
            customer=customer,
            project=intake.project,
            first_responder=actor,
            consultation=intake.consultation,
            complaint=intake.complaint,
            media_finding=intake.media_finding,
            received_at=now,
        )
        _event(issue, IssueEvent.Kind.MOVE, actor=actor, to=Status.OPEN, note=f"首问责任人：{actor}", at=now)
    return issue


def issue_from_consultation(consultation: Consultation, *, actor: User, now: datetime | None = None) -> CustomerIssue:
    """A consultation that could not be answered on the spot: its receiver owns the issue."""
    if CustomerIssue.objects.filter(consultation=consultation).exists():
        raise DomainError("这条咨询已有跟进事项")
    return register_issue(
        IssueIntake(
            subject=f"咨询跟进：{consultation.topic.name}",
            description=consultation.question,
            contact_name=consultation.contact_name,
            contact_mobile=consultation.contact_mobile,
            project=consultation.project,
            customer=consultation.customer,
            source=IssueSource.CONSULTATION,
            consultation=consultation,
        ),
        actor=actor,
        now=now,
    )


def issue_from_complaint(complaint: Complaint, *, actor: User, now: datetime | None = None) -> CustomerIssue:
    """A complaint's first receiver records it as their issue (they call the customer back)."""
    return register_issue(
        IssueIntake(
            subject=f"投诉跟进：{complaint.number}",
            description=complaint.content,
            contact_name=complaint.complainant_name,
            contact_mobile=complaint.complainant_mobile,
            project=complaint.project,
            customer=complaint.customer,
            source=IssueSource.COMPLAINT,
            complaint=complaint,
        ),
        actor=actor,
        now=now,
    )


# ---------------------------------------------------------------- the verbs


def _may_handle(issue: CustomerIssue, actor: User) -> None:
    """The issue is the first responder's work; the director may step in."""
    if not actor.has_perm(HANDLE):
        raise NotAllowed("您没有处理首问事项的权限")
    if issue.first_responder_id != actor.pk and not actor.has_perm(MANAGE):
        raise NotAllowed("只有首问责任人或客服中心主任可以处理这个事项")


def hand_off(
    issue: CustomerIssue,
    *,
    actor: User,
    department: Department,
    asked: str,
    to_user: User | None = None,
    hours: int = HANDOFF_RESPONSE_HOURS,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> IssueHandOff:
    """Pass the question to a department (rule 2); the owner stays the owner."""
    _may_handle(issue, actor)
    asked = asked.strip()
    if not asked:
        raise DomainError("请写明需要部门答复的事项", field="asked")
    if department.company_id != issue.company_id:
        raise DomainError("请选择本公司的部门", field="department")
    if to_user is not None and to_user.company_id != issue.company_id:
        raise DomainError("请选择本公司的员工", field="to_user")
    if not 1 <= hours <= 240:
        raise DomainError("答复时限应在 1–240 个工作小时之间", field="hours")
    now = now or timezone.now()
    due = respond_by(now, hours, calendar or work_calendar())
    with transaction.atomic():
        row = CustomerIssue.objects.select_for_update().get(pk=issue.pk)
        if row.status not in (Status.OPEN, Status.HANDED_OFF, Status.CALLBACK_DUE):
            raise IllegalIssueMove(Status(row.status), Status.HANDED_OFF)
        record = IssueHandOff.objects.create(
            issue=row,
            department=department,
            to_user=to_user,
            asked=asked,
            handed_by=actor,
            handed_at=now,
            respond_by=due,
        )
        who = f"{department}{'（' + str(to_user) + '）' if to_user else ''}"
        _event(row, IssueEvent.Kind.HAND_OFF, actor=actor, note=f"转交{who}：{asked}", at=now)
        if row.status != Status.HANDED_OFF:
            move(row, Status.HANDED_OFF, actor=actor, now=now)
    issue.refresh_from_db()
    return record


def record_answer(
    hand_off_record: IssueHandOff, *, actor: User, answer: str, now: datetime | None = None
) -> IssueHandOff:
    """The department's answer (recorded by its contact or by the owner who was told). The
    last pending answer makes the issue 待回复客户."""
    issue = hand_off_record.issue
    if not actor.has_perm(HANDLE):
        raise NotAllowed("您没有处理首问事项的权限")
    if actor.pk not in (issue.first_responder_id, hand_off_record.to_user_id) and not actor.has_perm(MANAGE):
        raise NotAllowed("只有首问责任人、对接人或客服中心主任可以登记部门答复")
    answer = answer.strip()
    if not answer:
        raise DomainError("请填写部门答复", field="answer")
    now = now or timezone.now()
    with transaction.atomic():
        changed = IssueHandOff.objects.filter(pk=hand_off_record.pk, answered_at__isnull=True).update(
            answer=answer, answered_at=now, answered_by=actor
        )
        if not changed:
            raise DomainError("这次转交已登记过答复")
        row = CustomerIssue.objects.select_for_update().get(pk=issue.pk)
        _event(row, IssueEvent.Kind.ANSWER, actor=actor, note=f"{hand_off_record.department}答复：{answer}", at=now)
        if row.status == Status.HANDED_OFF and not row.hand_offs.filter(answered_at__isnull=True).exists():
            move(row, Status.CALLBACK_DUE, actor=actor, now=now, note="部门已答复，请回复客户")
    hand_off_record.refresh_from_db()
    return hand_off_record


def escalate_hand_off(
    hand_off_record: IssueHandOff, *, actor: User, reason: str, now: datetime | None = None
) -> IssueEscalation:
    """Report a department that has not answered by ``respond_by`` to the director (rule 3);
    the directors of the issue are notified in the same transaction (``alerts``)."""
    issue = hand_off_record.issue
    _may_handle(issue, actor)
    now = now or timezone.now()
    if hand_off_record.answered_at is not None:
        raise DomainError("部门已答复，无需投诉")
    if now <= hand_off_record.respond_by:
        due = timezone.localtime(hand_off_record.respond_by)
        raise DomainError(f"部门答复时限（{due:%Y-%m-%d %H:%M}）未到，暂不能投诉")
    reason = reason.strip() or f"{hand_off_record.department}超过答复时限未答复"
    try:
        with transaction.atomic():
            escalation = IssueEscalation.objects.create(
                issue=issue, hand_off=hand_off_record, escalated_by=actor, escalated_at=now, reason=reason
            )
            _event(
                issue, IssueEvent.Kind.ESCALATED, actor=actor, note=f"{hand_off_record.department}：{reason}", at=now
            )
            alerts.issue_escalated(escalation, actor=actor, now=now)
    except IntegrityError as exc:
        raise DomainError("这次转交已投诉过，请等待主任处理") from exc
    return escalation


def record_callback(
    issue: CustomerIssue,
    *,
    actor: User,
    result: str,
    is_reached: bool = True,
    called_at: datetime | None = None,
    close: bool = True,
    now: datetime | None = None,
) -> IssueCallback:
    """The owner called the customer back (rule 4). A reached callback closes the issue
    unless ``close`` is false (the customer raised something new); an unreached one is
    kept and the callback stays due."""
    _may_handle(issue, actor)
    if not issue.is_open:
        raise DomainError("事项已结束")
    result = result.strip()
    if not result:
        raise DomainError("请填写回复结果", field="result")
    now = now or timezone.now()
    called_at = called_at or now
    if called_at > now:
        raise DomainError("回复时间不能晚于现在", field="called_at")
    if called_at < issue.received_at:
        raise DomainError("回复时间不能早于受理时间", field="called_at")
    with transaction.atomic():
        row = CustomerIssue.objects.select_for_update().get(pk=issue.pk)
        if close and is_reached and row.hand_offs.filter(answered_at__isnull=True).exists():
            raise DomainError("还有部门未答复，结案前请先登记答复", field="result")
        callback = IssueCallback.objects.create(
            issue=row, called_by=actor, called_at=called_at, is_reached=is_reached, result=result
        )
        _event(
            row,
            IssueEvent.Kind.CALLBACK,
            actor=actor,
            note=("已联系上客户：" if is_reached else "未联系上客户：") + result,
            at=now,
        )
        if close and is_reached:
            if row.status == Status.OPEN:
                move(row, Status.CALLBACK_DUE, actor=actor, now=now)
            move(row, Status.CLOSED, actor=actor, now=now, note=result)
    issue.refresh_from_db()
    return callback


def close_issue(issue: CustomerIssue, *, actor: User, note: str = "", now: datetime | None = None) -> CustomerIssue:
    """Close after a callback already recorded (the mover refuses without one)."""
    _may_handle(issue, actor)
    return move(issue, Status.CLOSED, actor=actor, note=note, now=now, expect=[Status.CALLBACK_DUE])


def mark_answered(issue: CustomerIssue, *, actor: User, note: str = "", now: datetime | None = None) -> CustomerIssue:
    """The owner has the answer without a department: the callback is due."""
    _may_handle(issue, actor)
    return move(issue, Status.CALLBACK_DUE, actor=actor, note=note, now=now, expect=[Status.OPEN])


def cancel_issue(issue: CustomerIssue, *, actor: User, note: str, now: datetime | None = None) -> CustomerIssue:
    """The customer withdrew (the director only, with a reason)."""
    if not actor.has_perm(MANAGE):
        raise NotAllowed("只有客服中心主任可以撤销首问事项")
    note = note.strip()
    if not note:
        raise DomainError("请填写撤销原因", field="note")
    return move(issue, Status.CANCELLED, actor=actor, note=note, now=now)
