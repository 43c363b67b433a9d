"""Reads of report packs, scoped to the user by the one access rule.

A project's pack is seen by whoever's scope covers the project (project and company
scopes); a pack of every project (全部楼盘) only by company-wide roles: scope_q with a
project path and no owner path says exactly that (crm.accounts.access).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from crm.accounts.access import NOTHING, project_q, scope_q, sees_company
from crm.projects.models import Project
from crm.reports import services
from crm.reports.models import Kind, ReportPack

if TYPE_CHECKING:
    from crm.accounts.models import User


def pack_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW):
        return NOTHING
    return scope_q(user, company="company", project="project")


def packs_visible_to(user: User) -> QuerySet[ReportPack]:
    return ReportPack.objects.filter(pack_scope_q(user))


def get_pack_for_user(user: User, pk: int) -> ReportPack:
    pack = packs_visible_to(user).select_related("project", "author", "generated_by").filter(pk=pk).first()
    if pack is None:
        raise Http404("报告不存在或无权查看")
    return pack


def projects_for_reports(user: User) -> QuerySet[Project]:
    """Projects the user may generate a pack for."""
    return Project.objects.filter(project_q(user)).order_by("name")


def may_report_all_projects(user: User) -> bool:
    return sees_company(user)


def awaiting_summary(user: User) -> QuerySet[ReportPack]:
    """Weekly and monthly drafts the user may write: their own, and the job's (no author yet)."""
    if not user.has_perm(services.WRITE):
        return ReportPack.objects.none()
    return packs_visible_to(user).filter(
        Q(author=user) | Q(author__isnull=True),
        status=ReportPack.Status.DRAFT,
        kind__in=[Kind.WEEKLY, Kind.MONTHLY],
    )
