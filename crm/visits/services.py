"""Visit writes: the default plans, the one guarded mover, recording a call's outcome,
assigning and cancelling.

Every status change goes through ``move``: it locks the row, refuses a move the table
(``VisitTask.ALLOWED_MOVES``) does not allow, stamps what belongs to the move, writes the
VisitEvent (actor, from, to, channel, note), the customer's timeline (回访) and the audit
log. The verbs add only their own checks: who may, and what must be given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from crm.accounts.access import may_write_improvement_plan
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.visits import supervision, timing
from crm.visits.models import (
    AssigneeRule,
    Channel,
    ImprovementPlan,
    IssueCategory,
    IssueEvent,
    IssueReminder,
    Occasion,
    VisitEvent,
    VisitIssue,
    VisitPlan,
    VisitTask,
)

if TYPE_CHECKING:
    from crm.accounts.models import Company, Department, User
    from crm.lib.workcalendar import WorkCalendar
    from crm.projects.models import Project

Status = VisitTask.Status

VIEW = "visits.view_visittask"
RECORD = "visits.change_visittask"
ASSIGN = "visits.assign_visittask"
EXPORT = "visits.export_visits"
PLANS = "visits.change_visitplan"
VIEW_ISSUES = "visits.view_visitissue"
RAISE_ISSUE = "visits.add_visitissue"

# Issue 12, item 4: the classes of issues raised in visits (others configurable).
DEFAULT_ISSUE_CATEGORIES = ("产品质量", "服务态度", "政策咨询", "其他")

# The seeds' plans (000: 签约后1周内、交房前1个月、入住后3个月; 001: the consultant's call
# after signing and the call on the working day before the birthday). Administrators
# change them per project (系统设置 › 回访计划); a plan is switched off, not deleted.
DEFAULT_PLANS: tuple[dict[str, Any], ...] = (
    {
        "name": "签约回访",
        "occasion": Occasion.CONTRACT,
        "window_days": 7,
        "assignee_rule": AssigneeRule.OWNER,
        "purpose": "签约后一周内电话回访：了解客户对销售服务、现场舒适度的满意程度，听取对银行、律师方面的建议",
        "questions": "对置业顾问销售服务的满意程度\n对售楼处现场舒适度的满意程度\n对银行按揭服务的满意程度\n对律师签约服务的满意程度",
        "script": (
            "您好，请问是{客户}先生/女士吗？我是{楼盘}的置业顾问，感谢您选择我们。"
            "耽误您两分钟做个简短回访：\n"
            "1. 您对我们这段时间的销售服务满意吗？有哪些地方需要改进？\n"
            "2. 您在售楼处时，觉得现场环境舒适吗？\n"
            "3. 按揭办理和律师签约过程中，有没有不方便的地方或建议？\n"
            "感谢您的宝贵意见，后续有任何问题随时联系我。"
        ),
    },
    {
        "name": "交房前回访",
        "occasion": Occasion.DELIVERY,
        "offset_months": -1,
        "window_days": 5,
        "window_in_working_days": True,
        "assignee_rule": AssigneeRule.PLAN,
        "purpose": "交房前一个月回访：告知交房准备事项，了解客户关注的问题",
        "questions": "对工程进度信息告知的满意程度\n对交房准备工作安排的满意程度",
        "script": (
            "您好，我是{楼盘}客服中心的客服专员。您购买的房屋预计下个月交付，"
            "交房时请携带身份证、购房合同和相关缴费凭证。\n"
            "请问您对目前的工程进度告知满意吗？对交房还有什么需要我们提前准备的？"
        ),
    },
    {
        "name": "入住回访",
        "occasion": Occasion.MOVE_IN,
        "offset_months": 3,
        "window_days": 10,
        "window_in_working_days": True,
        "assignee_rule": AssigneeRule.PLAN,
        "purpose": "入住三个月回访：了解居住体验，收集对房屋质量、物业服务和小区环境的意见",
        "questions": "对房屋质量的满意程度\n对物业服务的满意程度\n对小区环境的满意程度",
        "script": (
            "您好，我是{楼盘}客服中心的客服专员。您入住已经三个月了，想了解一下您的居住感受：\n"
            "房屋有没有需要维修的地方？物业服务、小区环境和安全方面您还满意吗？"
        ),
    },
    {
        "name": "生日回访",
        "occasion": Occasion.BIRTHDAY,
        "offset_days": -1,
        "offset_in_working_days": True,
        "window_days": 0,
        "lead_days": 14,
        "catch_up_days": 3,
        "assignee_rule": AssigneeRule.OWNER,
        "purpose": "客户生日前一个工作日致电问候，核对客户联系方式和地址",
        "questions": "",
        "script": (
            "您好，{客户}先生/女士，我是{楼盘}的置业顾问。明天是您的生日，提前祝您生日快乐！"
            "顺便跟您核对一下：您的联系电话和通讯地址有没有变化？"
        ),
    },
)


class IllegalMove(DomainError):
    """A move the table does not allow; nothing was written."""

    def __init__(self, frm: Status, to: Status) -> None:
        super().__init__(f"回访任务状态不能从“{frm.label}”改为“{to.label}”")
        self.frm = frm
        self.to = to


def allowed(frm: str, to: str) -> bool:
    return Status(to) in VisitTask.ALLOWED_MOVES[Status(frm)]


def ensure_default_plans(project: Project) -> int:
    """The seed's plans for a project that has none yet; returns how many were made."""
    if VisitPlan.objects.filter(project=project).exists():
        return 0
    VisitPlan.objects.bulk_create(
        [
            VisitPlan(company_id=project.company_id, project=project, sort_order=i, **fields)
            for i, fields in enumerate(DEFAULT_PLANS, 1)
        ],
        ignore_conflicts=True,
    )
    return len(DEFAULT_PLANS)


