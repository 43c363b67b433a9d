"""Reads of projects and units, scoped to the user (one rule for pages, forms and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F, OrderBy
from django.db.models.functions import Length

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


def natural(field: str) -> tuple[OrderBy, OrderBy]:
    """ORDER BY ``field`` as people count labels of one shape: shorter first, then
    alphabetically — "704" before "1303", "2号楼" before "10号楼", on both databases.

    Labels of different shapes ("A-9" and "B-10") may order otherwise than
    crm.lib.natural.natural_key, which lists held in memory use.
    """
    return Length(field).asc(), F(field).asc()


# Units listed anywhere (forms, the API, the admin, templates): by building, then number.
UNIT_ORDER = (*natural("building__name"), *natural("number"), F("id").asc())
