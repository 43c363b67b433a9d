"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Move everything loaded at start-up out of the collector's reach: full collections over
# the app's long-lived objects caused ~90 ms pauses at the list page's p95 (docs/performance.md).
gc.freeze()
