"""Operations shared by migrations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations


def postgresql_only(forward: Sequence[str], backward: Sequence[str]) -> migrations.RunPython:
    """Run ``forward`` (and ``backward`` when unapplied) on PostgreSQL; nothing elsewhere.

    For what only PostgreSQL has: pg_trgm's GIN indexes, partial GIN indexes.
    """

    def run(statements: Sequence[str]) -> Any:
        def apply(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for sql in statements:
                    schema_editor.execute(sql)

        return apply

    return migrations.RunPython(run(forward), run(backward))
