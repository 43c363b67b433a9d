"""媒体监督 (media watch): the fixed media, the weekly review and the findings.

Seed 001 四: the network, TV, newspapers and forums are watched for customers' reactions to
the projects; the fixed media are browsed every week (Monday–Sunday, local time) and each
browse is recorded; problems found are answered, passed to the departments concerned and
taken seriously: a finding can become a complaint (channel 媒体) or a first-responder
issue. The week's review is complete when every active medium has a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.complaints import issues, services
from crm.complaints.models import (
    Category,
    Channel,
    Complaint,
    CustomerIssue,
    IssueSource,
    MediaCheck,
    MediaFinding,
    Medium,
    MediumKind,
    Sentiment,
)
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.lib.dates import local_day, week_start

if TYPE_CHECKING:
    from crm.accounts.models import Company, User
    from crm.projects.models import Project

VIEW = "complaints.view_mediafinding"
ADD = "complaints.add_mediafinding"
HANDLE = "complaints.change_mediafinding"
CHECK = "complaints.add_mediacheck"
EXPORT = "complaints.export_media_findings"

# The seed names the kinds (网络, 电视, 报纸, 论坛), not the outlets: these defaults are
# the usual ones for a project in a Chinese city, edited in 系统设置.
DEFAULT_MEDIA = (
    ("房天下", MediumKind.NETWORK, "https://www.fang.com/"),
    ("安居客", MediumKind.NETWORK, "https://www.anjuke.com/"),
    ("本地电视台新闻栏目", MediumKind.TV, ""),
    ("本地日报", MediumKind.NEWSPAPER, ""),
    ("本地晚报", MediumKind.NEWSPAPER, ""),
    ("百度贴吧（楼盘吧）", MediumKind.FORUM, "https://tieba.baidu.com/"),
    ("业主论坛", MediumKind.FORUM, ""),
)


def ensure_default_media(company: Company) -> int:
    if Medium.objects.filter(company=company).exists():
        return 0
    Medium.objects.bulk_create(
        [
            Medium(company=company, name=name, kind=kind, url=url, sort_order=i)
            for i, (name, kind, url) in enumerate(DEFAULT_MEDIA, 1)
        ],
        ignore_conflicts=True,
    )
    return len(DEFAULT_MEDIA)


def week_of(moment: datetime) -> date:
    """The Monday of the local week ``moment`` falls in."""
    return week_start(local_day(moment))


# ---------------------------------------------------------------- the weekly review


@dataclass(frozen=True)
class ChecklistItem:
    medium: Medium
    check: MediaCheck | None

    @property
    def is_done(self) -> bool:
        return self.check is not None


@dataclass(frozen=True)
class WeeklyReview:
    week_on: date
    items: list[ChecklistItem]

    @property
    def week_end(self) -> date:
        return self.week_on + timedelta(days=6)

    @property
    def missing(self) -> list[Medium]:
        return [item.medium for item in self.items if not item.is_done]

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.items if item.is_done)

    @property
    def is_complete(self) -> bool:
        return not self.missing


def weekly_review(company_id: int, week_on: date) -> WeeklyReview:
    """The checklist of one week: every active medium, with its check if there is one."""
    week_on = week_start(week_on)
    media = list(Medium.objects.filter(company_id=company_id, is_active=True))
    checks = {
        c.medium_id: c
        for c in MediaCheck.objects.filter(company_id=company_id, week_on=week_on).select_related("checked_by")
    }
    return WeeklyReview(week_on, [ChecklistItem(m, checks.get(m.pk)) for m in media])


def missing_count(company_id: int, week_on: date) -> int:
    """How many active media have no check in that week (the workbench card)."""
    return (
        Medium.objects.filter(company_id=company_id, is_active=True)
        .exclude(checks__week_on=week_start(week_on))
        .count()
    )


def check_medium(medium: Medium, *, actor: User, note: str = "", now: datetime | None = None) -> MediaCheck:
    """Record that ``actor`` browsed ``medium`` this week (the week of ``now``); a second
    check of the same week is refused (the first one stands)."""
    if not actor.has_perm(CHECK):
        raise NotAllowed("您没有登记媒体浏览的权限")
    if medium.company_id != actor.company_id or not medium.is_active:
        raise DomainError("这个媒体不在本公司的监督清单中")
    now = now or timezone.now()
    week_on = week_of(now)
    try:
        with transaction.atomic():
            return MediaCheck.objects.create(
                company_id=medium.company_id,
                medium=medium,
                week_on=week_on,
                checked_by=actor,
                checked_at=now,
                note=note.strip()[:300],
            )
    except IntegrityError as exc:
        raise DomainError(f"{medium.name}本周已浏览过") from exc


# ---------------------------------------------------------------- findings


@dataclass(frozen=True)
class FindingIntake:
    medium: Medium
    summary: str
    sentiment: str
    link: str = ""
    project: Project | None = None
    found_at: datetime | None = None


def record_finding(intake: FindingIntake, *, actor: User, now: datetime | None = None) -> MediaFinding:
    if not actor.has_perm(ADD):
        raise NotAllowed("您没有登记媒体监督记录的权限")
    company_id = actor.company_id
    if intake.medium.company_id != company_id:
        raise DomainError("请选择本公司监督清单中的媒体", field="medium")
    if intake.project is not None and intake.project.company_id != company_id:
        raise DomainError("楼盘不属于本公司", field="project")
    if intake.sentiment not in Sentiment.values:
        raise DomainError("请选择倾向", field="sentiment")
    summary = intake.summary.strip()
    if not summary:
        raise DomainError("请填写内容摘要", field="summary")
    now = now or timezone.now()
    found_at = intake.found_at or now
    if found_at > now:
        raise DomainError("发现时间不能晚于现在", field="found_at")
    with transaction.atomic():
        finding = MediaFinding.objects.create(
            company_id=company_id,
            medium=intake.medium,
            project=intake.project,
            found_at=found_at,
            link=intake.link.strip(),
            summary=summary,
            sentiment=intake.sentiment,
            recorded_by=actor,
        )
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=finding, summary=f"媒体监督：{summary[:80]}")
    return finding


def respond_to_finding(
    finding: MediaFinding, *, actor: User, response: str, now: datetime | None = None
) -> MediaFinding:
    """The company's answer to what was said (回应): who answered, what and when."""
    if not actor.has_perm(HANDLE):
        raise NotAllowed("您没有回应媒体监督记录的权限")
    response = response.strip()
    if not response:
        raise DomainError("请填写回应内容", field="response")
    now = now or timezone.now()
    MediaFinding.objects.filter(pk=finding.pk).update(response=response, responded_by=actor, responded_at=now)
    finding.refresh_from_db()
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=finding, summary=f"回应媒体监督：{response[:80]}")
    return finding


