"""PostgreSQL: the marks and the week summary partitioned by academic year.

A dashboard, a report or a retention run reads one academic year at a time; with a partition per year
PostgreSQL reads only that year's table and its indexes (partition pruning), and a year that ages out
of retention could be detached whole. Partitions are made as loads reach a new year, so a store needs
no yearly upkeep. SQLite has no partitions and keeps one table (it holds one authority).
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl
from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

from vsdash.config import Config
from vsdash.frames import as_date

# The partitioned tables and the column each is partitioned on (schema.py names the same column).
PARTITION_COLUMN = {"attendance": "date", "attendance_weeks": "week_start"}

_BOUND = re.compile(r"FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")

Span = tuple[date, date]  # [first day, first day after)


def partition_by(name: str) -> str:
    """`postgresql_partition_by` for table `name`: partitioned by range of its date."""
    return f"RANGE ({PARTITION_COLUMN[name]})"


def academic_years(first: date, last: date, cfg: Config) -> list[Span]:
    """Each academic year from the one holding `first` to the one holding `last`, as [start, next start)."""
    start = cfg.year_start(first)
    spans = []
    while start <= last:
        after = start.replace(year=start.year + 1)
        spans.append((start, after))
        start = after
    return spans


def uncovered(needed: Span, existing: list[Span]) -> list[Span]:
    """The parts of `needed` no existing partition holds (partitions made under another year start
    leave gaps, never overlaps: PostgreSQL refuses overlapping partitions)."""
    pieces = [needed]
    for low, high in existing:
        pieces = [
            part
            for first, after in pieces
            for part in ((first, min(after, low)), (max(first, high), after))
            if part[0] < part[1]
        ]
    return pieces


def existing_partitions(conn: Connection, table: Table) -> list[Span] | None:
    """The spans of `table`'s partitions; None when the table is not partitioned (a store made before
    partitioning, kept as it is)."""
    partitioned = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"), {"t": table.name}
    ).scalar()
    if not partitioned:
        return None
    bounds = conn.execute(
        text(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": table.name},
    ).scalars()
    spans = []
    for bound in bounds:
        found = _BOUND.search(bound or "")
        if found:
            spans.append((date.fromisoformat(found[1]), date.fromisoformat(found[2])))
    return spans


def ensure_partitions(conn: Connection, table: Table, dates: pl.Series, cfg: Config) -> int:
    """Create, in the caller's transaction, the academic-year partitions that rows on `dates` need; how
    many were made. Nothing on SQLite or on a table that is not partitioned."""
    first, last = as_date(dates.min()), as_date(dates.max())
    if conn.dialect.name != "postgresql" or first is None or last is None:
        return 0
    existing = existing_partitions(conn, table)
    if existing is None:
        return 0
    made = 0
    for year in academic_years(first, last, cfg):
        for low, high in uncovered(year, existing):
            name = f"{table.name}_{low:%Y%m%d}"
            quote = conn.dialect.identifier_preparer.quote_identifier
            conn.exec_driver_sql(
                f"CREATE TABLE {quote(name)} PARTITION OF {quote(table.name)} "
                f"FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
            )
            existing.append((low, high))
            made += 1
    return made