def script_for(task: VisitTask) -> str:
    """The plan's (or the campaign's) script with the customer's and the project's names filled in."""
    source = task.plan or task.campaign
    if source is None:
        return ""
    return source.script.replace("{客户}", task.customer.name).replace("{楼盘}", task.project.name)


# ---------------------------------------------------------------- the mover


def move(
    task: VisitTask,
    to: Status,
    *,
    actor: User | None,
    note: str = "",
    channel: str = "",
    now: datetime | None = None,
    expect: Iterable[Status] | None = None,
    **fields: Any,
) -> VisitTask:
    """Move ``task`` to ``to`` (see the module docstring); ``expect``: the statuses the
    caller's check allows it to be in, re-read under the lock (a second tap on 保存 or a
    colleague recording the same call gets an IllegalMove, not a second record)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = VisitTask.objects.select_for_update().get(pk=task.pk)
        frm = Status(row.status)
        target = Status(to)
        if target not in VisitTask.ALLOWED_MOVES[frm] or (expect is not None and frm not in set(expect)):
            raise IllegalMove(frm, target)
        for name, value in fields.items():
            setattr(row, name, value)
        if target in (Status.DONE, Status.UNREACHABLE):
            row.completed_at, row.completed_by = now, actor if actor is not None and actor.is_authenticated else None
        if target == Status.PENDING:
            row.completed_at, row.completed_by, row.attempts = None, None, 0
        if target != Status.RETRY:
            row.next_attempt_at = None
        row.status = target
        row.save()
        _event(row, VisitEvent.Kind.MOVE, actor=actor, frm=frm, to=target, channel=channel, note=note, at=now)
    task.refresh_from_db()
    return row


def _event(
    row: VisitTask,
    kind: str,
    *,
    actor: User | None,
    frm: str = "",
    to: str = "",
    channel: str = "",
    note: str = "",
    at: datetime,
) -> VisitEvent:
    event = VisitEvent.objects.create(
        task=row,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        from_status=frm,
        to_status=to,
        channel=channel,
        note=note,
        at=at,
    )
    what = Status(to).label if to else VisitEvent.Kind(kind).label
    summary = f"回访（{row.plan.name if row.plan else row.purpose[:20]}）：{what}"
    timeline.record(
        row.customer_id,
        TimelineEvent.Kind.VISIT,
        f"{summary}{'，' + note if note else ''}",
        actor=actor,
        at=at,
        data={"visit_task": row.pk, "status": row.status, "channel": channel},
        source=row,
    )
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=row,
        customer_id=row.customer_id,
        summary=summary,
        reason=note[:200],
    )
    return event


# ---------------------------------------------------------------- the verbs


def may_record(task: VisitTask, user: User) -> bool:
    """The assignee records the call; whoever assigns tasks may step in."""
    if not user.has_perm(RECORD):
        return False
    return task.assignee_id == user.pk or user.has_perm(ASSIGN)


def record_outcome(
    task: VisitTask,
    *,
    actor: User,
    reached: bool | None,
    channel: str,
    scores: Mapping[str, int | None] | None = None,
    opinions: str = "",
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> VisitTask:
    """Record one call (below), then check the notes for the forbidden service phrases of
    seed 004 (crm.visits.supervision): a note with one flags the record for the supervisor."""
    now = now or timezone.now()
    row = _record_outcome(
        task,
        actor=actor,
        reached=reached,
        channel=channel,
        scores=scores,
        opinions=opinions,
        now=now,
        calendar=calendar,
    )
    if opinions.strip():
        supervision.check_notes(row, opinions, now=now)
    return row


def _record_outcome(
    task: VisitTask,
    *,
    actor: User,
    reached: bool | None,
    channel: str,
    scores: Mapping[str, int | None] | None = None,
    opinions: str = "",
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> VisitTask:
    """Record one call (or visit, or WeChat conversation):

    1. reached: every question of the task needs a 1–5 score; the overall satisfaction is
       their average (rounded half up); the customer's opinions are kept; the task is done;
    2. not reached: the attempt is counted and the next one set on the next working day at
       another time of day (crm.visits.timing.next_attempt); when the plan's attempts are
       used up the task ends as unreachable.
    """
    if not may_record(task, actor):
        raise NotAllowed("只有回访人或客服中心主任可以登记这条回访")
    if reached is None:
        raise DomainError("请选择是否联系上客户", field="reached")
    if channel not in Channel.values:
        raise DomainError("请选择回访方式", field="channel")
    if not task.is_open:
        raise IllegalMove(Status(task.status), Status.DONE if reached else Status.RETRY)
    opinions = opinions.strip()
    now = now or timezone.now()
    if reached:
        given = dict(scores or {})
        cleaned: dict[str, int] = {}
        for question in task.questions:
            score = given.get(question)
            if score is None or score not in range(1, 6):
                raise DomainError(f"请为“{question}”选择 1–5 分", field=f"q:{question}")
            cleaned[question] = int(score)
        # Half up (4.5 → 5), as people round, not Python's round-half-to-even.
        average = Decimal(sum(cleaned.values())) / len(cleaned) if cleaned else None
        satisfaction = int(average.quantize(Decimal(1), rounding=ROUND_HALF_UP)) if average is not None else None
        note = "已联系上客户"
        if satisfaction is not None:
            note += f"，满意度 {satisfaction} 分"
        if opinions:
            note += f"：{opinions}"
        return move(
            task,
            Status.DONE,
            actor=actor,
            note=note,
            channel=channel,
            now=now,
            expect=VisitTask.OPEN,
            reached=True,
            scores=cleaned,
            satisfaction=satisfaction,
            opinions=opinions,
            attempts=task.attempts + 1,
        )
    attempts = task.attempts + 1
    if attempts >= task.max_attempts:
        note = f"第 {attempts} 次联系未接通，已达最多联系次数" + (f"：{opinions}" if opinions else "")
        return move(
            task,
            Status.UNREACHABLE,
            actor=actor,
            note=note,
            channel=channel,
            now=now,
            expect=VisitTask.OPEN,
            reached=False,
            attempts=attempts,
            opinions=opinions,
        )
    retry_at = timing.next_attempt(now, calendar or work_calendar())
    note = f"第 {attempts} 次联系未接通，{timezone.localtime(retry_at):%m-%d %H:%M} 再次联系" + (
        f"：{opinions}" if opinions else ""
    )
    return move(
        task,
        Status.RETRY,
        actor=actor,
        note=note,
        channel=channel,
        now=now,
        expect=VisitTask.OPEN,
        reached=False,
        attempts=attempts,
        next_attempt_at=retry_at,
    )


def assign_task(
    task: VisitTask, *, actor: User, assignee: User, note: str = "", now: datetime | None = None
) -> VisitTask:
    """Give an open task to another member of staff (not a move: the status stays)."""
    if not actor.has_perm(ASSIGN):
        raise NotAllowed("您没有分派回访任务的权限")
    if not task.is_open:
        raise DomainError("回访任务已结束，不能改派")
    if assignee.company_id != task.company_id or not assignee.is_active or not assignee.has_perm(RECORD):
        raise DomainError("请选择本公司可以做回访的在职员工", field="assignee")
    now = now or timezone.now()
    with transaction.atomic():
        VisitTask.objects.filter(pk=task.pk).update(assignee=assignee, updated_at=now)
        task.refresh_from_db()
        _event(task, VisitEvent.Kind.ASSIGNED, actor=actor, note=note.strip() or f"分派给 {assignee}", at=now)
    return task


def cancel_task(task: VisitTask, *, actor: User, note: str, now: datetime | None = None) -> VisitTask:
    if not actor.has_perm(ASSIGN):
        raise NotAllowed("您没有取消回访任务的权限")
    note = note.strip()
    if not note:
        raise DomainError("请填写取消原因", field="note")
    return move(task, Status.CANCELLED, actor=actor, note=note, now=now)


def reopen_task(task: VisitTask, *, actor: User, note: str, now: datetime | None = None) -> VisitTask:
    """Put an unreachable task back in the queue (a new number was found, say)."""
    if not actor.has_perm(ASSIGN):
        raise NotAllowed("您没有重新安排回访任务的权限")
    note = note.strip()
    if not note:
        raise DomainError("请填写重新安排的原因", field="note")
    return move(task, Status.PENDING, actor=actor, note=note, now=now, expect=[Status.UNREACHABLE])


# ---------------------------------------------------------------- issues raised in visits

IssueStatus = VisitIssue.Status


def ensure_default_issue_categories(company: Company) -> int:
    """The default issue classes for a company that has none yet; returns how many."""
    if IssueCategory.objects.filter(company=company).exists():
        return 0
    IssueCategory.objects.bulk_create(
        [IssueCategory(company=company, name=name, sort_order=i) for i, name in enumerate(DEFAULT_ISSUE_CATEGORIES, 1)],
        ignore_conflicts=True,
    )
    return len(DEFAULT_ISSUE_CATEGORIES)


def raise_issue(
    task: VisitTask,
    *,
    actor: User,
    category: IssueCategory,
    description: str,
    promised_on: date,
    department: Department | None = None,
    now: datetime | None = None,
) -> VisitIssue:
    """Record an issue the customer raised in this visit, routed to the responsible
    department (the one chosen, else the category's) with the date the customer was
    promised an answer; it appears on the customer's timeline."""
    if not actor.has_perm(RAISE_ISSUE) or not may_record(task, actor):
        raise NotAllowed("只有回访人或客服中心主任可以登记回访中的问题")
    if category.company_id != task.company_id or not category.is_active:
        raise DomainError("请选择问题类别", field="category")
    department = department or category.department
    if department is None or department.company_id != task.company_id:
        raise DomainError("请选择责任部门", field="department")
    description = description.strip()
    if not description:
        raise DomainError("请填写问题描述", field="description")
    now = now or timezone.now()
    if promised_on < timezone.localtime(now).date():
        raise DomainError("承诺答复日期不能早于今天", field="promised_on")
    with transaction.atomic():
        issue = VisitIssue.objects.create(
            company_id=task.company_id,
            task=task,
            customer_id=task.customer_id,
            project_id=task.project_id,
            category=category,
            department=department,
            description=description,
            promised_on=promised_on,
            raised_by=actor,
            raised_at=now,
        )
        summary = f"回访问题（{category.name}）转{department.name}，承诺 {promised_on:%m-%d} 前答复：{description[:80]}"
        timeline.record(
            task.customer_id,
            TimelineEvent.Kind.VISIT,
            summary,
            actor=actor,
            at=now,
            data={"visit_issue": issue.pk, "visit_task": task.pk},
            source=issue,
        )
        audit.log(
            audit.AuditLog.Action.CREATE, actor=actor, target=issue, customer_id=task.customer_id, summary=summary
        )
    return issue


class IllegalIssueMove(DomainError):
    def __init__(self, frm: IssueStatus, to: IssueStatus) -> None:
        super().__init__(f"回访问题状态不能从“{frm.label}”改为“{to.label}”")
        self.frm = frm
        self.to = to


def move_issue(
    issue: VisitIssue, to: IssueStatus, *, actor: User | None, note: str = "", now: datetime | None = None
) -> VisitIssue:
    """The guarded mover of issues (``VisitIssue.ALLOWED_MOVES``): locks the row, refuses
    a move the table does not allow, stamps the move's time, writes the IssueEvent, the
    customer's timeline and the audit row."""
    now = now or timezone.now()
    note = note.strip()
    with transaction.atomic():
        row = VisitIssue.objects.select_for_update().get(pk=issue.pk)
        frm, target = IssueStatus(row.status), IssueStatus(to)
        if target not in VisitIssue.ALLOWED_MOVES[frm]:
            raise IllegalIssueMove(frm, target)
        stamps = {
            IssueStatus.RESOLVED: "resolved_at",
            IssueStatus.INFORMED: "informed_at",
            IssueStatus.CLOSED: "closed_at",
        }
        if target in stamps:
            setattr(row, stamps[target], now)
        if target == IssueStatus.RESOLVED and note:
            row.resolution = note
        row.status = target
        row.save()
        who = actor if actor is not None and actor.is_authenticated else None
        IssueEvent.objects.create(issue=row, actor=who, from_status=frm, to_status=target, note=note, at=now)
        summary = f"回访问题（{row.category.name}，{row.department.name}）：{target.label}"
        timeline.record(
            row.customer_id,
            TimelineEvent.Kind.VISIT,
            f"{summary}{'，' + note[:120] if note else ''}",
            actor=actor,
            at=now,
            data={"visit_issue": row.pk, "status": row.status},
            source=row,
        )
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=row,
            customer_id=row.customer_id,
            summary=f"回访问题：{frm.label} → {target.label}",
            reason=note[:200],
        )
    issue.refresh_from_db()
    return row


