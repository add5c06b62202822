"""Loading a feed file end to end: fingerprint, parse and validate, write, and say what happened."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsdash.config import PROJECT_ROOT, Config
from vsdash.feeds import FeedError, file_sha256, parse
from vsdash.store import LoadCounts, Store

FEED_SUFFIXES = (".csv", ".csv.gz", ".xlsx")
SAMPLE_DATA = PROJECT_ROOT / "sample_data"


@dataclass(frozen=True)
class IngestResult:
    """The outcome of one file, as the command line and the upload page report it."""

    file: str
    kind: str | None
    status: str                  # loaded | skipped | failed
    counts: LoadCounts
    message: str = ""

    def summary(self) -> str:
        """One line per file: `loaded N, replaced N, rejected N`, or why nothing was loaded."""
        if self.status == "skipped":
            return f"{self.file}: skipped (already loaded)"
        if self.status == "failed":
            return f"{self.file}: failed: {self.message}"
        c = self.counts
        return f"{self.file}: {self.kind}: loaded {c.rows_loaded}, replaced {c.rows_replaced}, rejected {c.rows_rejected}"


def ingest_file(store: Store, path: Path, cfg: Config, kind: str | None = None) -> IngestResult:
    """Load one file; a repeated file changes nothing and an unreadable one loads nothing."""
    path = Path(path)
    try:
        sha = file_sha256(path.read_bytes())
    except OSError as exc:
        return IngestResult(path.name, kind, "failed", LoadCounts(), f"cannot open the file: {exc.strerror}")
    if store.already_loaded(sha):
        return IngestResult(path.name, kind, "skipped", LoadCounts())
    try:
        feed = parse(path, cfg, kind)
    except FeedError as exc:
        store.record_failure(path.name, kind, sha, str(exc))
        return IngestResult(path.name, kind, "failed", LoadCounts(), str(exc))
    counts = store.load_feed(feed.file, feed.kind, feed.sha256, feed.rows_read, feed.tables, feed.rejects)
    return IngestResult(feed.file, feed.kind, "loaded", counts)


def ingest_order(paths: list[Path]) -> list[Path]:
    """Reference data first, then the children, then marks and suspensions, each in name order."""
    rank = {"schools": 0, "children": 1, "suspensions": 3}
    def key(p: Path) -> tuple[int, str]:
        stem = p.name.lower()
        return next((r for word, r in rank.items() if word in stem), 2), stem
    return sorted(paths, key=key)


def feed_files(folder: Path) -> list[Path]:
    """The feed files under a folder, in the order they must load."""
    return ingest_order([p for p in Path(folder).rglob("*") if p.is_file() and p.name.lower().endswith(FEED_SUFFIXES)])


def ingest_folder(store: Store, folder: Path, cfg: Config) -> list[IngestResult]:
    """Load every feed file under a folder (the bundled sample, a backfill)."""
    return [ingest_file(store, p, cfg) for p in feed_files(folder)]


def load_sample_if_empty(store: Store, cfg: Config, folder: Path = SAMPLE_DATA) -> list[IngestResult]:
    """A new install shows the bundled sample authority instead of an empty screen."""
    if store.data_version() or not folder.is_dir():
        return []
    return ingest_folder(store, folder, cfg)
