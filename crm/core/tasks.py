"""Celery tasks (deployments beyond one machine; config/celery.py builds the beat schedule).

One generic task: ``run_job(name)`` runs a job of the schedule (settings.JOB_SCHEDULE) as of now, exactly as
``manage.py runjobs`` does. It takes a name, not data: the job finds its due rows in the
database, so a duplicate or redelivered task finds them already planned, claimed or sent.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone
from django.utils.module_loading import import_string

from crm.core.schedule import load_schedule

log = logging.getLogger("crm.jobs")


@shared_task(name="crm.core.tasks.run_job", ignore_result=True)  # type: ignore[untyped-decorator]
def run_job(name: str) -> int:
    """Run the job called ``name`` with ``now=timezone.now()``; returns its count."""
    jobs = {job.name: job for job in load_schedule()}
    job = jobs.get(name)
    if job is None:
        raise ValueError(f"unknown job {name!r}; the schedule lists {', '.join(jobs)}")
    count = int(import_string(job.func)(now=timezone.now()))
    log.info("job %s: %s", name, count)
    return count
