"""Database expressions the ORM lacks, each written for both supported databases."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Func


class ChinaMinute(Func):
    """A timestamp as China-time text ``YYYY-MM-DD HH:MM``, formatted by the database.

    For listings of tens of thousands of rows that only show the time (a monthly report
    pack lists a month's complaints: 26,000 at full size, bench reports): loading each
    timestamp into a datetime and formatting it took 5 µs a row, a third of the pack's
    Python. China has kept UTC+8 without daylight saving since 1991, which the SQLite form
    relies on (it stores UTC)."""

    output_field = CharField()

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # %%%% → %% in the template → % once Django's SQLite cursor has swapped %s for ?.
        return self.as_sql(
            compiler,
            connection,
            template="strftime('%%%%Y-%%%%m-%%%%d %%%%H:%%%%M', %(expressions)s, '+8 hours')",
            **extra,
        )
