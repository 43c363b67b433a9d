"""The EstateCRM Django project (wiring only).

The Celery app (config/celery.py) is imported only when asked for, by ``celery -A config``
or as ``config.celery_app``: the embedded default (``make run``, ``manage.py runjobs``)
never imports Celery and needs no Redis.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from config.celery import app

        return app
    raise AttributeError(f"module 'config' has no attribute {name!r}")
