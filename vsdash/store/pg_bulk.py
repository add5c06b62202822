"""Bulk upserts into PostgreSQL through COPY: a regional backfill is tens of millions of rows, and
executemany sends them one statement at a time (measured: 104-137 s per 5.7M rows, COPY ~15 s)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import polars as pl
from sqlalchemy import Table, column, select
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from vsdash.frames import Schema

# Rows per CSV block written by polars and handed to COPY: large enough that Python does almost
# nothing per row, small enough that one block's text stays a few tens of MB.
COPY_BLOCK_ROWS = 200_000
# A stored row's new values from the incoming row's (an INSERT's `excluded`): column name -> SQL expression.
Merge = Callable[[Any], dict[str, Any]]


def copy_upsert(
    conn: Connection, table: Table, key: list[str], columns: list[str], frame: pl.DataFrame, merge: Merge | None = None
) -> None:
    """Insert or update `frame`'s rows in `table` by `key`, within the caller's transaction.

    The rows are COPYed into a temporary table of just `columns`, then moved with one
    INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE, so the server does the per-row work.
    `frame` must hold exactly `columns` and be unique on `key` (PostgreSQL refuses to update one
    row twice in a statement). Several calls may share a transaction: each uses its own temp table
    and drops it when done. Nulls stay NULL and empty strings stay ''.
    """
    if conn.dialect.driver != "psycopg":
        raise ValueError(f"copy_upsert needs psycopg 3, not {conn.dialect.name}+{conn.dialect.driver}")
    if frame.is_empty():
        return
    temp = f"vsdash_copy_{uuid4().hex}"
    _create_temp(conn, table, temp, columns)
    _copy_frame(conn, temp, columns, frame.select(columns))
    # Each temp name is new, so the statement is not worth a slot in SQLAlchemy's compiled cache.
    conn.execute(_upsert_from(table, temp, key, columns, merge), execution_options={"compiled_cache": None})
    conn.exec_driver_sql(f"DROP TABLE {_quote(conn, temp)}")


def _quote(conn: Connection, name: str) -> str:
    """An identifier as PostgreSQL must see it: columns may be named "date" or "column"."""
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _create_temp(conn: Connection, table: Table, temp: str, columns: list[str]) -> None:
    """A session-private, unlogged copy of the target's column types, without its constraints, so
    columns left out of `columns` cannot trip a NOT NULL; ON COMMIT DROP is the backstop if DROP is never reached."""
    target = conn.dialect.identifier_preparer.format_table(table)
    cols = ", ".join(_quote(conn, c) for c in columns)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_quote(conn, temp)} ON COMMIT DROP AS SELECT {cols} FROM {target} WITH NO DATA"
    )


def _copy_frame(conn: Connection, temp: str, columns: list[str], frame: pl.DataFrame) -> None:
    """Stream the frame as CSV blocks written by polars.

    In PostgreSQL's CSV format an unquoted empty field is NULL and a quoted one ("") is the empty
    string; polars writes nulls as nothing and quotes empty strings, so the two stay distinct.
    Dates are ISO, booleans true/false, floats the shortest text that reads back to the same value.
    """
    cols = ", ".join(_quote(conn, c) for c in columns)
    sql = f"COPY {_quote(conn, temp)} ({cols}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
    raw = _driver(conn)
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in frame.iter_slices(COPY_BLOCK_ROWS):
            copy.write(_csv_bytes(block))


def _driver(conn: Connection) -> Any:
    """The psycopg connection under SQLAlchemy's (None only once the connection is closed)."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    return raw


def _csv_bytes(block: pl.DataFrame) -> bytes:
    """One block as headerless CSV bytes in the form COPY (FORMAT csv) reads back exactly."""
    buffer = io.BytesIO()
    block.write_csv(buffer, include_header=False, null_value="", quote_style="necessary", date_format="%Y-%m-%d")
    return buffer.getvalue()


def _upsert_from(table: Table, temp: str, key: list[str], columns: list[str], merge: Merge | None) -> postgresql.Insert:
    """INSERT INTO table SELECT FROM temp, replacing (or merging) the non-key columns of rows whose key exists."""
    source = table_clause(temp, *[column(c) for c in columns])
    return on_conflict(
        postgresql.insert(table).from_select(columns, select(*[source.c[c] for c in columns])), key, columns, merge
    )


def on_conflict(stmt: Any, key: list[str], columns: list[str], merge: Merge | None) -> Any:
    """An upsert's ON CONFLICT (this COPY's and `rows.write`'s): a stored key's other columns replaced, or
    merged (`merge`); with no other column, the stored row kept."""
    updates = merge(stmt.excluded) if merge else {c: stmt.excluded[c] for c in columns if c not in key}
    if not updates:
        return stmt.on_conflict_do_nothing(index_elements=key)
    return stmt.on_conflict_do_update(index_elements=key, set_=updates)


def copy_out(conn: Connection, query: str, schema: Schema) -> pl.DataFrame:
    """A selection (SQL text, columns in `schema`'s order) read through COPY TO as CSV in the caller's
    transaction: a large read without a Python object per value."""
    raw = _driver(conn)
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    if not buffer.tell():
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    # PostgreSQL writes booleans as t / f: read them as text, then as booleans.
    flags = [name for name, dtype in schema.items() if dtype == pl.Boolean]
    frame = pl.read_csv(buffer, has_header=False, schema={n: pl.String if n in flags else t for n, t in schema.items()})
    return frame.with_columns(pl.col(flags) == "t") if flags else frame