def may_handle_issue(issue: VisitIssue, user: User) -> bool:
    """The responsible department works the issue: its members (``User.department``), and
    whoever assigns visits (客服中心主任) in case the department needs a push."""
    if not user.is_active or user.company_id != issue.company_id:
        return False
    return (user.department_id is not None and user.department_id == issue.department_id) or user.has_perm(ASSIGN)


def may_inform(issue: VisitIssue, user: User) -> bool:
    """The visitor tells the customer the result: who raised it, the task's assignee, or an
    assigner stepping in."""
    if not user.is_active or user.company_id != issue.company_id:
        return False
    return user.pk in (issue.raised_by_id, issue.task.assignee_id) or user.has_perm(ASSIGN)


def start_issue(issue: VisitIssue, *, actor: User, note: str = "", now: datetime | None = None) -> VisitIssue:
    """The department takes the issue up (待处理 → 处理中)."""
    if not may_handle_issue(issue, actor):
        raise NotAllowed("只有责任部门的人员可以处理这个问题")
    return move_issue(issue, IssueStatus.IN_PROGRESS, actor=actor, note=note or "开始处理", now=now)


def resolve_issue(issue: VisitIssue, *, actor: User, resolution: str, now: datetime | None = None) -> VisitIssue:
    """The department records what was done (→ 已解决待告知); the visitor is then
    reminded to tell the customer."""
    if not may_handle_issue(issue, actor):
        raise NotAllowed("只有责任部门的人员可以处理这个问题")
    if not resolution.strip():
        raise DomainError("请填写处理结果", field="note")
    return move_issue(issue, IssueStatus.RESOLVED, actor=actor, note=resolution, now=now)


