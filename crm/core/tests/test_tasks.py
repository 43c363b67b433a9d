"""The Celery wiring without a broker: the beat schedule is config/schedule.py, the task runs
a job as of now, and the embedded default never imports Celery."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import RUN_JOB, app
from config.schedule import SCHEDULE
from crm.core.tasks import run_job


def test_the_beat_schedule_is_the_job_schedule_with_one_entry_per_job():
    beat = app.conf.beat_schedule
    assert list(beat) == [job.name for job in SCHEDULE]
    for job in SCHEDULE:
        entry = beat[job.name]
        assert entry["task"] == RUN_JOB
        assert entry["args"] == (job.name,)
        assert entry["schedule"] == job.every
        assert entry["options"]["expires"] == job.every.total_seconds()  # no backlog of stale runs


def test_a_worker_acknowledges_after_the_job_and_takes_one_task_at_a_time():
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.timezone == settings.TIME_ZONE
    app.loader.import_default_modules()
    assert RUN_JOB in app.tasks


def test_run_job_runs_the_named_job_as_of_now(db):
    Session.objects.create(session_key="old", session_data="", expire_date=timezone.now() - timedelta(minutes=1))
    Session.objects.create(session_key="new", session_data="", expire_date=timezone.now() + timedelta(hours=1))
    assert run_job("clear_expired_sessions") == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def test_run_job_refuses_an_unknown_job():
    with pytest.raises(ValueError, match="unknown job"):
        run_job("send_everything_twice")


def test_the_embedded_default_never_imports_celery():
    code = (
        "import sys, django; django.setup();"
        "import config, config.urls, config.wsgi, crm.core.management.commands.runjobs, crm.care.jobs;"
        "sys.exit('celery imported' if 'celery' in sys.modules else 0)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_worker_process_freezes_what_it_inherited_at_start_up():
    from celery.signals import worker_process_init

    gc.unfreeze()
    try:
        worker_process_init.send(sender=None)  # what celery sends in each new worker process
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
