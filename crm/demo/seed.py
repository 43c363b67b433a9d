"""The demo data of every app, in order: each app adds its rows as one step here.

The foundation (company, projects, staff of every role, customers and deals) comes first;
a later app (visits, complaints …) adds a module beside it and a step to ``STEPS`` that
takes the company the foundation created.
"""

from __future__ import annotations

from collections.abc import Callable

from crm.accounts.models import Company
from crm.demo import (
    casework,
    complaint_mail,
    complaints,
    events,
    foundation,
    kpis,
    notifications,
    portraits,
    privacy,
    public_complaints,
    referrals,
    reports,
    service,
    training,
    trust,
    visits,
)

# Steps after the foundation: (name, function taking the company and a seed value).
STEPS: tuple[tuple[str, Callable[[Company, int], object]], ...] = (
    ("complaints", complaints.seed),
    ("public complaints", public_complaints.seed),
    ("visits", visits.seed),
    ("casework", casework.seed),
    ("complaint_mail", complaint_mail.seed),
    ("service", service.seed),
    ("events", events.seed),
    ("portraits", portraits.seed),
    ("training", training.seed),
    ("referrals", referrals.seed),
    ("privacy", privacy.seed),
    ("trust", trust.seed),
    ("reports", reports.seed),
    ("kpis", kpis.seed),
    # Last: escalates the breached demo complaints, whose notices go to the director.
    ("notifications", notifications.seed),
)


def seed(*, customers: int = 3000, seed_value: int = 20261123, password: str | None = None) -> Company:
    company = foundation.seed(customers=customers, seed_value=seed_value, password=password)
    for _name, step in STEPS:
        step(company, seed_value)
    return company
