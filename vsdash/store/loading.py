"""Writing feeds: validated files land by key in one transaction each, with their rejects and a log line."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from vsdash import identity
from vsdash.config import Config
from vsdash.feeds import ParsedFeed
from vsdash.frames import CHILDREN_SCHEMA, conform
from vsdash.store import sent
from vsdash.store.checkpoint import Checkpoints
from vsdash.store.partitions import ensure_partitions
from vsdash.store.rows import inserted_id, now, write
from vsdash.store.schema import (
    FEED_TABLES,
    FeedTable,
    attendance,
    attendance_weeks,
    children,
    load_log,
    main_table,
    rejected_rows,
)
from vsdash.store.weekly import WeekUpkeep, refreshed_weeks


@dataclass
class LoadCounts:
    """What one file did to the store, as the load log records it."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_replaced: int = 0
    rows_rejected: int = 0
    rows_flagged: int = 0  # loaded, with an identity conflict for a person to check


class Loading(WeekUpkeep, Checkpoints):
    """The store's feed writes (mixed into `Store`)."""

    engine: Engine

    def already_loaded(self, sha256: str) -> bool:
        """True when a file with this exact content was loaded before."""
        query = (
            select(func.count()).select_from(load_log).where(load_log.c.sha256 == sha256, load_log.c.status == "loaded")
        )
        with self.engine.connect() as conn:
            return bool(conn.execute(query).scalar())

    def record_failure(self, file: str, kind: str | None, sha256: str | None, message: str) -> int:
        """Log a file that could not be read at all, so the data-quality page can show it."""
        stamp = now()
        with self.engine.begin() as conn:
            result = conn.execute(
                load_log.insert().values(
                    file=file,
                    kind=kind,
                    sha256=sha256,
                    status="failed",
                    message=message,
                    rows_read=0,
                    rows_loaded=0,
                    rows_replaced=0,
                    rows_rejected=0,
                    started_at=stamp,
                    finished_at=stamp,
                )
            )
            return inserted_id(result)

    def load_feeds(self, feeds: list[ParsedFeed], cfg: Config) -> list[LoadCounts]:
        """Write validated files in one transaction: their rows, rejects, a log line each, the week summary
        of the children and weeks their marks touch, and what the schools sent (`sent`).

        A batch of daily files lands much faster than one file at a time: its rows reach the table
        once, in key order, instead of 30,000 scattered inserts per day (see the README's benchmark).
        Within the batch a later file still replaces an earlier one, as it would loaded alone.
        """
        started = now()
        counts = [LoadCounts(rows_read=f.rows_read, rows_rejected=_count_rejected_lines(f.rejects)) for f in feeds]
        with self.load_transaction() as conn:
            all_rejects = _with_identity_conflicts(conn, feeds)
            for c, r in zip(counts, all_rejects, strict=True):
                c.rows_flagged = r.filter(pl.col("outcome") == identity.FLAGGED)["line"].n_unique()
            ids = [
                inserted_id(
                    conn.execute(
                        load_log.insert().values(
                            file=f.file,
                            kind=f.kind,
                            sha256=f.sha256,
                            status="loaded",
                            rows_read=f.rows_read,
                            started_at=started,
                        )
                    )
                )
                for f in feeds
            ]
            for name in dict.fromkeys(name for f in feeds for name in f.tables):
                parts = [
                    f.tables[name].with_columns(load_id=pl.lit(load_id), _order=pl.lit(i))
                    for i, (f, load_id) in enumerate(zip(feeds, ids, strict=True))
                    if name in f.tables
                ]
                rows = pl.concat(parts, how="vertical_relaxed")
                latest = _latest(rows, FEED_TABLES[name].key)
                if name == "attendance":  # what this batch leaves of the kept summaries, from the rows before it
                    self._ensure_weeks(conn, cfg)
                    sent.ensure_sent(conn)
                    stored = _existing_keys(conn, FEED_TABLES[name], latest)
                    summary = refreshed_weeks(conn, latest, stored, cfg)
                    change = sent.sent_change(latest, sent.replaced_rows(conn, stored))
                    ensure_partitions(conn, attendance, latest["date"], cfg)
                replaced = _upsert(conn, FEED_TABLES[name], rows, latest, stored if name == "attendance" else None)
                if name == "attendance":
                    ensure_partitions(conn, attendance_weeks, summary["week_start"], cfg)
                    write(conn, attendance_weeks, ["upn", "week_start"], summary)
                    sent.write_change(conn, change)
                for i, f in enumerate(feeds):
                    if name == main_table(f.kind) and name in f.tables:
                        counts[i].rows_loaded = f.tables[name].height
                        counts[i].rows_replaced = replaced.get(i, 0)
            rejects = [
                r.with_columns(load_id=pl.lit(load_id), file=pl.lit(f.file))
                for f, r, load_id in zip(feeds, all_rejects, ids, strict=True)
                if r.height
            ]
            if rejects:
                conn.execute(rejected_rows.insert(), pl.concat(rejects).to_dicts())
            for load_id, c in zip(ids, counts, strict=True):
                conn.execute(
                    load_log.update()
                    .where(load_log.c.id == load_id)
                    .values(
                        rows_loaded=c.rows_loaded,
                        rows_replaced=c.rows_replaced,
                        rows_rejected=c.rows_rejected,
                        finished_at=now(),
                    )
                )
        return counts

    def rows_to_replace(self, kind: str, tables: dict[str, pl.DataFrame]) -> int:
        """How many stored rows a parsed file would replace (the upload preview), writing nothing."""
        main = tables.get(main_table(kind))
        if main is None or main.is_empty():
            return 0
        with self.engine.connect() as conn:
            return _existing_keys(conn, FEED_TABLES[main_table(kind)], main).height


