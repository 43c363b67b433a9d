"""The Celery app for deployments beyond one machine: ``celery -A config worker`` / ``beat``.

Wiring only. The beat schedule is built from config/schedule.py (one entry per job, nothing
repeated here), and every entry sends the same thin task, ``crm.core.tasks.run_job(name)``,
which calls the job with ``now``. The database decides everything: planning inserts under
unique keys and dispatch claims rows, so a second beat, a redelivered task or two workers
running the same job at once never plan or send anything twice.

Settings come from Django's (``CELERY_*``, read from the environment in config/settings.py);
the policies below are fixed because the exactly-once argument depends on them.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from config.schedule import SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

RUN_JOB = "crm.core.tasks.run_job"

app = Celery("estatecrm")
app.config_from_object("django.conf:settings", namespace="CELERY")


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One beat entry per job of config/schedule.py.

    A task not started within its job's interval expires: the next beat sends a fresh one,
    so a backlog (workers down for an hour) never turns into a burst of stale runs.
    """
    return {
        job.name: {
            "task": RUN_JOB,
            "schedule": job.every,
            "args": (job.name,),
            "options": {"expires": job.every.total_seconds()},
        }
        for job in SCHEDULE
    }


app.conf.update(
    # Acknowledge after the job ran: a worker that dies mid-job leaves the task to be
    # redelivered, which is safe because every job is idempotent.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # One task at a time per worker process: a long dispatch batch never holds back others.
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # jobs report through the database and the logs
    timezone="Asia/Shanghai",
    enable_utc=True,
    broker_connection_retry_on_startup=True,
    beat_schedule=beat_schedule(),
)
app.autodiscover_tasks()  # each installed app's tasks.py


@worker_process_init.connect  # type: ignore[untyped-decorator]
def freeze_startup_objects(**_: Any) -> None:
    """As config/wsgi.py does in a web process: what a worker process inherited at start-up
    lives as long as it does, so full collections need not walk it again and again (a month's
    report pack spent 80 ms in one such pass, docs/performance.md)."""
    gc.freeze()
