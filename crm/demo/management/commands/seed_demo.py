"""Load the demo data once (used by `make run` on first start)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm.accounts.models import Company
from crm.demo import seed as demo


class Command(BaseCommand):
    help = "创建演示数据（公司、楼盘、各角色员工、客户与成交）；已有数据时不重复创建"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=3000)

    def handle(self, *args: Any, customers: int, **options: Any) -> None:
        if Company.objects.exists():
            self.stdout.write("已有数据，跳过演示数据。")
            return
        demo.seed(customers=customers)
        self.stdout.write(self.style.SUCCESS(f"演示数据已创建：{customers} 位客户。"))
