"""Special visit campaigns (专项回访, seed 000: 针对新政策、新产品或投诉集中问题开展专项回访).

The director states the purpose, script and questions, picks the audience by filter over
the customers in their own scope (project, stage, deal milestone, tags), previews the
count, sets the due window and how tasks are spread (each customer's consultant, or
round-robin over named staff), and launches it: one task per customer (``campaign:<id>``,
unique for plan-less tasks), so launching again adds only customers who newly match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from crm.complaints import selectors as complaint_selectors
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible_to
from crm.lib.dates import local_day, local_midnight
from crm.visits.models import Campaign, Milestone, TaskKind, VisitTask

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.customers.models import Tag
    from crm.projects.models import Project

MANAGE = "visits.manage_campaign"
RECORD = "visits.change_visittask"

MILESTONE_FIELD = {
    Milestone.SUBSCRIBED: "subscribed_on",
    Milestone.CONTRACTED: "contracted_on",
    Milestone.DELIVERED: "delivered_on",
    Milestone.MOVED_IN: "moved_in_on",
}


@dataclass(frozen=True)
class Audience:
    """The filter over customers in scope; empty parts do not filter."""

    project_id: int | None = None
    stage: str = ""
    grade: str = ""
    milestone: str = ""
    tag_ids: tuple[int, ...] = ()
    registered_from: date | None = None
    registered_to: date | None = None
    # Customers with a complaint (of this category; registered in the range, if given).
    complaint_category_id: int | None = None
    complaints_from: date | None = None
    complaints_to: date | None = None

    @property
    def by_complaints(self) -> bool:
        return bool(self.complaint_category_id or self.complaints_from or self.complaints_to)

    @classmethod
    def of(cls, campaign: Campaign) -> Audience:
        return cls(
            project_id=campaign.project_id,
            stage=campaign.stage,
            grade=campaign.grade,
            registered_from=campaign.registered_from,
            registered_to=campaign.registered_to,
            milestone=campaign.milestone,
            tag_ids=tuple(sorted(campaign.tags.values_list("pk", flat=True))),
            complaint_category_id=campaign.complaint_category_id,
            complaints_from=campaign.complaints_from,
            complaints_to=campaign.complaints_to,
        )


def audience(user: User, spec: Audience) -> QuerySet[Customer]:
    """The customers in ``user``'s scope matching ``spec`` (with any of the tags)."""
    rows = customers_visible_to(user)
    if spec.project_id:
        rows = rows.filter(project_id=spec.project_id)
    if spec.stage:
        rows = rows.filter(stage=spec.stage)
    if spec.grade:
        rows = rows.filter(grade=spec.grade)
    if spec.registered_from:
        rows = rows.filter(created_at__gte=local_midnight(spec.registered_from))
    if spec.registered_to:
        rows = rows.filter(created_at__lt=local_midnight(spec.registered_to + timedelta(days=1)))
    if spec.milestone:
        field = MILESTONE_FIELD[Milestone(spec.milestone)]
        deals = Q(**{f"deals__{field}__isnull": False}, deals__cancelled_on__isnull=True)
        rows = rows.filter(deals)
    if spec.tag_ids:
        rows = rows.filter(tags__in=spec.tag_ids)
    if spec.by_complaints:
        # Complaints the director can see (their complaint scope), not cancelled.
        rows = rows.filter(
            pk__in=complaint_selectors.customer_ids_with_complaints(
                user,
                category_ids=(spec.complaint_category_id,) if spec.complaint_category_id else (),
                since=spec.complaints_from,
                until=spec.complaints_to,
            )
        )
    return rows.distinct()


def create_campaign(
    *,
    actor: User,
    name: str,
    purpose: str,
    start_on: date | None,
    due_on: date | None,
    script: str = "",
    questions: str = "",
    channel: str = "phone",
    project: Project | None = None,
    stage: str = "",
    grade: str = "",
    milestone: str = "",
    tags: Iterable[Tag] = (),
    registered_from: date | None = None,
    registered_to: date | None = None,
    complaint_category: complaint_selectors.CategoryModel | None = None,
    complaints_from: date | None = None,
    complaints_to: date | None = None,
    assign: str = Campaign.Assign.OWNER,
    assignees: Sequence[User] = (),
    now: datetime | None = None,
) -> Campaign:
    """A campaign, not yet launched. Chinese errors name the field."""
    company_id = actor.company_id
    if not actor.has_perm(MANAGE) or company_id is None:
        raise NotAllowed("只有客服中心主任可以创建专项回访")
    now = now or timezone.now()
    name, purpose = name.strip(), purpose.strip()
    if not name:
        raise DomainError("请填写专项名称", field="name")
    if not purpose:
        raise DomainError("请填写回访目的", field="purpose")
    if start_on is None:
        raise DomainError("请填写开始日期", field="start_on")
    if due_on is None:
        raise DomainError("请填写完成期限", field="due_on")
    if due_on < start_on:
        raise DomainError("完成期限不能早于开始日期", field="due_on")
    if due_on < local_day(now):
        raise DomainError("完成期限不能早于今天", field="due_on")
    if registered_from and registered_to and registered_to < registered_from:
        raise DomainError("录入日期的结束不能早于开始", field="registered_to")
    if complaints_from and complaints_to and complaints_to < complaints_from:
        raise DomainError("投诉日期的结束不能早于开始", field="complaints_to")
    if complaint_category is not None and complaint_category.company_id != actor.company_id:
        raise DomainError("请选择本公司的投诉类别", field="complaint_category")
    if project is not None and (project.company_id != actor.company_id):
        raise DomainError("请选择本公司的楼盘", field="project")
    people = list(assignees)
    if assign == Campaign.Assign.ROUND_ROBIN:
        if not people:
            raise DomainError("轮流分配时请选择回访人员", field="assignees")
        for person in people:
            if person.company_id != actor.company_id or not person.is_active or not person.has_perm(RECORD):
                raise DomainError(f"{person} 不能做回访，请重新选择", field="assignees")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            company_id=company_id,
            name=name,
            purpose=purpose,
            script=script.strip(),
            questions=questions.strip(),
            channel=channel,
            project=project,
            stage=stage,
            grade=grade,
            registered_from=registered_from,
            registered_to=registered_to,
            complaint_category=complaint_category,
            complaints_from=complaints_from,
            complaints_to=complaints_to,
            milestone=milestone,
            start_on=start_on,
            due_on=due_on,
            assign=assign,
            created_by=actor,
            created_at=now,
        )
        campaign.tags.set(list(tags))
        if assign == Campaign.Assign.ROUND_ROBIN:
            campaign.assignees.set(people)
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=campaign, summary=f"创建专项回访：{name}")
    return campaign


