"""The week summary's upkeep: made anew when the code table changes, refreshed for the weeks a load touches."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.frames import MARKS_SCHEMA, as_date, conform
from vsdash.store.partitions import ensure_partitions
from vsdash.store.rows import between, days, write
from vsdash.store.schema import FEED_TABLES, attendance, attendance_weeks, store_meta

REBUILD_WEEKS = 8  # weeks of marks summarised at a time when the week summary is made anew
FEW_CHILDREN = 2_000  # a load touching fewer children re-reads just their rows to refresh the summary


class WeekUpkeep:
    """Keeps `attendance_weeks` true to `attendance` (mixed into `Store`)."""

    engine: Engine

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
        ensure_partitions(conn, attendance_weeks, pl.Series([week, last], dtype=pl.Date), cfg)
        while week is not None and week <= last:
            end = week + timedelta(weeks=REBUILD_WEEKS) - timedelta(days=1)
            write(conn, attendance_weeks, ["upn", "week_start"], weeks_mod.summarise(days(conn, week, end), cfg))
            week = end + timedelta(days=1)
        conn.execute(store_meta.delete().where(store_meta.c.key == "weeks"))
        conn.execute(store_meta.insert().values(key="weeks", value=fingerprint))
        return True


def _span(batch: pl.DataFrame) -> tuple[date | None, date | None, list[str] | None]:
    """The Mondays of the first and last weeks a batch of marks touches, and its UPNs to read by, if few.

    A day's feed touches everyone in one week: read the week. A school's corrected term touches few
    children over many weeks: read just them. A backfill finds little stored."""
    upns = batch["upn"].unique()
    first, last = as_date(batch["date"].min()), as_date(batch["date"].max())
    return (
        weeks_mod.monday(first) if first is not None else None,
        weeks_mod.monday(last) if last is not None else None,
        upns.to_list() if len(upns) <= FEW_CHILDREN else None,
    )


def touched_days(conn: Connection, batch: pl.DataFrame) -> pl.DataFrame:
    """The stored day rows of the children and weeks a batch of marks touches (what its upkeep starts from)."""
    if batch.is_empty():
        return conform(None, MARKS_SCHEMA)
    week, latest, upns = _span(batch)
    return days(conn, week, latest + timedelta(days=6) if latest is not None else None, upns)


def refreshed_weeks(conn: Connection, batch: pl.DataFrame, replaced: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """The summary rows of the child-weeks a batch of marks touches, as they will be once it is written.

    A child none of whose stored rows the batch replaces (a new day's feed: everyone) has the new days added
    to the stored summary rows (`weeks.with_new_days`), reading no stored day row; a child with a replaced
    row (`replaced`: the batch's keys already stored), or two schools in a week, is worked out again from
    the week's day rows."""
    if batch.is_empty():
        return conform(None, weeks_mod.WEEKS_SCHEMA)
    again = replaced["upn"].unique()
    fresh = batch.filter(~pl.col("upn").is_in(again.implode()))
    added, unsure = weeks_mod.with_new_days(_summary_rows(conn, fresh), fresh, cfg)
    again = pl.concat([again, unsure["upn"]]).unique()
    redone = batch.filter(pl.col("upn").is_in(again.implode()))
    return pl.concat(
        [added.filter(~pl.col("upn").is_in(again.implode())), weeks_with(touched_days(conn, redone), redone, cfg)]
    )


def _summary_rows(conn: Connection, batch: pl.DataFrame) -> pl.DataFrame:
    """The stored summary rows of the children and weeks a batch of marks touches."""
    if batch.is_empty():
        return conform(None, weeks_mod.WEEKS_SCHEMA)
    week, latest, upns = _span(batch)
    stored = between(conn, attendance_weeks, "week_start", week, latest, upns, weeks_mod.WEEKS_SCHEMA)
    return stored.join(batch.select("upn").unique(), on="upn", how="semi")


def weeks_with(stored: pl.DataFrame, batch: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """The summary rows of the children and weeks a batch of marks touches, as they will be once it is
    written: the stored rows of those weeks (`touched_days`), the batch replacing any it corrects."""
    if batch.is_empty():
        return conform(None, weeks_mod.WEEKS_SCHEMA)
    keys = batch.select("upn", week_start=pl.col("date").dt.truncate("1w")).unique()
    key = list(FEED_TABLES["attendance"].key)
    marks = pl.concat(
        [
            stored.join(keys.select("upn").unique(), on="upn", how="semi").join(batch, on=key, how="anti"),
            batch.select(list(MARKS_SCHEMA)),
        ]
    )
    return weeks_mod.summarise(marks, cfg).join(keys, on=["upn", "week_start"], how="semi")


def _weeks_fingerprint(cfg: Config) -> str:
    """What the week summary depends on: each code's category, the part-time code and the summary's shape."""
    facts = {
        "codes": sorted(cfg.code_category.items()),
        "part_time": weeks_mod.PART_TIME_CODE,
        "columns": list(weeks_mod.WEEKS_SCHEMA),
        "key": [c.name for c in attendance_weeks.primary_key.columns],
    }
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()
