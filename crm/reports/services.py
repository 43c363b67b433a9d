"""Report packs: generate (a new snapshot or a replaced draft), fill in and submit.

1. ``generate_pack`` builds the snapshot (crm.reports.building) of a kind, scope and
   period. The latest version still a draft is replaced in place (its author's text kept);
   a submitted one is never touched: the new snapshot becomes the next version.
2. ``save_text`` stores the author's summary and next period's focus on a draft.
3. ``submit_pack`` stores the text and freezes the pack (status submitted).
Each change is an audit row (crm.core.audit). The one change a submitted pack takes is an
erasure's (crm.reports.erasure), which does not go through these services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from crm.core import audit
from crm.core.errors import DomainError
from crm.reports import building
from crm.reports.models import Kind, ReportPack

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.projects.models import Project

VIEW = "reports.view_reportpack"
GENERATE = "reports.add_reportpack"
WRITE = "reports.change_reportpack"
EXPORT = "reports.export_reportpack"


class PackSubmitted(DomainError):
    def __init__(self) -> None:
        super().__init__("报告已提交，内容不可再修改；如需更新请重新生成（将作为新版本）")


def versions(company_id: int, kind: str, project: Project | None, first: date, last: date) -> list[ReportPack]:
    rows = ReportPack.objects.filter(
        company_id=company_id, kind=kind, period_start=first, period_end=last, project=project
    )
    return list(rows.order_by("-version"))


def generate_pack(
    kind: str,
    *,
    company_id: int,
    project: Project | None,
    first: date,
    last: date,
    now: datetime,
    actor: User | None = None,
) -> ReportPack:
    """Generate the pack of ``kind`` for the scope and [first, last] (see module docstring)."""
    if last < first:
        raise DomainError("结束日期不能早于开始日期", field="period_end")
    data = building.build(Kind(kind), company_id=company_id, project=project, first=first, last=last, now=now)
    for attempt in range(2):
        try:
            with transaction.atomic():
                latest = (
                    ReportPack.objects.select_for_update()
                    .filter(company_id=company_id, kind=kind, period_start=first, period_end=last, project=project)
                    .order_by("-version")
                    .first()
                )
                if latest is not None and not latest.is_submitted:
                    latest.data = data
                    latest.generated_at = now
                    latest.generated_by = actor
                    latest.save(update_fields=["data", "generated_at", "generated_by"])
                    pack = latest
                else:
                    pack = ReportPack.objects.create(
                        company_id=company_id,
                        kind=kind,
                        project=project,
                        period_start=first,
                        period_end=last,
                        version=(latest.version + 1) if latest is not None else 1,
                        data=data,
                        generated_at=now,
                        generated_by=actor,
                        author=actor,
                    )
                if actor is not None:
                    audit.log(
                        audit.AuditLog.Action.CREATE,
                        actor=actor,
                        target=pack,
                        summary=f"生成{pack.get_kind_display()}（第{pack.version}版）",
                    )
                return pack
        except IntegrityError:
            # Two generations of the same new version at once (a job and a user): the
            # loser reads the winner's row and replaces it if it is still a draft.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _locked_draft(pack: ReportPack) -> ReportPack:
    locked = ReportPack.objects.select_for_update().get(pk=pack.pk)
    if locked.is_submitted:
        raise PackSubmitted
    return locked


def save_text(pack: ReportPack, *, actor: User, summary: str, next_focus: str) -> ReportPack:
    with transaction.atomic():
        locked = _locked_draft(pack)
        locked.summary, locked.next_focus = summary.strip(), next_focus.strip()
        if locked.author_id is None:
            locked.author = actor
        locked.save(update_fields=["summary", "next_focus", "author"])
        audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=locked, summary="填写报告总结")
    return locked


def submit_pack(pack: ReportPack, *, actor: User, summary: str, next_focus: str, now: datetime) -> ReportPack:
    """Store the text and freeze the pack. A weekly or monthly pack needs its summary."""
    if pack.kind in (Kind.WEEKLY, Kind.MONTHLY) and not summary.strip():
        label = building.text_labels(pack.kind)[0]
        raise DomainError(f"请填写{label}后再提交", field="summary")
    with transaction.atomic():
        locked = _locked_draft(pack)
        locked.summary, locked.next_focus = summary.strip(), next_focus.strip()
        locked.author = actor
        locked.status = ReportPack.Status.SUBMITTED
        locked.submitted_at = now
        locked.save(update_fields=["summary", "next_focus", "author", "status", "submitted_at"])
        audit.log(audit.AuditLog.Action.APPROVE, actor=actor, target=locked, summary="提交报告")
    return locked
