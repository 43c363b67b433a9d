"""客服运营 writes: the duty roster, the duty log, the handover and the director's checks.

The handover's statuses move only through ``move``: it locks the row, refuses a move the
table (``Handover.ALLOWED_MOVES``) does not allow, stamps the time that belongs to the
move, writes the HandoverEvent and the audit log. The verbs (``submit_handover``,
``accept_handover``, ``return_handover``) add who may and what must hold: each officer
confirms with their own login, and acceptance is refused while any of the four refusals
(四不接, crm.service.duty.refusals) holds — the refusal is recorded and the handover stays
open on the director's list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from crm.accounts.access import holders_of
from crm.core import audit, images
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.notifications import notify
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.lib.dates import local_day
from crm.lib.mobile import mask_numbers_in_text
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.service import duty, inspection
from crm.service.models import (
    DisplayCheck,
    DisplayItem,
    DisplayStatus,
    DutyCheck,
    DutyItem,
    DutyLogEntry,
    Finding,
    Gift,
    GiftIssue,
    GiftStock,
    GiftTask,
    Handover,
    HandoverEvent,
    HandoverItem,
    Inspection,
    InspectionArea,
    InspectionResult,
    Material,
    MaterialKind,
    MaterialVersion,
    Occasion,
    Shift,
    StockMovement,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from crm.accounts.models import Company, User
    from crm.customers.models import Customer
    from crm.projects.models import Project

Status = Handover.Status

VIEW_SHIFT = "service.view_shift"
VIEW_HANDOVER = "service.view_handover"
PLAN = "service.plan_roster"
KEEP_LOG = "service.keep_duty_log"
CHECK = "service.check_duty"
HOLIDAY_LEAD = "service.lead_holiday_duty"
EXPORT_DUTY = "service.export_duty"

# Seed 004: 电话、电脑、饮水机 …; the company adds its own in 系统设置 (交接物品).
DEFAULT_DUTY_ITEMS = ("电话", "电脑", "饮水机", "钥匙", "值班记录本")


class IllegalMove(DomainError):
    def __init__(self, frm: Status, to: Status) -> None:
        super().__init__(f"交接班状态不能从“{frm.label}”改为“{to.label}”")


class HandoverRefused(DomainError):
    """四不接: the incoming officer may not accept; ``reasons`` lists each one."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("不能接班：" + "；".join(reasons))
        self.reasons = reasons


def _require(actor: User, perm: str, message: str) -> None:
    if not actor.has_perm(perm):
        raise NotAllowed(message)


def ensure_default_items(company: Company) -> int:
    """The default checklist for a company that has none yet; returns how many were made."""
    if DutyItem.objects.filter(company=company).exists():
        return 0
    DutyItem.objects.bulk_create(
        [DutyItem(company=company, name=name, sort_order=i) for i, name in enumerate(DEFAULT_DUTY_ITEMS, 1)],
        ignore_conflicts=True,
    )
    return len(DEFAULT_DUTY_ITEMS)


def _works_on(user: User, project: Project) -> bool:
    from crm.accounts.access import sees_company

    return user.company_id == project.company_id and (sees_company(user) or project.pk in user.project_ids)


# ---------------------------------------------------------------- the roster


