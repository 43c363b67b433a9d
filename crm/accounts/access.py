"""The one access rule: which rows a user may see or change.

Every decision "may this user see or change these rows" is made here, driven by the role
table (crm.accounts.roles) and Django permissions. This module knows no other app's
models: an app's selectors name the field paths of their model that lead to the company,
the owning consultant, the VIP advisor and the project, and get back a ``Q``::

    scope_q(user, company="customer__company", owner="customer__owner",
            advisor="customer__advisor", project="customer__project")

so a new app gets the same rule by naming its paths (docs/architecture.md, decision 0002).

Each role grants a data scope (roles.py); a user with several roles sees the **union** of
their scopes, not only the widest one (a consultant also made 客服专员 keeps their own
customers in other projects):

    OWN      rows the user owns or advises (VIP 专属顾问)
    TEAM     rows owned or advised by a member of the user's team, and OWN
    PROJECT  rows of the user's projects, rows advised by a member of the user's team, and OWN
    COMPANY  every row of the user's company

A row outside the scope is a 404, never a 403, so the existence of other teams' customers
is not revealed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from crm.accounts.roles import ROLE_SPECS, Scope, group_name

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from crm.accounts.models import User

NOTHING = Q(pk__in=[])

SCOPE_LABELS = {
    Scope.OWN: "我的客户",
    Scope.TEAM: "本组客户",
    Scope.PROJECT: "所辖楼盘客户",
    Scope.COMPANY: "全公司客户",
}


def company_of(user: User) -> int:
    """The user's company id; 0 (matching nothing) for an account without a company."""
    return user.company_id or 0


def scopes_of(user: User) -> frozenset[Scope]:
    """The data scopes the user's roles grant (a superuser: the company)."""
    if not user.is_authenticated or not user.is_active or user.company_id is None:
        return frozenset()
    if user.is_superuser:
        return frozenset({Scope.COMPANY})
    return frozenset(ROLE_SPECS[role].scope for role in user.roles) - {Scope.NONE}


def widest_scope(user: User) -> Scope:
    """The widest of the user's scopes: what the workbench calls "my customers"."""
    return max(scopes_of(user), default=Scope.NONE)


def sees_company(user: User) -> bool:
    return Scope.COMPANY in scopes_of(user)


def team_member_ids(user: User) -> list[int]:
    """Ids of the user's team members (the user included), read once per request."""
    cached = user.__dict__.get("_team_member_ids")
    if cached is not None:
        return list(cached)
    if user.team_id is None:
        ids = [user.pk]
    else:
        from crm.accounts.models import User as UserModel

        ids = list(UserModel.objects.filter(team_id=user.team_id).values_list("id", flat=True))
    user.__dict__["_team_member_ids"] = tuple(ids)
    return ids


def scope_q(
    user: User,
    *,
    company: str = "company",
    owner: str | None = None,
    advisor: str | None = None,
    project: str | None = None,
    through: tuple[str, QuerySet[Any]] | None = None,
) -> Q:
    """A Q over any model whose rows belong to a company and, optionally, to an owner, a VIP
    advisor and a project, given the paths to those fields.

    A path left out makes that part of the rule match nothing: a model with only a project
    (a care draft) is seen by PROJECT and COMPANY scopes, not by OWN or TEAM.

    ``through=("customer", Customer.objects.all())``: ``owner`` and ``advisor`` are fields
    of the row's customer, reached through that foreign key; the people part becomes a
    semi-join ``customer_id IN (SELECT id FROM customer WHERE owner … OR advisor …)``
    instead of a join to every customer. PostgreSQL answers it from the owner and advisor
    indexes as a hashed subplan of the team's few customers (bench complaints: the open
    list's count over 300,000 complaints 33 ms → 3 ms; the KPI dashboard's visit figures no
    longer hash-join 1,250,000 tasks to 1,000,000 customers).
    """
    scopes = scopes_of(user)
    if not scopes:
        return NOTHING
    in_company = Q(**{f"{company}_id": user.company_id})
    if Scope.COMPANY in scopes:
        return in_company
    # Each part once, at its widest: the team includes the user, so "own" adds nothing to a
    # team scope; a project scope adds the team's VIP advisors.
    team_wide = Scope.TEAM in scopes or Scope.PROJECT in scopes
    team = team_member_ids(user) if team_wide else [user.pk]
    parts = _people_q(owner, team if Scope.TEAM in scopes else [user.pk]) + _people_q(advisor, team)
    if through is not None and parts:
        relation, rows = through
        parts = [Q(**{f"{relation}__in": rows.filter(_any(parts)).values("pk")})]
    if Scope.PROJECT in scopes and project is not None:
        parts.append(Q(**{f"{project}_id__in": user.project_ids}))
    if not parts:
        return NOTHING
    return in_company & _any(parts)