def launch(campaign: Campaign, *, actor: User, now: datetime | None = None) -> int:
    """Make the campaign's tasks: one per matching customer in the actor's scope, once
    (a second launch adds only the customers who newly match). Returns how many."""
    if not actor.has_perm(MANAGE) or actor.company_id != campaign.company_id:
        raise NotAllowed("只有客服中心主任可以下发专项回访")
    now = now or timezone.now()
    if campaign.due_on < local_day(now):
        raise DomainError("专项回访已过完成期限，不能再下发")
    occasion = f"campaign:{campaign.pk}"
    already = VisitTask.objects.filter(campaign=campaign).values("customer_id")
    customers = list(
        audience(actor, Audience.of(campaign))
        .exclude(pk__in=already)
        .order_by("pk")
        .values_list("pk", "project_id", "owner_id", "owner__is_active")
    )
    people = sorted(campaign.assignees.values_list("pk", flat=True))
    start = max(campaign.start_on, local_day(now))
    tasks: list[VisitTask] = []
    for i, (customer_id, project_id, owner_id, owner_active) in enumerate(customers):
        if project_id is None:
            continue
        if campaign.assign == Campaign.Assign.ROUND_ROBIN:
            assignee = people[i % len(people)] if people else None
        else:
            assignee = owner_id if owner_active else None
        tasks.append(
            VisitTask(
                company_id=campaign.company_id,
                customer_id=customer_id,
                project_id=project_id,
                kind=TaskKind.CAMPAIGN,
                campaign=campaign,
                occasion=occasion,
                occasion_on=campaign.start_on,
                purpose=campaign.purpose[:200],
                channel=campaign.channel,
                questions=campaign.question_list,
                assignee_id=assignee,
                start_on=start,
                due_on=campaign.due_on,
            )
        )
    with transaction.atomic():
        before = VisitTask.objects.filter(campaign=campaign).count()
        VisitTask.objects.bulk_create(tasks, ignore_conflicts=True)
        made = VisitTask.objects.filter(campaign=campaign).count() - before
        Campaign.objects.filter(pk=campaign.pk, launched_at__isnull=True).update(launched_at=now)
        audit.log(
            audit.AuditLog.Action.UPDATE, actor=actor, target=campaign, summary=f"下发专项回访：新增 {made} 个任务"
        )
    campaign.refresh_from_db()
    return made


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    reached: int
    unreachable: int
    open: int
    overdue: int
    satisfaction: float | None

    @property
    def done_percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def reach_percent(self) -> int:
        finished = self.reached + self.unreachable
        return round(100 * self.reached / finished) if finished else 0


def _counts(today: date) -> dict[str, Any]:
    open_q = Q(status__in=list(VisitTask.OPEN))
    return {
        "total": Count("pk"),
        "done": Count("pk", filter=Q(status=VisitTask.Status.DONE)),
        "reached": Count("pk", filter=Q(reached=True)),
        "unreachable": Count("pk", filter=Q(status=VisitTask.Status.UNREACHABLE)),
        "open": Count("pk", filter=open_q),
        "overdue": Count("pk", filter=open_q & Q(due_on__lt=today)),
        "satisfaction": Avg("satisfaction"),
    }


def _progress(row: dict[str, Any]) -> Progress:
    sat = row.pop("satisfaction", None)
    return Progress(
        **{k: row.get(k) or 0 for k in ("total", "done", "reached", "unreachable", "open", "overdue")},
        satisfaction=round(float(sat), 2) if sat is not None else None,
    )


def progress(campaign: Campaign, *, today: date) -> Progress:
    """完成 / 联系上 / 满意度 of a campaign's tasks, in one query."""
    return _progress(VisitTask.objects.filter(campaign=campaign).aggregate(**_counts(today)))


def progress_of(campaign_ids: Iterable[int], *, today: date) -> dict[int, Progress]:
    """The progress of many campaigns in one grouped query (the list page)."""
    rows = (
        VisitTask.objects.filter(campaign_id__in=list(campaign_ids))
        .values("campaign_id")
        .annotate(**_counts(today))
        .order_by()
    )
    result: dict[int, Progress] = {}
    for row in rows:
        values: dict[str, Any] = dict(row)
        result[values.pop("campaign_id")] = _progress(values)
    return result
