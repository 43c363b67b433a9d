"""站内通知 to staff about complaints, first-responder issues and held mails (the bell and
the 通知 inbox, crm.core.notifications); the complainant's SMS notices are ``notices.py``.

Who hears of what (DESIGN 3.4: breaches escalate to the director):

1. Escalation level 1 (``escalation.escalate_breached``): the directors of the complaint
   and its assignee. Level 2: the directors again and 管理层 of the company.
2. A complaint dispatched or reassigned: the new assignee. One registered with nobody to
   dispatch it to (no owner for its category, 待分类 from the public page): the directors.
3. A plan proposed: those who may approve it (the directors), not its author; the plan
   approved or sent back: the assignee.
4. A department reported by the first responder (``issues.escalate_hand_off``): the
   directors of the issue.
5. A complaint mail held for a person (``mail_intake``): the directors of the company.

"The directors" are the active staff holding ``complaints.manage_complaint`` (客服中心主任,
系统管理员) whose data scope covers the row, by the one access rule
(``crm.accounts.access.may_see_row``): a director of another project hears nothing.
Nobody is told of what they did themselves. Each call runs inside the transaction that
writes the event, and its key names the event (``complaint:<id>:event:<event id>``), so a
re-run job or a retried request notifies nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from crm.accounts.access import holders_of, may_see_row
from crm.accounts.roles import Role, group_name
from crm.complaints.models import Complaint, ComplaintEvent, CustomerIssue, InboundMail, IssueEscalation
from crm.core.notifications import notify
from crm.lib.mobile import mask_numbers_in_text

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from crm.accounts.models import User

Status = Complaint.Status

MANAGE = "complaints.manage_complaint"
APPROVE = "complaints.approve_plan"

KIND_ESCALATED = "complaint_escalated"
KIND_ASSIGNED = "complaint_assigned"
KIND_WAITING = "complaint_waiting"
KIND_PLAN_PROPOSED = "complaint_plan_proposed"
KIND_PLAN_DECIDED = "complaint_plan_decided"
KIND_ISSUE_ESCALATED = "issue_escalated"
KIND_MAIL_HELD = "complaint_mail_held"

EXCERPT = 80


# ---------------------------------------------------------------- recipients


def _holders(perm: str, company_id: int) -> QuerySet[User]:
    """Active staff of the company holding ``perm`` (crm.accounts.access.holders_of)."""
    return holders_of(perm, company=company_id).order_by("id")


def _in_scope(
    perm: str, *, company_id: int, customer_id: int | None, project_id: int | None, exclude: Iterable[int | None] = ()
) -> list[User]:
    """Holders of ``perm`` whose data scope covers a row of that company, customer and
    project (the rule the complaint and issue lists apply: ``scope_q`` over the customer's
    owner and VIP advisor and the project)."""
    owner_id = advisor_id = None
    if customer_id is not None:
        from crm.customers.models import Customer

        owner_id, advisor_id = Customer.objects.filter(pk=customer_id).values_list("owner_id", "advisor_id").get()
    skip = set(exclude)
    return [
        user
        for user in _holders(perm, company_id)
        if user.pk not in skip
        and may_see_row(user, company_id=company_id, owner_id=owner_id, advisor_id=advisor_id, project_id=project_id)
    ]


def directors_of(complaint: Complaint, *, perm: str = MANAGE) -> list[User]:
    """The directors (holders of ``perm``) whose scope covers the complaint."""
    return _in_scope(
        perm, company_id=complaint.company_id, customer_id=complaint.customer_id, project_id=complaint.project_id
    )


def management_of(company_id: int) -> QuerySet[User]:
    """管理层 of the company (the role, active accounts)."""
    from crm.accounts.models import User as UserModel

    return UserModel.objects.filter(
        company_id=company_id, is_active=True, groups__name=group_name(Role.MANAGEMENT)
    ).distinct()


# ---------------------------------------------------------------- texts


def _excerpt(text: str) -> str:
    """The start of what someone typed, with mobiles and ID numbers in it masked."""
    text = mask_numbers_in_text(" ".join(text.split()))
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _about(complaint: Complaint) -> str:
    """Project, category, complainant and the start of the content (shown escaped)."""
    return (
        f"{complaint.project.name}·{complaint.category.name}，"
        f"{complaint.complainant_name or '投诉人'}：{_excerpt(complaint.content)}"
    )


def _link(complaint: Complaint) -> str:
    return reverse("complaints:detail", args=[complaint.pk])


def _key(complaint: Complaint, event: ComplaintEvent) -> str:
    return f"complaint:{complaint.pk}:event:{event.pk}"


# ---------------------------------------------------------------- complaints


def escalated(complaint: Complaint, event: ComplaintEvent, *, level: int, now: datetime) -> int:
    """Rule 1: level 1 → the directors and the assignee; level 2 → the directors and 管理层."""
    recipients: list[User] = directors_of(complaint)
    if level >= 2:
        recipients += list(management_of(complaint.company_id))
        title = f"投诉 {complaint.number} 二级升级：{event.note}"
    else:
        if complaint.assignee_id is not None:
            recipients.append(complaint.assignee)  # type: ignore[arg-type]
        title = f"投诉 {complaint.number} 已超时升级：{event.note}"
    return notify(
        recipients,
        kind=KIND_ESCALATED,
        title=title,
        text=_about(complaint),
        link=_link(complaint),
        key=_key(complaint, event),
        now=now,
    )


def assigned(complaint: Complaint, event: ComplaintEvent, *, actor: User | None, now: datetime) -> int:
    """Rule 2: the new assignee (dispatch at registration, 分派, 改派)."""
    if complaint.assignee_id is None:
        return 0
    due = complaint.first_response_due_at
    deadline = (
        f"请在 {timezone.localtime(due):%m-%d %H:%M} 前接收。" if complaint.acknowledged_at is None and due else ""
    )
    return notify(
        [complaint.assignee_id],
        kind=KIND_ASSIGNED,
        title=f"投诉 {complaint.number} 已分派给您{'（改派）' if event.kind == ComplaintEvent.Kind.ASSIGNED else ''}",
        text=f"{deadline}{_about(complaint)}",
        link=_link(complaint),
        key=_key(complaint, event),
        now=now,
        exclude=actor,
    )


def waiting_for_dispatch(complaint: Complaint, event: ComplaintEvent, *, actor: User | None, now: datetime) -> int:
    """Rule 2: registered without an owner, the complaint waits in the director's queue."""
    return notify(
        directors_of(complaint),
        kind=KIND_WAITING,
        title=f"新投诉 {complaint.number} 待分派",
        text=_about(complaint),
        link=_link(complaint),
        key=_key(complaint, event),
        now=now,
        exclude=actor,
    )


