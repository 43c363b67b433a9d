"""`manage.py serve` (what `make run` starts) end to end, on a fresh VAR_DIR: the secrets file,
DEBUG off with Chinese error pages, static files served, the demo login, and a quiet terminal."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_make_run_starts_safe_and_quiet(tmp_path):
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
    port = _free_port()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VAR_DIR=str(tmp_path),
        DEMO_CUSTOMERS="20",
        PORT=str(port),
        INSTANCE_SECRETS="1",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "terminal.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-jobs"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())

    def fetch(path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(base + path, data=body, headers={"Referer": base + "/login/"})
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    requests = 0
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                status, _ = fetch("/healthz")
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.5)
        requests += 1
        assert status == 200

        status, html = fetch("/no-such-page/")
        requests += 1
        assert status == 404
        assert "页面不存在" in html
        assert "Traceback" not in html
        assert "DEBUG = True" not in html

        status, html = fetch("/login/")
        requests += 1
        css = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', html)
        assert css, "static files are collected with hashed names (DEBUG off)"
        status, body = fetch(css.group(1))
        requests += 1
        assert status == 200
        assert ".sidebar" in body

        status, html = fetch("/login/", {"username": "approver1", "password": "x"})  # no CSRF token
        requests += 1
        assert status == 403
        assert "页面已过期" in html

        token = next(c.value for c in jar if c.name == "csrftoken")
        status, _ = fetch(
            "/login/",
            {"username": "approver1", "password": "EstateDemo@2026", "csrfmiddlewaretoken": token},
        )
        requests += 1
        assert status == 302, "the demo password documented in the README logs in"
        status, html = fetch("/customers/")  # 综合组 sees no customer data: an ordinary 403
        requests += 1
        assert status == 403
        assert "无权访问" in html
    finally:
        server.terminate()
        server.wait(timeout=20)

    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    terminal = log.read_text()
    assert "Traceback" not in terminal
    assert "AXES" not in terminal
    assert "Forbidden" not in terminal
    request_lines = [line for line in terminal.splitlines() if re.search(r'"(GET|POST) /', line)]
    assert len(request_lines) <= requests, terminal
    assert "EstateDemo@2026" in terminal  # the start banner names the demo password
    assert "调试模式：关闭" in terminal
    assert "secrets.json" in terminal
