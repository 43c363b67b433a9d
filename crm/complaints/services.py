"""Complaint writes: registration, the one guarded mover and the named verbs.

Every status change goes through ``move``: it locks the row, refuses a move the table
(``Complaint.ALLOWED_MOVES``) does not allow, stamps the times that belong to the move,
writes the ComplaintEvent (actor, from, to, note), the linked customer's timeline and the
audit log. The verbs (``acknowledge_complaint``, ``approve_plan`` …) add only their own
checks: who may, and what must be given.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.complaints import alerts, attachments, deadlines, notices
from crm.complaints.models import Category, Channel, Complaint, ComplaintEvent, SurveyInvitation
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.numbering import reserve
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.customers.services import find_by_mobile
from crm.lib.dates import local_day
from crm.lib.mobile import InvalidMobile, normalize_mobile
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.projects.selectors import match_unit

if TYPE_CHECKING:
    from crm.accounts.models import Company, User
    from crm.projects.models import Project, Unit

Status = Complaint.Status

VIEW = "complaints.view_complaint"
ADD = "complaints.add_complaint"
HANDLE = "complaints.change_complaint"
APPROVE = "complaints.approve_plan"
MANAGE = "complaints.manage_complaint"
EXPORT = "complaints.export_complaints"

DEFAULT_CATEGORIES = ("服务质量", "房屋信息", "合同", "付款", "售后", "产品质量", "员工行为", "误解")


class IllegalMove(DomainError):
    """A move the table does not allow; nothing was written."""

    def __init__(self, frm: Status, to: Status) -> None:
        super().__init__(f"投诉状态不能从“{frm.label}”改为“{to.label}”")
        self.frm = frm
        self.to = to


def allowed(frm: str, to: str) -> bool:
    return Status(to) in Complaint.ALLOWED_MOVES[Status(frm)]


def ensure_default_categories(company: Company) -> int:
    """The default categories for a company that has none yet; returns how many were made."""
    if Category.objects.filter(company=company).exists():
        return 0
    Category.objects.bulk_create(
        [Category(company=company, name=name, sort_order=i) for i, name in enumerate(DEFAULT_CATEGORIES, 1)],
        ignore_conflicts=True,
    )
    return len(DEFAULT_CATEGORIES)


def next_number(moment: datetime) -> str:
    """TS + local date + a 4-digit sequence of that day (a counter row per day: concurrent
    registrations never share a number)."""
    day = local_day(moment).strftime("%Y%m%d")
    return f"TS{day}{reserve(f'complaint:{day}'):04d}"


# ---------------------------------------------------------------- the mover


def move(
    complaint: Complaint,
    to: Status,
    *,
    actor: User | None,
    note: str = "",
    now: datetime | None = None,
    expect: Iterable[Status] | None = None,
    calendar: WorkCalendar | None = None,
    by_complainant: bool = False,
    **fields: Any,
) -> Complaint:
    """Move ``complaint`` to ``to`` (see the module docstring); ``expect``: the statuses the
    caller's own check allows it to be in (the verb's precondition, re-read under the lock);
    ``by_complainant``: the complainant did it (the survey link), no staff member.
    Returns the locked, updated row (the caller's instance is refreshed too)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = Complaint.objects.select_for_update().get(pk=complaint.pk)
        frm = Status(row.status)
        target = Status(to)
        if target not in Complaint.ALLOWED_MOVES[frm] or (expect is not None and frm not in set(expect)):
            raise IllegalMove(frm, target)
        _stamp(row, frm, target, now, calendar)
        for name, value in fields.items():
            setattr(row, name, value)
        row.status = target
        row.save()
        event = _event(
            row,
            ComplaintEvent.Kind.MOVE,
            actor=actor,
            frm=frm,
            to=target,
            note=note,
            at=now,
            by_complainant=by_complainant,
        )
        alerts.moved(row, event, frm=frm, to=target, actor=actor, now=now)
        if frm == Status.RESOLVED:
            # Confirmed (by phone or the link), or reopened: the survey links of this round
            # are spent, and a survey SMS not yet sent is withdrawn.
            SurveyInvitation.objects.filter(complaint=row, used_at__isnull=True, expires_at__gt=now).update(
                expires_at=now
            )
            notices.withdraw(row, "survey:", reason=f"投诉已{target.label}，不再发送评价链接", now=now)
        if target == Status.CANCELLED:
            notices.withdraw(row, "", reason="投诉已撤销，不再发送", now=now)
    complaint.refresh_from_db()
    return row


def _stamp(row: Complaint, frm: Status, to: Status, now: datetime, calendar: WorkCalendar | None) -> None:
    stamps = {
        Status.DISPATCHED: "dispatched_at",
        Status.PLAN_APPROVED: "plan_approved_at",
        Status.RESOLVED: "resolved_at",
        Status.CONFIRMED: "confirmed_at",
        Status.ARCHIVED: "archived_at",
        Status.CANCELLED: "cancelled_at",
    }
    if to in stamps:
        setattr(row, stamps[to], now)
    if to == Status.ACKNOWLEDGED and row.acknowledged_at is None:
        row.acknowledged_at = now
    if to == Status.WAITING:
        row.paused_at, row.paused_from = now, frm
    if frm == Status.WAITING:
        if row.paused_at is not None:
            cal = calendar or work_calendar()
            try:
                due = deadlines.extend_for_pause(row.resolution_due_at, row.paused_at, now, cal)
            except CalendarUnknown:
                due = deadlines.extend_for_pause(row.resolution_due_at, row.paused_at, now, deadlines.lenient(cal))
            row.resolution_due_at = due
        row.paused_at, row.paused_from = None, ""
    if frm == Status.RESOLVED:
        row.dissatisfied_at = None
    if to == Status.REOPENED:
        # A new round: a new resolution deadline from today, no escalation yet.
        row.resolved_at = row.confirmed_at = row.archived_at = None
        row.satisfaction = None
        row.resolution_due_at = _resolution_due(now, calendar or work_calendar(), special=row.is_special)[0]
        row.escalation_level, row.escalated_at = 0, None


def _event(
    row: Complaint,
    kind: str,
    *,
    actor: User | None,
    frm: str = "",
    to: str = "",
    note: str = "",
    at: datetime,
    by_complainant: bool = False,
) -> ComplaintEvent:
    event = ComplaintEvent.objects.create(
        complaint=row,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        from_status=frm,
        to_status=to,
        note=note,
        at=at,
        by_complainant=by_complainant,
    )
    summary = (
        f"投诉 {row.number}：{Status(to).label}" if to else f"投诉 {row.number}：{ComplaintEvent.Kind(kind).label}"
    )
    if by_complainant:
        summary += "（投诉人通过短信评价链接）"
    if row.customer_id is not None:
        timeline.record(
            row.customer_id,
            TimelineEvent.Kind.COMPLAINT,
            f"{summary}{'，' + note if note else ''}",
            actor=actor,
            at=at,
            data={"complaint": row.pk, "number": row.number, "status": row.status},
            source=row,
        )
    audit.log(
        audit.AuditLog.Action.CREATE if to == Status.REGISTERED else audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=row,
        customer_id=row.customer_id,
        summary=summary,
        reason=note[:200],
    )
    return event


# ---------------------------------------------------------------- registration


def _resolution_due(now: datetime, calendar: WorkCalendar, *, special: bool) -> tuple[datetime, str]:
    """The resolution deadline, and a note when it had to be estimated Monday–Friday
    because that year's work calendar is not entered yet."""
    try:
        return deadlines.resolution_due(now, calendar, special=special), ""
    except CalendarUnknown as exc:
        due = deadlines.resolution_due(now, deadlines.lenient(calendar), special=special)
        return due, f"{exc.message}；处理期限暂按周一至周五估算"


@dataclass(frozen=True)
class Intake:
    """What the intake form (or the API, the public page, an integration) captured."""

    channel: str
    complainant_name: str
    complainant_mobile: str
    content: str
    project: Project
    category: Category
    unit: Unit | None = None
    event_at: datetime | None = None
    event_place: str = ""
    is_special: bool = False
    is_important: bool = False
    assignee: User | None = None
    repeat_of: Complaint | None = None
    unit_text: str = ""
    # Uploaded images (crm.complaints.attachments checks them before anything is written).
    attachments: Sequence[UploadedFile[bytes]] = ()
    complainant_email: str = ""


def find_repeat_of(
    *,
    company_id: int,
    category: Category,
    customer_id: int | None,
    mobile: str,
    email: str = "",
    now: datetime,
    exclude_pk: int | None = None,
) -> Complaint | None:
    """The latest earlier complaint this one repeats: the same category, and the same
    customer (a linked complainant) or the same mobile (an unlinked one; the same email
    address when there is no mobile either), registered within the last
    ``COMPLAINT_REPEAT_WINDOW_DAYS`` days (inclusive: exactly that many days earlier still
    counts). Cancelled complaints were registered in error and do not count."""
    days = settings.COMPLAINT_REPEAT_WINDOW_DAYS
    if days <= 0:
        return None
    rows = Complaint.objects.filter(
        company_id=company_id, category=category, registered_at__gte=now - timedelta(days=days), registered_at__lte=now
    ).exclude(status=Status.CANCELLED)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    elif mobile:
        rows = rows.filter(complainant_mobile=mobile)
    elif email:
        rows = rows.filter(complainant_mobile="", complainant_email__iexact=email)
    else:
        return None
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("-registered_at", "-id").first()


def register_complaint(
    intake: Intake, *, actor: User, now: datetime | None = None, calendar: WorkCalendar | None = None
) -> Complaint:
    """Register a complaint: number, deadlines, the matching customer (by mobile), and
    dispatch at once to the chosen assignee or the category's owner."""
    if not actor.has_perm(ADD):
        raise NotAllowed("您没有登记投诉的权限")
    if actor.company_id is None:
        raise DomainError("楼盘或类别不属于本公司")
    return _register(intake, company_id=actor.company_id, actor=actor, now=now, calendar=calendar)


def register_external_complaint(
    intake: Intake,
    *,
    company: Company,
    source: str,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Complaint:
    """Register a complaint that no staff member typed: the public page or an integration
    (``source`` says which, in the registration event). Only the website and WeChat
    channels, a mobile is required, and nothing staff decide (special, important, the
    assignee, a repeat link) is taken from the outside."""
    if intake.channel not in (Channel.WEBSITE, Channel.WECHAT):
        raise DomainError("请选择投诉渠道", field="channel")
    if not intake.complainant_mobile.strip():
        raise DomainError("请填写手机号码", field="complainant_mobile")
    if intake.is_special or intake.is_important or intake.assignee is not None or intake.repeat_of is not None:
        raise DomainError("外部提交的投诉不能指定处理设置")
    return _register(intake, company_id=company.pk, actor=None, now=now, calendar=calendar, note=source)


def unsorted_category(company: Company) -> Category:
    """Where a complaint goes when the complainant chose no category: 待分类, with no owner,
    so it waits for the director (状态 已登记) who dispatches it."""
    category, _ = Category.objects.get_or_create(
        company=company, name=UNSORTED, defaults={"sort_order": 99, "is_active": False}
    )
    return category


UNSORTED = "待分类"


def _register(
    intake: Intake,
    *,
    company_id: int,
    actor: User | None,
    now: datetime | None,
    calendar: WorkCalendar | None,
    note: str = "",
) -> Complaint:
    if intake.project.company_id != company_id or intake.category.company_id != company_id:
        raise DomainError("楼盘或类别不属于本公司")
    if intake.unit is not None and intake.unit.project_id != intake.project.pk:
        raise DomainError("房号不属于所选楼盘", field="unit")
    if intake.channel not in Channel.values:
        raise DomainError("请选择投诉渠道", field="channel")
    unit = intake.unit
    if unit is None and intake.unit_text.strip():
        # "3号楼1502" typed on the public page or by an integration: linked when it names
        # exactly one unit of the project; otherwise kept as text for staff to pick.
        unit = match_unit(intake.project.pk, intake.unit_text)
    mobile = ""
    email = intake.complainant_email.strip().lower()
    if intake.complainant_mobile.strip():
        try:
            mobile = normalize_mobile(intake.complainant_mobile)
        except InvalidMobile as exc:
            raise DomainError(exc.message, field="complainant_mobile") from exc
    elif intake.channel == Channel.EMAIL and email:
        pass  # a mailed complaint can be answered by email: an unlinked contact
    elif intake.channel not in (Channel.MEDIA, Channel.WRITTEN, Channel.TRANSFERRED):
        raise DomainError("请填写投诉人的联系电话", field="complainant_mobile")
    images = attachments.check_images(intake.attachments)
    now = now or timezone.now()
    calendar = calendar or work_calendar()
    customer = find_by_mobile(company_id, mobile) if mobile else None
    repeat_of, repeat_note = intake.repeat_of, "登记时关联前次投诉"
    if repeat_of is None:
        repeat_of = find_repeat_of(
            company_id=company_id,
            category=intake.category,
            customer_id=customer.pk if customer is not None else None,
            mobile=mobile,
            email=email,
            now=now,
        )
        repeat_note = f"{settings.COMPLAINT_REPEAT_WINDOW_DAYS} 天内同类投诉，自动标记"
    resolution_due_at, estimate_note = _resolution_due(now, calendar, special=intake.is_special)
    assignee = intake.assignee or intake.category.owner
    with transaction.atomic():
        complaint = Complaint.objects.create(
            company_id=company_id,
            number=next_number(now),
            channel=intake.channel,
            complainant_name=intake.complainant_name.strip(),
            complainant_mobile=mobile,
            complainant_email=email,
            content=intake.content.strip(),
            event_at=intake.event_at,
            event_place=intake.event_place.strip(),
            project=intake.project,
            unit=unit,
            unit_text=intake.unit_text.strip()[:50],
            customer=customer,
            category=intake.category,
            registered_by=actor,
            is_special=intake.is_special,
            is_important=intake.is_important,
            is_repeat=repeat_of is not None,
            repeat_of=repeat_of,
            registered_at=now,
            first_response_due_at=deadlines.first_response_due(now, hours=settings.COMPLAINT_FIRST_RESPONSE_HOURS),
            resolution_due_at=resolution_due_at,
        )
        if images:
            attachments.attach(complaint, images, actor=actor, now=now)
        event_note = "；".join(part for part in (note, estimate_note) if part)
        registered = _event(
            complaint, ComplaintEvent.Kind.MOVE, actor=actor, to=Status.REGISTERED, note=event_note, at=now
        )
        if repeat_of is not None:
            repeat_text = f"重复投诉，前次投诉 {repeat_of.number}（{repeat_note}）"
            _event(complaint, ComplaintEvent.Kind.REPEAT, actor=actor, note=repeat_text, at=now)
        if assignee is not None:
            complaint = move(complaint, Status.DISPATCHED, actor=actor, now=now, assignee=assignee)
        else:
            alerts.waiting_for_dispatch(complaint, registered, actor=actor, now=now)
        notices.registered(complaint, now=now)
    return complaint


# ---------------------------------------------------------------- the verbs


def _require(actor: User, perm: str, message: str) -> None:
    if not actor.has_perm(perm):
        raise NotAllowed(message)


def _required_note(note: str, message: str) -> str:
    note = note.strip()
    if not note:
        raise DomainError(message, field="note")
    return note


def dispatch_complaint(
    complaint: Complaint,
    *,
    actor: User,
    assignee: User,
    note: str = "",
    now: datetime | None = None,
    category: Category | None = None,
) -> Complaint:
    """Hand a registered complaint to its owner (the director, when the category has none);
    the director may set the category, and must for one filed as 待分类 (the public page)."""
    _require(actor, MANAGE, "只有客服中心主任可以分派投诉")
    if assignee.company_id != complaint.company_id or not assignee.is_active:
        raise DomainError("请选择本公司在职员工作为责任人", field="assignee")
    fields: dict[str, Any] = {"assignee": assignee}
    if category is not None:
        if category.company_id != complaint.company_id or not category.is_active:
            raise DomainError("请选择投诉类别", field="category")
        fields["category"] = category
    elif complaint.category.name == UNSORTED:
        raise DomainError("请先选择投诉类别", field="category")
    return move(complaint, Status.DISPATCHED, actor=actor, note=note, now=now, **fields)


def reassign_complaint(
    complaint: Complaint, *, actor: User, assignee: User, note: str = "", now: datetime | None = None
) -> Complaint:
    """Change the owner of an open complaint (not a move: the status stays)."""
    _require(actor, MANAGE, "只有客服中心主任可以改派投诉")
    if not complaint.is_open:
        raise DomainError("投诉已结束，不能改派")
    if assignee.company_id != complaint.company_id or not assignee.is_active:
        raise DomainError("请选择本公司在职员工作为责任人", field="assignee")
    now = now or timezone.now()
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(assignee=assignee, updated_at=now)
        complaint.refresh_from_db()
        event = _event(complaint, ComplaintEvent.Kind.ASSIGNED, actor=actor, note=note or f"改派给 {assignee}", at=now)
        alerts.assigned(complaint, event, actor=actor, now=now)
    return complaint


def _may_handle(complaint: Complaint, actor: User) -> None:
    """Handling is the assignee's work; the director (and administrators) may step in."""
    _require(actor, HANDLE, "您没有处理投诉的权限")
    if complaint.assignee_id not in (None, actor.pk) and not actor.has_perm(MANAGE):
        raise NotAllowed("只有责任人或客服中心主任可以处理这条投诉")


def acknowledge_complaint(
    complaint: Complaint, *, actor: User, note: str = "", now: datetime | None = None
) -> Complaint:
    _may_handle(complaint, actor)
    return move(complaint, Status.ACKNOWLEDGED, actor=actor, note=note, now=now, expect=[Status.DISPATCHED])


def start_investigation(complaint: Complaint, *, actor: User, note: str = "", now: datetime | None = None) -> Complaint:
    _may_handle(complaint, actor)
    return move(
        complaint, Status.INVESTIGATING, actor=actor, note=note, now=now, expect=[Status.ACKNOWLEDGED, Status.REOPENED]
    )


def propose_plan(complaint: Complaint, *, actor: User, plan: str, now: datetime | None = None) -> Complaint:
    _may_handle(complaint, actor)
    plan = plan.strip()
    if not plan:
        raise DomainError("请填写处理方案（措施和预计完成时间）", field="plan")
    return move(complaint, Status.PLAN_PROPOSED, actor=actor, note=plan, now=now, plan=plan)


def approve_plan(complaint: Complaint, *, actor: User, note: str = "", now: datetime | None = None) -> Complaint:
    """The owner's superior approves the plan (not the one who proposed it)."""
    _require(actor, APPROVE, "只有上级可以审批处理方案")
    if complaint.assignee_id == actor.pk and not actor.is_superuser:
        raise NotAllowed("处理方案需由上级审批，不能审批自己的方案")
    return move(complaint, Status.PLAN_APPROVED, actor=actor, note=note, now=now)


def reject_plan(complaint: Complaint, *, actor: User, note: str, now: datetime | None = None) -> Complaint:
    """The plan goes back to the owner with the superior's comment."""
    _require(actor, APPROVE, "只有上级可以审批处理方案")
    note = _required_note(note, "请填写退回原因")
    return move(complaint, Status.INVESTIGATING, actor=actor, note=note, now=now, expect=[Status.PLAN_PROPOSED])


def start_work(complaint: Complaint, *, actor: User, note: str = "", now: datetime | None = None) -> Complaint:
    _may_handle(complaint, actor)
    return move(complaint, Status.IN_PROGRESS, actor=actor, note=note, now=now, expect=[Status.PLAN_APPROVED])


def record_progress(
    complaint: Complaint, *, actor: User, note: str, notify: bool = False, now: datetime | None = None
) -> ComplaintEvent:
    """A progress note: an event, not a move. ``notify``: the owner chose to tell the
    complainant (投诉进度 by SMS, the note as written; seed 002 3.3 及时与客户沟通进展)."""
    _may_handle(complaint, actor)
    note = _required_note(note, "请填写处理进展")
    if not complaint.is_open:
        raise DomainError("投诉已结束，不能再记录进展")
    now = now or timezone.now()
    with transaction.atomic():
        event = _event(complaint, ComplaintEvent.Kind.PROGRESS, actor=actor, note=note, at=now)
        if notify:
            notices.progress(complaint, event, now=now)
    return event


def resolve_complaint(complaint: Complaint, *, actor: User, note: str, now: datetime | None = None) -> Complaint:
    """Resolved: the complainant is told the result (投诉回复, the note) and sent the one-time
    survey link (满意度回访) to confirm, in the same transaction."""
    _may_handle(complaint, actor)
    note = _required_note(note, "请填写处理结果（将以短信告知投诉人）")
    now = now or timezone.now()
    with transaction.atomic():
        row = move(complaint, Status.RESOLVED, actor=actor, note=note, now=now)
        event = row.events.filter(to_status=Status.RESOLVED).latest("at", "id")
        link = create_survey(row, now=now)
        notices.resolved(row, event, link=link, days=settings.COMPLAINT_SURVEY_DAYS, now=now)
    return row


def confirm_resolution(
    complaint: Complaint, *, actor: User, satisfaction: int, note: str = "", now: datetime | None = None
) -> Complaint:
    """The customer's confirmation, recorded by staff from a phone call (1–5)."""
    _require(actor, HANDLE, "您没有处理投诉的权限")
    if satisfaction not in range(1, 6):
        raise DomainError("满意度请选择 1–5 分", field="satisfaction")
    note = f"电话回访，满意度 {satisfaction} 分" + (f"：{note.strip()}" if note.strip() else "")
    return move(complaint, Status.CONFIRMED, actor=actor, note=note, now=now, satisfaction=satisfaction)


def archive_complaint(complaint: Complaint, *, actor: User, note: str = "", now: datetime | None = None) -> Complaint:
    _require(actor, HANDLE, "您没有处理投诉的权限")
    return move(complaint, Status.ARCHIVED, actor=actor, note=note, now=now)


def reopen_complaint(complaint: Complaint, *, actor: User, note: str, now: datetime | None = None) -> Complaint:
    _require(actor, MANAGE, "只有客服中心主任可以重新处理投诉")
    note = _required_note(note, "请填写重新处理的原因")
    return move(complaint, Status.REOPENED, actor=actor, note=note, now=now)


def wait_for_customer(complaint: Complaint, *, actor: User, note: str, now: datetime | None = None) -> Complaint:
    """Stop the clock while the customer owes an answer or a visit."""
    _may_handle(complaint, actor)
    note = _required_note(note, "请说明在等待客户什么")
    return move(complaint, Status.WAITING, actor=actor, note=note, now=now)


def resume_complaint(
    complaint: Complaint,
    *,
    actor: User,
    note: str = "",
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Complaint:
    """The customer answered: back to where it was, the deadline moved by the wait."""
    _may_handle(complaint, actor)
    if complaint.status != Status.WAITING:
        raise IllegalMove(Status(complaint.status), Status(complaint.paused_from or Status.INVESTIGATING))
    return move(
        complaint,
        Status(complaint.paused_from or Status.INVESTIGATING),
        actor=actor,
        note=note,
        now=now,
        expect=[Status.WAITING],
        calendar=calendar,
    )


def cancel_complaint(complaint: Complaint, *, actor: User, note: str, now: datetime | None = None) -> Complaint:
    _require(actor, MANAGE, "只有客服中心主任可以撤销投诉")
    note = _required_note(note, "请填写撤销原因")
    return move(complaint, Status.CANCELLED, actor=actor, note=note, now=now)


def escalate(complaint: Complaint, *, level: int, now: datetime, reason: str) -> bool:
    """Raise the escalation level (job); returns whether it changed (idempotent). The event
    and the notifications (level 1: the directors and the assignee; level 2: the directors
    and 管理层, ``alerts.escalated``) are written in the same transaction, only when it did."""
    with transaction.atomic():
        changed = Complaint.objects.filter(pk=complaint.pk, escalation_level__lt=level).update(
            escalation_level=level, escalated_at=now, updated_at=now
        )
        if changed:
            complaint.refresh_from_db()
            event = _event(complaint, ComplaintEvent.Kind.ESCALATED, actor=None, note=reason, at=now)
            alerts.escalated(complaint, event, level=level, now=now)
    return bool(changed)


def mark_repeat(
    complaint: Complaint, *, actor: User, repeat_of: Complaint, note: str = "", now: datetime | None = None
) -> Complaint:
    """Staff link a complaint to the earlier one it repeats (the same issue again)."""
    _require(actor, HANDLE, "您没有处理投诉的权限")
    if repeat_of.pk == complaint.pk or repeat_of.company_id != complaint.company_id:
        raise DomainError("请填写本公司另一条投诉的编号", field="repeat_of")
    if (repeat_of.registered_at, repeat_of.pk) > (complaint.registered_at, complaint.pk):
        raise DomainError("前次投诉应早于这条投诉登记", field="repeat_of")
    now = now or timezone.now()
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(is_repeat=True, repeat_of=repeat_of, updated_at=now)
        complaint.refresh_from_db()
        text = f"标记为重复投诉，前次投诉 {repeat_of.number}" + (f"：{note.strip()}" if note.strip() else "")
        _event(complaint, ComplaintEvent.Kind.REPEAT, actor=actor, note=text, at=now)
    return complaint


def unmark_repeat(complaint: Complaint, *, actor: User, note: str, now: datetime | None = None) -> Complaint:
    """Staff remove the repeat flag (a different issue after all); the reason is required."""
    _require(actor, HANDLE, "您没有处理投诉的权限")
    note = _required_note(note, "请填写取消重复投诉标记的原因")
    if not complaint.is_repeat:
        raise DomainError("这条投诉没有标记为重复投诉")
    now = now or timezone.now()
    with transaction.atomic():
        earlier = complaint.repeat_of.number if complaint.repeat_of is not None else ""
        Complaint.objects.filter(pk=complaint.pk).update(is_repeat=False, repeat_of=None, updated_at=now)
        complaint.refresh_from_db()
        text = f"取消重复投诉标记（前次投诉 {earlier}）：{note}" if earlier else f"取消重复投诉标记：{note}"
        _event(complaint, ComplaintEvent.Kind.REPEAT, actor=actor, note=text, at=now)
    return complaint


def repeat_position(complaint: Complaint, *, limit: int = 100) -> int:
    """Which time the complainant raises this issue: 1 for a first complaint, 2 for a
    repeat of a first one, and so on back along ``repeat_of`` (bounded: a cycle made by
    hand cannot loop)."""
    position, seen, current = 1, {complaint.pk}, complaint.repeat_of_id
    while current is not None and current not in seen and position < limit:
        seen.add(current)
        position += 1
        current = Complaint.objects.filter(pk=current).values_list("repeat_of_id", flat=True).first()
    return position


def set_important(
    complaint: Complaint, *, actor: User, important: bool, note: str = "", now: datetime | None = None
) -> Complaint:
    """The director marks a complaint important (kept indefinitely after archiving) or
    removes the mark (then the usual retention applies)."""
    _require(actor, MANAGE, "只有客服中心主任可以标记重要投诉")
    if complaint.is_important == important:
        raise DomainError("这条投诉已经是重要投诉" if important else "这条投诉没有标记为重要投诉")
    now = now or timezone.now()
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(is_important=important, updated_at=now)
        complaint.refresh_from_db()
        text = "标记为重要投诉（归档后长期保存）" if important else "取消重要投诉标记（归档后按期限清除）"
        if note.strip():
            text += f"：{note.strip()}"
        _event(complaint, ComplaintEvent.Kind.IMPORTANT, actor=actor, note=text, at=now)
    return complaint


def reword_reply(complaint: Complaint, *, actor: User, text: str, now: datetime | None = None) -> Complaint:
    """The owner (or the director) words the next-day reply SMS for this complaint while it
    waits for its window; what was said is kept in the record."""
    _require(actor, HANDLE, "您没有处理投诉的权限")
    _may_handle(complaint, actor)
    text = _required_note(text, "请填写回复内容")
    if len(text) > 80:
        raise DomainError("回复内容不能超过 80 个字", field="note")
    if not complaint.is_open:
        raise DomainError("投诉已结束，不能修改次日回复")
    now = now or timezone.now()
    with transaction.atomic():
        if not notices.reword_reply(complaint, text, now=now):
            raise DomainError("次日回复短信已发出或已取消，不能再修改；如需告知客户，请在“记录进展”中选择通知投诉人")
        _event(complaint, ComplaintEvent.Kind.REPLY, actor=actor, note=f"次日回复短信改为：{text}", at=now)
    return complaint


def correct_complaint(
    complaint: Complaint,
    *,
    actor: User,
    project: Project,
    unit: Unit | None,
    category: Category,
    note: str,
    now: datetime | None = None,
) -> Complaint:
    """The director corrects what was registered wrongly (楼盘, 房号, 类别) on a complaint
    that is not archived. The status, the owner and the deadlines stay; the record keeps
    what it was and why it changed. A new category's owner is not made the assignee by
    itself: 改派 does that, so nobody loses a case they already work on."""
    _require(actor, MANAGE, "只有客服中心主任可以更正投诉登记信息")
    note = _required_note(note, "请填写更正原因")
    if complaint.status in (Status.ARCHIVED, Status.CANCELLED):
        raise DomainError("投诉已归档或已撤销，不能更正")
    if project.company_id != complaint.company_id:
        raise DomainError("请选择本公司的楼盘", field="project")
    if category.company_id != complaint.company_id or not category.is_active:
        raise DomainError("请选择投诉类别", field="category")
    if unit is not None and unit.project_id != project.pk:
        raise DomainError("房号不属于所选楼盘", field="unit")
    changes = []
    if project.pk != complaint.project_id:
        changes.append(f"楼盘：{complaint.project.name} → {project.name}")
    if (unit.pk if unit else None) != complaint.unit_id:
        before = complaint.unit.label if complaint.unit else (complaint.unit_text or "空")
        changes.append(f"房号：{before} → {unit.label if unit else '空'}")
    if category.pk != complaint.category_id:
        changes.append(f"类别：{complaint.category.name} → {category.name}")
    if not changes:
        raise DomainError("没有需要更正的内容")
    now = now or timezone.now()
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(project=project, unit=unit, category=category, updated_at=now)
        complaint.refresh_from_db()
        text = "更正登记信息：" + "；".join(changes) + f"。原因：{note}"
        _event(complaint, ComplaintEvent.Kind.CORRECTED, actor=actor, note=text, at=now)
    return complaint


# ---------------------------------------------------------------- the verbs as actions


@dataclass(frozen=True)
class Verb:
    """A verb as the pages and the API offer it: its button, the statuses it starts from,
    who may, and what it asks for (``note`` required or not, a plan, a rating, a person)."""

    label: str
    sources: frozenset[Status]
    permission: str
    needs: str = ""  # "" | "plan" | "satisfaction" | "assignee"
    note_required: bool = False
    by_assignee: bool = False  # the assignee's work (or the director's)


def _from(*to: Status) -> frozenset[Status]:
    return frozenset(s for s, targets in Complaint.ALLOWED_MOVES.items() if targets & set(to))


VERBS: dict[str, Verb] = {
    "dispatch": Verb("分派", frozenset({Status.REGISTERED}), MANAGE, needs="assignee"),
    "acknowledge": Verb("确认接收", frozenset({Status.DISPATCHED}), HANDLE, by_assignee=True),
    "investigate": Verb("开始调查", frozenset({Status.ACKNOWLEDGED, Status.REOPENED}), HANDLE, by_assignee=True),
    "propose": Verb("提交处理方案", _from(Status.PLAN_PROPOSED), HANDLE, needs="plan", by_assignee=True),
    "approve": Verb("批准方案", frozenset({Status.PLAN_PROPOSED}), APPROVE),
    "reject": Verb("退回方案", frozenset({Status.PLAN_PROPOSED}), APPROVE, note_required=True),
    "start": Verb("开始实施", frozenset({Status.PLAN_APPROVED}), HANDLE, by_assignee=True),
    "progress": Verb("记录进展", frozenset(Complaint.OPEN), HANDLE, note_required=True, by_assignee=True),
    "resolve": Verb("处理完成", _from(Status.RESOLVED), HANDLE, note_required=True, by_assignee=True),
    "confirm": Verb("登记客户确认", _from(Status.CONFIRMED), HANDLE, needs="satisfaction"),
    "archive": Verb("归档", _from(Status.ARCHIVED), HANDLE),
    "wait": Verb("等待客户", _from(Status.WAITING), HANDLE, note_required=True, by_assignee=True),
    "resume": Verb("恢复处理", frozenset({Status.WAITING}), HANDLE, by_assignee=True),
    "reopen": Verb("重新处理", _from(Status.REOPENED), MANAGE, note_required=True),
    "cancel": Verb("撤销投诉", _from(Status.CANCELLED), MANAGE, note_required=True),
    "reassign": Verb("改派", frozenset(Complaint.OPEN - {Status.REGISTERED}), MANAGE, needs="assignee"),
}


def available_verbs(complaint: Complaint, user: User) -> list[str]:
    """The verbs this user may use on this complaint now (the buttons on its page)."""
    status = Status(complaint.status)
    names = []
    for name, verb in VERBS.items():
        if status not in verb.sources or not user.has_perm(verb.permission):
            continue
        if verb.by_assignee and complaint.assignee_id not in (None, user.pk) and not user.has_perm(MANAGE):
            continue
        if name == "approve" and complaint.assignee_id == user.pk and not user.is_superuser:
            continue
        names.append(name)
    return names


def perform(
    complaint: Complaint,
    verb: str,
    *,
    actor: User,
    note: str = "",
    plan: str = "",
    satisfaction: int | None = None,
    assignee: User | None = None,
    category: Category | None = None,
    notify: bool = False,
    now: datetime | None = None,
) -> Complaint:
    """Run one verb by name (the detail page's buttons and the API's actions); ``notify``:
    tell the complainant a progress note by SMS."""
    if verb not in VERBS:
        raise DomainError("未知的操作")
    if VERBS[verb].needs == "assignee" and assignee is None:
        raise DomainError("请选择责任人", field="assignee")
    if verb == "dispatch":
        assert assignee is not None
        return dispatch_complaint(complaint, actor=actor, assignee=assignee, note=note, now=now, category=category)
    if verb == "reassign":
        assert assignee is not None
        return reassign_complaint(complaint, actor=actor, assignee=assignee, note=note, now=now)
    if verb == "propose":
        return propose_plan(complaint, actor=actor, plan=plan or note, now=now)
    if verb == "confirm":
        if satisfaction is None:
            raise DomainError("满意度请选择 1–5 分", field="satisfaction")
        return confirm_resolution(complaint, actor=actor, satisfaction=satisfaction, note=note, now=now)
    if verb == "progress":
        record_progress(complaint, actor=actor, note=note, notify=notify, now=now)
        complaint.refresh_from_db()
        return complaint
    simple = {
        "acknowledge": acknowledge_complaint,
        "investigate": start_investigation,
        "approve": approve_plan,
        "reject": reject_plan,
        "start": start_work,
        "resolve": resolve_complaint,
        "archive": archive_complaint,
        "wait": wait_for_customer,
        "resume": resume_complaint,
        "reopen": reopen_complaint,
        "cancel": cancel_complaint,
    }
    return simple[verb](complaint, actor=actor, note=note, now=now)


# ---------------------------------------------------------------- the survey link (满意度回访)


class SurveyRefused(DomainError):
    """The survey link cannot be used (unknown, expired, used); the message is for the
    complainant's page. ``unknown``: no such link at all (else it existed and is spent)."""

    def __init__(self, message: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.unknown = unknown


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('complaints:survey', args=[token])}"


def create_survey(complaint: Complaint, *, now: datetime) -> str:
    """A new one-time survey link for the complaint's current round; returns its absolute
    URL. The token is 144 random bits; only its hash is stored."""
    token = secrets.token_urlsafe(18)
    SurveyInvitation.objects.create(
        complaint=complaint,
        token_hash=_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=settings.COMPLAINT_SURVEY_DAYS),
    )
    return survey_url(token)


def survey_for_token(token: str, *, now: datetime) -> SurveyInvitation:
    """The invitation a link names, if it can still be used; else SurveyRefused with what to
    tell the complainant."""
    invitation = (
        SurveyInvitation.objects.select_related("complaint").filter(token_hash=_token_hash(token or "")).first()
    )
    if invitation is None:
        raise SurveyRefused("链接无效：请核对短信中的链接是否完整。如需帮助，请致电客服中心。", unknown=True)
    if invitation.used_at is not None:
        raise SurveyRefused("您已评价过，感谢您的反馈！该链接只能使用一次。")
    if invitation.expires_at <= now:
        raise SurveyRefused("该评价链接已过期或已失效。如对处理结果有意见，请致电客服中心。")
    return invitation


def submit_survey(token: str, *, rating: int, comment: str = "", now: datetime | None = None) -> Complaint:
    """The complainant's answer through the survey link (no login).

    1. The link must be known, unused and not expired; using it is one conditional UPDATE
       (``used_at`` still empty and not expired), so of two submissions at once exactly one
       counts and the other is told the link was used.
    2. A rating above COMPLAINT_SURVEY_LOW_RATING confirms the complaint: resolved →
       confirmed through the one mover, the rating recorded as its satisfaction, the event
       done by the complainant (no staff actor).
    3. A low rating does not confirm it: the complaint stays resolved, flagged for the
       director (``dissatisfied_at``, the 客户不满意 list), who reopens it or calls the
       customer (seed 002 3.3: feedback is taken and the plan adjusted where needed).
    """
    if rating not in range(1, 6):
        raise DomainError("请选择 1–5 分", field="rating")
    comment = comment.strip()[:500]
    now = now or timezone.now()
    with transaction.atomic():
        invitation = survey_for_token(token, now=now)
        used = SurveyInvitation.objects.filter(pk=invitation.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now, rating=rating, comment=comment
        )
        if not used:  # a concurrent submission (or a move) got there first
            raise SurveyRefused("您已评价过，感谢您的反馈！该链接只能使用一次。")
        complaint = invitation.complaint
        note = f"短信评价 {rating} 分" + (f"：{comment}" if comment else "")
        if rating > settings.COMPLAINT_SURVEY_LOW_RATING:
            try:
                return move(
                    complaint,
                    Status.CONFIRMED,
                    actor=None,
                    note=note,
                    now=now,
                    expect=[Status.RESOLVED],
                    by_complainant=True,
                    satisfaction=rating,
                )
            except IllegalMove as exc:  # staff moved it meanwhile: the use is rolled back
                raise SurveyRefused("该评价链接已失效。如对处理结果有意见，请致电客服中心。") from exc
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.status != Status.RESOLVED:
            raise SurveyRefused("该评价链接已失效。如对处理结果有意见，请致电客服中心。")
        locked.dissatisfied_at = now
        locked.save(update_fields=["dissatisfied_at", "updated_at"])
        _event(
            locked,
            ComplaintEvent.Kind.SURVEY,
            actor=None,
            note=f"{note}（不满意，未确认：请客服中心主任决定重新处理或电话回访）",
            at=now,
            by_complainant=True,
        )
        return locked
