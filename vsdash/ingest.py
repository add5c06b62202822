"""Loading a feed file end to end: fingerprint, parse and validate, write, and say what happened."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from vsdash.config import PROJECT_ROOT, Config
from vsdash.failures import explain, is_transient
from vsdash.feeds import FeedError, ParsedFeed, file_sha256, parse
from vsdash.frames import as_date
from vsdash.glossary import counted
from vsdash.store import LoadCounts, Store

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".csv", ".csv.gz", ".xlsx")
SAMPLE_DATA = PROJECT_ROOT / "sample_data"


@dataclass(frozen=True)
class IngestResult:
    """The outcome of one file, as the command line and the upload page report it."""

    file: str
    kind: str | None
    status: str  # loaded | skipped | failed
    counts: LoadCounts
    message: str = ""
    transient: bool = False  # failed for a reason that may pass (a busy database): worth trying again

    def summary(self) -> str:
        """One line per file: `loaded N, replaced N, rejected N`, or why nothing was loaded."""
        if self.status == "skipped":
            return f"{self.file}: skipped (already loaded)"
        if self.status == "failed":
            return f"{self.file}: failed: {self.message}"
        c = self.counts
        line = (
            f"{self.file}: {self.kind}: loaded {c.rows_loaded}, replaced {c.rows_replaced}, rejected {c.rows_rejected}"
        )
        if c.rows_flagged:
            line += f"; {c.rows_flagged} with an identity conflict to check (see the data-quality page)"
        return line


def ingest_file(store: Store, path: Path, cfg: Config, kind: str | None = None, retrying: bool = False) -> IngestResult:
    """Load one file; a repeated file changes nothing and an unreadable one loads nothing."""
    return next(ingest_files(store, [path], cfg, kind, retrying=retrying))


# Rows held for one transaction when many files load together (about 20 days of a large authority).
BATCH_ROWS = 600_000


def _failed(
    store: Store, file: str, kind: str | None, sha: str | None, exc: Exception, retrying: bool = False, note: str = ""
) -> IngestResult:
    """A file that loads nothing: one sentence for people, the traceback in the log, a failed load-log line.

    A failure that may pass by itself (a busy database) is not logged as failed while the caller will try
    the file again (`retrying`, the inbox); its last attempt is.
    """
    message, transient = explain(exc) + note, is_transient(exc)
    if isinstance(exc, FeedError):
        log.warning("%s not loaded: %s", file, message)
    else:
        log.error("%s not loaded: %s", file, message, exc_info=exc)
    if not (transient and retrying):
        try:
            store.record_failure(file, kind, sha, message)
        except Exception:  # the database itself is the problem: the log and the caller still have the reason
            log.exception("the failure of %s could not be written to the load log", file)
    return IngestResult(file, kind, "failed", LoadCounts(), message, transient)


def ingest_files(
    store: Store,
    paths: list[Path],
    cfg: Config,
    kind: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    retrying: bool = False,
) -> Iterator[IngestResult]:
    """Load files in order, one result per file in the same order.

    Consecutive readable files of one kind are written together, up to BATCH_ROWS rows per transaction:
    a year's backfill then costs a few large sorted writes instead of 190 scattered ones. Each file
    still gets its own load-log line, counts and rejects, and later files replace earlier ones.
    Bad input never costs a good file: a file that cannot be parsed fails alone, and a batch whose write
    fails fails its own files while the next batches still load.
    """
    pending: list[ParsedFeed] = []
    seen: set[str] = set()

    def flush() -> list[IngestResult]:
        if not pending:
            return []
        try:
            counts = store.load_feeds(pending, cfg)
            done = [IngestResult(f.file, f.kind, "loaded", c) for f, c in zip(pending, counts, strict=True)]
        except Exception as exc:
            others = (
                f" (written together with {counted(len(pending) - 1, 'other file')}; none of them loaded)"
                if len(pending) > 1
                else ""
            )
            seen.difference_update(f.sha256 for f in pending)
            done = [_failed(store, f.file, f.kind, f.sha256, exc, retrying, others) for f in pending]
        pending.clear()
        return done

    for number, path in enumerate(map(Path, paths), start=1):
        if progress:
            progress(number, len(paths), path.name)
        try:
            sha = file_sha256(path.read_bytes())
        except OSError as exc:
            yield from flush()
            yield IngestResult(path.name, kind, "failed", LoadCounts(), f"cannot open the file: {explain(exc)}")
            continue
        try:
            repeated = sha in seen or store.already_loaded(sha)
            feed = None if repeated else parse(path, cfg, kind)
        except Exception as exc:  # anything, not only FeedError: one file's surprise must not stop the others
            yield from flush()
            yield _failed(store, path.name, kind, sha, exc, retrying)
            continue
        if feed is None:
            yield from flush()
            yield IngestResult(path.name, kind, "skipped", LoadCounts())
            continue
        if pending and _starts_batch(pending, feed):
            yield from flush()
        seen.add(sha)
        pending.append(feed)
    yield from flush()


def _starts_batch(pending: list[ParsedFeed], feed: ParsedFeed) -> bool:
    """A file starts a new batch when its kind differs or the batch is full; a full batch of attendance
    still takes the rest of its school week (up to twice the size), so each week's summary is worked out
    once, from rows in memory."""
    if pending[0].kind != feed.kind:
        return True
    rows = sum(f.rows_read for f in pending) + feed.rows_read
    if rows <= BATCH_ROWS:
        return False
    return rows > 2 * BATCH_ROWS or _week(pending[-1]) is None or _week(pending[-1]) != _week(feed)


def _week(feed: ParsedFeed) -> date | None:
    """Monday of the latest day an attendance file covers (None for other kinds, or no rows)."""
    marks = feed.tables.get("attendance")
    if marks is None or marks.is_empty():
        return None
    latest = as_date(marks["date"].max())
    return latest - timedelta(days=latest.weekday()) if latest is not None else None


def load_rank(name: str) -> tuple[int, str]:
    """Where a file comes in the load order: reference data, children, marks, suspensions; then by name."""
    rank = {"schools": 0, "children": 1, "suspensions": 3}
    name = name.lower()
    return next((r for word, r in rank.items() if word in name), 2), name


def ingest_order(paths: list[Path]) -> list[Path]:
    """Reference data first, then the children, then marks and suspensions, each in name order."""
    return sorted(paths, key=lambda p: load_rank(p.name))


def feed_files(folder: Path) -> list[Path]:
    """The feed files under a folder, in the order they must load."""
    return ingest_order([p for p in Path(folder).rglob("*") if p.is_file() and p.name.lower().endswith(FEED_SUFFIXES)])


def ingest_folder(store: Store, folder: Path, cfg: Config) -> list[IngestResult]:
    """Load every feed file under a folder (the bundled sample, a backfill)."""
    return list(ingest_files(store, feed_files(folder), cfg))


@lru_cache(maxsize=1)
def sample_hashes(folder: Path = SAMPLE_DATA) -> frozenset[str]:
    """The content hashes of the bundled sample's files (synthetic: safe to show to anyone)."""
    return frozenset(file_sha256(p.read_bytes()) for p in feed_files(folder)) if folder.is_dir() else frozenset()


def holds_only_sample(store: Store) -> bool:
    """Whether every file the store has loaded is one of the bundled sample's: only then may it be open."""
    return store.loaded_hashes() <= sample_hashes()


def load_sample_if_empty(store: Store, cfg: Config, folder: Path = SAMPLE_DATA) -> list[IngestResult]:
    """A new install shows the bundled sample authority instead of an empty screen."""
    if store.data_version() or not folder.is_dir():
        return []
    return ingest_folder(store, folder, cfg)
