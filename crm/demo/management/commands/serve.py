"""`make run`: migrate, load demo data on first start, then serve the web app with the job runner."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from crm.accounts.models import Company
from crm.demo.foundation import DEMO_USERS


def ensure_site_url(host: str, port: str) -> str:
    """Links sent by SMS (a complaint's survey) point at this server unless SITE_URL is set:
    ``PORT=8080 make run`` must not send links to :8000. The job runner inherits it."""
    if not os.environ.get("SITE_URL"):
        os.environ["SITE_URL"] = f"http://{host}:{port}"
        settings.SITE_URL = os.environ["SITE_URL"]
    return str(settings.SITE_URL)


class Command(BaseCommand):
    help = "启动 EstateCRM（网页服务 + 定时任务），首次启动时创建演示数据"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--no-jobs", action="store_true")

    def handle(self, *args: Any, port: str, host: str, no_jobs: bool, **options: Any) -> None:
        ensure_site_url(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        if not Company.objects.exists():
            count = int(os.environ.get("DEMO_CUSTOMERS", "3000"))
            self.stdout.write(f"首次启动：正在创建演示数据（{count} 位客户）…")
            call_command("seed_demo", customers=count)
        if settings.STATIC_MANIFEST:
            call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{host}:{port}/"
        lines = [
            "",
            "=" * 60,
            f"EstateCRM 已启动：{url}",
            f"演示账号（密码均为 {settings.DEMO_PASSWORD}）：",
        ]
        lines += [
            f"  {u.username:<12} {'、'.join(str(r.label) for r in u.roles)}（{u.display_name}）" for u in DEMO_USERS
        ]
        lines += [
            f"接口文档：{url}api/docs/（需登录）   健康检查：{url}healthz",
            "调试模式：" + ("开启（仅供开发）" if settings.DEBUG else "关闭（开发调试请用 DEBUG=1 make run）"),
            f"本机密钥：{settings.VAR_DIR / 'secrets.json'}（请与数据库一同备份，切勿外传）",
            "按 Ctrl+C 停止。",
            "=" * 60,
            "",
        ]
        self.stdout.write("\n".join(lines))
        jobs = None
        if not no_jobs:
            jobs = subprocess.Popen([sys.executable, "manage.py", "runjobs"], cwd=settings.BASE_DIR)
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False, skip_checks=True)
        finally:
            if jobs is not None:
                jobs.terminate()
                jobs.wait(timeout=10)
