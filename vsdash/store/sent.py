"""What the schools sent, kept by each load: per UPN the identities sent (the matching), per school its days.

Both were GROUP BYs over every mark that the Data quality and Out of area pages ran once per data version
(4 s and 2 s at 30,000 children, 14 s at 300,000 on PostgreSQL). A load knows which rows it adds and which
it replaces, so it keeps both true in its own transaction instead, as it keeps the week summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from vsdash.frames import MARKS_SCHEMA, Schema, as_date, conform
from vsdash.store import weekly
from vsdash.store.rows import days, write
from vsdash.store.schema import FEED_TABLES, attendance, attendance_sent, school_days, store_meta

SENT_KEY = ["upn", "urn", "la_child_id"]
NO_CHILD_ID = ""  # the key's stand-in for marks sent without an LA Child ID (schema.attendance_sent)
# store_meta's "sent": the shape both tables were made in; a store without it (made before them) makes them
SENT_MADE = "1"
KEPT_SCHEMA: Schema = {
    "upn": pl.String,
    "urn": pl.Int64,
    "la_child_id": pl.String,
    "rows": pl.Int64,
    "first_date": pl.Date,
    "last_date": pl.Date,
}
# The stored day rows a load reads for its upkeep: the marks and the LA Child ID each was sent with.
MARKS_SENT: Schema = {**MARKS_SCHEMA, "la_child_id": pl.String}
CHUNK = 500  # UPNs per IN list


def ensure_sent(conn: Connection) -> bool:
    """Both tables made from the marks, in this transaction, if this store has not made them; True if it had not."""
    made = conn.execute(select(store_meta.c.value).where(store_meta.c.key == "sent")).scalar()
    if made == SENT_MADE:
        return False
    for table in (attendance_sent, school_days):
        table.drop(conn, checkfirst=True)  # derived data: made anew, in its current shape
        table.create(conn)
    count_again(conn, None)
    count_days_again(conn)
    conn.execute(store_meta.delete().where(store_meta.c.key == "sent"))
    conn.execute(store_meta.insert().values(key="sent", value=SENT_MADE))
    return True


def count_again(conn: Connection, upns: list[str] | None) -> None:
    """The kept rows of some UPNs (None: of every UPN) counted again from the marks, in the database."""
    c = attendance.c
    child_id = func.coalesce(c.la_child_id, NO_CHILD_ID)
    counted = select(c.upn, c.urn, child_id, func.count(), func.min(c.date), func.max(c.date)).group_by(
        c.upn, c.urn, child_id
    )
    into = attendance_sent.insert()
    if upns is None:
        conn.execute(into.from_select(list(KEPT_SCHEMA), counted))
        return
    for i in range(0, len(upns), CHUNK):
        part = upns[i : i + CHUNK]
        conn.execute(attendance_sent.delete().where(attendance_sent.c.upn.in_(part)))
        conn.execute(into.from_select(list(KEPT_SCHEMA), counted.where(c.upn.in_(part))))


def count_days_again(conn: Connection) -> None:
    """Every school's days made again from the marks (after a removal, which may leave a day with none)."""
    c = attendance.c
    conn.execute(school_days.delete())
    conn.execute(school_days.insert().from_select(["urn", "date"], select(c.urn, c.date).group_by(c.date, c.urn)))


@dataclass(frozen=True)
class SentChange:
    """What a batch of marks adds to the kept tables once it is written."""

    added: pl.DataFrame  # per UPN, school and LA Child ID: rows new to the store, and the batch's dates
    count_again: list[str]  # UPNs whose rows the batch moves to another LA Child ID: counted from the marks
    days: pl.DataFrame  # the batch's schools and days (urn, date)


def sent_change(batch: pl.DataFrame, replaced: pl.DataFrame) -> SentChange:
    """What a batch adds to the kept rows: its rows less the stored rows it replaces, its first and last dates.

    A row sent again under the same LA Child ID replaces one of its own group, so it adds nothing (a group
    with none new is left as it is). One sent under another moves a date out of its old group, whose first or
    last date cannot be worked out from the kept row, so that UPN is counted again from the marks."""
    key = ["upn", "date", "urn"]
    sent = [*key, pl.col("la_child_id").fill_null(NO_CHILD_ID)]
    batch, replaced = batch.select(sent), replaced.select(sent)
    moved = (
        replaced.join(batch, on=key, suffix="_new")
        .filter(pl.col("la_child_id") != pl.col("la_child_id_new"))["upn"]
        .unique()
    )
    added = batch.group_by(SENT_KEY).agg(
        rows=pl.len().cast(pl.Int64), first_date=pl.col("date").min(), last_date=pl.col("date").max()
    )
    removed = replaced.group_by(SENT_KEY).agg(rows=-pl.len().cast(pl.Int64))
    added = (
        pl.concat([added, removed], how="diagonal_relaxed")
        .group_by(SENT_KEY)
        .agg(pl.col("rows").sum(), pl.col("first_date").min(), pl.col("last_date").max())
        .filter((pl.col("rows") > 0) & ~pl.col("upn").is_in(moved.implode()))
    )
    return SentChange(conform(added, KEPT_SCHEMA), moved.sort().to_list(), batch.select("urn", "date").unique())


def write_change(conn: Connection, change: SentChange) -> None:
    """A batch's change written, after its marks (a UPN counted again counts them): counts added to, dates
    widened, in the database."""
    low, high = (func.least, func.greatest) if conn.dialect.name == "postgresql" else (func.min, func.max)
    c = attendance_sent.c

    def merge(new: Any) -> dict[str, Any]:
        return {
            "rows": c.rows + new["rows"],
            "first_date": low(c.first_date, new["first_date"]),
            "last_date": high(c.last_date, new["last_date"]),
        }

    write(conn, attendance_sent, SENT_KEY, change.added, merge)
    count_again(conn, change.count_again)
    write(conn, school_days, ["urn", "date"], change.days)


def replaced_rows(conn: Connection, replaced: pl.DataFrame) -> pl.DataFrame:
    """The stored rows a batch replaces (`replaced`: its keys already stored) with the LA Child ID each was
    sent with, read only when there are some (a new day's feed replaces none)."""
    if replaced.is_empty():
        return conform(None, MARKS_SENT)
    key = list(FEED_TABLES["attendance"].key)
    upns = replaced["upn"].unique().to_list()
    first, last = as_date(replaced["date"].min()), as_date(replaced["date"].max())
    chosen = upns if len(upns) <= weekly.FEW_CHILDREN else None
    return days(conn, first, last, chosen, MARKS_SENT).join(replaced, on=key, how="semi")