def _with_identity_conflicts(conn: Connection, feeds: list[ParsedFeed]) -> list[pl.DataFrame]:
    """Each file's rejects, a children list's with its identity conflicts against the stored children."""
    if not any("children" in f.tables for f in feeds):
        return [f.rejects for f in feeds]
    stored = read_children_identity(conn)
    return [
        pl.concat([f.rejects, identity.conflicts(f.tables["children"], stored)])
        if "children" in f.tables
        else f.rejects
        for f in feeds
    ]


def read_children_identity(conn: Connection) -> pl.DataFrame:
    """Who each stored child is: the identity a new list is checked against."""
    rows = conn.execute(select(*[children.c[k] for k in identity.IDENTITY])).all()
    frame = pl.DataFrame(rows, schema=list(identity.IDENTITY), orient="row", infer_schema_length=None) if rows else None
    return conform(frame, {k: CHILDREN_SCHEMA[k] for k in identity.IDENTITY})


def _upsert(
    conn: Connection, target: FeedTable, frame: pl.DataFrame, latest: pl.DataFrame, stored: pl.DataFrame | None = None
) -> dict[int, int]:
    """Insert or replace rows by key, the batch's later files winning (`latest`: `_latest` of the frame);
    per file (`_order`), how many of its rows replaced a stored row or one from an earlier file of the batch.
    `stored`: the frame's keys already stored, when the caller has read them (`_existing_keys`)."""
    if frame.is_empty():
        return {}
    key = list(target.key)
    stored = (stored if stored is not None else _existing_keys(conn, target, frame)).with_columns(_stored=pl.lit(True))
    replaced = (
        frame.select(*key, "_order")
        .join(stored, on=key, how="left")
        .filter(pl.col("_stored").fill_null(False) | (pl.col("_order") > pl.col("_order").min().over(key)))
        .group_by("_order")
        .len()
    )
    write(conn, target.table, key, latest.sort(key).drop("_order"))
    return dict(replaced.iter_rows())


def _existing_keys(conn: Connection, target: FeedTable, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's keys already stored, reading only the key range the rows touch."""
    table = target.table
    scope = table.c[target.scope]
    low, high = frame[target.scope].min(), frame[target.scope].max()
    rows = conn.execute(select(*[table.c[k] for k in target.key]).where(scope.between(low, high))).all()
    key_schema = {k: frame.schema[k] for k in target.key}
    existing = pl.DataFrame(rows, schema=key_schema, orient="row")
    return existing.join(frame.select(target.key).unique(), on=list(target.key), how="semi")


def _latest(rows: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Each key once, the batch's later file (`_order`) winning."""
    return rows.sort("_order").unique(list(key), keep="last")


def _count_rejected_lines(rejects: pl.DataFrame) -> int:
    """Rows rejected outright (a dropped value leaves the row loaded)."""
    if rejects.is_empty():
        return 0
    return rejects.filter(pl.col("outcome") == "rejected")["line"].n_unique()
