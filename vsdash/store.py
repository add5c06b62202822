"""The SQL store: the one place that opens connections, writes feeds and reads frames for the metrics."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from vsdash import pg_bulk, sqlite_reader
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.feeds import ParsedFeed
from vsdash.frames import (
    CHILDREN_SCHEMA,
    EPISODES_SCHEMA,
    MARKS_SCHEMA,
    SCHOOLS_SCHEMA,
    SUSPENSIONS_SCHEMA,
    Frames,
    conform,
)

metadata = MetaData()

schools = Table(
    "schools",
    metadata,
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("la_code", String(3), nullable=False),
    Column("la_name", Text),
    Column("phase", Text),
    Column("postcode", Text),
    Column("easting", Float),
    Column("northing", Float),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("locality", Text),
    Column("load_id", Integer),
)

children = Table(
    "children",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("upn", String(13), index=True),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("dob", Date),
    Column("gender", Text),
    Column("ehcp", Boolean),
    Column("responsible_la", String(3)),
    Column("year_group", Text),
    Column("load_id", Integer),
)

# The social-care allocation as the latest children list gives it.
allocations = Table(
    "allocations",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("social_worker", Text),
    Column("team", Text),
    Column("locality", Text),
    Column("load_id", Integer),
)

cohort_episodes = Table(
    "cohort_episodes",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("cohort", String(10), primary_key=True),
    Column("start_date", Date, primary_key=True),
    Column("end_date", Date),
    Column("load_id", Integer),
)

# One row per child, date and school; (upn, date) leads the key so a child's year reads in order.
attendance = Table(
    "attendance",
    metadata,
    Column("upn", String(13), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("am", String(2)),
    Column("pm", String(2)),
    Column("la_child_id", String(40)),
    Column("load_id", Integer),
    Index("ix_attendance_date_urn", "date", "urn"),
    sqlite_with_rowid=False,
)

# The per-child-week summary of `attendance` (see vsdash/weeks.py), refreshed for the weeks each load touches.
attendance_weeks = Table(
    "attendance_weeks",
    metadata,
    Column("upn", String(13), primary_key=True),
    Column("week_start", Date, primary_key=True),
    *[Column(name, Date if dtype == pl.Date else Integer, nullable=dtype != pl.Int32)
      for name, dtype in weeks_mod.WEEKS_SCHEMA.items() if name not in ("upn", "week_start")],
    sqlite_with_rowid=False,
)

# Facts about the store itself, e.g. which code categories the week summary was worked out with.
store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

suspensions = Table(
    "suspensions",
    metadata,
    Column("upn", String(13), primary_key=True),
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("start_date", Date, primary_key=True),
    Column("category", String(20), primary_key=True),
    Column("end_date", Date),
    Column("sessions", Integer),
    Column("reason", String(4)),
    Column("reason_2", String(4)),
    Column("reason_3", String(4)),
    Column("load_id", Integer),
)

load_log = Table(
    "load_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file", Text, nullable=False),
    Column("kind", String(20)),
    Column("sha256", String(64), index=True),
    Column("status", String(10), nullable=False),  # loaded | failed
    Column("message", Text),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_loaded", Integer, nullable=False, default=0),
    Column("rows_replaced", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

rejected_rows = Table(
    "rejected_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("load_id", Integer, ForeignKey("load_log.id"), index=True, nullable=False),
    Column("file", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("column", Text),
    Column("reason", Text, nullable=False),
    Column("raw", Text),
    Column("outcome", String(20), nullable=False, default="rejected"),  # rejected | value dropped
)


# What officers did about a child. Written only by people, never by a feed load, so reloads never lose it.
actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("la_child_id", String(40), nullable=False, index=True),
    Column("action", Text, nullable=False),
    Column("note", Text),
    Column("follow_up", Date),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

ACTION_KINDS = ("Contacted school", "Contacted social worker", "Contacted carer", "Note")


@dataclass(frozen=True)
class FeedTable:
    """How one feed's rows land: the table, its key, and the key column that bounds a lookup."""

    table: Table
    key: tuple[str, ...]
    scope: str


