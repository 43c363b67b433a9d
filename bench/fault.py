"""``python -m bench.fault`` (``make fault``): a PostgreSQL outage under web traffic and job runs.

The machine's PostgreSQL is shared, so the outage is played by a TCP proxy
(bench/faultproxy.py) between EstateCRM and the server: every connection is aborted and
new ones are refused for ``--outage`` seconds (30), as when the server is stopped.

1. ``DATABASE_URL`` (PostgreSQL; default a database ``estatecrm_fault``, created if missing)
   is migrated, given the demo data if empty, and ``--messages`` (2000) care notifications
   due now for customers created for the run.
2. Through the proxy: gunicorn (2 workers), ``manage.py runjobs`` and one
   ``manage.py dispatch`` worker, sending through the real Aliyun adapter to the Aliyun
   protocol fake (crm/sms/fakes), which counts every message it accepts.
3. Web traffic: a logged-in page (the customer list) and an API call, every 0.2 s each.
4. Once 300 messages went out, the proxy is cut for the outage, then restored.

Printed: the web's answers before, during and after (each 5xx during the outage must be a
503 in Chinese), the seconds to the first 200 after the restore, and the outbox: messages
the gateway received once, twice, never, and the rows' final statuses. Exit status 1 when
anything is lost or sent twice, or the web answered anything but 200 or 503.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import requests

from bench.faultproxy import FaultProxy
from bench.load.run import BASE_DIR, ensure_database, wait_for

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/estatecrm_fault"
CHINESE_503 = "数据库暂时无法连接"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.fault", description="故障演练：PostgreSQL 中断")
    p.add_argument("--outage", type=float, default=30, help="seconds the database is away (default 30)")
    p.add_argument("--messages", type=int, default=2000, help="care messages due when the run starts")
    p.add_argument("--port", type=int, default=8766, help="gunicorn's port on 127.0.0.1")
    return p


class Traffic(threading.Thread):
    """Requests every ``interval`` seconds; answers counted per phase."""

    def __init__(self, host: str, *, username: str, password: str, token: str, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.host, self.interval, self.token = host, interval, token
        self.phase = "before"
        self.counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.bad: list[str] = []
        self.first_ok_after: float | None = None
        self.restored_at = 0.0
        self.stopping = False
        self.browser = requests.Session()
        page = self.browser.get(f"{host}/login/", timeout=10)
        csrf = self.browser.cookies.get("csrftoken", "")
        assert page.status_code == 200
        answer = self.browser.post(
            f"{host}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{host}/login/"},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise SystemExit(f"login failed: {answer.status_code}")

    def run(self) -> None:
        api = requests.Session()
        api.headers["Authorization"] = f"Token {self.token}"
        while not self.stopping:
            for kind, session, path in (("page", self.browser, "/customers/"), ("api", api, "/api/customers/")):
                try:
                    response = session.get(f"{self.host}{path}", timeout=30, allow_redirects=False)
                    status = str(response.status_code)
                    body = response.json().get("detail", "") if kind == "api" and status == "503" else response.text
                    if response.status_code == 503 and CHINESE_503 not in body:
                        self.bad.append(f"{kind} 503 without the Chinese message")
                    elif response.status_code not in (200, 503):
                        self.bad.append(f"{kind} {response.status_code}: {response.text[:200]}")
                    if self.phase == "after" and response.status_code == 200 and self.first_ok_after is None:
                        self.first_ok_after = time.monotonic() - self.restored_at
                except requests.RequestException as exc:
                    status = type(exc).__name__
                    self.bad.append(f"{kind} {status}")
                self.counts[self.phase][f"{kind} {status}"] += 1
            time.sleep(self.interval)


def prepare(url: str, messages: int) -> tuple[list[int], str]:
    """Migrate, seed, and create ``messages`` due notifications; returns their ids and an API token."""
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from bench.outbox import make_due_notifications
    from crm.accounts.models import Company, User
    from crm.projects.models import Project

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", "--customers", "300")
    call_command("collectstatic", "--noinput", verbosity=0)
    company = Company.objects.order_by("pk").first()
    project = Project.objects.filter(company=company).order_by("pk").first()
    owner = User.objects.get(username="consultant1")
    if company is None or project is None:
        raise SystemExit("no demo company or project")
    ids = make_due_notifications(
        company,
        project,
        owner,
        messages,
        number_prefix="FLT",
        name_prefix="演练",
        mobile_prefix="136",
        occasion_prefix="fault-",
        text=f"【{company.sms_signature}】您的购房款已全额到账。",
        window=timedelta(hours=2),
    )
    token, _ = Token.objects.get_or_create(user=User.objects.get(username="director1"))
    return ids, token.key


def outcome(ids: list[int]) -> collections.Counter[str]:
    from crm.care.models import OutboundMessage

    return collections.Counter(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    var = BASE_DIR / "var" / "fault"
    var.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings", "INSTANCE_SECRETS": "1", "VAR_DIR": str(var), "DEBUG": "0"}
    )
    os.environ.setdefault("SECURE_SSL", "0")
    ids, token = prepare(url, args.messages)
    from crm.sms.fakes.aliyun import FakeAliyunSms

    db: Any = dj_database_url.parse(url)
    proxy = FaultProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).start()
    fake = FakeAliyunSms().start()
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@127.0.0.1:{proxy.port}/{db['NAME']}",
        "SMS_GATEWAY": "aliyun",
        "ALIYUN_SMS_ACCESS_KEY_ID": fake.access_key_id,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": fake.access_key_secret,
        "ALIYUN_SMS_ENDPOINT": fake.endpoint,
        # Short dispatch timings so the run ends in minutes (the defaults: 120 s lease, 600 s grace).
        "SMS_TIMEOUT_SECONDS": "1",
        "SMS_CONNECT_TIMEOUT_SECONDS": "0.5",
        "CARE_LEASE_SECONDS": "10",
        "CARE_SETTLE_GRACE_SECONDS": "15",
        "JOBS_POLL_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    python = sys.executable
    logs = {name: (var / f"{name}.log").open("w") for name in ("gunicorn", "runjobs", "dispatch")}
    host = f"http://127.0.0.1:{args.port}"
    procs = {
        "gunicorn": subprocess.Popen(
            [python, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", "2"],
            env=env,
            cwd=BASE_DIR,
            stdout=logs["gunicorn"],
            stderr=subprocess.STDOUT,
        ),
        "runjobs": subprocess.Popen(
            [python, "manage.py", "runjobs"], env=env, cwd=BASE_DIR, stdout=logs["runjobs"], stderr=subprocess.STDOUT
        ),
        "dispatch": subprocess.Popen(
            [python, "manage.py", "dispatch", "--until-empty", "--max-seconds", str(args.outage + 600)],
            env=env,
            cwd=BASE_DIR,
            stdout=logs["dispatch"],
            stderr=subprocess.STDOUT,
        ),
    }
    try:
        wait_for(f"{host}/healthz", 60)
        from django.conf import settings

        traffic = Traffic(host, username="director1", password=settings.DEMO_PASSWORD, token=token)
        traffic.start()
        deadline = time.monotonic() + 120
        while len(fake.messages) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        traffic.phase = "during"
        proxy.cut()
        at_cut = len(fake.messages)
        print(f"cut at {at_cut} messages accepted; database away for {args.outage:g} s", flush=True)
        time.sleep(args.outage)
        during = len(fake.messages) - at_cut
        traffic.restored_at = time.monotonic()
        traffic.phase = "after"
        proxy.restore()
        print("restored", flush=True)
        code = procs["dispatch"].wait(timeout=args.outage + 660)
        emptied = time.monotonic() - traffic.restored_at
        time.sleep(3)
        traffic.stopping = True
        traffic.join(timeout=40)
        runner_alive = procs["runjobs"].poll() is None
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:  # the runner finishes a job before it stops
                    proc.kill()
                    proc.wait(timeout=10)
        fake.stop()
        proxy.stop()
    # The runner may also send the demo data's own due messages: count the run's messages only.
    wanted = {str(pk) for pk in ids}
    received = collections.Counter(m.out_id for m in fake.messages if m.out_id in wanted)
    send_calls = sum(received.values())
    twice = sum(1 for n in received.values() if n > 1)
    never = len({str(pk) for pk in ids} - set(received))
    statuses = outcome(ids)
    for phase in ("before", "during", "after"):
        print(f"web {phase:<7} {dict(sorted(traffic.counts[phase].items()))}")
    print(f"web: first 200 {traffic.first_ok_after:.1f} s after the restore; unexpected answers: {len(traffic.bad)}")
    for line in traffic.bad[:10]:
        print(f"  {line}")
    print(
        f"outbox: {len(ids)} messages; {len(received)} received by the gateway, {twice} twice, {never} never; "
        f"{send_calls} accepted sends; {during} accepted during the outage (calls already under way)"
    )
    print(f"outbox statuses: {dict(statuses)}; dispatch worker exit {code}, emptied {emptied:.0f} s after the restore")
    print(f"job runner still running: {runner_alive}")
    retries = sum(
        Path(var / f"{name}.log").read_text(encoding="utf-8").count("数据库暂时无法连接")
        for name in ("runjobs", "dispatch")
    )
    print(f"'数据库暂时无法连接' lines in the runner's and the worker's logs: {retries}")
    done = set(statuses) <= {"sent", "delivered"}
    ok = not twice and not never and done and send_calls == len(ids) and not traffic.bad and runner_alive and code == 0
    print("RESULT: " + ("nothing lost, nothing sent twice, web answered 200 or a Chinese 503" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
