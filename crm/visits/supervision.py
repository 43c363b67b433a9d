"""Supervision of visit records (回访督查, issue 12 item 6; seed 004).

The supervisor (行政主管, 客服中心主任: ``visits.review_visits``) reviews the ended visits in
their scope (crm.visits.forms.ReviewFilterForm), draws a random sample of them (the seed is
shown, so the same sample can be drawn again) and flags a record with a comment the visitor
must answer. The visitor sees the open flag on the workbench and answers it on the task
page; the answer closes the flag (已答复). The supervisor then accepts it (已认可) or opens
it again with a new comment.

Recorded notes (the customer's opinions typed with an outcome) are checked on save for the
forbidden service phrases (服务忌语) of seed 004 — ``SEED_PHRASES`` — and the company's own
list (``ForbiddenPhrase``, in the admin); a note with one is flagged automatically with the
phrase found. Whitespace inside the note does not hide a phrase.

Every move writes a FlagEvent (the flag's history) and an audit row. Flags are an internal
quality review, so they are not put on the customer's timeline.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.visits.models import FlagEvent, ForbiddenPhrase, ReviewFlag, VisitTask

if TYPE_CHECKING:
    from crm.accounts.models import User

REVIEW = "visits.review_visits"

# Seed 004 (咨询服务管理规定 三): 禁止使用'我不知道'、'这事情不归我管'等服务忌语.
SEED_PHRASES = ("我不知道", "这事情不归我管")

# The records a supervisor reviews: the visits that ended (done, or unreachable).
ENDED = (VisitTask.Status.DONE, VisitTask.Status.UNREACHABLE)
SAMPLE_MAX = 200

Flag = ReviewFlag.Status
_SPACE = re.compile(r"\s+")


def phrases_for(company_id: int) -> list[str]:
    """Seed 004's phrases and the company's own active ones, without duplicates."""
    own = ForbiddenPhrase.objects.filter(company_id=company_id, is_active=True).values_list("phrase", flat=True)
    found: list[str] = []
    for phrase in (*SEED_PHRASES, *own):
        phrase = _SPACE.sub("", phrase)
        if phrase and phrase not in found:
            found.append(phrase)
    return found


def find_phrases(text: str, phrases: Sequence[str]) -> list[str]:
    """The phrases that occur in ``text`` (whitespace ignored), in list order."""
    compact = _SPACE.sub("", text)
    return [p for p in phrases if p in compact]


def may_review(user: User, task: VisitTask) -> bool:
    return user.is_active and user.company_id == task.company_id and user.has_perm(REVIEW)


def visitor_of(task: VisitTask) -> int | None:
    return task.completed_by_id or task.assignee_id


def _event(flag: ReviewFlag, kind: str, *, actor: User | None, note: str, at: datetime) -> None:
    FlagEvent.objects.create(flag=flag, kind=kind, actor=actor, note=note, at=at)
    audit.log(
        audit.AuditLog.Action.CREATE if kind == FlagEvent.Kind.FLAGGED else audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=flag,
        customer_id=flag.task.customer_id,
        summary=f"回访督查：{FlagEvent.Kind(kind).label}",
        reason=note[:200],
    )


def check_notes(task: VisitTask, text: str, *, now: datetime | None = None) -> ReviewFlag | None:
    """Flag ``task`` when ``text`` (the notes just recorded) has a forbidden phrase; one
    open phrase flag per task and phrase (recording again does not pile them up)."""
    found = find_phrases(text, phrases_for(task.company_id))
    if not found:
        return None
    phrase = "、".join(found)[:40]
    if ReviewFlag.objects.filter(task=task, source=ReviewFlag.Source.PHRASE, phrase=phrase, status=Flag.OPEN).exists():
        return None
    now = now or timezone.now()
    quoted = "、".join(f"“{p}”" for p in found)
    with transaction.atomic():
        flag = ReviewFlag.objects.create(
            company_id=task.company_id,
            task=task,
            visitor_id=visitor_of(task),
            source=ReviewFlag.Source.PHRASE,
            phrase=phrase,
            comment=f"回访记录中出现服务忌语{quoted}（回访管理规定禁止使用），请说明情况",
            flagged_at=now,
        )
        _event(flag, FlagEvent.Kind.FLAGGED, actor=None, note=f"系统检查发现服务忌语：{phrase}", at=now)
    return flag


def flag_record(task: VisitTask, *, actor: User, comment: str, now: datetime | None = None) -> ReviewFlag:
    """The supervisor flags an ended visit record with a comment the visitor must answer."""
    if not may_review(actor, task):
        raise NotAllowed("只有行政主管或客服中心主任可以督查回访记录")
    if task.status not in ENDED:
        raise DomainError("只能督查已结束的回访记录", field="comment")
    comment = comment.strip()
    if not comment:
        raise DomainError("请填写督查意见", field="comment")
    visitor = visitor_of(task)
    if visitor is None:
        raise DomainError("这条回访没有回访人，无法要求答复", field="comment")
    now = now or timezone.now()
    with transaction.atomic():
        flag = ReviewFlag.objects.create(
            company_id=task.company_id,
            task=task,
            visitor_id=visitor,
            source=ReviewFlag.Source.REVIEW,
            comment=comment,
            flagged_by=actor,
            flagged_at=now,
        )
        _event(flag, FlagEvent.Kind.FLAGGED, actor=actor, note=comment, at=now)
    return flag


def _locked(flag: ReviewFlag, expect: Flag) -> ReviewFlag:
    row = ReviewFlag.objects.select_for_update().select_related("task").get(pk=flag.pk)
    if row.status != expect:
        raise DomainError(f"该督查标记当前为“{Flag(row.status).label}”，不能这样操作")
    return row


def answer_flag(flag: ReviewFlag, *, actor: User, answer: str, now: datetime | None = None) -> ReviewFlag:
    """The visitor answers the comment; the answer closes the flag (已答复)."""
    if actor.pk != flag.visitor_id or not actor.is_active:
        raise NotAllowed("只有这条回访的回访人可以答复督查意见")
    answer = answer.strip()
    if not answer:
        raise DomainError("请填写答复", field="answer")
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(flag, Flag.OPEN)
        row.status, row.answer, row.answered_at = Flag.ANSWERED, answer, now
        row.save(update_fields=["status", "answer", "answered_at"])
        _event(row, FlagEvent.Kind.ANSWERED, actor=actor, note=answer, at=now)
    return row


def accept_flag(flag: ReviewFlag, *, actor: User, note: str = "", now: datetime | None = None) -> ReviewFlag:
    """The supervisor accepts the answer (已认可, final)."""
    if not may_review(actor, flag.task):
        raise NotAllowed("只有行政主管或客服中心主任可以确认督查标记")
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(flag, Flag.ANSWERED)
        row.status, row.closed_at = Flag.ACCEPTED, now
        row.save(update_fields=["status", "closed_at"])
        _event(row, FlagEvent.Kind.ACCEPTED, actor=actor, note=note.strip() or "认可答复", at=now)
    return row


def reopen_flag(flag: ReviewFlag, *, actor: User, comment: str, now: datetime | None = None) -> ReviewFlag:
    """The supervisor does not accept the answer: the flag is open again with a new
    comment for the visitor (the earlier ones stay in the history)."""
    if not may_review(actor, flag.task):
        raise NotAllowed("只有行政主管或客服中心主任可以重新打开督查标记")
    comment = comment.strip()
    if not comment:
        raise DomainError("请填写需要回访人补充说明的内容", field="comment")
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(flag, Flag.ANSWERED)
        row.status, row.comment, row.answered_at = Flag.OPEN, comment, None
        row.save(update_fields=["status", "comment", "answered_at"])
        _event(row, FlagEvent.Kind.REOPENED, actor=actor, note=comment, at=now)
    return row


def draw_sample(ids: Sequence[int], size: int, seed: int) -> list[int]:
    """``size`` of ``ids`` (sorted first) picked by ``random.Random(seed)``: the same seed
    over the same records gives the same sample."""
    population = sorted(ids)
    size = max(0, min(size, len(population), SAMPLE_MAX))
    return sorted(random.Random(seed).sample(population, size))