FEED_TABLES: dict[str, FeedTable] = {
    "schools": FeedTable(schools, ("urn",), "urn"),
    "children": FeedTable(children, ("la_child_id",), "la_child_id"),
    "allocations": FeedTable(allocations, ("la_child_id",), "la_child_id"),
    "cohort_episodes": FeedTable(cohort_episodes, ("la_child_id", "cohort", "start_date"), "la_child_id"),
    "attendance": FeedTable(attendance, ("upn", "date", "urn"), "date"),
    "suspensions": FeedTable(suspensions, ("upn", "urn", "start_date", "category"), "start_date"),
}

UPSERT_BATCH = 5_000
COPY_FROM_ROWS = 50_000  # PostgreSQL: larger writes go through COPY (a backfill; a day's feed stays a plain upsert)
REBUILD_WEEKS = 8     # weeks of marks summarised at a time when the week summary is made anew
FEW_CHILDREN = 2_000  # a load touching fewer children re-reads just their rows to refresh the summary

ACTIONS_SCHEMA = {
    "id": pl.Int64, "la_child_id": pl.String, "action": pl.String, "note": pl.String, "follow_up": pl.Date,
    "recorded_by": pl.String, "recorded_at": pl.Datetime("us", "UTC"),
}


@dataclass
class LoadCounts:
    """What one file did to the store, as the load log records it."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_replaced: int = 0
    rows_rejected: int = 0


def _now() -> datetime:
    """Timestamps in UTC, so PostgreSQL and SQLite agree."""
    return datetime.now(timezone.utc)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the dashboard read while a load writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A year of marks is a few hundred MB: a larger page cache and memory-mapped reads keep the
    # per-child key order cheap to insert into and fast to scan.
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite files get their folder and WAL mode."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Owns the database: schema, feed upserts, the load log and the frames the metrics read."""

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if create:
            self.create_schema()

    def create_schema(self) -> None:
        """Create missing tables; existing data is never touched."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close pooled connections (tests, CLI exit)."""
        self.engine.dispose()

    # ---- writing -----------------------------------------------------------------------

    def already_loaded(self, sha256: str) -> bool:
        """True when a file with this exact content was loaded before."""
        query = select(func.count()).select_from(load_log).where(
            load_log.c.sha256 == sha256, load_log.c.status == "loaded"
        )
        with self.engine.connect() as conn:
            return bool(conn.execute(query).scalar())

    def record_failure(self, file: str, kind: str | None, sha256: str | None, message: str) -> int:
        """Log a file that could not be read at all, so the data-quality page can show it."""
        now = _now()
        with self.engine.begin() as conn:
            result = conn.execute(
                load_log.insert().values(
                    file=file, kind=kind, sha256=sha256, status="failed", message=message,
                    rows_read=0, rows_loaded=0, rows_replaced=0, rows_rejected=0,
                    started_at=now, finished_at=now,
                )
            )
            return int(result.inserted_primary_key[0])

    def load_feeds(self, feeds: list[ParsedFeed], cfg: Config) -> list[LoadCounts]:
        """Write validated files in one transaction: their rows, rejects, a log line each, and the week
        summary of the children and weeks their marks touch.

        A batch of daily files lands much faster than one file at a time: its rows reach the table
        once, in key order, instead of 30,000 scattered inserts per day (see the README's benchmark).
        Within the batch a later file still replaces an earlier one, as it would loaded alone.
        """
        started = _now()
        counts = [LoadCounts(rows_read=f.rows_read, rows_rejected=_count_rejected_lines(f.rejects)) for f in feeds]
        with self.engine.begin() as conn:
            ids = [int(conn.execute(load_log.insert().values(
                file=f.file, kind=f.kind, sha256=f.sha256, status="loaded", rows_read=f.rows_read, started_at=started,
            )).inserted_primary_key[0]) for f in feeds]
            for name in dict.fromkeys(name for f in feeds for name in f.tables):
                parts = [f.tables[name].with_columns(load_id=pl.lit(load_id), _order=pl.lit(i))
                         for i, (f, load_id) in enumerate(zip(feeds, ids)) if name in f.tables]
                rows = pl.concat(parts, how="vertical_relaxed")
                latest = _latest(rows, FEED_TABLES[name].key)
                if name == "attendance":  # the summary rows this batch leaves, from the rows stored before it
                    self._ensure_weeks(conn, cfg)
                    summary = self._weeks_with(conn, latest, cfg)
                replaced = self._upsert(conn, FEED_TABLES[name], rows, latest)
                if name == "attendance":
                    _write(conn, attendance_weeks, ["upn", "week_start"], summary)
                for i, f in enumerate(feeds):
                    if name == _main_table(f.kind) and name in f.tables:
                        counts[i].rows_loaded = f.tables[name].height
                        counts[i].rows_replaced = replaced.get(i, 0)
            rejects = [r.with_columns(load_id=pl.lit(load_id), file=pl.lit(f.file))
                       for f, load_id in zip(feeds, ids) if (r := f.rejects).height]
            if rejects:
                conn.execute(rejected_rows.insert(), pl.concat(rejects).to_dicts())
            for load_id, c in zip(ids, counts):
                conn.execute(load_log.update().where(load_log.c.id == load_id).values(
                    rows_loaded=c.rows_loaded, rows_replaced=c.rows_replaced, rows_rejected=c.rows_rejected,
                    finished_at=_now(),
                ))
        return counts

    def _upsert(self, conn: Connection, target: FeedTable, frame: pl.DataFrame, latest: pl.DataFrame) -> dict[int, int]:
        """Insert or replace rows by key, the batch's later files winning (`latest`: `_latest` of the frame);
        per file (`_order`), how many of its rows replaced a stored row or one from an earlier file of the batch."""
        if frame.is_empty():
            return {}
        key = list(target.key)
        stored = self._existing_keys(conn, target, frame).with_columns(_stored=pl.lit(True))
        replaced = (
            frame.select(*key, "_order")
            .join(stored, on=key, how="left")
            .filter(pl.col("_stored").fill_null(False) | (pl.col("_order") > pl.col("_order").min().over(key)))
            .group_by("_order").len()
        )
        _write(conn, target.table, key, latest.sort(key).drop("_order"))
        return dict(replaced.iter_rows())

    def _existing_keys(self, conn: Connection, target: FeedTable, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame's keys already stored, reading only the key range the rows touch."""
        table = target.table
        scope = table.c[target.scope]
        low, high = frame[target.scope].min(), frame[target.scope].max()
        rows = conn.execute(select(*[table.c[k] for k in target.key]).where(scope.between(low, high))).all()
        key_schema = {k: frame.schema[k] for k in target.key}
        existing = pl.DataFrame(rows, schema=key_schema, orient="row")
        return existing.join(frame.select(target.key).unique(), on=list(target.key), how="semi")

    # ---- reading -----------------------------------------------------------------------

    def marks(self, start: date | None = None, as_of: date | None = None) -> pl.DataFrame:
        """Attendance marks between two dates (either open), ordered by child and date.

        This read feeds every page's cache, so it takes the fastest route the database offers: Arrow
        (ADBC) instead of Python rows; for SQLite in a child process, two connections reading halves of
        the table at once (see `sqlite_reader` and the README's benchmark). The dates narrow the rows in
        polars: whole years are read.
        """
        columns = "upn, urn, date, am, pm"
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            # A WITHOUT ROWID table scans in primary-key order: (upn, date, urn), already sorted.
            frame = sqlite_reader.read(self.engine.url.database, f"SELECT {columns} FROM attendance")
        elif self.engine.dialect.name == "postgresql":
            frame = _postgres_arrow_read(self.engine.url, f"SELECT {columns} FROM attendance ORDER BY upn, date, urn")
        else:
            frame = self.read(select(attendance.c.upn, attendance.c.urn, attendance.c.date, attendance.c.am,
                                      attendance.c.pm).order_by(attendance.c.upn, attendance.c.date))
        marks = conform(frame, MARKS_SCHEMA)
        if start is not None:
            marks = marks.filter(pl.col("date") >= start)
        if as_of is not None:
            marks = marks.filter(pl.col("date") <= as_of)
        return marks

    def days(self, first: date | None = None, last: date | None = None, upn: str | None = None) -> pl.DataFrame:
        """Day rows between two dates (either open), of one UPN or everyone: the reads a window's cut
        weeks and a child's page make; all of them (the data-quality checks) take the fast route of `marks`."""
        if first is None and last is None and upn is None:
            return self.marks()
        with self.engine.connect() as conn:
            return _days(conn, first, last, [upn] if upn else None)

    def weeks_frame(self) -> pl.DataFrame:
        """The whole week summary: what the dashboard holds in memory (fast route, as `marks`)."""
        columns = ", ".join(weeks_mod.WEEKS_SCHEMA)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            frame = sqlite_reader.read(self.engine.url.database, f"SELECT {columns} FROM attendance_weeks")
        elif self.engine.dialect.name == "postgresql":
            frame = _postgres_arrow_read(self.engine.url, f"SELECT {columns} FROM attendance_weeks")  # sorted by week in polars
        else:
            frame = self.read(select(*[attendance_weeks.c[c] for c in weeks_mod.WEEKS_SCHEMA]))
        return conform(frame, weeks_mod.WEEKS_SCHEMA)

    def ensure_weeks(self, cfg: Config) -> bool:
        """Work the week summary out again if it was made under other code categories (or before it
        existed); True when it was."""
        with self.engine.begin() as conn:
            return self._ensure_weeks(conn, cfg)

    def _ensure_weeks(self, conn: Connection, cfg: Config) -> bool:
        """The summary made anew, in this transaction, when its fingerprint is not the configuration's."""
        fingerprint = _weeks_fingerprint(cfg)
        stored = conn.execute(select(store_meta.c.value).where(store_meta.c.key == "weeks")).scalar()
        if stored == fingerprint:
            return False
        attendance_weeks.drop(conn, checkfirst=True)  # derived data: made anew, in its current shape
        attendance_weeks.create(conn)
        first, last = conn.execute(select(func.min(attendance.c.date), func.max(attendance.c.date))).one()
        week = weeks_mod.monday(first) if first else None
        while week is not None and week <= last:
            end = week + timedelta(weeks=REBUILD_WEEKS) - timedelta(days=1)
            _write(conn, attendance_weeks, ["upn", "week_start"], weeks_mod.summarise(_days(conn, week, end), cfg))
            week = end + timedelta(days=1)
        conn.execute(store_meta.delete().where(store_meta.c.key == "weeks"))
        conn.execute(store_meta.insert().values(key="weeks", value=fingerprint))
        return True

    def _weeks_with(self, conn: Connection, batch: pl.DataFrame, cfg: Config) -> pl.DataFrame:
        """The summary rows of the children and weeks a batch of marks touches, as they will be once it is
        written: the stored rows of those weeks, the batch replacing any it corrects."""
        if batch.is_empty():
            return conform(None, weeks_mod.WEEKS_SCHEMA)
        keys = batch.select("upn", week_start=pl.col("date").dt.truncate("1w")).unique()
        upns = keys["upn"].unique()
        first, last = keys["week_start"].min(), keys["week_start"].max() + timedelta(days=6)
        # A day's feed touches everyone in one week: read the week. A school's corrected term touches
        # few children over many weeks: read just them. A backfill finds little stored.
        stored = _days(conn, first, last, upns.to_list() if len(upns) <= FEW_CHILDREN else None)
        key = list(FEED_TABLES["attendance"].key)
        marks = pl.concat([stored.join(upns.to_frame(), on="upn", how="semi").join(batch, on=key, how="anti"),
                           batch.select(list(MARKS_SCHEMA))])
        return weeks_mod.summarise(marks, cfg).join(keys, on=["upn", "week_start"], how="semi")

    def children_frame(self) -> pl.DataFrame:
        """Every known child with the current social-care allocation."""
        query = select(
            children.c.la_child_id, children.c.upn, children.c.first_name, children.c.last_name,
            children.c.dob, children.c.gender, children.c.ehcp, children.c.responsible_la,
            children.c.year_group, allocations.c.social_worker, allocations.c.team, allocations.c.locality,
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
        Not held (the dashboard): the week summary in memory, day rows read when a figure needs them."""
        self.ensure_weeks(cfg)
        return _aliases.apply(self, Frames(  # confirmed UPN matches (issue 5) apply to every figure
            marks=self.marks(start, as_of) if held else None,
            children=self.children_frame(),
            episodes=self.episodes(),
            schools=self.schools_frame(),
            suspensions=self.suspensions_frame(),
            weeks=None if held else self.weeks_frame(),
            day_reader=None if held else self.days,
        ), cfg)

    def rows_to_replace(self, kind: str, tables: dict[str, pl.DataFrame]) -> int:
        """How many stored rows a parsed file would replace (the upload preview), writing nothing."""
        main = tables.get(_main_table(kind))
        if main is None or main.is_empty():
            return 0
        with self.engine.connect() as conn:
            return self._existing_keys(conn, FEED_TABLES[_main_table(kind)], main).height

    def load_log_frame(self) -> pl.DataFrame:
        """The load log, newest first."""
        query = select(
            load_log.c.id, load_log.c.file, load_log.c.kind, load_log.c.sha256, load_log.c.status,
            load_log.c.message, load_log.c.rows_read, load_log.c.rows_loaded, load_log.c.rows_replaced,
            load_log.c.rows_rejected, load_log.c.started_at, load_log.c.finished_at,
        ).order_by(load_log.c.id.desc())
        return self.read(query)

    def rejected_frame(self, file: str | None = None) -> pl.DataFrame:
        """Rejected rows (optionally of one file, matched on its name), in file and line order."""
        query = select(
            rejected_rows.c.file, rejected_rows.c.line, rejected_rows.c.column, rejected_rows.c.reason,
            rejected_rows.c.raw, rejected_rows.c.outcome, rejected_rows.c.load_id,
        ).order_by(rejected_rows.c.load_id, rejected_rows.c.line)
        if file:
            query = query.where((rejected_rows.c.file == file) | rejected_rows.c.file.like(f"%/{file}"))
        return self.read(query)

    def read(self, query: Any, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
        """A selection as a frame named as the query's columns, empty-safe; with `schema`, exactly those
        columns and types (what the metrics and pages expect)."""
        with self.engine.connect() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            rows = result.all()
        frame = (pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None) if rows
                 else pl.DataFrame(schema={n: pl.String for n in names}))
        return conform(frame, schema) if schema else frame

    def add_action(self, la_child_id: str, action: str, recorded_by: str, note: str = "",
                   follow_up: date | None = None) -> int:
        """Record what an officer did; who and when are kept with it."""
        if action not in ACTION_KINDS:
            raise ValueError(f"action must be one of {', '.join(ACTION_KINDS)}")
        if not recorded_by.strip():
            raise ValueError("say who recorded the action")
        with self.engine.begin() as conn:
            result = conn.execute(actions.insert().values(
                la_child_id=la_child_id, action=action, note=note.strip() or None, follow_up=follow_up,
                recorded_by=recorded_by.strip(), recorded_at=_now(),
            ))
            return int(result.inserted_primary_key[0])

    def actions_frame(self, la_child_id: str | None = None) -> pl.DataFrame:
        """Recorded actions, newest first (one child's, or everyone's)."""
        query = select(actions.c.id, actions.c.la_child_id, actions.c.action, actions.c.note, actions.c.follow_up,
                       actions.c.recorded_by, actions.c.recorded_at).order_by(actions.c.recorded_at.desc(), actions.c.id.desc())
        if la_child_id is not None:
            query = query.where(actions.c.la_child_id == la_child_id)
        return self.read(query, ACTIONS_SCHEMA)

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
                loaded = conn.execute(select(func.max(load_log.c.finished_at), func.count()).where(
                    load_log.c.kind == kind, load_log.c.status == "loaded")).one()
                rows.append({"kind": kind, "last_loaded_at": loaded[0], "files": int(loaded[1]),
                             "data_up_to": conn.execute(query).scalar() if query is not None else None})
        return pl.DataFrame(rows, schema={"kind": pl.String, "last_loaded_at": pl.Datetime("us"), "files": pl.Int64,
                                          "data_up_to": pl.Date})

    def data_version(self) -> int:
        """The id of the latest successful load: caches are keyed on it."""
        query = select(func.max(load_log.c.id)).where(load_log.c.status == "loaded")
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def table_counts(self) -> dict[str, int]:
        """Row counts per table (for the command line and a first look)."""
        with self.engine.connect() as conn:
            return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                    for t in metadata.sorted_tables}


def _write(conn: Connection, table: Table, key: list[str], frame: pl.DataFrame) -> None:
    """Insert rows, replacing any stored under the same key (the frame holds each key once)."""
    if frame.is_empty():
        return
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if conn.dialect.name == "postgresql" and frame.height >= COPY_FROM_ROWS and conn.dialect.driver == "psycopg":
        pg_bulk.copy_upsert(conn, table, list(key), columns, frame.select(columns))
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=key,
        set_={c: stmt.excluded[c] for c in columns if c not in key},
    )
    # Compiled once and sent through the driver: SQLAlchemy's per-row parameter handling cost more
    # than the database's own work for a day's 30,000 marks (measured; see the README's benchmark).
    compiled = stmt.compile(dialect=conn.dialect, column_keys=columns)
    rows = _driver_values(frame.select(columns), conn.dialect.name)
    if conn.dialect.positional:
        rows = rows.select(compiled.positiontup)
        for batch in rows.iter_slices(UPSERT_BATCH):
            conn.exec_driver_sql(compiled.string, batch.rows())
    else:
        for batch in rows.iter_slices(UPSERT_BATCH):
            conn.exec_driver_sql(compiled.string, batch.to_dicts())


def _days(conn: Connection, first: date | None, last: date | None, upns: list[str] | None = None) -> pl.DataFrame:
    """Day rows between two dates (either open), of some UPNs or everyone, ordered by child and date.

    Sent through the driver: SQLAlchemy's per-row result handling cost more than the read itself.
    """
    conditions = []
    if first is not None:
        conditions.append(attendance.c.date >= first)
    if last is not None:
        conditions.append(attendance.c.date <= last)
    query = select(*[attendance.c[c] for c in MARKS_SCHEMA]).where(*conditions).order_by(attendance.c.upn, attendance.c.date)
    parts = [None] if upns is None else [upns[i:i + 500] for i in range(0, len(upns), 500)]
    rows, frames = [], []
    for part in parts:
        chosen = query if part is None else query.where(attendance.c.upn.in_(part))
        sql = chosen.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}).string
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            frames.append(pg_bulk.copy_out(conn, sql, MARKS_SCHEMA))
        else:
            rows += conn.exec_driver_sql(sql).fetchall()
    if frames:
        return pl.concat(frames)
    # SQLite hands dates back as ISO text; `conform` reads them as dates.
    frame = pl.DataFrame(rows, schema=list(MARKS_SCHEMA), orient="row", infer_schema_length=None) if rows else None
    return conform(frame, MARKS_SCHEMA)


def _latest(rows: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Each key once, the batch's later file (`_order`) winning."""
    return rows.sort("_order").unique(list(key), keep="last")


def _weeks_fingerprint(cfg: Config) -> str:
    """What the week summary depends on: each code's category, the part-time code and the summary's shape."""
    facts = {"codes": sorted(cfg.code_category.items()), "part_time": weeks_mod.PART_TIME_CODE,
             "columns": list(weeks_mod.WEEKS_SCHEMA)}
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def _postgres_arrow_read(url: Any, query: str) -> pl.DataFrame:
    """Read a large PostgreSQL selection as Arrow through ADBC (binary COPY underneath)."""
    import adbc_driver_postgresql.dbapi as adbc_postgres

    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_postgres.connect(uri) as conn:
        return pl.read_database(query, conn)


def _driver_values(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """Values as the driver stores them: SQLite keeps dates as ISO text, as SQLAlchemy's Date type does."""
    if dialect != "sqlite":
        return frame
    return frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"), pl.col(pl.Boolean).cast(pl.Int64))


def _main_table(kind: str) -> str:
    """The table whose rows a feed's counts describe."""
    return {"children": "cohort_episodes"}.get(kind, kind)


def _count_rejected_lines(rejects: pl.DataFrame) -> int:
    """Rows rejected outright (a dropped value leaves the row loaded)."""
    if rejects.is_empty():
        return 0
    return rejects.filter(pl.col("outcome") == "rejected")["line"].n_unique()


from vsdash import aliases as _aliases  # noqa: E402  registers upn_aliases on metadata; it builds on this module
