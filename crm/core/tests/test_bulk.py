"""crm.core.bulk against what the ORM writes, on whichever database the run uses.

Rows are compared as stored (raw SELECT, no Django converters): on SQLite that is the text
of every datetime, decimal and JSON value, so a format differing from the ORM's fails here
even where reading it back through the model would hide it. ``skip_conflicts`` switches
PostgreSQL between COPY and INSERT … SELECT FROM unnest, so most tests run both ways.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import isolate_apps

from crm.core import bulk

NOW = datetime(2026, 11, 23, 9, 1, 2, 345678, tzinfo=UTC)


@pytest.fixture
def Thing(db):
    """A model with every kind of column bulk treats differently, its table created inside
    the test's transaction (rolled back with it)."""
    with isolate_apps("crm.core"):

        class Thing(models.Model):
            name = models.CharField(max_length=20, unique=True)
            size = models.IntegerField(default=3)
            price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
            born_on = models.DateField(null=True)
            seen_at = models.DateTimeField(null=True)
            data = models.JSONField(default=dict)
            note = models.TextField(blank=True)
            label = models.CharField(max_length=20, db_default="来自数据库")
            created_at = models.DateTimeField(auto_now_add=True)
            updated_on = models.DateField(auto_now=True)

            class Meta:
                app_label = "core"
                db_table = "test_bulk_thing"

            def __str__(self) -> str:
                return self.name

    # The SQL of the table, run on the test's own connection: the schema editor itself
    # refuses to run inside a transaction on SQLite.
    editor = connection.schema_editor(collect_sql=True)
    editor.deferred_sql = []
    editor.create_model(Thing)
    with connection.cursor() as cursor:
        for sql in [*editor.collected_sql, *map(str, editor.deferred_sql)]:
            cursor.execute(sql.rstrip(";"))
    return Thing


def stored(model, **lookup) -> dict:
    """The row as the database holds it, without its id and the auto_now date: for that the
    ORM takes the server's date.today(), bulk the date of ``now`` in TIME_ZONE (checked in
    test_other_columns_get_their_default_the_database_default_or_now)."""
    columns = [str(f.column) for f in model._meta.concrete_fields if not f.primary_key and f.name != "updated_on"]
    quote = connection.ops.quote_name
    pk = model.objects.get(**lookup).pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} WHERE id = %s", [pk]
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))


def orm(model, **values):
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        return model.objects.create(**values)


skip_or_fail = pytest.mark.parametrize("skip_conflicts", [False, True], ids=["fail-on-conflict", "skip-conflicts"])

FIELDS = ("name", "price", "born_on", "seen_at", "data")
VALUES = (Decimal("1234.50"), date(1985, 3, 5), datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), {"甲": [1, 2]})


@skip_or_fail
def test_rows_are_stored_exactly_as_the_orm_stores_them(Thing, skip_conflicts):
    orm(Thing, **dict(zip(FIELDS, ("orm", *VALUES), strict=True)))
    count = bulk.insert_rows(Thing, FIELDS, [("fast", *VALUES)], now=NOW, skip_conflicts=skip_conflicts)
    assert count == 1
    by_orm, fast = stored(Thing, name="orm"), stored(Thing, name="fast")
    assert fast == by_orm | {"name": "fast"}
    thing = Thing.objects.get(name="fast")
    assert (thing.price, thing.born_on, thing.data) == (*VALUES[:2], VALUES[3])
    assert thing.seen_at == VALUES[2]


@skip_or_fail
def test_other_columns_get_their_default_the_database_default_or_now(Thing, skip_conflicts):
    bulk.insert_rows(Thing, ("name",), [("甲",)], now=NOW, skip_conflicts=skip_conflicts)
    thing = Thing.objects.get()
    assert (thing.size, thing.data, thing.note, thing.price) == (3, {}, "", None)
    assert thing.label == "来自数据库"  # left out: the database filled it
    assert (thing.created_at, thing.updated_on) == (NOW, date(2026, 11, 23))


@skip_or_fail
def test_constants_go_into_every_row(Thing, skip_conflicts):
    constants = {"size": 7, "label": "给定", "data": {"批次": "b1"}, "created_at": datetime(2020, 1, 1, tzinfo=UTC)}
    rows = [("甲",), ("乙",)]
    assert bulk.insert_rows(Thing, ("name",), rows, constants=constants, skip_conflicts=skip_conflicts) == 2
    values = set(Thing.objects.values_list("name", "size", "label", "created_at"))
    assert values == {(name, 7, "给定", datetime(2020, 1, 1, tzinfo=UTC)) for name in ("甲", "乙")}
    assert [t.data for t in Thing.objects.all()] == [{"批次": "b1"}] * 2


