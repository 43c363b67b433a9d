"""Reads of 培训 scoped to the user.

Who sees which sessions and whose record is decided in crm.accounts.access
(training_people_q, training_scope_q, built on staff_in_scope_q):
- planners (``training.plan_training``): every session and record of their company;
- holders of ``training.view_training_records`` (销售组长, 管理层): the sessions and records
  of the staff in their scope (a team leader: the team);
- everyone: the sessions they attend or teach, and their own record.
Outside that: 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404

from crm.accounts import access
from crm.accounts.models import User
from crm.training.models import Attendance, TrainingPlan, TrainingSession
from crm.training.services import PLAN, VIEW


def people_visible_to(user: User) -> QuerySet[User]:
    """Staff whose training record the user may read (themself always)."""
    return User.objects.filter(access.training_people_q(user))


def session_scope_q(user: User) -> Q:
    return access.training_scope_q(user)


def sessions_visible_to(user: User) -> QuerySet[TrainingSession]:
    if not user.has_perm(VIEW):
        return TrainingSession.objects.none()
    # Through a subquery: the attendee join would repeat a session once per attendee.
    ids = TrainingSession.objects.filter(session_scope_q(user)).values("pk")
    return TrainingSession.objects.filter(pk__in=ids)


def get_session_for_user(user: User, pk: int) -> TrainingSession:
    session = sessions_visible_to(user).select_related("plan", "trainer").filter(pk=pk).first()
    if session is None:
        raise Http404("培训不存在或无权查看")
    return session


def plans_visible_to(user: User) -> QuerySet[TrainingPlan]:
    if user.has_perm(PLAN):
        return TrainingPlan.objects.filter(company_id=access.company_of(user))
    return TrainingPlan.objects.filter(pk__in=sessions_visible_to(user).values("plan_id"))


def get_plan_for_user(user: User, pk: int) -> TrainingPlan:
    plan = plans_visible_to(user).filter(pk=pk).first()
    if plan is None:
        raise Http404("培训计划不存在或无权查看")
    return plan


def get_person_for_user(user: User, pk: int) -> User:
    person = people_visible_to(user).filter(pk=pk).first()
    if person is None:
        raise Http404("员工不存在或无权查看")
    return person


def attendances_of(session: TrainingSession) -> QuerySet[Attendance]:
    return session.attendances.select_related("attendee", "recorded_by").order_by("attendee__username")


def record_of(person: User) -> QuerySet[Attendance]:
    """A person's training record: every session they were expected at, newest first."""
    return (
        Attendance.objects.filter(attendee=person)
        .select_related("session", "session__plan", "session__trainer")
        .order_by("-session__starts_at")
    )


def record_summary(person: User) -> dict[str, Any]:
    rows = Attendance.objects.filter(attendee=person)
    counts = dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "sessions": sum(counts.values()),
        "attended": counts.get(Attendance.Status.ATTENDED, 0),
        "absent": counts.get(Attendance.Status.ABSENT, 0),
        "leave": counts.get(Attendance.Status.LEAVE, 0),
        "average": rows.filter(score__isnull=False).aggregate(avg=Avg("score"))["avg"],
    }


def upcoming_for(user: User, *, now: datetime) -> QuerySet[Attendance]:
    """My sessions still to come (the workbench card)."""
    return Attendance.objects.filter(
        attendee_id=user.pk, status=Attendance.Status.EXPECTED, session__starts_at__gte=now
    ).select_related("session")


def summaries_due_for(user: User, *, now: datetime) -> QuerySet[Attendance]:
    """Sessions I attended (or that have started and are not marked absent or on leave)
    without my summary yet."""
    return Attendance.objects.filter(
        attendee_id=user.pk,
        status__in=(Attendance.Status.ATTENDED, Attendance.Status.EXPECTED),
        session__starts_at__lt=now,
        summary="",
    ).select_related("session")
