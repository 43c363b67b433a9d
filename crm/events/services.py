"""Writes for 客户活动: events, invitees, invitations and the 3-day notice, replies (回执),
check-in and the gifts issued at the event.

Rules enforced here:
1. An event moves only along ``Event.ALLOWED_MOVES`` (筹备中 → 已发布 → 已结束; an open
   event may be cancelled), through one guarded mover that locks the row.
2. Invitations and the notice are care messages (crm.care.services.queue_event_message):
   exactly once per invitee and kind (the outbox's unique key), marketing (a customer who
   opted out, is archived or gave no marketing consent gets nothing: the row is recorded
   as cancelled with the reason, shown on the invitee list), never on or after the event.
3. The notice is planned by a job (``crm.events.jobs.plan_event_notices``) on the care
   rule's offset from the event's date (seed 001: 活动前三天 10:00–10:30) for invitees who
   did not decline; moving the event moves the queued messages with it.
4. A gift issued at the event goes through crm.service's issue (stock taken in one
   conditional UPDATE, ledger, timeline) and is linked to the event here.
5. Capacity (名额) is enforced on the seats taken: a reply 参加 or a walk-in beyond it is
   refused, unless someone who manages events (``events.change_event``) confirms the
   admission over capacity (超出名额仍登记), which is stamped on the invitee and audited.
   The event's row is locked while the seats are counted (two staff at the door taking
   the last seat). Invitees checked in at the door without replying are not refused:
   they were counted when the list was drawn up (the invitee preview warns).
6. A walk-in (现场登记) is found by mobile among the customers the user may see; a number
   held by a customer outside their scope is refused with the customer form's wording
   (crm.customers.guard), never naming the holder; an unknown number becomes a customer
   only through crm.customers.services.create_customer (its de-duplication, 活动现场).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm.accounts.access import sees_company
from crm.care import services as care
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import guard, timeline
from crm.customers import services as customer_services
from crm.customers.models import Channel, Customer, TimelineEvent
from crm.customers.selectors import visible_holders
from crm.events.models import Event, EventGift, Invitee
from crm.lib.dates import local_day
from crm.service import services as service_services

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.projects.models import Project

VIEW = "events.view_event"
ADD = "events.add_event"
CHANGE = "events.change_event"
MANAGE_INVITEES = "events.manage_invitees"
EXPORT = "events.export_events"
ADD_CUSTOMER = "customers.add_customer"
OVER_CAPACITY = "超出名额仍登记"
GIFT_OCCASION = "event"  # crm.service Occasion.EVENT (活动礼品)
WEEKDAYS = "一二三四五六日"
# The latest the notice job looks ahead: the rule's offset (3 days) plus slack for a rule
# an administrator moved further out.
NOTICE_LOOKAHEAD_DAYS = 14

EDITABLE = ("kind", "title", "starts_on", "starts_at_time", "place", "capacity", "description", "organiser")
MESSAGE_FIELDS = ("title", "starts_on", "starts_at_time", "place")


def _require(actor: User, perm: str, message: str) -> None:
    if not actor.has_perm(perm):
        raise NotAllowed(message)


def _works_on(actor: User, project: Project) -> bool:
    return project.company_id == actor.company_id and (sees_company(actor) or project.pk in actor.project_ids)


def message_values(event: Event) -> dict[str, object]:
    """The care rule's placeholders: {活动} and {时间} (date, weekday, time and place)."""
    day = event.starts_on
    when = f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）{event.starts_at_time:%H:%M}"
    place = care.clean_event_value(event.place, limit=20)
    if place:
        when += f"（{place}）"
    return {"活动": care.clean_event_value(event.title, limit=20), "时间": when}


def _check_date(starts_on: date, now: datetime) -> None:
    if starts_on < local_day(now):
        raise DomainError("活动日期不能早于今天", field="starts_on")


