"""Production mode end to end: DEBUG off, `check --deploy` clean, gunicorn, static files
served by the app (WhiteNoise, hashed names), health check, on the database of the run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_database(tmp_path: Path) -> Iterator[str]:
    """A fresh database of the same kind as the test run's (PostgreSQL in CI's second pass)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'prod.sqlite3'}"
        return
    import psycopg

    name = f"estatecrm_prod_{uuid.uuid4().hex[:8]}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def prod_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    for database_url in production_database(tmp_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="0",
            SECRET_KEY="prod-test-" + uuid.uuid4().hex * 2,
            FIELD_ENCRYPTION_KEY="cHJvZC10ZXN0LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
            BLIND_INDEX_KEY="prod-test-blind-index",
            DATABASE_URL=database_url,
            VAR_DIR=str(tmp_path),
            STATIC_ROOT=str(tmp_path / "static"),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL="0",
            STATIC_MANIFEST="1",
        )
        yield env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_check_deploy_is_clean_with_https_settings(prod_env):
    result = manage(prod_env | {"SECURE_SSL": "1"}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(prod_env):
    env = {k: v for k, v in prod_env.items() if k != "SECRET_KEY"}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_gunicorn_serves_the_app_and_its_static_files(prod_env):
    assert manage(prod_env, "migrate", "--noinput").returncode == 0
    collected = manage(prod_env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=prod_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the server socket, bounded
            try:
                status, _, body = get(f"{base}/healthz")
                break
            except (ConnectionError, urllib.error.URLError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert status == 200
        assert '"database": "ok"' in body

        status, _, html = get(f"{base}/login/")
        assert status == 200
        assert "登录" in html
        css = html.split('href="/static/css/')[1].split('"')[0]
        assert css != "app.css"  # a hashed name such as app.3f2a9c.css
        assert css.startswith("app.")
        assert css.endswith(".css")
        status, headers, body = get(f"{base}/static/css/{css}")
        assert status == 200
        assert "max-age=315360000" in headers.get("Cache-Control", "")
        assert ".sidebar" in body

        status, _, body = get(f"{base}/no-such-page/")
        assert status in (302, 404)
        assert "Traceback" not in body
    finally:
        server.terminate()
        server.wait(timeout=10)
