"""EstateCRM settings: one module, configured from environment variables (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from crm.core.cache import caches_for
from crm.lib import instance_secrets
from crm.lib.env import env_bool, env_int, env_list, env_str

# Admin, form and queryset classes accept type arguments at run time (mypy --strict).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# `make run` (manage.py serve) and development (DEBUG) keep their keys in a file of this
# installation, VAR_DIR/secrets.json (mode 0600), created on first start: no key comes from
# the repository (crm/lib/instance_secrets.py, docs/decisions/0023). Production sets the
# three keys in the environment and refuses to start without them.
INSTANCE_SECRETS = env_bool("INSTANCE_SECRETS", DEBUG)
if INSTANCE_SECRETS and not all(os.environ.get(key) for key in instance_secrets.KEYS):
    _url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'estatecrm.sqlite3'}"
    _instance = instance_secrets.load_or_create(
        VAR_DIR, existing_database=Path(_url.removeprefix("sqlite:///")) if _url.startswith("sqlite:///") else None
    )
    for _key, _value in _instance.items():
        if not os.environ.get(_key):  # a key set in the environment wins
            os.environ[_key] = _value
SECRET_KEY = env_str("SECRET_KEY")
# Keys published in this repository (the old development key, the .env.example placeholder).
if not DEBUG and SECRET_KEY in (instance_secrets.LEGACY_DEV_SECRET_KEY, "change-me"):
    raise ImproperlyConfigured("SECRET_KEY is a public example value; set a random key (docs/operations.md)")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_filters",
    "crm.accounts.apps.AxesConfig",  # django-axes, named in Chinese
    "crm.core",
    "crm.accounts",
    "crm.projects",
    "crm.customers",
    "crm.sms",
    "crm.care",
    "crm.complaints",
    "crm.visits",
    "crm.service",
    "crm.portraits",
    "crm.referrals",
    "crm.events",
    "crm.training",
    "crm.privacy",
    "crm.kpis",
    "crm.reports",
    "crm.api",
    "crm.workbench",
    "crm.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Puts back search values kept out of URLs (full mobiles, crm.core.search).
    "crm.core.search.SearchTokenMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # 等保 policy: an expired password must be changed before anything else.
    "crm.accounts.middleware.PasswordExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.IdleTimeoutMiddleware",
    # Axes must be last: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.workbench.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite (WAL) by default, anything dj-database-url understands via DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'estatecrm.sqlite3'}")
# Persistent connections are checked at the start of each request (CONN_HEALTH_CHECKS): after
# a database restart or outage the first request opens a new connection instead of failing
# on the dead one (docs/reliability.md, the outage proof).
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the job runner write while the web server reads; a writer waits up to 20 s
        # for another (a large import) to commit; IMMEDIATE avoids
        # "database is locked" upgrades from read to write inside a transaction. The wait is
        # set first (and as the connection's own timeout): switching to WAL takes a lock, and
        # two processes connecting at once (two dispatch workers) must wait for it, not fail.
        "timeout": 20,
        "init_command": "PRAGMA busy_timeout=20000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("SQLITE_TEST_NAME", "") or None}
# PostgreSQL: planner costs for storage where a random read costs about a sequential one
# (SSD, or a database that fits in memory). With the server default of 4, a foreign-key
# check against a table of a few pages (staff: 221 rows) scans the table instead of using
# its primary key: 11 µs instead of 3 per check, 6.3 s instead of 2.9 s of checks at the
# COMMIT of a 100,000-row import (docs/performance.md). Empty: the server's own setting.
page_cost = env_str("DB_RANDOM_PAGE_COST", "1.1")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and page_cost:
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c random_page_cost={float(page_cost)}".strip()

# PostgreSQL unreachable (a network partition, a host that is down): connecting fails after
# DB_CONNECT_TIMEOUT seconds instead of the operating system's minutes of TCP retries, so a
# request answers 503 and a job retries (crm/core/error_views.py, runjobs).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend reading roles and permissions in one query (docs/performance.md, fix D).
    "crm.accounts.backends.AccessBackend",
]

# Password policy (crm/accounts/passwords.py, docs/decisions/0024): "asvs" (OWASP ASVS 4.0.3
# V2.1: at least 12 characters, up to 128, no composition rules, refused when on a list of
# common passwords; no forced rotation) or "dengbao" (等保 2.0 三级 as commonly audited: at
# least 8 characters of 3 of the 4 character classes, changed every 90 days).
PASSWORD_POLICY = env_str("PASSWORD_POLICY", "asvs")
if PASSWORD_POLICY not in ("asvs", "dengbao"):
    raise ImproperlyConfigured(f"PASSWORD_POLICY must be asvs or dengbao, got {PASSWORD_POLICY!r}")
_COMMON_PASSWORDS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "crm.accounts.passwords.ChineseCommonPasswordValidator"},
    {"NAME": "crm.accounts.passwords.MaximumLengthValidator"},
]
AUTH_PASSWORD_VALIDATORS = (
    [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
        *_COMMON_PASSWORDS,
    ]
    if PASSWORD_POLICY == "asvs"
    else [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
        {"NAME": "crm.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
        *_COMMON_PASSWORDS,
    ]
)
# Days after which a password must be changed (at the next login); 0: never (ASVS 2.1.10).
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90 if PASSWORD_POLICY == "dengbao" else 0)
# Administrators and directors may protect their login with a TOTP app (账号安全).
TOTP_ISSUER = env_str("TOTP_ISSUER", "EstateCRM")

# Django's CSRF failure page is English and technical (crm/core/error_views.py).
CSRF_FAILURE_VIEW = "crm.core.error_views.csrf_failure"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): 5 failures lock the username for 30 minutes by default.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30) / 60
# Locked by username: staff on an intranet share a few NAT addresses, so locking an IP
# would lock out a whole sales office (hence axes.W006 is silenced).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Its rows are shown in Chinese under 账号与权限 instead (crm.accounts.admin, LoginLock…).
AXES_ENABLE_ADMIN = False

# Sessions end after a period without activity (PIPL / 等保: idle timeout).
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30) * 60
SESSION_COOKIE_AGE = 12 * 3600

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Our Chinese for strings the dependencies leave untranslated (django-axes, a few admin
# strings): locale/zh_Hans/LC_MESSAGES/django.po, its compiled .mo committed beside it.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: Excel imports are read from memory or a temp file; cap their size.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 20) * 1024 * 1024
# What an uploaded workbook may unpack to (measured, not as declared), how many cells its
# sheet may span, and the memory and CPU time of the child process that reads it
# (crm/lib/sheets.py): a hostile file fails against these limits, not against the server.
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_MB", 200) * 1024 * 1024
IMPORT_MAX_CELLS = env_int("IMPORT_MAX_CELLS", 5_000_000)
IMPORT_READER_MEMORY_BYTES = env_int("IMPORT_READER_MEMORY_MB", 1024) * 1024 * 1024
IMPORT_READER_CPU_SECONDS = env_int("IMPORT_READER_CPU_SECONDS", 120)
# Hours an upload and its review are kept for the uploader (then deleted by a job).
IMPORT_KEEP_HOURS = env_int("IMPORT_KEEP_HOURS", 24)
# Files up to this size are checked, and imports up to this many rows written, within the
# request; larger ones by the job runner (run_import_jobs) while the page shows progress.
IMPORT_INLINE_BYTES = env_int("IMPORT_INLINE_KB", 1024) * 1024
IMPORT_INLINE_ROWS = env_int("IMPORT_INLINE_ROWS", 5000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Secrets kept outside the database: the key that encrypts ID numbers at rest and the
# key of their blind index (from the environment, or the instance secrets file above).
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY")

# The seed-004 archive asks for parents' health, children's birth dates and schools and the
# customer's health. PIPL art. 6 (minimum necessary) and art. 28/31 (sensitive data,
# minors) make these off by default; a company that switches them on must also obtain the
# guardian's separate consent before recording children's data.
ARCHIVE_SENSITIVE_FIELDS = env_bool("ARCHIVE_SENSITIVE_FIELDS", False)

# Trust (docs/privacy.md). Audit rows are kept this many days, never fewer than 183 (six
# months, 等保): the purge job raises a lower value to that floor.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)
# Defaults of each company's privacy settings (CompanyPrivacy, editable in the admin):
# an export of more customers than this needs a supervisor's approval (DESIGN 3.7) ...
EXPORT_APPROVAL_THRESHOLD = env_int("EXPORT_APPROVAL_THRESHOLD", 50)
# ... and a user who opens more distinct customers, reveals more full numbers, or hits
# more duplicate mobiles of customers they cannot see within an hour is stopped and their
# supervisor alerted (scraping).
OPEN_LIMIT_PER_HOUR = env_int("OPEN_LIMIT_PER_HOUR", 200)
REVEAL_LIMIT_PER_HOUR = env_int("REVEAL_LIMIT_PER_HOUR", 20)
DUPLICATE_LIMIT_PER_HOUR = env_int("DUPLICATE_LIMIT_PER_HOUR", 10)

COMPANY_NAME = env_str("COMPANY_NAME", "示范置业")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "EstateDemo@2026")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.ExpiringTokenAuthentication",
        "crm.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        # JSON nesting is bounded (API_JSON_MAX_DEPTH): a 5,000-deep body is a 400, not a RecursionError.
        "crm.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "600/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # drf-spectacular's, documenting read-only choices that may be empty (crm/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
}
# API tokens are valid this many days after they were issued (crm/api/authentication.py).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)
# Deepest nesting of arrays and objects a JSON request body may have.
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)
SPECTACULAR_SETTINGS = {
    "TITLE": "EstateCRM API",
    "DESCRIPTION": "楼盘客户关系与客服系统 JSON API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI describe every operation: staff only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The error answers every operation can give (401, 403, 404, 400, 415, 429): crm/api/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.add_error_responses",
    ],
    # One name for a choice set used by several fields (a complaint's status and its events').
    "ENUM_NAME_OVERRIDES": {
        "ComplaintStatusEnum": "crm.complaints.models.Complaint.Status",
        "VisitStatusEnum": "crm.visits.models.VisitTask.Status",
        "VisitChannelEnum": "crm.visits.models.Channel",
        "VisitIssueStatusEnum": "crm.visits.models.VisitIssue.Status",
        # A complaint's channel and a consultation's are different choice sets both named "channel".
        "ComplaintChannelEnum": "crm.complaints.models.Channel",
        "ConsultationChannelEnum": "crm.complaints.models.ConsultationChannel",
        # 个人信息申请's kind (查阅/复制/更正/删除), beside an import's kind.
        "PrivacyRequestKindEnum": "crm.privacy.models.RequestKind",
        # An export request's kind (customers/deals) and other models' "kind" choices.
        "ExportKindEnum": "crm.customers.models.ExportRequest.Kind",
        # 客户活动: an event's status and kind, an invitee's reply.
        "CustomerEventStatusEnum": "crm.events.models.Event.Status",
        "CustomerEventKindEnum": "crm.events.models.Event.Kind",
        "EventRsvpEnum": "crm.events.models.Invitee.Rsvp",
        # A report pack's kind (周报、月报…) and status (草稿/已提交).
        "ReportPackKindEnum": "crm.reports.models.Kind",
        "ReportPackStatusEnum": "crm.reports.models.ReportPack.Status",
        # 培训: an attendee's 出勤 and a plan's category, beside other models' "status"/"topic".
        "TrainingAttendanceStatusEnum": "crm.training.models.Attendance.Status",
        "TrainingTopicEnum": "crm.training.models.Topic",
        # 老带新: a referral's channel and status, a reward's kind and state.
        "ReferralChannelEnum": "crm.referrals.models.ReferralChannel",
        "ReferralStatusEnum": "crm.referrals.models.ReferralStatus",
        "RewardKindEnum": "crm.referrals.models.Reward.Kind",
        "RewardStateEnum": "crm.referrals.models.Reward.State",
        # A handover item's state (完好/损坏/缺失) keeps the name it had before rewards had one.
        "StateEnum": "crm.service.models.HandoverItem.State",
        # 项目资料's kind and 现场公示's status (an inspection's display check, an item's last check).
        "MaterialKindEnum": "crm.service.models.MaterialKind",
        "DisplayStatusEnum": "crm.service.models.DisplayStatus",
    },
}

# Production hardening; `manage.py check --deploy` is clean when DEBUG is off.
# `make run` (INSTANCE_SECRETS) serves plain HTTP on 127.0.0.1: no HTTPS redirect by default.
SECURE_SSL = env_bool("SECURE_SSL", not DEBUG and not INSTANCE_SECRETS)
if not DEBUG:
    SESSION_COOKIE_SECURE = SECURE_SSL
    CSRF_COOKIE_SECURE = SECURE_SSL
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_SSL)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
    SECURE_HSTS_PRELOAD = SECURE_SSL
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (crm/core/csp.py): empty keeps the built-in policy.
CONTENT_SECURITY_POLICY = env_str("CONTENT_SECURITY_POLICY", "")
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("CONTENT_SECURITY_POLICY_REPORT_ONLY", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A readable terminal (`make run`): runserver's django.server already writes one line
        # per request; django.request would add a second for every 4xx (with a traceback for
        # a 403), so it reports server errors only.
        "django.request": {"level": "ERROR"},
        # An expired form (CSRF) is ordinary: the Chinese 403 page explains it to the user.
        "django.security.csrf": {"level": "ERROR"},
        # django-axes logs every login attempt and its own start-up at INFO; lockouts and
        # failures are in the audit log and the axes tables.
        "axes": {"level": "WARNING"},
        # The console SMS gateway prints each message itself; its INFO line would repeat it.
        "crm.sms.console": {"level": "WARNING"},
    },
}

# Django's cache, shared by every process in production: CACHE_URL names a Redis database
# (e.g. redis://127.0.0.1:6379/2; crm/core/cache.py says what lives there and how an outage
# is ridden out). Unset (the embedded default, one process): each process's own memory.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = caches_for(CACHE_URL)
if CACHE_URL:
    # Sessions read from Redis, written through to the database: one query fewer per page.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# A user's permissions, roles and projects are cached under a stamp that any change to them
# replaces (crm.accounts.backends); the time only bounds the memory of users gone idle.
ACCESS_CACHE_SECONDS = env_int("ACCESS_CACHE_SECONDS", 600)

# Complaints: the owner's first response is due this many hours after registration
# (DESIGN 3.4: 24 by default; seed 003's 客户关系管理制度 says 48, so it is the company's choice).
COMPLAINT_FIRST_RESPONSE_HOURS = env_int("COMPLAINT_FIRST_RESPONSE_HOURS", 24)

# The public complaint page (/tousu/), its status page and the integration API
# (crm/complaints/public.py, docs/complaints.md). The company they register for: this name;
# empty means COMPANY_NAME, or the only company there is.
COMPLAINT_PUBLIC_COMPANY = env_str("COMPLAINT_PUBLIC_COMPANY", "")
# Rate limits, counted in the cache: submissions per client IP per hour and per mobile per
# day; status look-ups per IP per hour; wrong look-ups of one complaint number before that
# number is locked for a day; submissions per integration key per hour.
COMPLAINT_PUBLIC_PER_IP_HOUR = env_int("COMPLAINT_PUBLIC_PER_IP_HOUR", 5)
# Every POST of the public page (a wrong CAPTCHA too) per IP per hour.
COMPLAINT_PUBLIC_ATTEMPTS_PER_IP_HOUR = env_int("COMPLAINT_PUBLIC_ATTEMPTS_PER_IP_HOUR", 30)
COMPLAINT_PUBLIC_PER_MOBILE_DAY = env_int("COMPLAINT_PUBLIC_PER_MOBILE_DAY", 3)
COMPLAINT_STATUS_PER_IP_HOUR = env_int("COMPLAINT_STATUS_PER_IP_HOUR", 30)
COMPLAINT_STATUS_FAILURES_PER_NUMBER = env_int("COMPLAINT_STATUS_FAILURES_PER_NUMBER", 5)
COMPLAINT_INTEGRATION_PER_HOUR = env_int("COMPLAINT_INTEGRATION_PER_HOUR", 600)
# The request header that carries the client's address when a reverse proxy sits in front
# (e.g. HTTP_X_REAL_IP, set by nginx); empty: REMOTE_ADDR. Only name a header the proxy
# always overwrites, or clients choose their own address.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
# The arithmetic CAPTCHA: seconds a challenge stays valid, and its generator.
COMPLAINT_CAPTCHA_SECONDS = env_int("COMPLAINT_CAPTCHA_SECONDS", 600)
COMPLAINT_CAPTCHA_GENERATOR = "crm.complaints.captcha.random_challenge"
# Attachments (images only): how many per complaint and the size of each.
COMPLAINT_ATTACHMENT_MAX_FILES = env_int("COMPLAINT_ATTACHMENT_MAX_FILES", 5)
COMPLAINT_ATTACHMENT_MAX_BYTES = env_int("COMPLAINT_ATTACHMENT_MAX_MB", 5) * 1024 * 1024
# Pixels per image (width × height), checked before decoding: a decompression bomb stops here.
COMPLAINT_ATTACHMENT_MAX_PIXELS = env_int("COMPLAINT_ATTACHMENT_MAX_MEGAPIXELS", 50) * 1_000_000

# The address customers reach this site at, for links sent by SMS (the complaint
# satisfaction survey): scheme and host, no trailing slash.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A complaint's satisfaction-survey link (满意度回访) is valid this many days, and a rating
# at or below COMPLAINT_SURVEY_LOW_RATING does not confirm the complaint: it is flagged for
# the director (seed 002 3.3: feedback is taken and the plan adjusted where needed).
COMPLAINT_SURVEY_DAYS = env_int("COMPLAINT_SURVEY_DAYS", 7)
COMPLAINT_SURVEY_LOW_RATING = env_int("COMPLAINT_SURVEY_LOW_RATING", 2)

# Complaints: a complaint of the same customer (or, unlinked, the same mobile) and the same
# category registered within this many days of the earlier one is flagged 重复投诉
# (one window for all companies; 0 turns automatic detection off).
COMPLAINT_REPEAT_WINDOW_DAYS = env_int("COMPLAINT_REPEAT_WINDOW_DAYS", 90)

# Complaints: archived complaints are purged this many days after archiving (one year by
# company policy, DESIGN 3.4); those marked important are kept indefinitely.
COMPLAINT_RETENTION_DAYS = env_int("COMPLAINT_RETENTION_DAYS", 365)

# Personal information (crm.privacy): data-subject requests are answered within this many
# working days (PIPL practice: 15); prospects (no deal) with no activity for this many
# months are anonymised by the retention job.
PRIVACY_REQUEST_WORKING_DAYS = env_int("PRIVACY_REQUEST_WORKING_DAYS", 15)
PROSPECT_RETENTION_MONTHS = env_int("PROSPECT_RETENTION_MONTHS", 24)
# The free text of the service centre's records (duty log, handovers, inspection findings)
# is blanked this many days after it was written (crm.privacy.jobs.blank_service_notes):
# it names callers, customers and units, and the rows' counts and times stay for reports.
SERVICE_NOTES_RETENTION_DAYS = env_int("SERVICE_NOTES_RETENTION_DAYS", 365)

# Complaint email intake (crm.complaints.mail_intake): the IMAP mailbox polled by the job
# poll_complaint_mailbox. No host: intake by email is off. The mails become complaints of
# the company of COMPLAINT_IMAP_ACTOR (the username of the staff account registering them,
# which needs the permission to register complaints); the project is the one named in the
# mail, else the linked customer's, else COMPLAINT_IMAP_PROJECT (a project code), and the
# category the one named in the subject, else COMPLAINT_IMAP_CATEGORY.
COMPLAINT_IMAP_HOST = env_str("COMPLAINT_IMAP_HOST", "")
COMPLAINT_IMAP_PORT = env_int("COMPLAINT_IMAP_PORT", 993)
COMPLAINT_IMAP_SSL = env_bool("COMPLAINT_IMAP_SSL", True)
COMPLAINT_IMAP_CA_FILE = env_str("COMPLAINT_IMAP_CA_FILE", "")
COMPLAINT_IMAP_USER = env_str("COMPLAINT_IMAP_USER", "")
COMPLAINT_IMAP_PASSWORD = env_str("COMPLAINT_IMAP_PASSWORD", "")
COMPLAINT_IMAP_FOLDER = env_str("COMPLAINT_IMAP_FOLDER", "INBOX")
COMPLAINT_IMAP_TIMEOUT_SECONDS = env_int("COMPLAINT_IMAP_TIMEOUT_SECONDS", 30)
COMPLAINT_IMAP_ACTOR = env_str("COMPLAINT_IMAP_ACTOR", "")
COMPLAINT_IMAP_PROJECT = env_str("COMPLAINT_IMAP_PROJECT", "")
COMPLAINT_IMAP_CATEGORY = env_str("COMPLAINT_IMAP_CATEGORY", "服务质量")
COMPLAINT_IMAP_BATCH = env_int("COMPLAINT_IMAP_BATCH", 50)
COMPLAINT_IMAP_MAX_BYTES = env_int("COMPLAINT_IMAP_MAX_MB", 25) * 1024 * 1024

# Workbench counts of wide scopes (project/company: a table scan each) are cached this long.
WORKBENCH_CACHE_SECONDS = env_int("WORKBENCH_CACHE_SECONDS", 300)

# The in-process job runner's poll interval (seconds) for `manage.py runjobs`.
JOBS_POLL_SECONDS = env_int("JOBS_POLL_SECONDS", 5)
# The periodic jobs both runners read (runjobs, Celery beat): a dotted path to a tuple of
# crm.core.schedule.ScheduledJob.
JOB_SCHEDULE = "config.schedule.SCHEDULE"

# Care messages: at most this many SMS per customer per day (below the gateways' own
# per-number limits: Aliyun 50/day per template, Tencent 10/day by default).
CARE_DAILY_CAP = env_int("CARE_DAILY_CAP", 3)
# Secret part of the SMS gateways' receipt/reply callback URLs; empty switches callbacks off.
SMS_CALLBACK_TOKEN = env_str("SMS_CALLBACK_TOKEN", "")
# Days after subscription by which the contract must be signed (the signing reminder's date).
CARE_SIGNING_DEADLINE_DAYS = env_int("CARE_SIGNING_DEADLINE_DAYS", 7)
# Dispatch timing (crm/care/dispatch.py): a claimed row is left alone for the lease before
# settle_submitting asks the gateway about it (longer than one gateway call), and queued
# again only when the gateway's query has not known it for the grace.
CARE_LEASE_SECONDS = env_int("CARE_LEASE_SECONDS", 120)
CARE_SETTLE_GRACE_SECONDS = env_int("CARE_SETTLE_GRACE_SECONDS", 600)

# 站内通知 (crm.core.notifications): read notifications are deleted this many days after
# they were read (job purge_read_notifications); unread ones are kept.
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 90)

# 报告 (crm.reports): the weekly report closes on this weekday (0 = Monday … 6 = Sunday;
# seed 001's "每周第7个工作日" read as the week's 7th day) and every scheduled pack (daily
# inspection, weekly, monthly on the month's last working day) is generated from this hour.
REPORTS_WEEK_CLOSE_WEEKDAY = env_int("REPORTS_WEEK_CLOSE_WEEKDAY", 6)
REPORTS_CLOSE_HOUR = env_int("REPORTS_CLOSE_HOUR", 20)
# The closed months the KPI dashboard reads from the counting job's counts (decision 0030):
# 13 covers a month's twelve-month trend and the month before it.
KPI_COUNTED_MONTHS = env_int("KPI_COUNTED_MONTHS", 13)
# 项目资料与现场公示 (crm.service): the largest material file (PDF or image) in MB, and the
# days after which a display item not checked is flagged on the workbench.
MATERIAL_MAX_BYTES = env_int("MATERIAL_MAX_MB", 20) * 1024 * 1024
DISPLAY_CHECK_STALE_DAYS = env_int("DISPLAY_CHECK_STALE_DAYS", 7)

# ------------------------------------------------------------------------------------------
# Celery: deployments beyond one machine (config/celery.py; docs/operations.md, "Celery
# (beyond one machine)"). Read only by `celery -A config worker` / `beat`; the embedded
# default runs the same jobs with `manage.py runjobs` and needs no Redis.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died unacknowledged goes back to the queue after this many seconds.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600),
    # How often a worker looks for such tasks (seconds).
    "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL_SECONDS", 10),
    "unacked_restore_throttle": 1,
}