@transaction.atomic
def create_event(
    project: Project,
    *,
    actor: User,
    title: str,
    starts_on: date,
    starts_at_time: time,
    place: str,
    kind: str = Event.Kind.GATHERING,
    capacity: int | None = None,
    description: str = "",
    organiser: User | None = None,
    now: datetime | None = None,
) -> Event:
    """A new event (筹备中) of one of the actor's projects; the organiser defaults to them."""
    now = now or timezone.now()
    _require(actor, ADD, "您没有组织客户活动的权限")
    if not _works_on(actor, project):
        raise NotAllowed("只能为自己负责的楼盘组织活动")
    if not title.strip():
        raise DomainError("请填写活动名称", field="title")
    _check_date(starts_on, now)
    event = Event.objects.create(
        company_id=project.company_id,
        project=project,
        kind=kind,
        title=title.strip(),
        starts_on=starts_on,
        starts_at_time=starts_at_time,
        place=place.strip(),
        capacity=capacity,
        description=description,
        organiser=organiser or actor,
        created_by=actor,
    )
    audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=event, summary=f"新建客户活动 {event}")
    return event


@dataclass(frozen=True)
class EventUpdate:
    event: Event
    moved: int  # queued messages rewritten (and, for the notice, moved to the new day)
    already_sent: int  # notices already handed to the gateway with the old details


@transaction.atomic
def update_event(event: Event, *, actor: User, now: datetime | None = None, **changes: Any) -> EventUpdate:
    """Edit an open event. When the date, time, title or place change after invitations
    went out, the queued messages are rewritten and the notice moves with the date
    (crm.care.services.move_event_messages); those already sent are counted."""
    now = now or timezone.now()
    _require(actor, CHANGE, "您没有修改客户活动的权限")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.is_open:
        raise DomainError("已结束或已取消的活动不能修改")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    before = {name: getattr(event, name) for name in changes}
    for name, value in changes.items():
        setattr(event, name, value.strip() if isinstance(value, str) else value)
    if not event.title:
        raise DomainError("请填写活动名称", field="title")
    if "starts_on" in changes and changes["starts_on"] != before["starts_on"]:
        _check_date(event.starts_on, now)
    event.save()
    changed = {
        name: [str(before[name]), str(getattr(event, name))] for name in changes if before[name] != getattr(event, name)
    }
    moved = sent = 0
    if any(name in changed for name in MESSAGE_FIELDS):
        result = care.move_event_messages(
            event.key, project_id=event.project_id, event_on=event.starts_on, values=message_values(event), now=now
        )
        if result is not None:
            moved, sent = result.moved, result.already_sent
    if changed:
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=event,
            changes=changed,
            summary=f"修改客户活动 {event}" + (f"，调整待发短信 {moved} 条" if moved else ""),
        )
    return EventUpdate(event, moved, sent)


