"""What the complainant is told by SMS, through the care outbox (issue 11, item 3).

Four triggers, each its own care rule per project (templates editable on the care rules
page): 投诉受理 at registration, 投诉进度 when the owner records progress and chooses to tell
the complainant, 投诉回复 the day after registration (seed 001: 第二日对客户所需内容以短信
方式回复，并表示感谢客户的意见) and when the complaint is resolved, 满意度回访 with the
one-time survey link when it is resolved.

1. Each notice is an outbox row inserted in the same transaction as the complaint's change
   (the outbox is the queue: a complaint never moves without its notice, nor the reverse).
2. Exactly once: the occasion is the complaint's number plus the event
   (``TS…:accepted``, ``TS…:progress:<event>``, ``TS…:reply``, ``TS…:resolved:<event>``,
   ``TS…:survey:<invitation>``), unique per recipient and trigger in the outbox.
3. The recipient is the number the complainant gave: a linked customer's row carries it as
   the contact number; an unlinked complainant's row has no customer
   (docs/decisions/0018-complaint-notices-through-the-outbox.md).
4. Windows, quiet hours, opt-out, consent and the daily cap are the care app's rules
   (crm.care.services.queue_notice and dispatch); these are service notifications.

Complaints call care only through crm.care.services and crm.care.selectors.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from crm.care import selectors as care_selectors
from crm.care import services as care_services

if TYPE_CHECKING:
    from crm.complaints.models import Complaint, ComplaintEvent

ACCEPTED = "complaint_accepted"
PROGRESS = "complaint_progress"
REPLY = "complaint_reply"
SURVEY = "complaint_survey"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _notice(complaint: Complaint, trigger: str, occasion: str, values: dict[str, object], now: datetime) -> None:
    care_services.queue_notice(
        care_services.Notice(
            project_id=complaint.project_id,
            trigger=trigger,
            occasion=f"{complaint.number}:{occasion}",
            mobile=complaint.complainant_mobile,
            customer_id=complaint.customer_id,
            name=complaint.complainant_name,
            values={"投诉人": complaint.complainant_name or "客户", "投诉编号": complaint.number, **values},
        ),
        now=now,
    )


def registered(complaint: Complaint, *, now: datetime) -> None:
    """投诉受理 now (in its window) and 投诉回复 the next day (seed 001)."""
    due = _md(complaint.resolution_due_day)
    _notice(complaint, ACCEPTED, "accepted", {"处理期限": due}, now)
    _notice(
        complaint,
        REPLY,
        "reply",
        {"回复": f"已由专人跟进处理，我们将在{due}前将处理结果告知您。"},
        now,
    )


def reply_notice(complaint: Complaint) -> Any:
    """The next-day reply (投诉回复) queued at registration, or None."""
    return sent_for(complaint).filter(trigger=REPLY, occasion=f"{complaint.number}:reply").first()


def reword_reply(complaint: Complaint, text: str, *, now: datetime) -> bool:
    """The owner words the next-day reply for this complaint (seed 001: 第二日对客户所需内容
    以短信方式回复): the queued row is re-rendered while it still waits; False when it has
    already gone (or was cancelled)."""
    row = care_services.rewrite_notice(
        care_services.Notice(
            project_id=complaint.project_id,
            trigger=REPLY,
            occasion=f"{complaint.number}:reply",
            mobile=complaint.complainant_mobile,
            customer_id=complaint.customer_id,
            name=complaint.complainant_name,
            values={"投诉人": complaint.complainant_name or "客户", "投诉编号": complaint.number, "回复": text},
        ),
        now=now,
    )
    return row is not None


def progress(complaint: Complaint, event: ComplaintEvent, *, now: datetime) -> None:
    """投诉进度: the note the owner chose to tell the complainant."""
    _notice(complaint, PROGRESS, f"progress:{event.pk}", {"进展": event.note}, now)


def resolved(complaint: Complaint, event: ComplaintEvent, *, link: str, days: int, now: datetime) -> None:
    """投诉回复 (the result) and 满意度回访 (the survey link) when it is resolved."""
    result = event.note.strip().rstrip("。.！!；;，, ")
    _notice(complaint, REPLY, f"resolved:{event.pk}", {"回复": f"已处理完毕：{result}。"}, now)
    _notice(complaint, SURVEY, f"survey:{event.pk}", {"评价链接": link, "有效天数": days}, now)


def withdraw(complaint: Complaint, what: str, *, reason: str, now: datetime) -> int:
    """Cancel the complaint's notices not yet sent (``what``: "" for all, "survey:" …)."""
    return care_services.cancel_notices(f"{complaint.number}:{what}", reason=reason, now=now)


def sent_for(complaint: Complaint) -> QuerySet[Any]:
    """The complaint's notices, oldest first (the detail page)."""
    return care_selectors.notices_for(f"{complaint.number}:")
