"""Reads of 客户描摹, scoped to the user by the one access rule (crm.accounts.access).

A portrait belongs to its consultant and its project: a consultant sees their own, a team
leader the team's, a project-wide role the portraits of their projects, a company-wide
role all of them. Outside the scope is a 404.

``portrait_counts`` is the KPI scorecard's figure (portraits submitted per consultant in a
period); it takes no user, the scorecard applies its own scope to the consultants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from crm.accounts import access
from crm.accounts.models import User
from crm.accounts.roles import Role, group_name
from crm.core.charts import Chart, Series
from crm.portraits.models import CHOICE_FIELDS, Portrait
from crm.portraits.quarters import QUOTA, Quarter

if TYPE_CHECKING:
    from crm.accounts.models import Company

VIEW = "portraits.view_portrait"


def portrait_scope_q(user: User) -> Q:
    return access.scope_q(user, company="company", owner="consultant", project="project")


def portraits_visible_to(user: User) -> QuerySet[Portrait]:
    if not user.has_perm(VIEW):
        return Portrait.objects.none()
    return Portrait.objects.filter(portrait_scope_q(user))


def get_portrait_for_user(user: User, pk: int) -> Portrait:
    portrait = portraits_visible_to(user).select_related("customer", "consultant", "project").filter(pk=pk).first()
    if portrait is None:
        raise Http404("客户描摹不存在或无权查看")
    return portrait


def has_portrait(consultant: User | int, customer_id: int, quarter: Quarter, *, exclude: int | None = None) -> bool:
    """Whether the consultant already portrayed this customer in the quarter (one each)."""
    consultant_id = consultant if isinstance(consultant, int) else consultant.pk
    rows = Portrait.objects.filter(consultant_id=consultant_id, customer_id=customer_id, quarter=quarter.key)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.exists()


def submitted_count(consultant: User, quarter: Quarter) -> int:
    return Portrait.objects.filter(consultant_id=consultant.pk, quarter=quarter.key).count()


def consultants_q() -> Q:
    """Active staff holding the 置业顾问 role: who owes the quarterly portraits."""
    return Q(is_active=True, groups__name=group_name(Role.CONSULTANT))


def portrait_counts(
    start: date, end: date, *, company: Company | int, consultants: Iterable[int] | None = None
) -> dict[int, int]:
    """Portraits submitted per consultant id with ``start <= submitted_on <= end`` (China
    dates), in one company; consultants without any are absent (read as 0)."""
    company_id = company if isinstance(company, int) else company.pk
    rows = Portrait.objects.filter(company_id=company_id, submitted_on__gte=start, submitted_on__lte=end)
    if consultants is not None:
        rows = rows.filter(consultant_id__in=list(consultants))
    return {row["consultant_id"]: row["n"] for row in rows.values("consultant_id").annotate(n=Count("id"))}


@dataclass(frozen=True)
class QuotaRow:
    consultant: User
    submitted: int

    @property
    def quota(self) -> int:
        return QUOTA

    @property
    def missing(self) -> int:
        return max(QUOTA - self.submitted, 0)

    @property
    def is_met(self) -> bool:
        return self.submitted >= QUOTA


def quota_rows(user: User, quarter: Quarter) -> list[QuotaRow]:
    """Each consultant the user may see (staff in scope; a consultant: themself) with the
    portraits they submitted in the quarter, those short of the quota first."""
    people = list(
        User.objects.filter(access.staff_in_scope_q(user))
        .filter(consultants_q())
        .select_related("team")
        .distinct()
        .order_by("team__name", "username")
    )
    counts = Counter(
        {
            row["consultant_id"]: row["n"]
            for row in Portrait.objects.filter(consultant__in=[p.pk for p in people], quarter=quarter.key)
            .values("consultant_id")
            .annotate(n=Count("id"))
        }
    )
    rows = [QuotaRow(person, counts[person.pk]) for person in people]
    return sorted(rows, key=lambda r: (r.is_met, r.submitted))


def analysis(user: User, quarter: Quarter, *, project_id: int | None = None) -> dict[str, Any]:
    """The quarter's portraits in the user's scope, counted per field value and project:
    one table per field (a row per value, a column per project, the total) and a chart of
    the totals."""
    rows = portraits_visible_to(user).filter(quarter=quarter.key)
    if project_id:
        rows = rows.filter(project_id=project_id)
    names = [name for name, _label, _choices in CHOICE_FIELDS]
    values = list(rows.values("project_id", "project__name", "consultant_id", *names))
    projects = sorted({(v["project_id"], v["project__name"]) for v in values}, key=lambda p: p[1])
    fields = []
    for name, label, choices in CHOICE_FIELDS:
        per_project = Counter((v[name], v["project_id"]) for v in values)
        totals = Counter(v[name] for v in values)
        table: list[dict[str, Any]] = []
        labels: list[str] = []
        counts: list[float | int | None] = []
        for value, choice_label in choices.choices:
            total = totals[value]
            table.append(
                {
                    "label": str(choice_label),
                    "cells": [per_project[(value, pid)] for pid, _ in projects],
                    "total": total,
                    "share": round(100 * total / len(values)) if values else 0,
                }
            )
            if total:
                labels.append(str(choice_label))
                counts.append(total)
        chart = Chart(
            key=f"portrait-{name}",
            title=label,
            kind="hbar",
            categories=labels,
            series=[Series("份数", counts)],
            unit="份",
            category_label=label,
        )
        fields.append({"name": name, "label": label, "rows": table, "chart": chart})
    return {
        "total": len(values),
        "consultants": len({v["consultant_id"] for v in values}),
        "projects": [{"id": pid, "name": pname} for pid, pname in projects],
        "fields": fields,
    }
