"""manage.py backup FILE: a consistent copy of the database (crm.privacy.backups)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crm.privacy import backups


class Command(BaseCommand):
    help = "Back up the database: SQLite via the online backup API, PostgreSQL via pg_dump (custom format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--ledger", type=Path, help="also write the erasure ledger (JSON) here, kept apart from the backup"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        backups.backup(path)
        self.stdout.write(f"backup written: {path} ({path.stat().st_size} bytes)")
        if options["ledger"]:
            rows = backups.read_ledger()
            backups.write_ledger(Path(options["ledger"]), rows)
            self.stdout.write(f"erasure ledger written: {options['ledger']} ({len(rows)} rows)")