def inform_customer(
    issue: VisitIssue, *, actor: User, accepted: bool, note: str, now: datetime | None = None
) -> VisitIssue:
    """The visitor told the customer the result (→ 已告知客户). Accepted: the issue is
    closed (the only way to close it); not accepted: back to the department (处理中) with
    what the customer said."""
    if not may_inform(issue, actor):
        raise NotAllowed("只有回访人或客服中心主任可以告知客户处理结果")
    note = note.strip()
    if not note:
        raise DomainError("请填写告知客户的情况" if accepted else "请填写客户不接受的原因", field="note")
    now = now or timezone.now()
    with transaction.atomic():
        move_issue(issue, IssueStatus.INFORMED, actor=actor, note=note, now=now)
        if accepted:
            return move_issue(issue, IssueStatus.CLOSED, actor=actor, note="客户已知悉处理结果，问题关闭", now=now)
        return move_issue(issue, IssueStatus.IN_PROGRESS, actor=actor, note="客户不接受处理结果，退回责任部门", now=now)


@dataclass(frozen=True)
class IssueDraft:
    """An issue typed on the outcome form (or sent to the API), not yet saved."""

    category: IssueCategory | None
    description: str
    promised_on: date | None
    department: Department | None = None
    # The row it was typed in (the outcome form's slot), for the error's number and field;
    # None: its place in the list.
    slot: int | None = None


