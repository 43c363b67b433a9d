"""Settings for the test suite: production settings with safe test-only secrets.

Values already in the environment win, so CI can point DATABASE_URL at PostgreSQL.
"""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=")
os.environ.setdefault("BLIND_INDEX_KEY", "test-only-blind-index-key")
os.environ.setdefault("SECURE_SSL", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
# The throttle counts live in the process's cache across tests (and SQLite reuses ids):
# the suite would trip the production rates. Throttling is tested with its own rates
# (crm/api/tests/test_token_policy.py).
os.environ.setdefault("API_THROTTLE_ANON", "1000000/minute")
os.environ.setdefault("API_THROTTLE_USER", "1000000/minute")

from config.settings import *  # noqa: F403
from config.settings import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
MEDIA_ROOT = VAR_DIR / "test-media"

WORKBENCH_CACHE_SECONDS = 0  # counts must reflect each test's own data

# The public complaint page's CAPTCHA is always 3 + 4 in tests (crm/complaints/captcha.py),
# so a browser test solves it as a person would.
COMPLAINT_CAPTCHA_GENERATOR = "crm.complaints.captcha.fixed_challenge"
