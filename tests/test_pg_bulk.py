"""COPY-based upserts on the real PostgreSQL server: values round-trip exactly, keys update in place,
and the caller's transaction decides what stays."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import polars as pl
import pytest
from conftest import postgres_url_or_skip
from sqlalchemy import Boolean, Column, Date, Float, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.engine import Engine

from vsdash.store import attendance, make_engine
from vsdash.store.partitions import ensure_partitions
from vsdash.store.pg_bulk import copy_out, copy_upsert

KEY = ["date", "key"]
COLUMNS = ["date", "key", "column", "flag", "order", "score"]
SCHEMA = {
    "date": pl.Date,
    "key": pl.String,
    "column": pl.String,
    "flag": pl.Boolean,
    "order": pl.Int64,
    "score": pl.Float64,
}

TRICKY = ["", None, "a,b", 'say "hi"', "two\nlines", "Ünïcode", "\\N", "NULL", " padded ", "cr\r\nlf", '"', "\t"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The test server, or a skip (a failure in CI) when there is none."""
    engine = make_engine(postgres_url_or_skip())
    yield engine
    engine.dispose()


@pytest.fixture
def marks(engine: Engine) -> Table:
    """A throwaway table of its own, named to clash with nothing, whose column names need quoting."""
    table = Table(
        f"pg_bulk_{uuid4().hex[:12]}",
        MetaData(),
        Column("date", Date, primary_key=True),
        Column("key", String(13), primary_key=True),
        Column("column", Text),
        Column("flag", Boolean),
        Column("order", Integer),
        Column("score", Float),
        Column("untouched", Text, nullable=False, server_default="kept"),
    )
    table.create(engine)
    yield table
    table.drop(engine)


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def stored(engine: Engine, table: Table) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*[table.c[c] for c in COLUMNS]).order_by(*KEY))]


def upsert(engine: Engine, table: Table, *frames: pl.DataFrame) -> None:
    with engine.begin() as conn:
        for f in frames:
            copy_upsert(conn, table, KEY, COLUMNS, f)


def test_tricky_values_round_trip_exactly(engine, marks):
    rows = [(date(2025, 9, 1), f"k{i:02d}", text, i % 2 == 0, i, i / 3) for i, text in enumerate(TRICKY)]
    rows.append((date(1, 1, 1), "nulls", None, None, None, None))
    rows.append((date(9999, 12, 31), "floats", "x", False, -2_147_483_648, float("inf")))
    rows.append((date(2024, 2, 29), "tiny", "y", True, 2_147_483_647, 5e-324))
    upsert(engine, marks, frame(rows))
    assert stored(engine, marks) == sorted(rows, key=lambda r: (r[0], r[1]))


def test_existing_keys_update_in_place_and_new_keys_insert(engine, marks):
    upsert(
        engine,
        marks,
        frame([(date(2025, 9, 1), "A", "old", True, 1, 1.0), (date(2025, 9, 2), "A", "", False, 2, None)]),
    )
    upsert(
        engine,
        marks,
        frame(
            [
                (date(2025, 9, 1), "A", None, None, None, 0.5),
                (date(2025, 9, 2), "A", "new", True, 20, 2.5),
                (date(2025, 9, 3), "A", "", None, 3, None),
            ]
        ),
    )
    assert stored(engine, marks) == [
        (date(2025, 9, 1), "A", None, None, None, 0.5),
        (date(2025, 9, 2), "A", "new", True, 20, 2.5),
        (date(2025, 9, 3), "A", "", None, 3, None),
    ]


def test_columns_outside_the_list_keep_their_default(engine, marks):
    upsert(engine, marks, frame([(date(2025, 9, 1), "A", "x", True, 1, 1.0)]))
    with engine.connect() as conn:
        assert conn.execute(select(marks.c.untouched)).scalar_one() == "kept"


def test_rollback_of_the_callers_transaction_leaves_nothing(engine, marks):
    with engine.connect() as conn, conn.begin() as tx:
        copy_upsert(conn, marks, KEY, COLUMNS, frame([(date(2025, 9, 1), "A", "x", True, 1, 1.0)]))
        assert conn.execute(select(func.count()).select_from(marks)).scalar_one() == 1
        tx.rollback()
    assert stored(engine, marks) == []