def moved(
    complaint: Complaint, event: ComplaintEvent, *, frm: Status, to: Status, actor: User | None, now: datetime
) -> int:
    """Called by ``services.move`` for every move: rules 2 and 3."""
    if to == Status.DISPATCHED:
        return assigned(complaint, event, actor=actor, now=now)
    if to == Status.PLAN_PROPOSED:
        approvers = directors_of(complaint, perm=APPROVE)
        return notify(
            [user for user in approvers if user.pk != complaint.assignee_id],
            kind=KIND_PLAN_PROPOSED,
            title=f"投诉 {complaint.number} 的处理方案待您审批",
            text=f"方案：{_excerpt(complaint.plan)}（{_about(complaint)}）",
            link=_link(complaint),
            key=_key(complaint, event),
            now=now,
            exclude=actor,
        )
    if frm == Status.PLAN_PROPOSED and to in (Status.PLAN_APPROVED, Status.INVESTIGATING):
        approved = to == Status.PLAN_APPROVED
        verdict = "已批准" if approved else "被退回"
        note = f"意见：{_excerpt(event.note)}" if event.note else ""
        return notify(
            [complaint.assignee_id],
            kind=KIND_PLAN_DECIDED,
            title=f"投诉 {complaint.number} 的处理方案{verdict}",
            text=note or _about(complaint),
            link=_link(complaint),
            key=_key(complaint, event),
            now=now,
            exclude=actor,
        )
    return 0


# ---------------------------------------------------------------- issues and mails


def issue_escalated(escalation: IssueEscalation, *, actor: User, now: datetime) -> int:
    """Rule 4: the directors whose scope covers the issue."""
    issue: CustomerIssue = escalation.issue
    directors = _in_scope(
        MANAGE, company_id=issue.company_id, customer_id=issue.customer_id, project_id=issue.project_id
    )
    return notify(
        directors,
        kind=KIND_ISSUE_ESCALATED,
        title=f"首问事项 {issue.number}：{escalation.hand_off.department}超时未答复",
        text=f"{actor}：{_excerpt(escalation.reason)}",
        link=reverse("complaints:issue_detail", args=[issue.pk]),
        key=f"issue-escalation:{escalation.pk}",
        now=now,
        exclude=actor,
    )


def mail_held(mail: InboundMail, *, now: datetime) -> int:
    """Rule 5: a complaint mail needs a person — the directors of the company (the mail has
    no project yet, so every director who may open the 投诉邮件 page)."""
    sender = mail.sender_name or mail.sender_email or "未知发件人"
    return notify(
        _holders(MANAGE, mail.company_id),
        kind=KIND_MAIL_HELD,
        title="一封投诉邮件待人工处理",
        text=f"{sender}《{_excerpt(mail.subject) or '无主题'}》：{mail.reason}",
        link=reverse("complaints:mail", args=[mail.pk]),
        key=f"inbound-mail:{mail.pk}:held",
        now=now,
    )