def _people_q(path: str | None, ids: list[int]) -> list[Q]:
    if path is None:
        return []
    if len(ids) == 1:
        return [Q(**{f"{path}_id": ids[0]})]
    return [Q(**{f"{path}_id__in": ids})]


def _any(parts: Iterable[Q]) -> Q:
    combined = Q()
    for part in parts:
        combined |= part
    return combined


def may_see_row(
    user: User, *, company_id: int | None, owner_id: int | None, advisor_id: int | None, project_id: int | None
) -> bool:
    """The same rule as ``scope_q`` for one row whose keys are already read (no query
    beyond the user's team): e.g. whether to name the holder of a duplicate mobile."""
    scopes = scopes_of(user)
    if not scopes or company_id != user.company_id:
        return False
    if Scope.COMPANY in scopes:
        return True
    people = {owner_id, advisor_id} - {None}
    if user.pk in people:
        return True
    team = set(team_member_ids(user)) if (Scope.TEAM in scopes or Scope.PROJECT in scopes) else set()
    if Scope.TEAM in scopes and people & team:
        return True
    return Scope.PROJECT in scopes and (project_id in user.project_ids or advisor_id in team)


# ---------------------------------------------------------------- staff and projects


def staff_in_scope_q(user: User) -> Q:
    """Staff whose customers the user can see (the owner filter of the lists), decided from
    the staff side: deriving them from the customers reads every customer in scope
    (0.9–1.6 s a page at 1,000,000 customers, docs/performance.md)."""
    scopes = scopes_of(user)
    if not scopes:
        return NOTHING
    in_company = Q(company_id=user.company_id)
    if Scope.COMPANY in scopes:
        return in_company
    parts = [Q(pk=user.pk)]
    if Scope.TEAM in scopes or Scope.PROJECT in scopes:
        parts.append(Q(pk__in=team_member_ids(user)))
    if Scope.PROJECT in scopes:
        parts.append(Q(projects__in=user.project_ids))
    return in_company & _any(parts)


def assignable_owners_q(user: User) -> Q:
    """Staff a user may hand customers to: active staff of the same company, and of the
    same team unless one of the user's roles sees whole projects."""
    scopes = scopes_of(user)
    if not scopes:
        return Q(pk=user.pk)
    active = Q(company_id=user.company_id, is_active=True)
    if Scope.COMPANY in scopes or Scope.PROJECT in scopes:
        return active
    if Scope.TEAM in scopes and user.team_id is not None:
        return active & Q(team_id=user.team_id)
    return Q(pk=user.pk)


def importable_project_ids(user: User) -> set[int] | None:
    """Projects a user may import customers into, or None for every project of the company:
    a user whose widest scope is the project (客服专员, 值班, 客服中心主任) keeps to their
    own projects; the others may register a customer for any project of the company."""
    if widest_scope(user) == Scope.PROJECT:
        return set(user.project_ids)
    return None


def project_q(user: User, *, path: str = "", wide_permissions: Iterable[str] = ()) -> Q:
    """Projects (or, with ``path="project__"``, rows of a project) the user works on: every
    project of the company for company-wide roles and for holders of any of
    ``wide_permissions`` (e.g. 综合组 approves every project's messages), else the
    projects the user belongs to."""
    if not user.is_authenticated or not user.is_active or user.company_id is None:
        return NOTHING
    in_company = Q(**{f"{path}company_id": user.company_id})
    if sees_company(user) or any(user.has_perm(perm) for perm in wide_permissions):
        return in_company
    return in_company & Q(**{f"{path}pk__in" if not path else f"{path}id__in": user.project_ids})


# Holders of this permission (客服中心主任, 管理员: roles.py) write any consultant's plan.
IMPROVEMENT_PLAN_ANY = "visits.change_improvementplan"