def plan_shift(
    *,
    actor: User,
    project: Project,
    officer: User,
    starts_at: datetime,
    ends_at: datetime,
    manager: User | None = None,
    note: str = "",
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Shift:
    """排班: put ``officer`` on duty at ``project`` from ``starts_at`` to ``ends_at``.

    1. The planner needs 排班; the officer must keep duty logs and work on the project.
    2. A shift ends after it starts and lasts at most 24 hours; an officer is never on two
       shifts at once.
    3. A shift touching a holiday (work calendar; an unknown year is refused, not guessed)
       needs a mid-level manager (节假日值班管理人员) of the company.
    """
    now = now or timezone.now()
    _require(actor, PLAN, "您没有排班的权限")
    if not officer.is_active or officer.company_id != actor.company_id or not officer.has_perm(KEEP_LOG):
        raise DomainError("所选人员不是值班人员", field="officer")
    if not _works_on(officer, project):
        raise DomainError(f"{officer} 不属于楼盘“{project}”", field="officer")
    if ends_at <= starts_at:
        raise DomainError("结束时间须晚于开始时间", field="ends_at")
    if ends_at - starts_at > duty.MAX_SHIFT:
        raise DomainError("一个班次最长 24 小时", field="ends_at")
    cal = calendar or work_calendar()
    try:
        holiday = duty.touches_holiday(starts_at, ends_at, cal)
    except CalendarUnknown as exc:
        raise DomainError(f"{exc.year}年的工作日历尚未录入，无法判断是否节假日班次，请先录入工作日历") from exc
    if holiday and manager is None:
        raise DomainError("节假日班次须安排中级以上管理人员值班", field="manager")
    if manager is not None and (manager.company_id != actor.company_id or not manager.has_perm(HOLIDAY_LEAD)):
        raise DomainError(f"{manager} 不是中级以上管理人员", field="manager")
    with transaction.atomic():
        overlapping = Shift.objects.select_for_update().filter(
            officer=officer, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        if overlapping.exists():
            raise DomainError(f"{officer} 在这段时间已有班次", field="starts_at")
        shift = Shift.objects.create(
            company_id=project.company_id,
            project=project,
            officer=officer,
            starts_at=starts_at,
            ends_at=ends_at,
            is_holiday=holiday,
            manager=manager,
            note=note,
            created_by=actor,
            created_at=now,
        )
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=shift, summary=f"排班：{shift}")
    return shift


# ---------------------------------------------------------------- the duty log


def log_duty(
    shift: Shift,
    *,
    actor: User,
    kind: str,
    content: str,
    at: datetime | None = None,
    customer: Customer | None = None,
    caller_name: str = "",
    is_escalated: bool = False,
) -> DutyLogEntry:
    """值班记录: the officer on the shift (or the director) records a call, a visit or an
    incident; one about a customer goes on the customer's timeline; one escalated to the
    director is flagged for the director's card."""
    _require(actor, KEEP_LOG, "您没有填写值班记录的权限")
    if actor.pk != shift.officer_id and not actor.has_perm(CHECK):
        raise NotAllowed("只有本班值班人员可以填写值班记录")
    if not content.strip():
        raise DomainError("请填写记录内容", field="content")
    if kind not in DutyLogEntry.Kind.values:
        raise DomainError("请选择记录类型", field="kind")
    at = at or timezone.now()
    with transaction.atomic():
        entry = DutyLogEntry.objects.create(
            shift=shift,
            kind=kind,
            at=at,
            content=content.strip(),
            customer=customer,
            caller_name=caller_name,
            is_escalated=is_escalated,
            recorded_by=actor,
        )
        if customer is not None:
            label = DutyLogEntry.Kind(kind).label
            timeline.record(
                customer,
                TimelineEvent.Kind.CALL if kind == DutyLogEntry.Kind.CALL else TimelineEvent.Kind.NOTE,
                f"值班{label}：{entry.content[:120]}",
                actor=actor,
                at=at,
                data={"duty_log": entry.pk, "escalated": is_escalated},
                source=entry,
            )
    return entry


# ---------------------------------------------------------------- the handover


def move(
    handover: Handover,
    to: Status,
    *,
    actor: User,
    note: str = "",
    now: datetime | None = None,
    expect: Iterable[Status] | None = None,
    **fields: object,
) -> Handover:
    """Move ``handover`` to ``to`` under a row lock (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = Handover.objects.select_for_update().get(pk=handover.pk)
        frm, target = Status(row.status), Status(to)
        if target not in Handover.ALLOWED_MOVES[frm] or (expect is not None and frm not in set(expect)):
            raise IllegalMove(frm, target)
        if target == Status.SUBMITTED:
            row.submitted_at = now
        if target == Status.ACCEPTED:
            row.accepted_at = now
        if target == Status.OPEN:
            row.submitted_at = None
        for name, value in fields.items():
            setattr(row, name, value)
        row.status = target
        row.save()
        _event(row, HandoverEvent.Kind.MOVE, actor=actor, frm=frm, to=target, note=note, at=now)
    handover.refresh_from_db()
    return row


def _event(
    row: Handover, kind: str, *, actor: User, frm: str = "", to: str = "", note: str = "", at: datetime
) -> HandoverEvent:
    event = HandoverEvent.objects.create(
        handover=row, kind=kind, actor=actor, from_status=frm, to_status=to, note=note, at=at
    )
    summary = f"交接班 #{row.pk}：{Status(to).label if to else HandoverEvent.Kind(kind).label}"
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=row, summary=summary, reason=note[:200])
    return event


def start_handover(shift: Shift, *, actor: User, incoming: User, now: datetime | None = None) -> Handover:
    """The outgoing officer opens the handover of their shift to ``incoming``: the item
    checklist is copied from the company's configured items (all 完好 to start with)."""
    now = now or timezone.now()
    _require(actor, KEEP_LOG, "您没有交接班的权限")
    if actor.pk != shift.officer_id:
        raise NotAllowed("只有本班值班人员可以交班")
    if incoming.pk == actor.pk:
        raise DomainError("接班人不能是交班人本人", field="incoming")
    if not incoming.is_active or not incoming.has_perm(KEEP_LOG) or not _works_on(incoming, shift.project):
        raise DomainError(f"{incoming} 不是本楼盘的值班人员", field="incoming")
    if Handover.objects.filter(shift=shift).exists():
        raise DomainError("本班次已有交接班记录")
    if shift.project.company_id is not None:
        ensure_default_items(shift.project.company)
    with transaction.atomic():
        handover = Handover.objects.create(
            company_id=shift.company_id,
            project_id=shift.project_id,
            shift=shift,
            outgoing=actor,
            incoming=incoming,
            created_at=now,
        )
        HandoverItem.objects.bulk_create(
            [
                HandoverItem(handover=handover, name=item.name, sort_order=item.sort_order)
                for item in DutyItem.objects.filter(company_id=shift.company_id, is_active=True)
            ]
        )
        _event(handover, HandoverEvent.Kind.MOVE, actor=actor, to=Status.OPEN, note=f"接班人：{incoming}", at=now)
    return handover


def _officer_of(handover: Handover, actor: User) -> str:
    if actor.pk == handover.outgoing_id:
        return "outgoing"
    if actor.pk == handover.incoming_id:
        return "incoming"
    return ""


def update_handover(
    handover: Handover,
    *,
    actor: User,
    log_summary: str,
    open_matters: str,
    major_repair_open: bool,
    major_repair_note: str,
    now: datetime | None = None,
) -> Handover:
    """The outgoing officer fills in the log summary, open matters and any major repair
    while the handover is being filled in."""
    now = now or timezone.now()
    if actor.pk != handover.outgoing_id:
        raise NotAllowed("只有交班人可以填写交班内容")
    if major_repair_open and not major_repair_note.strip():
        raise DomainError("请说明未完成的重大维修", field="major_repair_note")
    with transaction.atomic():
        row = Handover.objects.select_for_update().get(pk=handover.pk)
        if row.status != Status.OPEN:
            raise DomainError("交班已确认，不能再修改；如需修改请接班人退回")
        row.log_summary = log_summary.strip()
        row.open_matters = open_matters.strip()
        row.major_repair_open = major_repair_open
        row.major_repair_note = major_repair_note.strip()
        row.save()
    handover.refresh_from_db()
    return row


def check_item(
    item: HandoverItem, *, actor: User, state: str, explanation: str = "", now: datetime | None = None
) -> HandoverItem:
    """Either officer records an item's state while the handover is open; the explanation
    of damage or loss is the outgoing side's (交班人员须说明原因), so only the outgoing
    officer may write it."""
    now = now or timezone.now()
    handover = item.handover
    side = _officer_of(handover, actor)
    if not side:
        raise NotAllowed("只有交接双方可以清点物品")
    if state not in HandoverItem.State.values:
        raise DomainError("请选择物品状态", field="state")
    explanation = explanation.strip()
    if explanation and side != "outgoing":
        raise DomainError("损坏、缺失原因须由交班人说明", field="explanation")
    with transaction.atomic():
        # The handover's lock first, as accept_handover takes it: no item changes between
        # the acceptance's check and its move.
        if not Handover.objects.select_for_update().get(pk=handover.pk).is_open:
            raise DomainError("已接班，物品清点不能再修改")
        row = HandoverItem.objects.select_for_update().get(pk=item.pk)
        row.state = state
        if state == HandoverItem.State.OK:
            row.explanation, row.explained_by = "", None
        elif explanation:
            row.explanation, row.explained_by = explanation, actor
        row.save()
        note = f"{row.name}：{row.get_state_display()}{'，' + row.explanation if row.explanation else ''}"
        _event(handover, HandoverEvent.Kind.ITEM, actor=actor, note=note, at=now)
    item.refresh_from_db()
    return row


def finish_repair(handover: Handover, *, actor: User, note: str, now: datetime | None = None) -> Handover:
    """Either officer records that the open major repair is done (with what was done)."""
    now = now or timezone.now()
    if not _officer_of(handover, actor):
        raise NotAllowed("只有交接双方可以更新维修情况")
    if not note.strip():
        raise DomainError("请说明维修完成情况", field="note")
    with transaction.atomic():
        row = Handover.objects.select_for_update().get(pk=handover.pk)
        if not row.is_open:
            raise DomainError("已接班，不能再修改")
        row.major_repair_open = False
        row.major_repair_note = note.strip()[:300]
        row.save()
        _event(row, HandoverEvent.Kind.REPAIR, actor=actor, note=f"重大维修已完成：{note.strip()}", at=now)
    handover.refresh_from_db()
    return row


def submit_handover(handover: Handover, *, actor: User, now: datetime | None = None) -> Handover:
    """交班确认: the outgoing officer signs with their own login."""
    if actor.pk != handover.outgoing_id:
        raise NotAllowed("只有交班人本人可以确认交班")
    return move(handover, Status.SUBMITTED, actor=actor, now=now, note="交班人确认")


def return_handover(handover: Handover, *, actor: User, note: str, now: datetime | None = None) -> Handover:
    """The incoming officer sends it back for the outgoing officer to complete."""
    if actor.pk != handover.incoming_id:
        raise NotAllowed("只有接班人可以退回")
    if not note.strip():
        raise DomainError("请说明退回原因", field="note")
    return move(handover, Status.OPEN, actor=actor, now=now, note=note.strip())


def accept_handover(
    handover: Handover,
    *,
    actor: User,
    log_clear: bool,
    area_clean: bool,
    note: str = "",
    now: datetime | None = None,
) -> Handover:
    """接班确认: the incoming officer signs with their own login, confirming the log is
    clear and the area clean. While any of the four refusals holds the handover is not
    accepted: the refusal is recorded (event, ``refused_at``, ``refusal_reasons``) so the
    director sees it, and HandoverRefused lists every reason."""
    now = now or timezone.now()
    if actor.pk != handover.incoming_id:
        raise NotAllowed("只有接班人本人可以确认接班")
    with transaction.atomic():
        row = Handover.objects.select_for_update().get(pk=handover.pk)
        if row.status != Status.SUBMITTED:
            raise IllegalMove(Status(row.status), Status.ACCEPTED)
        reasons = duty.refusals(
            log_summary=row.log_summary,
            log_clear=log_clear,
            area_clean=area_clean,
            items=[duty.ItemCheck(i.name, i.state, i.explanation) for i in row.items.all()],
            major_repair_open=row.major_repair_open,
        )
        if not reasons:
            # Still under the row lock: no item or repair can change between the check and
            # the acceptance (check_item and finish_repair lock the handover first).
            return move(
                handover,
                Status.ACCEPTED,
                actor=actor,
                now=now,
                note=note.strip() or "接班人确认",
                expect=(Status.SUBMITTED,),
                log_clear=True,
                area_clean=True,
            )
        row.refused_at = now
        row.refusal_reasons = "；".join(r.split("：")[0] for r in reasons)[:300]
        row.save(update_fields=["refused_at", "refusal_reasons"])
        _event(row, HandoverEvent.Kind.REFUSED, actor=actor, note="；".join(reasons), at=now)
    handover.refresh_from_db()
    raise HandoverRefused(reasons)


# ---------------------------------------------------------------- the director's checks


def record_spot_check(
    shift: Shift, *, actor: User, result: str, note: str = "", now: datetime | None = None
) -> DutyCheck:
    """客服中心主任不定期检查值班: the result, and what was found when there is a problem."""
    now = now or timezone.now()
    _require(actor, CHECK, "您没有值班抽查的权限")
    if result not in DutyCheck.Result.values:
        raise DomainError("请选择检查结果", field="result")
    if result == DutyCheck.Result.PROBLEM and not note.strip():
        raise DomainError("发现问题时请填写检查情况", field="note")
    with transaction.atomic():
        check = DutyCheck.objects.create(
            shift=shift, checked_by=actor, checked_at=now, result=result, note=note.strip()
        )
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=check, summary=f"值班抽查：{check}")
    return check