@skip_or_fail
def test_each_row_gets_its_variant(Thing, skip_conflicts):
    variants = [{"size": 1, "note": "一"}, {"size": 2, "note": "二"}]
    rows = [("甲", 1), ("乙", 0), ("丙", 1)]
    assert bulk.insert_rows(Thing, ("name",), rows, variants=variants, skip_conflicts=skip_conflicts) == 3
    assert set(Thing.objects.values_list("name", "size", "note")) == {("甲", 2, "二"), ("乙", 1, "一"), ("丙", 2, "二")}


@skip_or_fail
def test_rows_may_come_from_a_generator_in_several_chunks(Thing, skip_conflicts):
    rows = ((f"客户{i}", i) for i in range(5))
    assert bulk.insert_rows(Thing, ("name", "size"), rows, chunk=2, skip_conflicts=skip_conflicts) == 5
    assert sorted(Thing.objects.values_list("size", flat=True)) == [0, 1, 2, 3, 4]


def test_prepared_values_are_passed_as_they_are(Thing):
    bulk.insert_rows(Thing, ("name", "data"), [("甲", '{"line": 2}')], prepared={"data"})
    assert Thing.objects.get().data == {"line": 2}


def test_skipping_conflicts_counts_only_the_rows_inserted(Thing):
    orm(Thing, name="已有", size=1)
    rows = [("新的", 2), ("已有", 3), ("也新", 4)]
    assert bulk.insert_rows(Thing, ("name", "size"), rows, skip_conflicts=True) == 2
    assert bulk.insert_rows(Thing, ("name", "size"), rows, skip_conflicts=True) == 0
    assert dict(Thing.objects.values_list("name", "size")) == {"已有": 1, "新的": 2, "也新": 4}


def test_a_conflict_fails_the_insert_unless_skipped(Thing):
    orm(Thing, name="已有")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Thing, ("name",), [("新的",), ("已有",)])
    assert list(Thing.objects.values_list("name", flat=True)) == ["已有"]


def test_insert_for_each_id_writes_one_row_per_id(Thing):
    assert bulk.insert_for_each(Thing, "size", [], constants={"name": "无"}) == 0
    count = bulk.insert_for_each(Thing, "size", [5], constants={"name": "五", "note": "备注"}, now=NOW)
    assert count == 1
    orm(Thing, name="orm", size=5, note="备注")
    assert stored(Thing, name="五") == stored(Thing, name="orm") | {"name": "五"}


def test_insert_for_each_id_skipping_conflicts(Thing):
    # Every row gets the same name, a unique column: only the first goes in.
    assert bulk.insert_for_each(Thing, "size", [5, 6], constants={"name": "同名"}, skip_conflicts=True) == 1
    assert bulk.insert_for_each(Thing, "size", [7], constants={"name": "同名"}, skip_conflicts=True) == 0
    assert Thing.objects.get().size in {5, 6}


def test_insert_for_each_row_of_a_queryset_skipping_conflicts(Thing):
    for name, size in (("甲", 1), ("乙", 2), ("丙", 3)):
        orm(Thing, name=name, size=size)
    sizes = Thing.objects.filter(size__gte=2).values("size")
    assert bulk.insert_for_each(Thing, "size", sizes, constants={"name": "复制"}, skip_conflicts=True) == 1
    assert Thing.objects.get(name="复制").size in {2, 3}  # the second row's name conflicts


def test_columns_must_exist_and_be_given_once(Thing):
    with pytest.raises(ValueError, match="no column colour"):
        bulk.insert_rows(Thing, ("colour",), [("红",)])
    with pytest.raises(ValueError, match="size given more than once"):
        bulk.insert_rows(Thing, ("name", "size"), [("甲", 1)], constants={"size": 2})
    with pytest.raises(ValueError, match="name given more than once"):
        bulk.insert_rows(Thing, ("name",), [("甲", 0)], variants=[{"name": "乙"}])
    with pytest.raises(ValueError, match="same columns"):
        bulk.insert_rows(Thing, ("name",), [("甲", 0)], variants=[{"size": 1}, {"note": "x"}])


def test_a_unique_column_with_a_callable_default_must_be_given(db):
    with isolate_apps("crm.core"):

        class Token(models.Model):
            token = models.CharField(max_length=32, unique=True, default=lambda: "same for every row")
            note = models.TextField()

            class Meta:
                app_label = "core"

            def __str__(self) -> str:
                return self.token

    with pytest.raises(ValueError, match="token"):
        bulk.insert_rows(Token, ("note",), [("甲",)])


def test_reserved_ids_are_new_and_distinct(Thing):
    ids = bulk.reserve_ids(Thing, 5)
    if connection.vendor != "postgresql":
        assert ids is None  # SQLite: the database assigns them on insert
        return
    assert ids is not None
    assert len(set(ids)) == 5
    rows = [(pk, f"预留{pk}") for pk in ids]
    bulk.insert_rows(Thing, ("id", "name"), rows)
    assert sorted(Thing.objects.values_list("id", flat=True)) == sorted(ids)
    orm(Thing, name="之后")  # the sequence has moved past them
    assert Thing.objects.get(name="之后").pk not in ids
