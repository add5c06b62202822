"""How feed files arrive: a watched inbox folder, and the upload page's preview before a load.

The inbox loads each file once it has stopped changing, then moves it to `processed/` (loaded, or skipped
as already loaded) or `failed/` with `NAME.reason.txt` beside it, so the folder shows what is still to do.
"""

from __future__ import annotations

import fnmatch
import queue
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from vsdash.config import Config
from vsdash.feeds import FeedError, file_sha256, parse
from vsdash.ingest import FEED_SUFFIXES, IngestResult, ingest_file, ingest_order
from vsdash.store import LoadCounts, Store, main_table

PROCESSED, FAILED = "processed", "failed"
# Names editors and copy tools give a file while it is still being written.
TEMPORARY_NAMES = ("*.part", "*.tmp", "*.crdownload", ".~*", "~$*", ".*")
SETTLE_SECONDS = 2.0


def is_temporary(name: str) -> bool:
    """A half-written file by its name: never loaded, never moved."""
    return any(fnmatch.fnmatch(name.lower(), pattern) for pattern in TEMPORARY_NAMES)


def progress_line(done: int, total: int, name: str) -> str:
    """`n/N NAME`: enough on a terminal to see a long load advance (no dependency)."""
    return f"{done}/{total} {name}"


@dataclass
class Settling:
    """Files waiting until their size and modification time have not changed for `settle` seconds."""

    settle: float = SETTLE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _seen: dict[Path, tuple[tuple[int, int] | None, float]] = field(default_factory=dict)

    def add(self, path: Path) -> None:
        """Start (or keep) watching a file; its clock starts at the first look."""
        self._seen.setdefault(path, (None, self.clock()))

    def __len__(self) -> int:
        """How many files are still settling."""
        return len(self._seen)

    def ready(self) -> list[Path]:
        """Files unchanged for the settle time, in load order; they stop being watched. Vanished files are dropped."""
        now, out = self.clock(), []
        for path, (before, since) in list(self._seen.items()):
            try:
                stat = path.stat()
            except OSError:
                del self._seen[path]
                continue
            signature = (stat.st_size, stat.st_mtime_ns)
            if signature != before:
                self._seen[path] = (signature, now)
            elif now - since >= self.settle:
                out.append(path)
                del self._seen[path]
        return ingest_order(out)


def _free_name(folder: Path, name: str) -> Path:
    """`NAME`, or `NAME (2)` before its feed suffix when a file of that name was moved here before."""
    target = folder / name
    suffix = next((s for s in FEED_SUFFIXES if name.lower().endswith(s)), "")
    stem = name[: len(name) - len(suffix)] if suffix else name
    n = 2
    while target.exists():
        target = folder / f"{stem} ({n}){name[len(stem):]}"
        n += 1
    return target


@dataclass
class Inbox:
    """A folder that loads what is dropped into it."""

    folder: Path
    store: Store
    cfg: Config
    settle: float = SETTLE_SECONDS
    report: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        for sub in (PROCESSED, FAILED):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    def waiting(self) -> list[Path]:
        """Files in the inbox itself (not its subfolders) that are not temporary names."""
        return [p for p in self.folder.iterdir() if p.is_file() and not is_temporary(p.name)]

    def process(self, path: Path) -> IngestResult:
        """Load one settled file and move it to processed/ or failed/ (with the reason beside it)."""
        if not path.name.lower().endswith(FEED_SUFFIXES):
            result = IngestResult(path.name, None, "failed", LoadCounts(),
                                  f"not a feed file (expected {', '.join(FEED_SUFFIXES)})")
        else:
            result = ingest_file(self.store, path, self.cfg)
        if result.status == "failed":
            target = _free_name(self.folder / FAILED, path.name)
            shutil.move(path, target)
            target.with_name(target.name + ".reason.txt").write_text(result.message + "\n", encoding="utf-8")
        else:
            shutil.move(path, _free_name(self.folder / PROCESSED, path.name))
        return result

    def _process_all(self, paths: list[Path], done: int, total: int) -> list[IngestResult]:
        """Process files in order, with an `n/N` line before each and the summary after."""
        results = []
        for i, path in enumerate(paths, start=done + 1):
            print(progress_line(i, total, path.name), file=sys.stderr, flush=True)
            results.append(self.process(path))
            self.report(results[-1].summary())
        return results

    def run_once(self, tick: float | None = None) -> list[IngestResult]:
        """Load everything in the inbox now, each file once it has settled, then return (`watch --once`)."""
        settling = Settling(self.settle)
        for path in self.waiting():
            settling.add(path)
        total, results = len(settling), []
        while len(settling):
            results += self._process_all(settling.ready(), len(results), total)
            if len(settling):
                time.sleep(tick or min(0.25, self.settle / 4 or 0.01))
        return results

    def watch(self, stop: threading.Event | None = None, tick: float | None = None) -> None:
        """Load files as they arrive (watchdog events), until `stop` is set or the process is interrupted."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        arrived: queue.Queue[Path] = queue.Queue()
        folder = self.folder.resolve()

        class Arrivals(FileSystemEventHandler):
            """Every created, written or renamed-in file of the inbox itself goes on the queue."""

            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory or event.event_type not in ("created", "modified", "moved", "closed"):
                    return
                path = Path(str(getattr(event, "dest_path", "") or event.src_path))
                if path.parent == folder and not is_temporary(path.name):
                    arrived.put(path)

        stop = stop or threading.Event()
        observer = Observer()
        observer.schedule(Arrivals(), str(folder), recursive=False)
        observer.start()
        settling, done = Settling(self.settle), 0
        wait = tick or min(0.25, self.settle / 4 or 0.01)
        try:
            for path in self.waiting():       # what was dropped while nobody watched
                settling.add(path.resolve())
            self.report(f"watching {self.folder} (settle {self.settle:g} s); stop with Ctrl+C")
            while not stop.is_set():
                try:   # block until an event arrives; wake often only while a file is settling
                    settling.add(arrived.get(timeout=wait if len(settling) else 0.5))
                except queue.Empty:
                    pass
                while not arrived.empty():
                    settling.add(arrived.get_nowait())
                ready = settling.ready()
                done += len(self._process_all(ready, done, done + len(ready) + len(settling)))
        finally:
            observer.stop()
            observer.join()


# ---- the upload page's preview ------------------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    """What loading a file would do, worked out without writing anything."""

    file: str
    kind: str | None
    already_loaded: bool
    rows_read: int
    rows_to_load: int
    rows_to_replace: int
    rejects: pl.DataFrame        # line, column, reason, raw, outcome
    error: str = ""              # the file cannot be loaded at all

    @property
    def rows_rejected(self) -> int:
        """Rows rejected outright (a dropped value leaves the row loading), as the load log will count them."""
        rejected = self.rejects.filter(pl.col("outcome") == "rejected")
        return rejected["line"].n_unique() if rejected.height else 0


def preview_file(store: Store, path: Path, cfg: Config) -> Preview:
    """Parse and validate a file and count the stored rows it would replace; the store is only read."""
    path = Path(path)
    empty = pl.DataFrame(schema={"line": pl.Int64, "column": pl.String, "reason": pl.String, "raw": pl.String,
                                 "outcome": pl.String})
    try:
        sha = file_sha256(path.read_bytes())
        feed = parse(path, cfg)
    except (FeedError, OSError) as exc:
        return Preview(path.name, None, False, 0, 0, 0, empty, str(exc))
    return Preview(feed.file, feed.kind, store.already_loaded(sha), feed.rows_read, feed.tables[main_table(feed.kind)].height,
                   store.rows_to_replace(feed.kind, feed.tables), feed.rejects)
