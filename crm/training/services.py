"""Writes of 培训: plans, sessions and their attendees, attendance and scores, summaries.

Seed 001: training plans are applied for through HR and sales staff are trained in
batches; the content is monitored, each attendee summarises it, and it is assessed
regularly. Planning is for 综合组, 行政主管, 客服中心主任 and administrators
(``training.plan_training``); attendance and scores are recorded by them or by the
session's own trainer; the summary is the attendee's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.accounts import access
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.core.notifications import notify
from crm.training.models import Attendance, TrainingPlan, TrainingSession

if TYPE_CHECKING:
    from crm.accounts.models import User

VIEW = "training.view_trainingsession"
PLAN = "training.plan_training"
RECORD = "training.record_training"
EXPORT = "training.export_training"
VIEW_RECORDS = "training.view_training_records"


def _require_planner(actor: User) -> None:
    if not actor.has_perm(PLAN):
        raise NotAllowed("您没有安排培训的权限")


def may_record(actor: User, session: TrainingSession) -> bool:
    """Planners record every session of their company; a trainer their own session."""
    if session.company_id != actor.company_id:
        return False
    return actor.has_perm(RECORD) or (session.trainer_id is not None and session.trainer_id == actor.pk)


def _check_period(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise DomainError("结束日期不能早于开始日期", field="ends_on")


def create_plan(
    *,
    actor: User,
    title: str,
    topic: str,
    starts_on: date,
    ends_on: date,
    audience: str = "",
    description: str = "",
    now: datetime | None = None,
) -> TrainingPlan:
    """制定培训计划 (planners only)."""
    _require_planner(actor)
    _check_period(starts_on, ends_on)
    if not title.strip():
        raise DomainError("请填写计划名称", field="title")
    return TrainingPlan.objects.create(
        company_id=access.company_of(actor),
        title=title.strip(),
        topic=topic,
        starts_on=starts_on,
        ends_on=ends_on,
        audience=audience.strip(),
        description=description.strip(),
        created_by=actor,
        created_at=now or timezone.now(),
    )


def update_plan(plan: TrainingPlan, *, actor: User, **fields: object) -> TrainingPlan:
    _require_planner(actor)
    for name in ("title", "topic", "starts_on", "ends_on", "audience", "description"):
        if name in fields:
            setattr(plan, name, fields[name])
    _check_period(plan.starts_on, plan.ends_on)
    plan.save()
    return plan


def _check_people(actor: User, trainer: User | None, trainer_name: str, attendees: list[User]) -> None:
    if trainer is None and not trainer_name.strip():
        raise DomainError("请选择讲师或填写外部讲师姓名", field="trainer")
    if trainer is not None and trainer.company_id != actor.company_id:
        raise DomainError("讲师不存在", field="trainer")
    if not attendees:
        raise DomainError("请选择参加培训的人员", field="attendees")
    if any(person.company_id != actor.company_id or not person.is_active for person in attendees):
        raise DomainError("参训人员须为本公司在职员工", field="attendees")


def _invite(session: TrainingSession, people: Iterable[User], *, actor: User, now: datetime) -> None:
    local = timezone.localtime(session.starts_at)
    notify(
        people,
        kind="training_session",
        title=f"培训通知：{session.topic}（{local:%m-%d %H:%M}）",
        text=f"地点：{session.location or '另行通知'}；讲师：{session.trainer_label}",
        key=f"training:{session.pk}:invite",
        link=reverse("training:session_detail", args=[session.pk]),
        now=now,
        exclude=actor,
    )


def schedule_session(
    plan: TrainingPlan,
    *,
    actor: User,
    topic: str,
    starts_at: datetime,
    attendees: Iterable[User],
    trainer: User | None = None,
    trainer_name: str = "",
    hours: Decimal = Decimal(2),
    location: str = "",
    now: datetime | None = None,
) -> TrainingSession:
    """安排培训:

    1. Planners only; the plan, the trainer and every attendee belong to the actor's company.
    2. A trainer on staff or an outside trainer's name; at least one attendee.
    3. One attendance row per attendee (待培训), and each attendee is notified once.
    """
    now = now or timezone.now()
    _require_planner(actor)
    if plan.company_id != actor.company_id:
        raise DomainError("培训计划不存在", field="plan")
    people = list(dict.fromkeys(attendees))
    _check_people(actor, trainer, trainer_name, people)
    with transaction.atomic():
        session = TrainingSession.objects.create(
            company_id=access.company_of(actor),
            plan=plan,
            topic=topic.strip() or plan.get_topic_display(),
            trainer=trainer,
            trainer_name="" if trainer else trainer_name.strip(),
            starts_at=starts_at,
            hours=hours,
            location=location.strip(),
            created_by=actor,
            created_at=now,
        )
        Attendance.objects.bulk_create([Attendance(session=session, attendee=person) for person in people])
        _invite(session, people, actor=actor, now=now)
    return session


def update_session(
    session: TrainingSession,
    *,
    actor: User,
    topic: str,
    starts_at: datetime,
    attendees: Iterable[User],
    trainer: User | None = None,
    trainer_name: str = "",
    hours: Decimal = Decimal(2),
    location: str = "",
    now: datetime | None = None,
) -> TrainingSession:
    """修改培训: new attendees get a row (and a notice); removed ones lose theirs only while
    nothing is recorded for them (no score, no summary, still 待培训)."""
    now = now or timezone.now()
    _require_planner(actor)
    people = list(dict.fromkeys(attendees))
    _check_people(actor, trainer, trainer_name, people)
    with transaction.atomic():
        session.topic = topic.strip() or session.topic
        session.starts_at = starts_at
        session.trainer = trainer
        session.trainer_name = "" if trainer else trainer_name.strip()
        session.hours = hours
        session.location = location.strip()
        session.save()
        current = {a.attendee_id: a for a in session.attendances.all()}
        wanted = {person.pk for person in people}
        for pk, attendance in current.items():
            if pk in wanted:
                continue
            if attendance.status != Attendance.Status.EXPECTED or attendance.score is not None or attendance.summary:
                raise DomainError(f"{attendance.attendee}已有出勤或成绩记录，不能移出", field="attendees")
            attendance.delete()
        added = [person for person in people if person.pk not in current]
        Attendance.objects.bulk_create([Attendance(session=session, attendee=person) for person in added])
        _invite(session, added, actor=actor, now=now)
    return session


def record_attendance(
    session: TrainingSession,
    *,
    actor: User,
    entries: Iterable[tuple[Attendance, str, int | None]],
    now: datetime | None = None,
) -> int:
    """登记出勤与考核成绩: (attendance, status, score) per attendee of the session.

    1. Planners, or the session's trainer.
    2. 出席 and a score only once the session has started; 请假/缺席 any time.
    3. A score (0–100) only for an attendee who attended.
    Returns how many rows changed.
    """
    now = now or timezone.now()
    if not may_record(actor, session):
        raise NotAllowed("您没有登记该培训出勤与成绩的权限")
    changed = 0
    with transaction.atomic():
        for attendance, status, score in entries:
            if attendance.session_id != session.pk:
                raise DomainError("学员不在本次培训中")
            if status not in Attendance.Status.values:
                raise DomainError("请选择出勤情况", field=f"status_{attendance.pk}")
            if status == Attendance.Status.ATTENDED and now < session.starts_at:
                raise DomainError(f"培训尚未开始，不能登记{attendance.attendee}出席", field=f"status_{attendance.pk}")
            if score is not None and status != Attendance.Status.ATTENDED:
                raise DomainError(f"{attendance.attendee}未出席，不能登记成绩", field=f"score_{attendance.pk}")
            if score is not None and not 0 <= score <= 100:
                raise DomainError("成绩须在 0–100 之间", field=f"score_{attendance.pk}")
            if (attendance.status, attendance.score) == (status, score):
                continue
            attendance.status = status
            attendance.score = score
            attendance.recorded_by = actor
            attendance.recorded_at = now
            attendance.save(update_fields=["status", "score", "recorded_by", "recorded_at"])
            changed += 1
    return changed


def write_summary(attendance: Attendance, *, actor: User, text: str, now: datetime | None = None) -> Attendance:
    """培训总结: the attendee's own, once the session has started, unless absent."""
    now = now or timezone.now()
    if attendance.attendee_id != actor.pk:
        raise NotAllowed("只能填写自己的培训总结")
    if now < attendance.session.starts_at:
        raise DomainError("培训开始后才能填写总结", field="summary")
    if attendance.status in (Attendance.Status.ABSENT, Attendance.Status.LEAVE):
        raise DomainError("未出席的培训无需填写总结", field="summary")
    if not text.strip():
        raise DomainError("请填写培训总结", field="summary")
    attendance.summary = text.strip()
    attendance.summary_at = now
    attendance.save(update_fields=["summary", "summary_at"])
    return attendance
