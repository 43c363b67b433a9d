"""Writing many rows of one model fast, without model instances: the Excel import, the outbox.

Why not ``bulk_create``: for each row it builds a model instance and prepares every value
through its field (``get_db_prep_save``, about 10 µs a value), which for 100,000 imported
customers × 40 columns is the better part of a minute, and for the 6,000 outbox rows of a
busy planning day was ~90% of the planner's time. Here the values are prepared per column
and everything that is the same in every row once per call.

Two ways in, by where the rows come from:

- ``insert_rows(model, fields, rows, …)``: rows of Python values, each holding the values
  of ``fields``. With ``variants``, each row ends with an index into ``variants``, a few
  mappings of other columns (the outbox's rule, text and window: rows differ only in the
  recipient), which travel once each instead of once per row.
- ``insert_for_each(model, field, source, …)``: one row per id of a list, or per row of a
  one-column queryset, as one ``INSERT … SELECT``: the ids travel as one parameter, or not
  at all (the queryset's own SQL), and every other value once.
- ``insert_from(model, fields, source, …)``: one row per row of a ``values()`` queryset of
  several columns (the visit planner's tasks with their dates), as one ``INSERT … SELECT``.

And two ways to meet a unique key, chosen by ``skip_conflicts``:

- False (fresh rows, such as an import's): a conflict raises ``django.db.IntegrityError``
  and the caller's transaction is rolled back. ``insert_rows`` loads the rows with COPY on
  PostgreSQL, its bulk load and several times faster than any INSERT (100,000 imported
  customers into 1,000,000 in about 10 s, the whole import).
- True (rows that may exist already: a second run, a second runner, a redelivered task):
  ``INSERT … ON CONFLICT DO NOTHING`` without a conflict target, so every unique key and
  partial unique index counts; the count returned is of the rows really inserted. On
  PostgreSQL the rows of a chunk go as one array per column, unnested by the server.

SQLite, which has neither COPY nor arrays, runs one prepared INSERT for every row
(``executemany``, in C), and reads ``insert_for_each``'s ids with json_each.

The columns of every insert follow one rule:

1. ``fields`` name the columns given per row, the ``variants``' keys those given per
   variant, by attname ("owner_id"). Per-row values are prepared per column as the field would prepare them:
   dates, datetimes, decimals and JSON by the connection's adapters, the other built-in
   fields' values (text, numbers, booleans, foreign keys) as they are, any other field's
   through ``get_db_prep_save``. Columns named in ``prepared`` are passed as they are (JSON
   already encoded as text). Variant values are prepared through their field.
2. ``constants`` (attname → value) are the same for every row, prepared once through their
   field (``get_db_prep_save``).
3. Every other concrete column: left out when it is the primary key or has a database
   default (``db_default``: the database fills it, row by row); ``now`` for auto_now and
   auto_now_add (for a DateField the date of ``now`` in TIME_ZONE; ``now`` defaults to one
   ``timezone.now()`` per call); otherwise its model default, evaluated once per call, so
   every row shares it. That is right for constants and ``dict``, wrong for a default that
   must differ per row: a unique column with a callable default is refused, give it per row.

The rows written are the ones the ORM would write (datetimes in SQLite's text format, JSON
as Django encodes it), which the tests of this module compare column by column.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Field, QuerySet
from django.utils import timezone

# Rows per INSERT statement: bounds the size of one query (and of its arrays), not its speed.
CHUNK = 20_000

# Built-in fields whose Python values are already what the database driver takes.
_AS_IS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "BigIntegerField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "BooleanField",
        "FloatField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "ForeignKey",
        "OneToOneField",
    }
)

Row = Sequence[Any]


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Row],
    *,
    variants: Sequence[Mapping[str, Any]] | None = None,
    constants: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    prepared: Collection[str] = (),
    skip_conflicts: bool = False,
    chunk: int = CHUNK,
) -> int:
    """Insert one row of ``model`` per item of ``rows``; return how many were inserted.

    ``rows`` hold the values of ``fields`` in that order (a generator will do: on PostgreSQL
    without ``skip_conflicts`` the rows are built while the server works through the COPY),
    followed, with ``variants``, by the index of the row's variant. The other columns follow
    the module's rule. Without ``skip_conflicts`` a conflict raises IntegrityError; with it
    the conflicting rows are skipped and not counted.
    """
    plan = _Plan.build(model, fields, variants=variants, constants=constants, now=now, prepared=prepared)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not skip_conflicts:
            return plan.copy(cursor, rows)
        inserted = 0
        params = plan.params
        conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
        marks = ", ".join(["%s"] * len(plan.columns))
        for batch in _batches(rows, chunk):
            if connection.vendor == "postgresql":
                cursor.execute(*plan.unnest_insert(batch))
            else:
                cursor.executemany(
                    f"INSERT INTO {plan.table} ({plan.column_list}) VALUES ({marks}){conflict}",
                    [params(row) for row in batch],
                )
            inserted += cursor.rowcount
        return inserted


def insert_for_each(
    model: type[models.Model],
    field: str,
    source: Sequence[int] | QuerySet[Any],
    *,
    constants: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    skip_conflicts: bool = False,
) -> int:
    """Insert one row of ``model`` per item of ``source``, ``field`` holding it; return how
    many were inserted.

    ``source``: integers (ids), or a queryset of one column, whose SQL becomes the statement's
    source, so that no id travels through Python. The other columns are ``constants`` and the
    module's rule. One statement, ``INSERT … SELECT``.
    """
    plan = _Plan.build(model, (field,), constants=constants, now=now)
    target = plan.columns[0]
    postgres = connection.vendor == "postgresql"
    if isinstance(source, QuerySet):
        sub_sql, sub_params = source.query.get_compiler(connection=connection).as_sql()
        from_sql, from_params = f"({sub_sql}) AS ids", list(sub_params)
        first = "ids.*"  # the subquery's one column, however Django named it
    else:
        if not source:
            return 0
        first = "ids.id"
        if postgres:
            from_sql = f"(SELECT CAST(n AS {_db_type(target)}) AS id FROM unnest(string_to_array(%s, ',')) AS n) AS ids"
            from_params = [",".join(map(str, source))]
        else:
            from_sql = "(SELECT value AS id FROM json_each(%s)) AS ids"
            from_params = [f"[{','.join(map(str, source))}]"]
    select = ", ".join([first, *(f"CAST(%s AS {_db_type(f)})" if postgres else "%s" for f in plan.constant_fields)])
    # "WHERE true": SQLite would otherwise read "ON CONFLICT" after a FROM as a join's ON.
    conflict = " WHERE true ON CONFLICT DO NOTHING" if skip_conflicts else ""
    sql = f"INSERT INTO {plan.table} ({plan.column_list}) SELECT {select} FROM {from_sql}{conflict}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*plan.constants, *from_params])
        return int(cursor.rowcount)


def insert_from(
    model: type[models.Model],
    fields: Sequence[str],
    source: QuerySet[Any],
    *,
    constants: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    skip_conflicts: bool = False,
) -> int:
    """Insert one row of ``model`` per row of ``source``, a ``values()`` queryset whose
    columns are ``fields``' values in that order (Django keeps the order given); return how
    many were inserted.

    As ``insert_for_each`` with a queryset, but several columns come from the query (dates
    computed set-wise with ``Case``, a foreign key read through a join): one
    ``INSERT … SELECT``, no row through Python. The other columns are ``constants`` and the
    module's rule.
    """
    query = source.query
    width = len(query.values_select) + len(query.annotation_select) + len(query.extra_select)
    if width != len(fields):
        raise ValueError(f"the source gives {width} columns for {len(fields)} fields")
    plan = _Plan.build(model, fields, constants=constants, now=now)
    postgres = connection.vendor == "postgresql"
    sub_sql, sub_params = source.order_by().query.get_compiler(connection=connection).as_sql()
    select = ", ".join(["src.*", *(f"CAST(%s AS {_db_type(f)})" if postgres else "%s" for f in plan.constant_fields)])
    # "WHERE true": SQLite would otherwise read "ON CONFLICT" after a FROM as a join's ON.
    conflict = " WHERE true ON CONFLICT DO NOTHING" if skip_conflicts else ""
    sql = f"INSERT INTO {plan.table} ({plan.column_list}) SELECT {select} FROM ({sub_sql}) AS src{conflict}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*plan.constants, *sub_params])
        return int(cursor.rowcount)


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """``count`` new primary keys from the table's sequence on PostgreSQL; None elsewhere.

    Rows inserted with their keys (``insert_rows`` with "id" among the fields) need not be
    read back to learn them (20 queries reading 5,000 fresh rows each for 100,000 imported
    customers, 0.3 s).
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # The sequence's name once: pg_get_serial_sequence per row cost 0.23 s per 100,000.
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [connection.ops.quote_name(model._meta.db_table), str(model._meta.pk.column)],
        )
        (sequence,) = cursor.fetchone()
        # Usually the values drawn form one unbroken run (nextval never hands out a value
        # twice, so a run as long as the count is all ours): its two ends instead of 100,000
        # rows. If another session drew meanwhile, those values stay unused (gaps in ids are
        # harmless) and a second draw is read value by value.
        cursor.execute(
            "SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) AS drawn",
            [sequence, count],
        )
        low, high = cursor.fetchone()
        if high - low + 1 == count:
            return list(range(low, high + 1))
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
        return [pk for (pk,) in cursor.fetchall()]


