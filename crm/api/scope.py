"""Which projects and units the API shows a user.

Customer and deal scope come from crm.customers.selectors (crm.core.scope); projects have
no selector yet, so the rule lives here until crm.projects grows one: company-wide roles
see every project of their company, everyone else the projects they belong to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm.accounts.roles import Scope
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from crm.accounts.models import User


def projects_visible_to(user: User) -> QuerySet[Project]:
    if not user.is_authenticated or not user.is_active or user.company_id is None:
        return Project.objects.none()
    projects = Project.objects.filter(company_id=user.company_id)
    if user.data_scope >= Scope.COMPANY:
        return projects
    return projects.filter(pk__in=user.projects.values("pk"))


def units_visible_to(user: User) -> QuerySet[Unit]:
    return Unit.objects.filter(project__in=projects_visible_to(user))