def _move(event: Event, to: str, *, actor: User) -> Event:
    """The one guarded mover: locks the row and refuses a move not in the table."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if to not in Event.ALLOWED_MOVES[event.status]:
        raise DomainError(f"活动状态不能从“{event.get_status_display()}”改为“{Event.Status(to).label}”")
    frm = event.get_status_display()
    event.status = to
    event.save(update_fields=["status", "updated_at"])
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=event,
        changes={"status": [frm, event.get_status_display()]},
        summary=f"客户活动 {event}：{frm} → {event.get_status_display()}",
    )
    return event


@transaction.atomic
def publish_event(event: Event, *, actor: User) -> Event:
    _require(actor, CHANGE, "您没有发布客户活动的权限")
    return _move(event, Event.Status.PUBLISHED, actor=actor)


@transaction.atomic
def finish_event(event: Event, *, actor: User) -> Event:
    _require(actor, CHANGE, "您没有修改客户活动的权限")
    return _move(event, Event.Status.DONE, actor=actor)


@transaction.atomic
def cancel_event(event: Event, *, actor: User, reason: str) -> Event:
    """Cancel an open event; its invitations and notices not yet sent are withdrawn."""
    _require(actor, CHANGE, "您没有取消客户活动的权限")
    if not reason.strip():
        raise DomainError("请填写取消原因", field="reason")
    event = _move(event, Event.Status.CANCELLED, actor=actor)
    care.cancel_event_messages(event.key, reason=f"活动已取消：{reason.strip()}"[:300])
    return event


# ---------------------------------------------------------------- invitees


@transaction.atomic
def add_invitees(event: Event, customers: QuerySet[Customer], *, actor: User, now: datetime | None = None) -> int:
    """Add the customers the organiser chose by filter (the caller passes the user's scoped
    queryset); one already invited is skipped. Returns how many were added."""
    now = now or timezone.now()
    _require(actor, CHANGE, "您没有邀请客户的权限")
    if not event.is_open:
        raise DomainError("已结束或已取消的活动不能再邀请客户")
    ids = (
        set(customers.values_list("pk", flat=True)) if hasattr(customers, "values_list") else {c.pk for c in customers}
    )
    ids -= set(Invitee.objects.filter(event=event, customer_id__in=ids).values_list("customer_id", flat=True))
    rows = [Invitee(event=event, customer_id=pk, added_by=actor, added_at=now) for pk in sorted(ids)]
    Invitee.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=event,
            summary=f"客户活动 {event}：新增邀请 {len(rows)} 人",
        )
    return len(rows)


@transaction.atomic
def remove_invitee(invitee: Invitee, *, actor: User) -> None:
    """Take a customer off the list (not once they attended); their unsent messages are withdrawn."""
    _require(actor, CHANGE, "您没有修改邀请名单的权限")
    if invitee.attended_at is not None:
        raise DomainError("已签到的客户不能移出名单")
    care.cancel_event_messages(invitee.event.key, reason="已移出活动邀请名单", customer_ids=[invitee.customer_id])
    invitee.delete()


@dataclass(frozen=True)
class Sent:
    queued: int  # invitations queued now
    not_sent: int  # recorded but not going out (opted out, no consent, too late, held)
    awaiting_approval: int = 0  # held until 综合组 approves the event's invitation (rule on)


@transaction.atomic
def send_invitations(event: Event, *, actor: User, now: datetime | None = None) -> Sent:
    """发送邀请: queue the invitation to every invitee not yet invited (publishing the event
    if it is still 筹备中). Running it again sends nothing twice (crm.care's unique key);
    invitees added later are invited on the next run."""
    now = now or timezone.now()
    _require(actor, CHANGE, "您没有发送活动邀请的权限")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.status == Event.Status.DRAFT:
        event = _move(event, Event.Status.PUBLISHED, actor=actor)
    if event.status != Event.Status.PUBLISHED:
        raise DomainError("只有进行中的活动可以发送邀请")
    if event.starts_on <= local_day(now):
        raise DomainError("活动当天及以后不再发送邀请")
    values = message_values(event)
    queued = not_sent = awaiting = 0
    entries: list[timeline.Entry] = []
    for invitee in event.invitees.filter(invited_at__isnull=True).select_related("customer"):
        message = care.queue_event_message(
            care.EventMessage(event.project_id, invitee.customer_id, event.key, "invite", event.starts_on, values),
            now=now,
        )
        invitee.invited_at = now
        invitee.invite_message = message
        invitee.save(update_fields=["invited_at", "invite_message"])
        if message is not None and message.status == message.Status.SCHEDULED:
            queued += 1
        elif message is not None and message.error == care.AWAITING_APPROVAL:
            awaiting += 1
        else:
            not_sent += 1
        entries.append(
            timeline.Entry(
                invitee.customer_id,
                TimelineEvent.Kind.EVENT,
                f"受邀参加客户活动「{event.title}」（{event.starts_on:%m-%d}）",
                actor=actor,
                at=now,
                data={"event": event.pk},
                source=invitee,
            )
        )
    timeline.record_many(entries)
    Event.objects.filter(pk=event.pk).update(invitations_sent_at=now)
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=event,
        summary=f"客户活动 {event}：发送邀请 {queued} 条，未发送 {not_sent} 条"
        + (f"，待综合组审批 {awaiting} 条" if awaiting else ""),
    )
    return Sent(queued, not_sent, awaiting)


def plan_event_notices(*, now: datetime, limit: int = 2000) -> int:
    """The 3-day notice (seed 001: 活动前三天 10:00–10:30): for every published event whose
    notice day (the care rule's offset from the event's date) has come and whose date is
    still ahead, queue the notice to each invited customer who did not decline. Exactly once
    per invitee: the invitee row records it and crm.care's unique key refuses a second row
    (two runners at once). Returns the notices queued or recorded in this run."""
    today = local_day(now)
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED, starts_on__gt=today, starts_on__lte=today + timedelta(days=NOTICE_LOOKAHEAD_DAYS)
    )
    count = 0
    for event in events.order_by("starts_on", "id"):
        rule = care.event_rule(event.project_id)
        if care.event_send_on(rule, event.starts_on) > today:
            continue
        values = message_values(event)
        pending = event.invitees.filter(
            invited_at__isnull=False, notice_message__isnull=True, attended_at__isnull=True
        ).exclude(rsvp=Invitee.Rsvp.NO)
        for invitee in pending[: max(limit - count, 0)]:
            message = care.queue_event_message(
                care.EventMessage(event.project_id, invitee.customer_id, event.key, "notice", event.starts_on, values),
                now=now,
            )
            if message is None:  # the rule is switched off
                break
            Invitee.objects.filter(pk=invitee.pk, notice_message__isnull=True).update(notice_message=message)
            count += 1
        if count >= limit:
            break
    return count


def seats_taken(event: Event) -> int:
    """Seats taken: invitees who replied 参加 (a check-in records 参加 too)."""
    return event.invitees.filter(rsvp=Invitee.Rsvp.YES).count()


def _take_seat(event: Event, *, actor: User, over_capacity: bool) -> bool:
    """Whether one more seat may be taken on ``event`` (locked by the caller). Returns True
    when it is taken beyond the capacity, as confirmed by someone who manages events;
    refuses otherwise once the capacity is reached."""
    if event.capacity is None:
        return False
    taken = seats_taken(event)
    if taken < event.capacity:
        return False
    may_exceed = actor.has_perm(CHANGE)
    if over_capacity and may_exceed:
        return True
    full = f"活动名额 {event.capacity} 人已满（已确认参加 {taken} 人）"
    if may_exceed:
        raise DomainError(f"{full}，如确需登记请勾选“{OVER_CAPACITY}”", field="over_capacity")
    raise DomainError(f"{full}，不能再登记，请联系活动负责人", field="over_capacity")


def _record_over_capacity(event: Event, invitee: Invitee, *, actor: User, now: datetime, what: str) -> None:
    Invitee.objects.filter(pk=invitee.pk).update(over_capacity_by=actor, over_capacity_at=now)
    invitee.over_capacity_by, invitee.over_capacity_at = actor, now
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=event,
        customer_id=invitee.customer_id,
        summary=f"客户活动 {event}：超出名额 {event.capacity} 人仍登记{what}（{invitee.customer.name}）",
    )


@transaction.atomic
def record_rsvp(
    invitee: Invitee,
    *,
    actor: User,
    rsvp: str,
    note: str = "",
    over_capacity: bool = False,
    now: datetime | None = None,
) -> Invitee:
    """Staff record the customer's reply (回执). A customer who declines is not sent the
    notice; a 参加 beyond the capacity is refused unless confirmed (rule 5)."""
    now = now or timezone.now()
    _require(actor, MANAGE_INVITEES, "您没有登记活动回执的权限")
    if rsvp not in Invitee.Rsvp.values:
        raise DomainError("请选择回执", field="rsvp")
    event = Event.objects.select_for_update().get(pk=invitee.event_id)
    if event.status == Event.Status.CANCELLED:
        raise DomainError("活动已取消")
    was = Invitee.objects.filter(pk=invitee.pk).values_list("rsvp", flat=True).first()
    beyond = (
        rsvp == Invitee.Rsvp.YES
        and was != Invitee.Rsvp.YES
        and _take_seat(event, actor=actor, over_capacity=over_capacity)
    )
    invitee.rsvp = rsvp
    invitee.rsvp_note = note.strip()[:100]
    invitee.rsvp_by = actor
    invitee.rsvp_at = now
    invitee.save(update_fields=["rsvp", "rsvp_note", "rsvp_by", "rsvp_at"])
    if beyond:
        _record_over_capacity(event, invitee, actor=actor, now=now, what="回执参加")
    if rsvp == Invitee.Rsvp.NO:
        care.cancel_event_messages(
            invitee.event.key, reason="客户回复不参加活动", customer_ids=[invitee.customer_id], kinds=("notice",)
        )
    return invitee


def _check_in_open(event: Event, now: datetime) -> None:
    if event.status not in (Event.Status.PUBLISHED, Event.Status.DONE):
        raise DomainError("活动未发布或已取消，不能签到")
    if local_day(now) < event.starts_on:
        raise DomainError("活动还未开始，不能签到")


@transaction.atomic
def check_in(invitee: Invitee, *, actor: User, now: datetime | None = None) -> Invitee:
    """签到: the customer came. A second tap changes nothing."""
    now = now or timezone.now()
    _require(actor, MANAGE_INVITEES, "您没有活动签到的权限")
    event = invitee.event
    _check_in_open(event, now)
    updated = Invitee.objects.filter(pk=invitee.pk, attended_at__isnull=True).update(
        attended_at=now, checked_in_by=actor, rsvp=Invitee.Rsvp.YES
    )
    invitee.refresh_from_db()
    if updated:
        timeline.record(
            invitee.customer_id,
            TimelineEvent.Kind.EVENT,
            f"出席客户活动「{event.title}」",
            actor=actor,
            at=now,
            data={"event": event.pk},
            source=invitee,
        )
    return invitee


@dataclass(frozen=True)
class WalkIn:
    invitee: Invitee
    was_invited: bool  # already on the list: checked in as an invitee
    created_customer: bool  # a new customer registered at the door


def _walk_in_customer(event: Event, *, actor: User, mobile: str, name: str, now: datetime) -> tuple[Customer, bool]:
    """The customer a walk-in's mobile belongs to, or a new one; refuses a number held by a
    customer the user may not see with the customer form's wording (never naming them)."""
    existing = customer_services.find_by_mobile(event.company_id, mobile)
    if existing is None:
        name = name.strip()
        if not actor.has_perm(ADD_CUSTOMER):
            raise DomainError("该手机号还不是客户，您没有新建客户的权限，请置业顾问先登记客户再签到", field="mobile")
        if not name:
            raise DomainError("该手机号还不是客户，请填写姓名，登记为新客户", field="name")
        try:
            customer = customer_services.create_customer(
                actor=actor, name=name, mobile=mobile, source_channel=Channel.EVENT, project=event.project
            )
        except customer_services.DuplicateCustomer as exc:  # registered meanwhile
            existing = exc.existing
        else:
            return customer, True
    if not visible_holders(actor, [existing.pk]).exists():
        raise DomainError(guard.hidden_duplicate_message(actor, customer_id=existing.pk, now=now), field="mobile")
    if existing.is_archived:
        raise DomainError(f"客户 {existing.name}（{existing.number}）已归档，请先恢复客户档案", field="mobile")
    return existing, False


@transaction.atomic
def register_walk_in(
    event: Event,
    *,
    actor: User,
    mobile: str,
    name: str = "",
    over_capacity: bool = False,
    now: datetime | None = None,
) -> WalkIn:
    """现场登记: someone who was not invited came to the event.

    1. Only on the event's day or later, for a published (or finished) event; with the
       permission to check people in.
    2. The mobile finds the customer among those the user may see (an invitee already on
       the list is simply checked in); one held outside their scope is refused as the
       customer form refuses it; an unknown number is registered as a new customer (活动现场)
       through crm.customers by a user who may add customers, or refused.
    3. A new seat: refused beyond the capacity unless confirmed (rule 5).
    4. The invitee is added as 现场登记, replied 参加 and checked in, on the customer's
       timeline and in the audit log.
    """
    now = now or timezone.now()
    _require(actor, MANAGE_INVITEES, "您没有活动签到的权限")
    event = Event.objects.select_for_update().select_related("project").get(pk=event.pk)
    _check_in_open(event, now)
    number = customer_services.clean_mobile(mobile)
    customer, created = _walk_in_customer(event, actor=actor, mobile=number, name=name, now=now)
    invitee = Invitee.objects.filter(event=event, customer=customer).first()
    if invitee is not None:
        return WalkIn(check_in(invitee, actor=actor, now=now), was_invited=True, created_customer=created)
    beyond = _take_seat(event, actor=actor, over_capacity=over_capacity)
    invitee = Invitee.objects.create(
        event=event,
        customer=customer,
        source=Invitee.Source.WALK_IN,
        added_by=actor,
        added_at=now,
        rsvp=Invitee.Rsvp.YES,
        rsvp_by=actor,
        rsvp_at=now,
        attended_at=now,
        checked_in_by=actor,
    )
    timeline.record(
        customer.pk,
        TimelineEvent.Kind.EVENT,
        f"出席客户活动「{event.title}」（现场登记）",
        actor=actor,
        at=now,
        data={"event": event.pk, "walk_in": True},
        source=invitee,
    )
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=event,
        customer_id=customer.pk,
        summary=f"客户活动 {event}：现场登记 {customer.name}（{customer.number}）" + ("，新建客户" if created else ""),
    )
    if beyond:
        _record_over_capacity(event, invitee, actor=actor, now=now, what="现场登记")
    return WalkIn(invitee, was_invited=False, created_customer=created)


