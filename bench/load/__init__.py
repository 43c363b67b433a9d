"""Load test: locust against gunicorn (``make loadtest``, bench/load/run.py)."""