def improvement_plan_staff_q(user: User) -> Q:
    """Staff whose monthly improvement plan (改进计划, crm.visits.ImprovementPlan) ``user``
    may write: the members of a team ``user`` leads, or, for holders of
    ``visits.change_improvementplan``, all staff of the company. The one rule behind the
    visits score page and the KPI scorecard (issue 12 item 7, issue 15 item 3)."""
    if not user.is_authenticated or not user.is_active or user.company_id is None:
        return NOTHING
    in_company = Q(company_id=user.company_id)
    if user.has_perm(IMPROVEMENT_PLAN_ANY):
        return in_company
    return in_company & Q(team__leader_id=user.pk)


def may_write_improvement_plan(user: User, consultant: User) -> bool:
    """Whether ``user`` may write ``consultant``'s improvement plan (improvement_plan_staff_q)."""
    if not user.is_authenticated or not user.is_active or consultant.company_id != user.company_id:
        return False
    if user.has_perm(IMPROVEMENT_PLAN_ANY):
        return True
    from crm.accounts.models import User as UserModel

    return UserModel.objects.filter(improvement_plan_staff_q(user), pk=consultant.pk).exists()


# ---------------------------------------------------------------- training (培训)

# crm.training's permissions (roles.py): planners see the whole company, record readers
# (销售组长, 管理层) the staff in their scope.
TRAINING_PLAN = "training.plan_training"
TRAINING_RECORDS = "training.view_training_records"


def training_people_q(user: User) -> Q:
    """Staff whose training record the user may read: planners every member of staff of
    the company; holders of ``training.view_training_records`` themself and the staff in
    their scope (staff_in_scope_q: a team leader the team); everyone else themself."""
    if not user.is_authenticated or user.company_id is None:
        return NOTHING
    if user.has_perm(TRAINING_PLAN):
        return Q(company_id=user.company_id)
    if user.has_perm(TRAINING_RECORDS):
        from crm.accounts.models import User as UserModel

        return Q(pk=user.pk) | Q(pk__in=UserModel.objects.filter(staff_in_scope_q(user)))
    return Q(pk=user.pk)


def training_scope_q(user: User, *, attendee: str = "attendances__attendee", trainer: str = "trainer") -> Q:
    """Training sessions the user may see (rows with ``company``, the ``attendee`` path and
    the ``trainer``): planners every session of the company; everyone the sessions they
    attend or teach; record readers also those attended by the staff of
    training_people_q."""
    in_company = Q(company_id=company_of(user))
    if user.has_perm(TRAINING_PLAN):
        return in_company
    people = Q(**{f"{attendee}_id": user.pk}) | Q(**{f"{trainer}_id": user.pk})
    if user.has_perm(TRAINING_RECORDS):
        from crm.accounts.models import User as UserModel

        people |= Q(**{f"{attendee}__in": UserModel.objects.filter(training_people_q(user))})
    return in_company & people


# ---------------------------------------------------------------- who holds a permission

ACCESS_BACKEND = "crm.accounts.backends.AccessBackend"


def holders_of(permission: str, *, company: Model | int, project: Model | int | None = None) -> QuerySet[User]:
    """Active staff of ``company`` holding ``permission`` through a role, their own
    permissions or as superusers: the one answer to "who may do this" that notifications
    (complaint alerts, engineering findings) and staff pickers (duty officers, holiday
    leads) share. ``company`` and ``project`` are rows or ids. With ``project``: only those
    who work on it (its members, and holders whose role sees the whole company)."""
    from crm.accounts.models import User as UserModel

    holders = UserModel.objects.with_perm(permission, is_active=True, include_superusers=True, backend=ACCESS_BACKEND)
    holders = holders.filter(company_id=_pk(company))
    if project is not None:
        company_wide = [group_name(role) for role, spec in ROLE_SPECS.items() if spec.scope == Scope.COMPANY]
        holders = holders.filter(Q(projects=_pk(project)) | Q(groups__name__in=company_wide) | Q(is_superuser=True))
    # Re-selected by key: the joins above repeat a user once per matching row.
    return UserModel.objects.filter(pk__in=holders.values("pk")).order_by("display_name", "username", "id")


def _pk(value: Model | int) -> int:
    return value if isinstance(value, int) else int(value.pk)