@transaction.atomic
def undo_check_in(invitee: Invitee, *, actor: User) -> Invitee:
    """A check-in tapped by mistake is taken back (its timeline entry stays, with this one)."""
    _require(actor, MANAGE_INVITEES, "您没有活动签到的权限")
    if Invitee.objects.filter(pk=invitee.pk, attended_at__isnull=False).update(attended_at=None, checked_in_by=None):
        timeline.record(
            invitee.customer_id,
            TimelineEvent.Kind.EVENT,
            f"撤销客户活动「{invitee.event.title}」签到",
            actor=actor,
            data={"event": invitee.event_id},
            source=invitee,
        )
    invitee.refresh_from_db()
    return invitee


@transaction.atomic
def issue_event_gift(
    event: Event, *, actor: User, invitee: Invitee, gift: Any, quantity: int = 1, now: datetime | None = None
) -> EventGift:
    """活动礼品: issued through crm.service (its permission, stock, ledger and the customer's
    礼品 timeline event) and linked to the event and the invitee."""
    now = now or timezone.now()
    event = Event.objects.select_related("project").get(pk=event.pk)
    if invitee.event_id != event.pk:
        raise DomainError("该客户不在本活动的邀请名单中")
    if event.status not in (Event.Status.PUBLISHED, Event.Status.DONE):
        raise DomainError("活动未发布或已取消，不能发放活动礼品")
    issue = service_services.issue_gift(
        gift,
        actor=actor,
        project=event.project,
        quantity=quantity,
        occasion=GIFT_OCCASION,
        customer=invitee.customer,
        reason=f"活动：{event.title}"[:200],
        now=now,
    )
    return EventGift.objects.create(event=event, invitee=invitee, issue=issue)
