"""Reading: the frames the metrics and pages work on, the load log, freshness and what schools sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection, Engine

from vsdash import aliases
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.frames import (
    CHILDREN_SCHEMA,
    EPISODES_SCHEMA,
    MARKS_SCHEMA,
    SCHOOLS_SCHEMA,
    SENDING_SCHEMA,
    SENT_SCHEMA,
    SUSPENSIONS_SCHEMA,
    Frames,
    Schema,
    conform,
)
from vsdash.store import rows, sqlite_reader
from vsdash.store.records import Records
from vsdash.store.rows import days, postgres_arrow_read
from vsdash.store.schema import (
    allocations,
    attendance,
    attendance_sent,
    attendance_weeks,
    children,
    cohort_episodes,
    load_log,
    metadata,
    rejected_rows,
    school_days,
    schools,
    suspensions,
)
from vsdash.store.sent import NO_CHILD_ID
from vsdash.store.weekly import WeekUpkeep

LISTED = (children, cohort_episodes, schools)  # what `loaded_counts` counts row by row: a few thousand rows each


class Reading(WeekUpkeep, Records):
    """The store's reads (mixed into `Store`)."""

    engine: Engine

    def marks(self, start: date | None = None, as_of: date | None = None) -> pl.DataFrame:
        """Attendance marks between two dates (either open), ordered by child and date. Whole years are
        read (`_read_large`); the dates narrow the rows in polars."""
        marks = self._read_large(attendance, MARKS_SCHEMA, order=("upn", "date", "urn"))
        if start is not None:
            marks = marks.filter(pl.col("date") >= start)
        if as_of is not None:
            marks = marks.filter(pl.col("date") <= as_of)
        return marks

    def days(
        self, first: date | None = None, last: date | None = None, upns: tuple[str, ...] | None = None
    ) -> pl.DataFrame:
        """Day rows between two dates (either open), of some UPNs or (None) everyone: the reads a window's cut
        weeks, a child's page and the school moves make; all of them take the fast route of `marks`."""
        if first is None and last is None and upns is None:
            return self.marks()
        if upns is not None and not upns:
            return conform(None, MARKS_SCHEMA)
        with rows.reading(self.engine) as conn:
            return days(conn, first, last, list(upns) if upns is not None else None)

    def weeks_frame(self) -> pl.DataFrame:
        """The whole week summary: what the dashboard holds in memory (sorted by week in polars)."""
        return self._read_large(attendance_weeks, weeks_mod.WEEKS_SCHEMA)

    def _read_large(self, table: Table, schema: Schema, order: tuple[str, ...] = ()) -> pl.DataFrame:
        """Every row of a large table, in `schema`: this read feeds every page's cache, so it takes the fastest
        route the database offers, Arrow (ADBC) instead of Python rows; for a SQLite file in a child process,
        two connections reading halves of the table at once (see `sqlite_reader` and the README's Speed)."""
        columns = ", ".join(schema)
        if (path := self._sqlite_file()) is not None:
            # A WITHOUT ROWID table scans in primary-key order, which `order` (the key's start) follows.
            return sqlite_reader.read(path, f"SELECT {columns} FROM {table.name}", schema)
        if self.engine.dialect.name == "postgresql":
            by = f" ORDER BY {', '.join(order)}" if order else ""
            return conform(postgres_arrow_read(self.engine.url, f"SELECT {columns} FROM {table.name}{by}"), schema)
        return self.read(select(*[table.c[c] for c in schema]).order_by(*[table.c[c] for c in order]), schema)

    def _sqlite_file(self) -> str | None:
        """The store's SQLite file (None: PostgreSQL, or an in-memory database, which exists only on the
        engine's own connection)."""
        database = self.engine.url.database
        return database if self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") else None

    def _arrow_route(self) -> bool:
        """Whether large reads go through Arrow on a connection of their own."""
        return self._sqlite_file() is not None or self.engine.dialect.name == "postgresql"

    def children_frame(self) -> pl.DataFrame:
        """Every known child with the current social-care allocation."""
        query = select(
            children.c.la_child_id,
            children.c.upn,
            children.c.first_name,
            children.c.last_name,
            children.c.dob,
            children.c.gender,
            children.c.ehcp,
            children.c.responsible_la,
            children.c.year_group,
            allocations.c.social_worker,
            allocations.c.team,
            allocations.c.locality,
        ).select_from(children.outerjoin(allocations, children.c.la_child_id == allocations.c.la_child_id))
        return self.read(query, CHILDREN_SCHEMA)

    def episodes(self) -> pl.DataFrame:
        """Every dated cohort episode."""
        query = select(*[cohort_episodes.c[k] for k in EPISODES_SCHEMA])
        return self.read(query, EPISODES_SCHEMA)

    def schools_frame(self) -> pl.DataFrame:
        """The school reference data."""
        return self.read(select(*[schools.c[k] for k in SCHOOLS_SCHEMA]), SCHOOLS_SCHEMA)

    def suspensions_frame(self) -> pl.DataFrame:
        """Every suspension and exclusion (few rows; the metrics pick the window)."""
        return self.read(select(*[suspensions.c[k] for k in SUSPENSIONS_SCHEMA]), SUSPENSIONS_SCHEMA)

    def frames(self, cfg: Config, start: date | None = None, as_of: date | None = None, held: bool = True) -> Frames:
        """Everything the metrics need. Held: every day row between the dates (all by default) in memory.
        Not held (the dashboard): the week summary in memory, day rows read when a figure needs them.

        The large read runs in a thread (on its own connection) while the records are read, so a cold page
        waits for the larger of the two reads, not their sum."""
        self.ensure_weeks(cfg)

        def large() -> pl.DataFrame:
            return self.marks(start, as_of) if held else self.weeks_frame()

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(large) if self._arrow_route() else None
            children, episodes = self.children_frame(), self.episodes()
            schools, suspensions, found = self.schools_frame(), self.suspensions_frame(), self.aliases_frame()
            read = pending.result() if pending is not None else large()
        frames = Frames(  # confirmed UPN matches apply to every figure
            marks=read if held else None,
            children=children,
            episodes=episodes,
            schools=schools,
            suspensions=suspensions,
            weeks=None if held else read,
            day_reader=None if held else self.days,
        )
        return aliases.with_aliases(frames, found, cfg)

    def load_log_frame(self) -> pl.DataFrame:
        """The load log, newest first."""
        query = select(
            load_log.c.id,
            load_log.c.file,
            load_log.c.kind,
            load_log.c.sha256,
            load_log.c.status,
            load_log.c.message,
            load_log.c.rows_read,
            load_log.c.rows_loaded,
            load_log.c.rows_replaced,
            load_log.c.rows_rejected,
            load_log.c.started_at,
            load_log.c.finished_at,
        ).order_by(load_log.c.id.desc())
        return self.read(query)

    def loaded_hashes(self) -> set[str]:
        """The content hash of every file loaded: whether the store holds only the bundled sample."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(load_log.c.sha256).where(load_log.c.status == "loaded").distinct())
            return {sha for (sha,) in rows if sha}

    def rejected_frame(self, file: str | None = None) -> pl.DataFrame:
        """Rejected rows (optionally of one file, matched on its name), in file and line order."""
        query = select(
            rejected_rows.c.file,
            rejected_rows.c.line,
            rejected_rows.c.column,
            rejected_rows.c.reason,
            rejected_rows.c.raw,
            rejected_rows.c.outcome,
            rejected_rows.c.load_id,
        ).order_by(rejected_rows.c.load_id, rejected_rows.c.line)
        if file:
            query = query.where((rejected_rows.c.file == file) | rejected_rows.c.file.like(f"%/{file}"))
        return self.read(query)

    def feed_freshness(self) -> pl.DataFrame:
        """Per feed kind: the last successful load and the latest date the stored data covers."""
        latest = {
            "attendance": select(func.max(attendance.c.date)),
            "suspensions": select(func.max(suspensions.c.start_date)),
            "children": select(func.max(cohort_episodes.c.start_date)),
            "schools": None,
        }
        rows = []
        with self.engine.connect() as conn:
            for kind, query in latest.items():
                loaded = conn.execute(
                    select(func.max(load_log.c.finished_at), func.count()).where(
                        load_log.c.kind == kind, load_log.c.status == "loaded"
                    )
                ).one()
                rows.append(
                    {
                        "kind": kind,
                        "last_loaded_at": loaded[0],
                        "files": int(loaded[1]),
                        "data_up_to": conn.execute(query).scalar() if query is not None else None,
                    }
                )
        return pl.DataFrame(
            rows,
            schema={"kind": pl.String, "last_loaded_at": pl.Datetime("us"), "files": pl.Int64, "data_up_to": pl.Date},
        )

    def data_version(self) -> int:
        """The id of the latest successful load: caches are keyed on it."""
        query = select(func.max(load_log.c.id)).where(load_log.c.status == "loaded")
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def table_counts(self) -> dict[str, int]:
        """Every table's rows, each counted (the tests check loads by them; the page reads `loaded_counts`)."""
        with rows.reading(self.engine) as conn:
            return {t.name: _rows(conn, t) for t in metadata.sorted_tables}

    def loaded_counts(self) -> dict[str, int]:
        """How much is loaded: children, cohort episodes and schools counted, the marks as each load keeps
        their count per UPN and school (`attendance_sent`: the same number without scanning every mark)."""
        with self.engine.connect() as conn:
            counts = {t.name: _rows(conn, t) for t in LISTED}
            marks = conn.execute(select(func.coalesce(func.sum(attendance_sent.c.rows), 0))).scalar_one()
        return {**counts, "attendance": int(marks)}

    def sent_identities(self) -> pl.DataFrame:
        """Attendance as sent, per UPN, carried LA Child ID and school: rows and dates (raw UPNs, no aliases),
        as each load keeps them (`vsdash/store/sent.py`)."""
        kept = self.read(select(*[attendance_sent.c[k] for k in SENT_SCHEMA]), SENT_SCHEMA)
        return kept.with_columns(pl.col("la_child_id").replace(NO_CHILD_ID, None))

    def school_sending(self) -> pl.DataFrame:
        """Per school: first and last date sent, dates sent, pupils (UPNs as sent), for the freshness table.

        Every stored row carries a code (the feeds reject a row with both sessions empty), so these are the
        rows `sessions.has_code` keeps. From what each load keeps (`vsdash/store/sent.py`), not the marks.
        """
        d = school_days.c
        days = select(
            d.urn,
            func.min(d.date).label("first_mark"),
            func.max(d.date).label("last_mark"),
            func.count().label("days_sent"),
        ).group_by(d.urn)
        pairs = select(attendance_sent.c.urn, attendance_sent.c.upn).distinct().subquery()
        pupils = self.read(
            select(pairs.c.urn, func.count().label("pupils")).group_by(pairs.c.urn),
            {"urn": pl.Int64, "pupils": pl.Int64},
        )
        sent = self.read(days, {k: SENDING_SCHEMA[k] for k in ("urn", "first_mark", "last_mark", "days_sent")})
        return conform(sent.join(pupils, on="urn", how="left"), SENDING_SCHEMA)

    def read(self, query: Any, schema: Schema | None = None, scan: bool = False) -> pl.DataFrame:
        """A selection as a frame (see `rows.read`; `scan`: it reads day rows)."""
        return rows.read(self.engine, query, schema, scan)


def _rows(conn: Connection, table: Table) -> int:
    """How many rows a table holds, counted."""
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
