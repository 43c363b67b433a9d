"""Reads of projects and units, scoped to the user (one rule for pages, forms and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm.accounts.access import project_q
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from crm.accounts.models import User


def projects_visible_to(user: User) -> QuerySet[Project]:
    """Company-wide roles see every project of their company; everyone else the projects
    they belong to (crm.accounts.access.project_q)."""
    return Project.objects.filter(project_q(user))


def units_visible_to(user: User) -> QuerySet[Unit]:
    return Unit.objects.filter(project__in=projects_visible_to(user))