# ---------------------------------------------------------------- gifts (礼品发放)

VIEW_GIFT = "service.view_gift"
ISSUE_GIFT = "service.add_giftissue"
MANAGE_STOCK = "service.manage_gift_stock"
EXPORT_GIFTS = "service.export_gifts"
VIEW_ISSUES = "service.view_giftissue"


class OutOfStock(DomainError):
    def __init__(self, gift: Gift, project: Project, wanted: int, have: int) -> None:
        super().__init__(
            f"库存不足：{project} 的“{gift}”只剩 {have}{gift.unit}，不能发放 {wanted}{gift.unit}", field="quantity"
        )


def _stock(gift: Gift, project: Project) -> GiftStock:
    stock, _ = GiftStock.objects.get_or_create(gift=gift, project=project)
    return stock


def _take(stock: GiftStock, quantity: int) -> int | None:
    """Take ``quantity`` from the stock in one conditional UPDATE; the new balance, or None
    when there is not enough. Two concurrent issues cannot both take the last items: the
    database re-checks ``quantity >= n`` on the row it updates (PostgreSQL re-evaluates
    the WHERE after waiting for the other writer's lock; SQLite writes one at a time)."""
    updated = GiftStock.objects.filter(pk=stock.pk, quantity__gte=quantity).update(quantity=F("quantity") - quantity)
    if not updated:
        return None
    return GiftStock.objects.values_list("quantity", flat=True).get(pk=stock.pk)


