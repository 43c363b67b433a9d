"""Data scope: the one place that decides which customers a user may read.

Every read of customer data (lists, detail, search, export, API, reports) filters
through ``customer_scope_q``; a customer outside the scope is a 404, never a 403, so
the existence of other teams' customers is not revealed.

    OWN      customers the user owns or advises (VIP 专属顾问)
    TEAM     customers owned by a member of the user's team
    PROJECT  customers of the user's projects
    COMPANY  every customer of the user's company
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from crm.accounts.roles import Scope

if TYPE_CHECKING:
    from crm.accounts.models import User

NOTHING = Q(pk__in=[])


def customer_scope_q(user: User, *, prefix: str = "") -> Q:
    """A Q over Customer (or, with ``prefix="customer__"``, over a model pointing at one)."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    scope = user.data_scope
    if scope == Scope.NONE or user.company_id is None:
        return NOTHING
    company = Q(**{f"{prefix}company_id": user.company_id})
    if scope == Scope.COMPANY:
        return company
    if scope == Scope.PROJECT:
        return company & Q(**{f"{prefix}project_id__in": user.project_ids})
    if scope == Scope.TEAM and user.team_id is not None:
        from crm.accounts.models import User as UserModel

        member_ids = list(UserModel.objects.filter(team_id=user.team_id).values_list("id", flat=True))
        return company & (Q(**{f"{prefix}owner_id__in": member_ids}) | Q(**{f"{prefix}advisor_id": user.id}))
    return company & (Q(**{f"{prefix}owner_id": user.id}) | Q(**{f"{prefix}advisor_id": user.id}))


def assignable_owners_q(user: User) -> Q:
    """Staff a user may hand customers to: the same company, and the same team below PROJECT scope."""
    if user.data_scope >= Scope.PROJECT:
        return Q(company_id=user.company_id, is_active=True)
    if user.data_scope == Scope.TEAM and user.team_id:
        return Q(company_id=user.company_id, team_id=user.team_id, is_active=True)
    return Q(pk=user.pk)