def finding_to_complaint(
    finding: MediaFinding,
    *,
    actor: User,
    category: Category,
    complainant_name: str = "",
    complainant_mobile: str = "",
    now: datetime | None = None,
) -> Complaint:
    """Register the finding as a complaint with channel 媒体 (a mobile is optional for
    media complaints); the finding keeps the link."""
    if finding.complaint_id is not None:
        raise DomainError("这条记录已转为投诉")
    if finding.project is None:
        raise DomainError("请先为这条记录选择楼盘", field="project")
    content = f"{finding.summary}\n来源：{finding.medium.name} {finding.link}".rstrip()
    intake = services.Intake(
        channel=Channel.MEDIA,
        complainant_name=complainant_name.strip() or f"{finding.medium.name}网友",
        complainant_mobile=complainant_mobile,
        content=content,
        project=finding.project,
        category=category,
    )
    with transaction.atomic():
        locked = MediaFinding.objects.select_for_update().get(pk=finding.pk)
        if locked.complaint_id is not None:
            raise DomainError("这条记录已转为投诉")
        complaint = services.register_complaint(intake, actor=actor, now=now)
        MediaFinding.objects.filter(pk=finding.pk).update(complaint=complaint)
    finding.refresh_from_db()
    return complaint


def finding_to_issue(
    finding: MediaFinding,
    *,
    actor: User,
    subject: str,
    contact_name: str = "",
    contact_mobile: str = "",
    now: datetime | None = None,
) -> CustomerIssue:
    """The finding becomes a first-responder issue owned by ``actor`` (who found it)."""
    if finding.project is None:
        raise DomainError("请先为这条记录选择楼盘", field="project")
    if CustomerIssue.objects.filter(media_finding=finding).exists():
        raise DomainError("这条记录已转为首问事项")
    return issues.register_issue(
        issues.IssueIntake(
            subject=subject or f"媒体反映：{finding.medium.name}",
            description=finding.summary + (f"\n链接：{finding.link}" if finding.link else ""),
            contact_name=contact_name.strip() or f"{finding.medium.name}网友",
            contact_mobile=contact_mobile,
            project=finding.project,
            source=IssueSource.MEDIA,
            media_finding=finding,
        ),
        actor=actor,
        now=now,
    )