def stock_in(
    gift: Gift, *, actor: User, project: Project, quantity: int, note: str = "", now: datetime | None = None
) -> StockMovement:
    """入库: add ``quantity`` to the project's stock of the gift."""
    now = now or timezone.now()
    _require(actor, MANAGE_STOCK, "您没有礼品入库的权限")
    if quantity <= 0:
        raise DomainError("入库数量须大于 0", field="quantity")
    if gift.company_id != actor.company_id or project.company_id != actor.company_id:
        raise NotAllowed("不能操作其他公司的礼品")
    with transaction.atomic():
        stock = _stock(gift, project)
        GiftStock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + quantity)
        balance = GiftStock.objects.values_list("quantity", flat=True).get(pk=stock.pk)
        return StockMovement.objects.create(
            stock=stock, kind=StockMovement.Kind.IN, quantity=quantity, balance=balance, note=note, actor=actor, at=now
        )


def stock_out(
    gift: Gift, *, actor: User, project: Project, quantity: int, note: str, now: datetime | None = None
) -> StockMovement:
    """出库 (损耗、调拨): take ``quantity`` out with a reason; never below zero."""
    now = now or timezone.now()
    _require(actor, MANAGE_STOCK, "您没有礼品出库的权限")
    if quantity <= 0:
        raise DomainError("出库数量须大于 0", field="quantity")
    if not note.strip():
        raise DomainError("请填写出库原因", field="note")
    with transaction.atomic():
        stock = _stock(gift, project)
        balance = _take(stock, quantity)
        if balance is None:
            raise OutOfStock(gift, project, quantity, GiftStock.objects.get(pk=stock.pk).quantity)
        return StockMovement.objects.create(
            stock=stock,
            kind=StockMovement.Kind.OUT,
            quantity=-quantity,
            balance=balance,
            note=note,
            actor=actor,
            at=now,
        )