def test_two_calls_in_one_transaction_both_land_and_leave_no_temp_table(engine, marks):
    first = frame([(date(2025, 9, 1), "A", "one", True, 1, 1.0), (date(2025, 9, 1), "B", "b", True, 1, 1.0)])
    second = frame([(date(2025, 9, 1), "A", "two", False, 2, 2.0), (date(2025, 9, 2), "A", "c", None, 3, 3.0)])
    with engine.begin() as conn:
        copy_upsert(conn, marks, KEY, COLUMNS, first)
        copy_upsert(conn, marks, KEY, COLUMNS, second)
        own_temp_tables = "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
        temps = conn.exec_driver_sql(own_temp_tables).scalar_one()
    assert temps == 0
    assert stored(engine, marks) == [
        (date(2025, 9, 1), "A", "two", False, 2, 2.0),
        (date(2025, 9, 1), "B", "b", True, 1, 1.0),
        (date(2025, 9, 2), "A", "c", None, 3, 3.0),
    ]


def test_an_empty_frame_changes_nothing(engine, marks):
    upsert(engine, marks, frame([(date(2025, 9, 1), "A", "x", True, 1, 1.0)]))
    upsert(engine, marks, frame([]))
    assert stored(engine, marks) == [(date(2025, 9, 1), "A", "x", True, 1, 1.0)]


def test_more_rows_than_one_copy_block(engine, marks, monkeypatch):
    monkeypatch.setattr("vsdash.store.pg_bulk.COPY_BLOCK_ROWS", 7)
    rows = [
        (date(2025, 9, 1 + i % 20), f"k{i:03d}", TRICKY[i % len(TRICKY)], i % 3 == 0, i, i * 0.1) for i in range(100)
    ]
    upsert(engine, marks, frame(rows))
    assert stored(engine, marks) == sorted(rows, key=lambda r: (r[0], r[1]))


def test_other_drivers_are_refused():
    sqlite = make_engine("sqlite://")
    with sqlite.begin() as conn, pytest.raises(ValueError, match="psycopg 3"):
        copy_upsert(conn, attendance, ["upn"], ["upn"], pl.DataFrame({"upn": ["A"]}))
    sqlite.dispose()


def test_the_attendance_table_as_the_store_defines_it(engine, cfg):
    """The real table, created and filled inside a transaction that is rolled back, so tests sharing
    the database see nothing of it."""
    columns = ["upn", "date", "urn", "am", "pm", "la_child_id", "load_id"]
    key = ["upn", "date", "urn"]
    upn = f"T{uuid4().hex[:12].upper()}"
    schema = {
        "upn": pl.String,
        "date": pl.Date,
        "urn": pl.Int32,
        "am": pl.String,
        "pm": pl.String,
        "la_child_id": pl.String,
        "load_id": pl.Int64,
    }
    day1 = pl.DataFrame(
        [(upn, date(2025, 9, 2), 123456, "/", "\\", "C1", 1), (upn, date(2025, 9, 3), 123456, "N", "N", None, 1)],
        schema=schema,
        orient="row",
    )
    day2 = pl.DataFrame(
        [(upn, date(2025, 9, 3), 123456, "I", "I", "C1", 2), (upn, date(2025, 9, 4), 123456, "", None, "C1", 2)],
        schema=schema,
        orient="row",
    )
    with engine.connect() as conn, conn.begin() as tx:
        attendance.metadata.create_all(conn, tables=[attendance])
        ensure_partitions(conn, attendance, day1["date"], cfg)
        copy_upsert(conn, attendance, key, columns, day1)
        copy_upsert(conn, attendance, key, columns, day2)
        got = conn.execute(
            select(*[attendance.c[c] for c in columns]).where(attendance.c.upn == upn).order_by(attendance.c.date)
        ).all()
        tx.rollback()
    assert [tuple(r) for r in got] == [
        (upn, date(2025, 9, 2), 123456, "/", "\\", "C1", 1),
        (upn, date(2025, 9, 3), 123456, "I", "I", "C1", 2),
        (upn, date(2025, 9, 4), 123456, "", None, "C1", 2),
    ]


def test_a_large_read_through_copy_out_keeps_every_value(engine, marks):
    # Text with commas, quotes and line breaks; nulls stay nulls (COPY's CSV gives no empty strings back as
    # nulls only because they are unquoted: the codes a read carries are never empty).
    rows = [(date(2025, 9, 1), f"k{i:02d}", text, i % 2 == 0, i, i / 3) for i, text in enumerate(TRICKY) if text]
    rows.append((date(2024, 2, 29), "nulls", None, None, None, None))
    upsert(engine, marks, frame(rows))
    query = f'SELECT date, key, "column", flag, "order", score FROM {marks.name} ORDER BY date, key'
    with engine.begin() as conn:
        out = copy_out(conn, query, SCHEMA)
        empty = copy_out(conn, f"{query[: query.index(' ORDER')]} WHERE false", SCHEMA)
    assert out.rows() == sorted(rows, key=lambda r: (r[0], r[1]))
    assert empty.is_empty() and empty.schema == pl.Schema(SCHEMA)
