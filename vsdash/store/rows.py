"""Rows in and out through the driver: the upsert compiled once, day rows by date and child, large reads as Arrow.

SQLAlchemy's per-row handling cost more than the database's own work for a day's 30,000 marks, so
the bulk paths go to the driver directly (measured; see the README's benchmark).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, CursorResult, Engine

from vsdash.frames import MARKS_SCHEMA, Schema, conform
from vsdash.store import pg_bulk
from vsdash.store.pg_bulk import Merge, on_conflict
from vsdash.store.schema import attendance

UPSERT_BATCH = 5_000
COPY_FROM_ROWS = 50_000  # PostgreSQL: larger writes go through COPY (a backfill; a day's feed stays a plain upsert)


def inserted_id(result: CursorResult[Any]) -> int:
    """The id the database gave the one row an INSERT wrote."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert returned no primary key")
    return int(key[0])


def now() -> datetime:
    """Timestamps in UTC, so PostgreSQL and SQLite agree."""
    return datetime.now(UTC)


def write(conn: Connection, table: Table, key: list[str], frame: pl.DataFrame, merge: Merge | None = None) -> None:
    """Insert rows, replacing any stored under the same key (the frame holds each key once); with `merge`,
    a stored row's columns become `merge(excluded)` instead (e.g. a count added to)."""
    if frame.is_empty():
        return
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if conn.dialect.name == "postgresql" and frame.height >= COPY_FROM_ROWS and conn.dialect.driver == "psycopg":
        pg_bulk.copy_upsert(conn, table, list(key), columns, frame.select(columns), merge)
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = on_conflict(stmt, key, columns, merge)
    compiled = stmt.compile(dialect=conn.dialect, column_keys=columns)
    rows = driver_values(frame.select(columns), conn.dialect.name)
    if conn.dialect.positional:
        rows = rows.select(compiled.positiontup)
        for batch in rows.iter_slices(UPSERT_BATCH):
            conn.exec_driver_sql(compiled.string, batch.rows())
    else:
        for batch in rows.iter_slices(UPSERT_BATCH):
            conn.exec_driver_sql(compiled.string, batch.to_dicts())


def driver_values(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """Values as the driver stores them: SQLite keeps dates as ISO text, as SQLAlchemy's Date type does."""
    if dialect != "sqlite":
        return frame
    return frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"), pl.col(pl.Boolean).cast(pl.Int64))


def days(
    conn: Connection,
    first: date | None,
    last: date | None,
    upns: list[str] | None = None,
    schema: Schema = MARKS_SCHEMA,
) -> pl.DataFrame:
    """Day rows between two dates (either open), of some UPNs or everyone, ordered by child and date; the
    columns of `schema` (the marks; a load's upkeep adds the LA Child ID sent)."""
    return between(conn, attendance, "date", first, last, upns, schema, ("upn", "date"))


def between(
    conn: Connection,
    table: Table,
    column: str,
    first: date | None,
    last: date | None,
    upns: list[str] | None,
    schema: Schema,
    order: tuple[str, ...] = (),
) -> pl.DataFrame:
    """A table's rows with `column` between two dates (either open), of some UPNs or everyone: through the
    driver (COPY on PostgreSQL), not a Python object per value through SQLAlchemy."""
    conditions = []
    if first is not None:
        conditions.append(table.c[column] >= first)
    if last is not None:
        conditions.append(table.c[column] <= last)
    query = select(*[table.c[c] for c in schema]).where(*conditions).order_by(*[table.c[c] for c in order])
    parts = [None] if upns is None else [upns[i : i + 500] for i in range(0, len(upns), 500)]
    rows: list[Any] = []  # SQLite's rows, as the driver hands them back
    frames: list[pl.DataFrame] = []
    for part in parts:
        chosen = query if part is None else query.where(table.c.upn.in_(part))
        sql = chosen.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}).string
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            frames.append(pg_bulk.copy_out(conn, sql, schema))
        else:  # the driver's own cursor: its plain tuples, where SQLAlchemy makes a Row of each (as long again)
            with closing(conn.connection.cursor()) as cursor:
                rows += cursor.execute(sql).fetchall()
    if frames:
        return pl.concat(frames)
    # SQLite hands dates back as ISO text; `conform` reads them as dates.
    frame = pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None) if rows else None
    return conform(frame, schema)


def postgres_arrow_read(url: URL, query: str) -> pl.DataFrame:
    """Read a large PostgreSQL selection as Arrow through ADBC (binary COPY underneath)."""
    import adbc_driver_postgresql.dbapi as adbc_postgres

    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_postgres.connect(uri) as conn:
        return pl.read_database(query, conn)


# SQLite, for the dashboard's reads of day rows (a GROUP BY over all of them, a count, some children's): no
# memory-mapped file, a small page cache and sorts in a temporary file, so the process does not keep the
# file or the sort resident afterwards (at 30,000 children the Data quality page took a dashboard process
# from 0.5 to 1.6 GiB with the loads' settings, to 0.6 GiB with these; as fast, its two reads side by side).
SCAN_PRAGMAS: dict[str, Any] = {"mmap_size": 0, "cache_size": -16384, "temp_store": 1}


def _set_pragmas(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Set SQLite pragmas on one connection, giving back what they were."""
    before = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in values}
    for name, value in values.items():
        conn.exec_driver_sql(f"PRAGMA {name}={value}")
    return before


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for the dashboard's reads of day rows: on SQLite with SCAN_PRAGMAS, set back after, so the
    pooled connection goes back as the loads set it."""
    with engine.connect() as conn:
        before = _set_pragmas(conn, SCAN_PRAGMAS) if conn.dialect.name == "sqlite" else {}
        try:
            yield conn
        finally:
            _set_pragmas(conn, before)


def read(engine: Engine, query: Any, schema: Schema | None = None, scan: bool = False) -> pl.DataFrame:
    """A selection as a frame named as the query's columns, empty-safe; with `schema`, exactly those
    columns and types (what the metrics and pages expect). `scan`: it reads day rows (see `reading`)."""
    with reading(engine) if scan else engine.connect() as conn:
        result = conn.execute(query)
        names = list(result.keys())
        rows = result.all()
    frame = (
        pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
        if rows
        else pl.DataFrame(schema={n: pl.String for n in names})
    )
    return conform(frame, schema) if schema else frame