def issue_gift(
    gift: Gift,
    *,
    actor: User,
    project: Project,
    quantity: int,
    occasion: str,
    customer: Customer | None = None,
    visitor_name: str = "",
    reason: str = "",
    task: GiftTask | None = None,
    now: datetime | None = None,
) -> GiftIssue:
    """礼品发放:

    1. The issuer needs 发放礼品; the recipient is a customer (in the issuer's scope, checked
       by the caller's selector) or a named walk-in visitor; an on-site gift needs a reason.
    2. The stock is taken in one conditional UPDATE: an issue that would overdraw is refused
       with the balance, and concurrent issues cannot overdraw either.
    3. A "gift to hand over" task it fulfils is marked done; the customer's timeline gets a
       礼品 event.
    """
    now = now or timezone.now()
    _require(actor, ISSUE_GIFT, "您没有发放礼品的权限")
    if occasion not in Occasion.values:
        raise DomainError("请选择发放场合", field="occasion")
    if quantity <= 0:
        raise DomainError("发放数量须大于 0", field="quantity")
    visitor_name = visitor_name.strip()
    if customer is None and not visitor_name:
        raise DomainError("请选择客户或填写来访人姓名", field="visitor_name")
    if occasion == Occasion.ON_SITE and not reason.strip():
        raise DomainError("现场随机礼品须填写发放原因", field="reason")
    if not gift.is_active or gift.company_id != actor.company_id or project.company_id != actor.company_id:
        raise DomainError("该礼品不可发放", field="gift")
    if task is not None and (task.status != GiftTask.Status.OPEN or (customer and task.customer_id != customer.pk)):
        raise DomainError("该待送礼品已处理或与客户不符")
    with transaction.atomic():
        stock = _stock(gift, project)
        balance = _take(stock, quantity)
        if balance is None:
            raise OutOfStock(gift, project, quantity, GiftStock.objects.get(pk=stock.pk).quantity)
        issue = GiftIssue.objects.create(
            company_id=project.company_id,
            project=project,
            gift=gift,
            quantity=quantity,
            occasion=occasion,
            customer=customer,
            visitor_name="" if customer else visitor_name,
            reason=reason.strip(),
            task=task,
            issuer=actor,
            issued_at=now,
        )
        StockMovement.objects.create(
            stock=stock,
            kind=StockMovement.Kind.ISSUE,
            quantity=-quantity,
            balance=balance,
            note=f"{Occasion(occasion).label}：{issue.recipient}",
            actor=actor,
            at=now,
        )
        if task is not None:
            done = GiftTask.objects.filter(pk=task.pk, status=GiftTask.Status.OPEN).update(
                status=GiftTask.Status.DONE, done_at=now
            )
            if not done:  # another issue fulfilled it meanwhile: undo this one
                raise DomainError("该待送礼品已发放")
        if customer is not None:
            timeline.record(
                customer,
                TimelineEvent.Kind.GIFT,
                f"发放{Occasion(occasion).label}：{gift.name} ×{quantity}",
                actor=actor,
                at=now,
                data={"gift_issue": issue.pk, "occasion": occasion},
                source=issue,
            )
        audit.log(
            audit.AuditLog.Action.CREATE,
            actor=actor,
            target=issue,
            customer_id=issue.customer_id,
            summary=f"礼品发放：{issue}",
        )
    return issue


def cancel_gift_task(task: GiftTask, *, actor: User, now: datetime | None = None) -> None:
    """The consultant (or a manager in scope) drops a task that will not be handed over."""
    _require(actor, ISSUE_GIFT, "您没有处理待送礼品的权限")
    GiftTask.objects.filter(pk=task.pk, status=GiftTask.Status.OPEN).update(status=GiftTask.Status.CANCELLED)


# ---------------------------------------------------------------- daily inspection (日常巡查)

VIEW_INSPECTION = "service.view_inspection"
INSPECT = "service.add_inspection"
HANDLE_FINDING = "service.handle_finding"
EXPORT_INSPECTION = "service.export_inspection"
ENGINEERING_CONTACT = "service.engineering_contact"
KIND_ENGINEERING_FINDING = "engineering_finding"
PHOTO_TYPES = (".jpg", ".jpeg", ".png", ".webp")
PHOTO_MAX_BYTES = 8 * 1024 * 1024


def ensure_default_areas(project: Project) -> int:
    """Seed 001's areas for a project that has none yet; returns how many were made."""
    if InspectionArea.objects.filter(project=project).exists():
        return 0
    InspectionArea.objects.bulk_create(
        [
            InspectionArea(project=project, name=name, standard=standard, sort_order=i)
            for i, (name, standard) in enumerate(inspection.DEFAULT_AREAS, 1)
        ],
        ignore_conflicts=True,
    )
    return len(inspection.DEFAULT_AREAS)


def start_inspection(project: Project, *, actor: User, now: datetime | None = None) -> Inspection:
    """Start today's inspection of ``project`` (one per project and day): the checklist is
    copied from the project's active areas."""
    now = now or timezone.now()
    _require(actor, INSPECT, "您没有日常巡查的权限")
    if not _works_on(actor, project):
        raise NotAllowed("您不负责该楼盘")
    day = local_day(now)
    ensure_default_areas(project)
    ensure_display_items(project)
    with transaction.atomic():
        existing = Inspection.objects.filter(project=project, day=day).first()
        if existing is not None:
            raise DomainError(f"{project} 今天的巡查已由 {existing.inspector} 开始", field="project")
        row = Inspection.objects.create(
            company_id=project.company_id, project=project, day=day, inspector=actor, started_at=now
        )
        InspectionResult.objects.bulk_create(
            [
                InspectionResult(inspection=row, area=a.name, sort_order=a.sort_order)
                for a in InspectionArea.objects.filter(project=project, is_active=True)
            ]
        )
        DisplayCheck.objects.bulk_create(
            [
                DisplayCheck(inspection=row, item=item, name=item.name, sort_order=item.sort_order)
                for item in DisplayItem.objects.filter(project=project, is_active=True)
            ]
        )
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=row, summary=f"日常巡查：{row}")
    return row


