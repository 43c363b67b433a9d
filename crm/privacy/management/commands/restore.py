"""manage.py restore FILE: restore a backup, then replay the erasure ledger (crm.privacy.backups)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crm.privacy import backups


class Command(BaseCommand):
    help = (
        "Restore a backup over the current database (SQLite: online backup API; PostgreSQL: pg_restore --clean), "
        "then anonymise again every customer erased after the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--ledger", type=Path, help="an erasure ledger file (backup --ledger) to replay as well")
        parser.add_argument("--yes", action="store_true", help="do not ask: the current data is replaced")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"备份文件不存在：{path}")
        if not options["yes"] and input("当前数据库将被备份覆盖，输入 yes 继续：").strip() != "yes":
            raise CommandError("已取消")
        result = backups.restore(
            path, now=timezone.now(), ledger=Path(options["ledger"]) if options["ledger"] else None
        )
        self.stdout.write(
            f"restored {path}; erasure ledger: {result.ledger_rows} rows, {result.replayed} customers erased again"
        )
