"""`make run`'s settings: DEBUG off unless asked, the installation's own keys, plain HTTP on
127.0.0.1, and production still refusing to start without keys (tests/test_production.py)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "from django.conf import settings as s;"
    "import json;print(json.dumps({'debug': s.DEBUG, 'ssl_redirect': getattr(s, 'SECURE_SSL_REDIRECT', False),"
    "'secret': s.SECRET_KEY, 'field': s.FIELD_ENCRYPTION_KEY, 'blind': s.BLIND_INDEX_KEY}))"
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    drop = (
        "DJANGO_",
        "PYTEST",
        "DEBUG",
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "BLIND_INDEX_KEY",
        "INSTANCE_SECRETS",
        "STATIC_",
        "SECURE_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.pop("DATABASE_URL", None)
    env.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path), **extra)
    return env


def _probe(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _the_run_target() -> str:
    makefile = (ROOT / "Makefile").read_text()
    return makefile.split("\nrun:")[1].split("\n\n")[0]


def test_make_run_does_not_turn_debug_on():
    recipe = _the_run_target()
    assert "DEBUG" not in recipe.replace("DEBUG=1 make run", "")
    assert "INSTANCE_SECRETS=1" in recipe


def test_make_runs_settings_debug_off_own_keys_and_plain_http(tmp_path):
    result = _probe(_env(tmp_path, INSTANCE_SECRETS="1"))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False
    assert seen["ssl_redirect"] is False  # 127.0.0.1 over HTTP; production keeps the redirect
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert (seen["secret"], seen["field"], seen["blind"]) == (
        stored["SECRET_KEY"],
        stored["FIELD_ENCRYPTION_KEY"],
        stored["BLIND_INDEX_KEY"],
    )
    assert "dev-insecure" not in seen["secret"]
    # The second start reads the same keys.
    again = json.loads(_probe(_env(tmp_path, INSTANCE_SECRETS="1")).stdout.strip().splitlines()[-1])
    assert again["secret"] == seen["secret"]


def test_a_first_start_after_make_check_gets_the_installations_own_keys(tmp_path):
    """`make check` runs `makemigrations --check` under the test settings, which opens (and
    so creates) an empty var/estatecrm.sqlite3; the first `make run` after it must still
    write random keys, not the public development ones it keeps for old demo databases."""
    check = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=_env(tmp_path) | {"DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert (tmp_path / "estatecrm.sqlite3").exists()
    result = _probe(_env(tmp_path, INSTANCE_SECRETS="1"))
    assert result.returncode == 0, result.stderr
    assert "旧版公开的开发密钥" not in result.stderr
    assert json.loads((tmp_path / "secrets.json").read_text())["legacy_dev_keys"] is False


def test_debug_1_asks_for_debug_and_still_uses_the_installations_keys(tmp_path):
    result = _probe(_env(tmp_path, DEBUG="1"))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["debug"] is True
    assert seen["secret"] == json.loads((tmp_path / "secrets.json").read_text())["SECRET_KEY"]


def test_the_serve_command_uses_instance_secrets_without_the_makefile(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", "--help"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secrets.json").exists()


def test_production_without_keys_refuses_to_start_and_writes_no_file(tmp_path):
    result = _probe(_env(tmp_path))
    assert result.returncode != 0
    assert re.search(r"SECRET_KEY", result.stderr)
    assert not (tmp_path / "secrets.json").exists()


def test_the_logging_config_keeps_the_terminal_readable():
    import logging

    assert not logging.getLogger("axes").isEnabledFor(logging.INFO)
    assert not logging.getLogger("axes.handlers.database").isEnabledFor(logging.INFO)
    # runserver's own line is the one line per request; 4xx are not repeated with a traceback.
    assert logging.getLogger("django.server").isEnabledFor(logging.INFO)
    assert not logging.getLogger("django.request").isEnabledFor(logging.WARNING)
    assert logging.getLogger("django.request").isEnabledFor(logging.ERROR)
    assert not logging.getLogger("django.security.csrf").isEnabledFor(logging.WARNING)
    # The console SMS gateway prints each message; its log line would show it twice.
    assert not logging.getLogger("crm.sms.console").isEnabledFor(logging.INFO)


def test_production_settings_send_hsts_and_deny_frames(tmp_path):
    probe = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, s.SESSION_COOKIE_SECURE)"
    )
    env = _env(tmp_path, SECRET_KEY="x" * 60, FIELD_ENCRYPTION_KEY="a" * 43 + "=", BLIND_INDEX_KEY="b" * 20)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["31536000", "True", "DENY", "True"]


def test_production_refuses_the_published_example_keys(tmp_path):
    for public in ("dev-insecure-key-change-me", "change-me"):
        env = _env(tmp_path, SECRET_KEY=public, FIELD_ENCRYPTION_KEY="a" * 43 + "=", BLIND_INDEX_KEY="b" * 20)
        result = _probe(env)
        assert result.returncode != 0
        assert "public example value" in result.stderr