def record_result(result: InspectionResult, *, actor: User, value: str, note: str = "") -> InspectionResult:
    if actor.pk != result.inspection.inspector_id:
        raise NotAllowed("只有巡查人可以记录巡查结果")
    if value not in (InspectionResult.Result.OK, InspectionResult.Result.PROBLEM):
        raise DomainError("请选择巡查结果", field="result")
    if value == InspectionResult.Result.PROBLEM and not note.strip():
        raise DomainError("有问题时请说明", field="note")
    if result.inspection.completed_at is not None:
        raise DomainError("巡查已完成，不能再修改")
    result.result, result.note = value, note.strip()
    result.save(update_fields=["result", "note"])
    return result


def report_finding(
    insp: Inspection,
    *,
    actor: User,
    area: str,
    description: str,
    department: str,
    photo: UploadedFile[bytes] | None = None,
    now: datetime | None = None,
) -> Finding:
    """A problem found on the inspection, with its responsible department and an optional
    photo (an image, at most 8 MB). Due by 11:00 that day (crm.service.inspection)."""
    now = now or timezone.now()
    _require(actor, INSPECT, "您没有日常巡查的权限")
    if not description.strip():
        raise DomainError("请描述问题", field="description")
    if department not in Finding.Department.values:
        raise DomainError("请选择责任部门", field="department")
    if photo is not None:
        if not photo.name or not photo.name.lower().endswith(PHOTO_TYPES):
            raise DomainError("照片须为 jpg、png 或 webp 图片", field="photo")
        if (photo.size or 0) > PHOTO_MAX_BYTES:
            raise DomainError("照片不能超过 8 MB", field="photo")
    with transaction.atomic():
        finding = Finding.objects.create(
            inspection=insp,
            area=area,
            description=description.strip(),
            department=department,
            photo=photo or "",
            found_at=now,
            due_at=inspection.finding_due(now, insp.day),
            reported_by=actor,
        )
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=finding, summary=f"巡查问题：{finding}")
        if finding.is_engineering:
            notify_engineering(finding, actor=actor, now=now)
    return finding


def engineering_contacts(project: Project) -> QuerySet[User]:
    """The project's engineering contacts (工程对接人): active staff of the company holding
    ``service.engineering_contact`` who work on the project. No role carries it: an
    administrator grants it to the named people of 工程部 in 系统设置 (用户权限)."""
    return holders_of(ENGINEERING_CONTACT, company=project.company_id or 0, project=project)


def notify_engineering(finding: Finding, *, actor: User | None, now: datetime) -> int:
    """工程方面问题第一时间告知 (seed 001): an engineering finding notifies the project's
    engineering contacts at once (the bell, crm.core.notifications), exactly once per
    finding (the key names it). A project without a contact: its directors (导出巡查, the
    客服中心主任) are told instead, with that said, so the call is still made by someone."""
    insp = finding.inspection
    project = insp.project
    recipients = list(engineering_contacts(project))
    title = f"工程问题：{project.name}·{finding.area}，请在 {timezone.localtime(finding.due_at):%H:%M} 前处理"
    if not recipients:
        recipients = list(holders_of(EXPORT_INSPECTION, company=project.company_id or 0, project=project))
        title = f"工程问题（{project.name}未设置工程对接人，请电话通知工程部）：{finding.area}"
    return notify(
        recipients,
        kind=KIND_ENGINEERING_FINDING,
        title=title,
        text=f"{mask_numbers_in_text(finding.description)}（巡查人：{insp.inspector}）",
        link=reverse("service:inspection_detail", args=[insp.pk]) + "#findings",
        key=f"finding:{finding.pk}:engineering",
        now=now,
        exclude=actor,
    )


def handle_finding(finding: Finding, *, actor: User, note: str, now: datetime | None = None) -> Finding:
    now = now or timezone.now()
    if not (actor.has_perm(HANDLE_FINDING) or actor.pk == finding.inspection.inspector_id):
        raise NotAllowed("您没有处理巡查问题的权限")
    if not note.strip():
        raise DomainError("请填写处理情况", field="note")
    updated = Finding.objects.filter(pk=finding.pk, handled_at__isnull=True).update(
        handled_at=now, handled_note=note.strip()[:300], handled_by=actor
    )
    if not updated:
        raise DomainError("该问题已处理")
    finding.refresh_from_db()
    return finding


def complete_inspection(insp: Inspection, *, actor: User, note: str = "", now: datetime | None = None) -> Inspection:
    """巡查完成: every area has a result and every display item is confirmed."""
    now = now or timezone.now()
    if actor.pk != insp.inspector_id:
        raise NotAllowed("只有巡查人可以完成巡查")
    pending = list(insp.results.filter(result=InspectionResult.Result.PENDING).values_list("area", flat=True))
    if pending:
        raise DomainError(f"以下区域还没有巡查结果：{'、'.join(pending)}")
    unconfirmed = list(insp.display_checks.filter(status=DisplayStatus.PENDING).values_list("name", flat=True))
    if unconfirmed:
        raise DomainError(f"以下现场公示还没有确认：{'、'.join(unconfirmed)}")
    updated = Inspection.objects.filter(pk=insp.pk, completed_at__isnull=True).update(
        completed_at=now, note=note.strip()
    )
    if not updated:
        raise DomainError("巡查已完成")
    insp.refresh_from_db()
    return insp


# ---------------------------------------------------------------- project materials (项目资料)

