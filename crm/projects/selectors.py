"""Reads of projects and units, scoped to the user (one rule for pages, forms and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm.accounts.roles import Scope
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from crm.accounts.models import User


def projects_visible_to(user: User) -> QuerySet[Project]:
    """Company-wide roles see every project of their company; everyone else the projects
    they belong to (read once per request through ``User.project_ids``)."""
    if not user.is_authenticated or not user.is_active or user.company_id is None:
        return Project.objects.none()
    projects = Project.objects.filter(company_id=user.company_id)
    if user.data_scope >= Scope.COMPANY:
        return projects
    return projects.filter(pk__in=user.project_ids)


def units_visible_to(user: User) -> QuerySet[Unit]:
    return Unit.objects.filter(project__in=projects_visible_to(user))