@dataclass
class _Plan:
    """The columns of one call: given per row, per variant, constant (prepared), in that order."""

    table: str
    row_fields: list[Field[Any, Any]]
    preparers: list[tuple[int, Callable[[Any], Any]]]  # (position in the row, how to prepare it)
    variant_fields: list[Field[Any, Any]]
    variant_values: list[tuple[Any, ...]]  # per variant, prepared
    constant_fields: list[Field[Any, Any]]
    constants: list[Any]  # prepared

    @classmethod
    def build(
        cls,
        model: type[models.Model],
        fields: Sequence[str],
        *,
        variants: Sequence[Mapping[str, Any]] | None = None,
        constants: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        prepared: Collection[str] = (),
    ) -> _Plan:
        variant_names = list(variants[0]) if variants else []
        if variants and any(list(variant) != variant_names for variant in variants):
            raise ValueError("every variant must give the same columns in the same order")
        constants = constants or {}
        row_fields = [_field(model, name) for name in fields]
        variant_fields = [_field(model, name) for name in variant_names]
        given_fields = [_field(model, name) for name in constants]
        named = [f.attname for f in (*row_fields, *variant_fields, *given_fields)]
        twice = sorted({name for name in named if named.count(name) > 1})
        if twice:
            raise ValueError(f"{model.__name__}: {', '.join(twice)} given more than once")
        preparers = [
            (i, prepare) for i, f in enumerate(row_fields) if f.attname not in prepared and (prepare := _preparer(f))
        ]
        variant_values = [
            tuple(
                f.get_db_prep_save(variant[name], connection)
                for name, f in zip(variant_names, variant_fields, strict=True)
            )
            for variant in variants or ()
        ]
        constant_fields = list(given_fields)
        values = [
            f.get_db_prep_save(constants[name], connection) for name, f in zip(constants, given_fields, strict=True)
        ]
        for f, value in _defaults(model, set(named), now or timezone.now()):
            constant_fields.append(f)
            values.append(value)
        return cls(
            table=connection.ops.quote_name(model._meta.db_table),
            row_fields=row_fields,
            preparers=preparers,
            variant_fields=variant_fields,
            variant_values=variant_values,
            constant_fields=constant_fields,
            constants=values,
        )

    @cached_property
    def columns(self) -> list[Field[Any, Any]]:
        return [*self.row_fields, *self.variant_fields, *self.constant_fields]

    @cached_property
    def column_list(self) -> str:
        return ", ".join(connection.ops.quote_name(str(f.column)) for f in self.columns)

    @cached_property
    def params(self) -> Callable[[Row], tuple[Any, ...]]:
        """Row → the parameters of its INSERT (or COPY line): the prepared row values, its
        variant's values, the constants. Runs once per row: kept to a tuple or two."""
        preparers, tail = self.preparers, tuple(self.constants)
        width = len(self.row_fields)

        def prepare(row: Row) -> Row:
            if preparers:
                row = list(row)
                for i, convert in preparers:
                    row[i] = convert(row[i])
            return row

        if self.variant_fields:
            variants = self.variant_values
            return lambda row: (*prepare(row[:width]), *variants[row[width]], *tail)
        if self.variant_values:  # variants without columns: only the index to drop
            return lambda row: (*prepare(row[:width]), *tail)
        return lambda row: (*prepare(row), *tail)

    def copy(self, cursor: Any, rows: Iterable[Row]) -> int:
        """PostgreSQL: the rows through COPY. Errors are wrapped so that a unique violation
        still arrives as django.db.IntegrityError."""
        params = self.params
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {self.table} ({self.column_list}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(params(row))
        return int(cursor.cursor.rowcount)

    def unnest_insert(self, rows: Sequence[Row]) -> tuple[str, list[Any]]:
        """PostgreSQL: ``INSERT … SELECT … ON CONFLICT DO NOTHING`` from the rows as one array
        per column, joined to the variants as one array per column (the variant of row r is
        the (r.k + 1)th: ordinality counts from 1). Every parameter is cast to its column's
        type; an untyped one in a SELECT list would be text."""
        width = len(self.row_fields)
        columns = [list(values) for values in zip(*rows, strict=True)]
        for i, prepare in self.preparers:
            columns[i] = [prepare(value) for value in columns[i]]
        row_names = [f"c{i}" for i in range(width)]
        variant_names = [f"v{i}" for i in range(len(self.variant_fields))]
        arrays = [f"%s::{_db_type(f)}[]" for f in self.row_fields]
        select = [
            *(f"r.{name}" for name in row_names),
            *(f"t.{name}" for name in variant_names),
            *(f"%s::{_db_type(f)}" for f in self.constant_fields),
        ]
        if self.variant_fields:
            variant_arrays = [f"%s::{_db_type(f)}[]" for f in self.variant_fields]
            source = (
                f"unnest({', '.join([*arrays, '%s::int[]'])}) AS r({', '.join([*row_names, 'k'])})"
                f" JOIN unnest({', '.join(variant_arrays)}) WITH ORDINALITY AS t({', '.join([*variant_names, 'k'])})"
                " ON t.k = r.k + 1"
            )
            params = [*columns, *(list(values) for values in zip(*self.variant_values, strict=True))]
        else:
            source = f"unnest({', '.join(arrays)}) AS r({', '.join(row_names)})"
            params = columns[:width]
        sql = f"INSERT INTO {self.table} ({self.column_list}) SELECT {', '.join(select)} FROM {source} ON CONFLICT DO NOTHING"
        return sql, [*self.constants, *params]


def _defaults(model: type[models.Model], named: set[str], now: datetime) -> Iterator[tuple[Field[Any, Any], Any]]:
    """The columns neither given nor filled by the database, with their prepared values."""
    for f in model._meta.concrete_fields:
        if not isinstance(f, Field) or f.primary_key or f.attname in named or f.has_db_default():
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now if isinstance(f, models.DateTimeField) else timezone.localdate(now)
        else:
            if f.unique and f.has_default() and callable(f.default):
                raise ValueError(f"{model.__name__}.{f.attname}: a unique column with a callable default, give it")
            value = f.get_default()
        yield f, f.get_db_prep_save(value, connection)


def _field(model: type[models.Model], name: str) -> Field[Any, Any]:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise ValueError(f"{model.__name__} has no column {name}") from exc
    if not isinstance(field, Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _preparer(f: Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a row's Python value of this field becomes a query parameter; None: as it is."""
    ops = connection.ops
    if not type(f).__module__.startswith("django.db.models."):
        return partial(f.get_db_prep_save, connection=connection)
    if isinstance(f, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(f, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(f, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
    if isinstance(f, models.JSONField):
        return partial(ops.adapt_json_value, encoder=f.encoder)
    if f.get_internal_type() in _AS_IS:
        return None
    return partial(f.get_db_prep_save, connection=connection)


def _db_type(f: Field[Any, Any]) -> str:
    db_type = f.db_type(connection)
    if db_type is None:
        raise TypeError(f"{f.name} has no database type")
    return db_type


def _batches(rows: Iterable[Row], size: int) -> Iterator[Sequence[Row]]:
    if isinstance(rows, Sequence):
        for start in range(0, len(rows), size):
            yield rows[start : start + size]
        return
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


__all__ = ["CHUNK", "insert_for_each", "insert_from", "insert_rows", "reserve_ids"]