def _check_issue(task: VisitTask, draft: IssueDraft, *, slot: int, today: date) -> None:
    slot = draft.slot if draft.slot is not None else slot
    where = f"issue:{slot}:"
    if draft.category is None or draft.category.company_id != task.company_id or not draft.category.is_active:
        raise DomainError(f"问题 {slot + 1}：请选择问题类别", field=where + "category")
    department = draft.department or draft.category.department
    if department is None or department.company_id != task.company_id:
        raise DomainError(f"问题 {slot + 1}：请选择责任部门", field=where + "department")
    if not draft.description.strip():
        raise DomainError(f"问题 {slot + 1}：请填写问题描述", field=where + "description")
    if draft.promised_on is None:
        raise DomainError(f"问题 {slot + 1}：请填写告知客户的承诺答复日期", field=where + "promised_on")
    if draft.promised_on < today:
        raise DomainError(f"问题 {slot + 1}：承诺答复日期不能早于今天", field=where + "promised_on")


def record_visit(
    task: VisitTask,
    *,
    actor: User,
    reached: bool | None,
    channel: str,
    scores: Mapping[str, int | None] | None = None,
    opinions: str = "",
    issues: Sequence[IssueDraft] = (),
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> tuple[VisitTask, list[VisitIssue]]:
    """Record the outcome and the issues the customer raised in one go: every issue is
    checked before anything is written, and the outcome and its issues are saved together
    or not at all (a refused issue leaves the task open, with what was typed shown again)."""
    now = now or timezone.now()
    if not may_record(task, actor):
        raise NotAllowed("只有回访人或客服中心主任可以登记这条回访")
    if issues:
        if not actor.has_perm(RAISE_ISSUE):
            raise NotAllowed("您没有登记回访问题的权限")
        if reached is False:
            first = issues[0].slot if issues[0].slot is not None else 0
            raise DomainError("未联系上客户时不能登记客户提出的问题", field=f"issue:{first}:description")
        today = timezone.localtime(now).date()
        for slot, draft in enumerate(issues):
            _check_issue(task, draft, slot=slot, today=today)
    with transaction.atomic():
        row = record_outcome(
            task,
            actor=actor,
            reached=reached,
            channel=channel,
            scores=scores,
            opinions=opinions,
            now=now,
            calendar=calendar,
        )
        raised = [
            raise_issue(
                row,
                actor=actor,
                category=draft.category,  # type: ignore[arg-type]  # checked above
                description=draft.description,
                promised_on=draft.promised_on,  # type: ignore[arg-type]
                department=draft.department,
                now=now,
            )
            for draft in issues
        ]
    task.refresh_from_db()
    return row, raised


def remind_issues(*, now: datetime, calendar: WorkCalendar | None = None) -> int:
    """Today's reminders, at most one per issue and day (a unique row; reruns and a second
    runner add nothing): the department's from the working day before the promised date
    while the issue is not resolved (已超过承诺日期 after it), the visitor's while a
    resolved issue waits for the customer to be told. Returns how many were made."""
    calendar = calendar or work_calendar()
    today = timezone.localtime(now).date()
    horizon = calendar.add_working_days(today, 1)
    working = [IssueStatus.OPEN, IssueStatus.IN_PROGRESS]
    rows: list[IssueReminder] = []
    due = VisitIssue.objects.filter(status__in=working, promised_on__lte=horizon).exclude(reminders__on=today)
    for issue in due.only("pk", "department_id", "promised_on"):
        kind = IssueReminder.Kind.LATE if issue.promised_on < today else IssueReminder.Kind.PROMISE
        rows.append(IssueReminder(issue=issue, kind=kind, on=today, department_id=issue.department_id, created_at=now))
    waiting = (
        VisitIssue.objects.filter(status=IssueStatus.RESOLVED)
        .exclude(reminders__on=today)
        .select_related("task")
        .only("pk", "raised_by_id", "task__assignee_id")
    )
    for issue in waiting:
        rows.append(
            IssueReminder(
                issue=issue,
                kind=IssueReminder.Kind.INFORM,
                on=today,
                recipient_id=issue.raised_by_id or issue.task.assignee_id,
                created_at=now,
            )
        )
    before = IssueReminder.objects.filter(on=today).count()
    IssueReminder.objects.bulk_create(rows, ignore_conflicts=True)
    return IssueReminder.objects.filter(on=today).count() - before


# ---------------------------------------------------------------- improvement plans

PLAN_MAX = 2000


def save_improvement_plan(
    consultant: User, *, actor: User, month: date, plan: str, now: datetime | None = None
) -> ImprovementPlan:
    """The team leader (or the director) writes or rewrites a consultant's improvement plan
    (改进计划) for the month of ``month``: the visits score page and the KPI scorecard both
    write it here.

    1. Only whom crm.accounts.access.may_write_improvement_plan allows.
    2. At most 2,000 characters; an empty plan is kept as empty (the leader cleared it).
    3. One row per consultant and month (written again, not duplicated); audited.
    """
    if not may_write_improvement_plan(actor, consultant):
        raise NotAllowed("只有该顾问所在小组的组长或客服中心主任可以填写改进计划")
    text = (plan or "").strip()
    if len(text) > PLAN_MAX:
        raise DomainError(f"改进计划最多 {PLAN_MAX} 字", field="plan")
    now = now or timezone.now()
    first = month.replace(day=1)
    with transaction.atomic():
        row, _ = ImprovementPlan.objects.update_or_create(
            consultant=consultant,
            month=first,
            defaults={"company_id": consultant.company_id or 0, "plan": text, "updated_by": actor, "updated_at": now},
        )
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=row,
            summary=f"改进计划：{consultant} {first:%Y-%m}",
        )
    return row
