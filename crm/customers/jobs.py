"""Customers' periodic jobs (config/schedule.py). Each takes ``now`` and returns a count."""

from __future__ import annotations

from datetime import datetime

from crm.customers.importing import jobs as imports


def run_import_jobs(*, now: datetime) -> int:
    """Check and write the uploaded import files waiting for the runner (ImportJob rows)."""
    return imports.run_import_jobs(now=now)


def purge_stale_uploads(*, now: datetime) -> int:
    """Delete expired import uploads, their reports and rows (PIPL: personal information)."""
    return imports.purge_stale_uploads(now=now)