VIEW_MATERIAL = "service.view_material"
MANAGE_MATERIAL = "service.manage_material"
EXPORT_MATERIALS = "service.export_materials"
VIEW_DISPLAY = "service.view_displayitem"
MATERIAL_ACCEPT = "application/pdf,image/jpeg,image/png,image/webp,.pdf,.jpg,.jpeg,.png,.webp"
# Layout plans are large scans: more pixels than a complaint photo.
MATERIAL_MAX_PIXELS = 80_000_000
PDF_EXTENSIONS = (".pdf",)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


def material_max_bytes() -> int:
    from django.conf import settings

    return int(settings.MATERIAL_MAX_BYTES)


@dataclass(frozen=True)
class MaterialFile:
    """An upload that passed ``check_material_file``: what will be stored."""

    original_name: str
    content_type: str
    data: bytes


def check_material_file(upload: UploadedFile[bytes] | None) -> MaterialFile:
    """A material file is a PDF or an image (JPG, PNG, WebP) of at most MATERIAL_MAX_MB.

    1. The name's extension and the size decide first (no bytes read of a file refused).
    2. A PDF must start with ``%PDF-`` and end with ``%%EOF`` (a renamed file or a
       truncated upload is refused); it is stored as uploaded and served as a download.
    3. An image is decoded, checked and re-encoded from its pixels as complaint attachments
       are (crm.core.images: no EXIF, GPS, comments survive; decompression bombs refused).
    """
    if upload is None:
        raise DomainError("请选择文件", field="file")
    name = (upload.name or "文件")[-200:]
    lower = name.lower()
    if not lower.endswith(PDF_EXTENSIONS + IMAGE_EXTENSIONS):
        raise DomainError(f"“{name}”不是 PDF 或图片，只能上传 PDF、JPG、PNG、WebP", field="file")
    size = upload.size or 0
    limit = material_max_bytes()
    if size == 0:
        raise DomainError(f"“{name}”是空文件", field="file")
    if size > limit:
        raise DomainError(f"“{name}”超过 {limit // (1024 * 1024)} MB，请压缩后再上传", field="file")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if lower.endswith(PDF_EXTENSIONS):
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
            raise DomainError(f"“{name}”不是有效的 PDF 文件或文件不完整", field="file")
        return MaterialFile(name, "application/pdf", data)
    image = images.prepare_image(name, data, max_pixels=MATERIAL_MAX_PIXELS, field="file")
    return MaterialFile(name, image.content_type, image.data)


def _store_version(
    material: Material, prepared: MaterialFile, *, number: int, actor: User, note: str, now: datetime
) -> MaterialVersion:
    version = MaterialVersion(
        material=material,
        number=number,
        original_name=prepared.original_name,
        content_type=prepared.content_type,
        size=len(prepared.data),
        note=note.strip()[:200],
        is_current=True,
        uploaded_by=actor,
        uploaded_at=now,
    )
    version.file.save("upload", ContentFile(prepared.data), save=False)
    version.save()
    return version


def add_material(
    project: Project,
    *,
    actor: User,
    kind: str,
    title: str,
    upload: UploadedFile[bytes] | None,
    note: str = "",
    now: datetime | None = None,
) -> Material:
    """项目销售资料: a new material of ``project`` with its first version."""
    now = now or timezone.now()
    _require(actor, MANAGE_MATERIAL, "您没有上传项目资料的权限")
    if not _works_on(actor, project):
        raise NotAllowed("您不负责该楼盘")
    title = title.strip()
    if kind not in MaterialKind.values:
        raise DomainError("请选择资料类别", field="kind")
    if not title:
        raise DomainError("请填写资料名称", field="title")
    prepared = check_material_file(upload)
    with transaction.atomic():
        if Material.objects.filter(project=project, kind=kind, title=title).exists():
            raise DomainError(f"{project} 已有同名资料“{title}”，请在该资料下上传新版本", field="title")
        material = Material.objects.create(
            company_id=project.company_id,
            project=project,
            kind=kind,
            title=title,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        version = _store_version(material, prepared, number=1, actor=actor, note=note, now=now)
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=material, summary=f"项目资料：{version}")
    return material


def add_version(
    material: Material, *, actor: User, upload: UploadedFile[bytes] | None, note: str = "", now: datetime | None = None
) -> MaterialVersion:
    """A new version of ``material``: the next number, current from now on; the earlier
    versions stay (history of what was shown to buyers)."""
    now = now or timezone.now()
    _require(actor, MANAGE_MATERIAL, "您没有上传项目资料的权限")
    prepared = check_material_file(upload)
    with transaction.atomic():
        # The material's lock serialises two uploads: each gets its own number.
        row = Material.objects.select_for_update().get(pk=material.pk)
        last = row.versions.order_by("-number").values_list("number", flat=True).first() or 0
        row.versions.filter(is_current=True).update(is_current=False)
        version = _store_version(row, prepared, number=last + 1, actor=actor, note=note, now=now)
        Material.objects.filter(pk=row.pk).update(updated_at=now, is_active=True)
        audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=row, summary=f"项目资料新版本：{version}")
    return version


def make_current(version: MaterialVersion, *, actor: User, now: datetime | None = None) -> MaterialVersion:
    """Go back to an earlier version (a new one was uploaded by mistake)."""
    now = now or timezone.now()
    _require(actor, MANAGE_MATERIAL, "您没有管理项目资料的权限")
    with transaction.atomic():
        row = Material.objects.select_for_update().get(pk=version.material_id)
        row.versions.filter(is_current=True).update(is_current=False)
        MaterialVersion.objects.filter(pk=version.pk).update(is_current=True)
        Material.objects.filter(pk=row.pk).update(updated_at=now)
        audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=row, summary=f"项目资料改用：{version}")
    version.refresh_from_db()
    return version


