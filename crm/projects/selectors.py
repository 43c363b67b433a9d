"""Reads of projects and units, scoped to the user (one rule for pages, forms and the API)."""

from __future__ import annotations

import re
import unicodedata
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


# What people type for a unit: "3号楼1502", "3栋2单元1502室", "3-1502", "3#1502", "３号楼 １５０２".
_UNIT_TEXT = re.compile(
    r"^\s*(?P<building>[0-9A-Za-z]+)\s*(?:(?:号楼|号|栋|幢|座)\s*[-#－—_/]?|[-#－—_/])\s*"
    r"(?:(?:[0-9]+)\s*单元\s*)?(?P<number>[0-9A-Za-z]+)\s*(?:室|号|房)?\s*$"
)


def match_unit(project_id: int, text: str) -> Unit | None:
    """The project's unit a complainant or an import typed as free text, when exactly one
    unit matches: "3号楼1502", "3栋1502室", "3-1502", "3#1502" and full-width digits all
    find building 3号楼 (or 3栋/3幢/3) unit 1502. None when nothing or more than one matches,
    so staff choose."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    found = _UNIT_TEXT.match(cleaned)
    if found is None:
        return None
    building, number = found["building"], found["number"]
    names = [building, f"{building}号楼", f"{building}栋", f"{building}幢", f"{building}座"]
    units = list(
        Unit.objects.filter(project_id=project_id, building__name__in=names, number=number).select_related("building")[
            :2
        ]
    )
    return units[0] if len(units) == 1 else None
