"""The store's tables and how to connect: what vsdash keeps, in which types, keyed how."""

from __future__ import annotations

from dataclasses import dataclass
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
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine

from vsdash import weeks as weeks_mod
from vsdash.frames import MAX_LENGTH
from vsdash.store.partitions import partition_by

metadata = MetaData()

schools = Table(
    "schools",
    metadata,
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("la_code", String(MAX_LENGTH["la_code"]), nullable=False),
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
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), primary_key=True),
    Column("upn", String(MAX_LENGTH["upn"]), index=True),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("dob", Date),
    Column("gender", Text),
    Column("ehcp", Boolean),
    Column("responsible_la", String(MAX_LENGTH["responsible_la"])),
    Column("year_group", Text),
    Column("load_id", Integer),
)

# The social-care allocation as the latest children list gives it.
allocations = Table(
    "allocations",
    metadata,
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), primary_key=True),
    Column("social_worker", Text),
    Column("team", Text),
    Column("locality", Text),
    Column("load_id", Integer),
)

cohort_episodes = Table(
    "cohort_episodes",
    metadata,
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), primary_key=True),
    Column("cohort", String(MAX_LENGTH["cohort"]), primary_key=True),
    Column("start_date", Date, primary_key=True),
    Column("end_date", Date),
    Column("load_id", Integer),
)

# One row per child, date and school; (upn, date) leads the key so a child's year reads in order.
attendance = Table(
    "attendance",
    metadata,
    Column("upn", String(MAX_LENGTH["upn"]), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("am", String(MAX_LENGTH["am"])),
    Column("pm", String(MAX_LENGTH["pm"])),
    Column("la_child_id", String(MAX_LENGTH["la_child_id"])),
    Column("load_id", Integer),
    Index("ix_attendance_date_urn", "date", "urn"),
    sqlite_with_rowid=False,
    postgresql_partition_by=partition_by("attendance"),
)

# The per-child-week summary of `attendance` (see vsdash/weeks.py), refreshed for the weeks each load touches.
# Keyed week first: a day's feed rewrites one week of every child, which then sits in a few hundred
# adjacent pages instead of one page per child (measured: half of a day's writes at 30,000 children),
# and the dashboard reads it in week order, the order it works in.
attendance_weeks = Table(
    "attendance_weeks",
    metadata,
    Column("upn", String(MAX_LENGTH["upn"]), nullable=False),
    Column("week_start", Date, nullable=False),
    *[
        Column(name, Date if dtype == pl.Date else Integer, nullable=dtype != pl.Int32)
        for name, dtype in weeks_mod.WEEKS_SCHEMA.items()
        if name not in ("upn", "week_start")
    ],
    PrimaryKeyConstraint("week_start", "upn"),
    sqlite_with_rowid=False,
    postgresql_partition_by=partition_by("attendance_weeks"),
)

# What `attendance` holds per UPN as sent, school and carried LA Child ID (vsdash/store/sent.py): the
# data-quality matching's input, kept by each load so no page scans every mark for it. A row sent without
# an LA Child ID is kept under '' (a key column cannot be NULL); the store reads it back as null.
attendance_sent = Table(
    "attendance_sent",
    metadata,
    Column("upn", String(MAX_LENGTH["upn"]), primary_key=True),
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
    sqlite_with_rowid=False,
)

# The days each school sent marks on (vsdash/store/sent.py): the data-quality freshness, kept by each load.
school_days = Table(
    "school_days",
    metadata,
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("date", Date, primary_key=True),
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
    Column("upn", String(MAX_LENGTH["upn"]), primary_key=True),
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("start_date", Date, primary_key=True),
    Column("category", String(MAX_LENGTH["category"]), primary_key=True),
    Column("end_date", Date),
    Column("sessions", Integer),
    Column("reason", String(MAX_LENGTH["reason"])),
    Column("reason_2", String(MAX_LENGTH["reason_2"])),
    Column("reason_3", String(MAX_LENGTH["reason_3"])),
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
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), nullable=False, index=True),
    Column("action", Text, nullable=False),
    Column("note", Text),
    Column("follow_up", Date),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# A follow-up an officer marked done. Its own table, so a store made before it gains it on opening
# (`create_all`), and the action itself is never changed. The child's ID is kept for retention.
actions_done = Table(
    "actions_done",
    metadata,
    Column("action_id", Integer, primary_key=True),
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), nullable=False, index=True),
    Column("done_by", Text, nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=False),
)

# Confirmed matches (vsdash/aliases.py): a UPN a school sends that a person confirmed is a listed child.
# Written only by people (the data-quality page), never by a feed load, so reloads never lose it.
upn_aliases = Table(
    "upn_aliases",
    metadata,
    Column("alias_upn", String(MAX_LENGTH["upn"]), primary_key=True),  # the UPN the school sends
    Column("upn", String(MAX_LENGTH["upn"])),  # the list's UPN when confirmed (null: the list has none)
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), nullable=False, index=True),
    Column("confirmed_by", Text, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
)

# Whether a suspension's child's social worker has been told (the Suspensions page's Monday check), keyed by
# the suspension's natural key. Written only by people, never by a feed load, so a reload of the suspensions
# feed keeps it; the child's ID is kept for retention.
suspension_notices = Table(
    "suspension_notices",
    metadata,
    Column("upn", String(MAX_LENGTH["upn"]), primary_key=True),
    Column("urn", Integer, primary_key=True, autoincrement=False),
    Column("start_date", Date, primary_key=True),
    Column("category", String(MAX_LENGTH["category"]), primary_key=True),
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), nullable=False, index=True),
    Column("notified", Boolean, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

# The people who may sign in (vsdash/auth.py): a local user has a password hash, a single-sign-on user an
# e-mail the identity provider vouches for (or both). Teams, schools and localities limit an officer's
# children; each is a JSON list, empty for no limit.
users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("email", String(320), unique=True),  # lower case; null: local sign-in only
    Column("role", String(20), nullable=False),
    Column("teams", Text, nullable=False, default="[]"),
    Column("schools", Text, nullable=False, default="[]"),
    Column("localities", Text, nullable=False, default="[]"),
    Column("password_hash", Text),  # argon2 (null: single sign-on only)
    Column("failed_sign_ins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# Who did what, when: sign-ins, each child's page opened, exports, loads, matches, actions, user changes,
# retention. Append-only: the store has no statement that changes or deletes a row of it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("user_name", String(100)),  # null: nobody signed in (a failed sign-in, open mode)
    Column("role", String(20)),
    Column("event", String(40), nullable=False, index=True),
    Column("la_child_id", String(MAX_LENGTH["la_child_id"]), index=True),
    Column("detail", Text),
)


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


def main_table(kind: str) -> str:
    """The table whose rows a feed's counts describe."""
    return {"children": "cohort_episodes"}.get(kind, kind)


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
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