def set_material_active(material: Material, *, actor: User, active: bool) -> Material:
    """停用 / 启用: a material no longer in use stays with its versions, marked."""
    _require(actor, MANAGE_MATERIAL, "您没有管理项目资料的权限")
    Material.objects.filter(pk=material.pk).update(is_active=active)
    material.refresh_from_db()
    audit.log(
        audit.AuditLog.Action.UPDATE, actor=actor, target=material, summary=f"项目资料{'启用' if active else '停用'}"
    )
    return material


# ---------------------------------------------------------------- on-site disclosures (现场公示)

# Seed 001 项目前期 c): 销售现场公示内容的管理.
DEFAULT_DISPLAY_ITEMS = (
    (
        "五证及房屋证件",
        "五证（国有土地使用证、建设用地规划许可证、建设工程规划许可证、施工许可证、预售许可证）及房屋证件",
    ),
    ("红线内外不利因素", "项目红线内外不利因素公示"),
    ("温馨提示", ""),
    ("车位公示", ""),
    ("购房流程图", ""),
    ("客户服务中心热线", ""),
    ("开盘价格", "一房一价，与备案价格一致"),
)
DISPLAY_FINDING_AREA = "现场公示"


def display_stale_days() -> int:
    from django.conf import settings

    return int(settings.DISPLAY_CHECK_STALE_DAYS)


def ensure_display_items(project: Project) -> int:
    """The seed's checklist for a project that has none yet; returns how many were made."""
    if DisplayItem.objects.filter(project=project).exists():
        return 0
    DisplayItem.objects.bulk_create(
        [
            DisplayItem(project=project, name=name, standard=standard, sort_order=i)
            for i, (name, standard) in enumerate(DEFAULT_DISPLAY_ITEMS, 1)
        ],
        ignore_conflicts=True,
    )
    return len(DEFAULT_DISPLAY_ITEMS)


def record_display(
    check: DisplayCheck, *, actor: User, status: str, note: str = "", now: datetime | None = None
) -> DisplayCheck:
    """The inspector confirms one display item on the inspection:

    1. 已公示, 缺失 or 内容过期 (a note is needed unless displayed); only the inspector, only
       while the inspection is open;
    2. the item's last check (date, who, result) is updated;
    3. a missing item becomes a finding of the inspection (销售, due like any finding), once:
       confirming it again does not add a second finding;
    4. an item confirmed 已公示 closes the open findings an earlier inspection made of it
       missing (已在 YYYY-MM-DD 巡查中确认补齐, handled by this inspector): each once, as the
       close is a compare-and-set on ``handled_at``.
    """
    now = now or timezone.now()
    insp = check.inspection
    if actor.pk != insp.inspector_id:
        raise NotAllowed("只有巡查人可以确认现场公示")
    if status not in (DisplayStatus.DISPLAYED, DisplayStatus.MISSING, DisplayStatus.OUTDATED):
        raise DomainError("请选择公示情况", field="status")
    note = note.strip()
    if status != DisplayStatus.DISPLAYED and not note:
        raise DomainError("缺失或过期时请说明", field="note")
    with transaction.atomic():
        row = DisplayCheck.objects.select_for_update().select_related("inspection").get(pk=check.pk)
        if row.inspection.completed_at is not None:
            raise DomainError("巡查已完成，不能再修改")
        row.status, row.note, row.checked_by, row.checked_at = status, note[:300], actor, now
        if status == DisplayStatus.MISSING and row.finding_id is None:
            row.finding = Finding.objects.create(
                inspection=insp,
                area=DISPLAY_FINDING_AREA,
                description=f"现场公示缺失：{row.name}。{note}",
                department=Finding.Department.SALES,
                found_at=now,
                due_at=inspection.finding_due(now, insp.day),
                reported_by=actor,
            )
        row.save()
        if row.item_id is not None:
            DisplayItem.objects.filter(pk=row.item_id).update(
                last_checked_on=local_day(now), last_checked_by=actor, last_status=status
            )
            if status == DisplayStatus.DISPLAYED:
                _close_display_findings(row, actor=actor, now=now)
    check.refresh_from_db()
    return check


def _close_display_findings(row: DisplayCheck, *, actor: User, now: datetime) -> int:
    """Close the open findings earlier inspections made of ``row``'s item missing: a later
    inspection saw it displayed again. Returns how many were closed."""
    day = row.inspection.day
    note = f"已在 {day:%Y-%m-%d} 巡查中确认补齐"
    open_findings = Finding.objects.filter(
        handled_at__isnull=True,
        display_check__item_id=row.item_id,
        display_check__inspection__day__lt=day,
        display_check__inspection__project_id=row.inspection.project_id,
    )
    closed = 0
    for finding in open_findings:
        # Compare-and-set: a finding handled by hand meanwhile (or closed by a second
        # confirmation racing this one) is left as it is.
        if Finding.objects.filter(pk=finding.pk, handled_at__isnull=True).update(
            handled_at=now, handled_note=note, handled_by=actor
        ):
            closed += 1
            audit.log(
                audit.AuditLog.Action.UPDATE,
                actor=actor,
                target=finding,
                summary=f"巡查问题自动关闭：{finding}（{note}）",
            )
    return closed
