"""How feed files arrive: a watched inbox folder, and the upload page's preview before a load.

The inbox loads each file once it has stopped changing, then moves it to `processed/` (loaded, or skipped
as already loaded) or `failed/` with `NAME.reason.txt` beside it, so the folder shows what is still to do.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import queue
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from vsdash import auth
from vsdash.config import Config
from vsdash.failures import explain
from vsdash.feeds import FeedError, file_sha256, parse
from vsdash.ingest import FEED_SUFFIXES, IngestResult, ingest_file, ingest_order, load_rank
from vsdash.store import LoadCounts, Store, main_table

log = logging.getLogger(__name__)

PROCESSED, FAILED = "processed", "failed"
# Names editors and copy tools give a file while it is still being written.
TEMPORARY_NAMES = ("*.part", "*.tmp", "*.crdownload", ".~*", "~$*", ".*")
# A copy over a slow network share can pause for a second or two between blocks: 2 s loaded half files.
SETTLE_SECONDS = 5.0
# Waits before each new attempt at a file whose failure may pass (a busy database, a gzip still arriving):
# about two minutes in all, then it goes to failed/ with the reason.
RETRY_DELAYS = (2.0, 5.0, 15.0, 30.0, 60.0)


def is_temporary(name: str) -> bool:
    """A half-written file by its name: never loaded, never moved."""
    return any(fnmatch.fnmatch(name.lower(), pattern) for pattern in TEMPORARY_NAMES)


def progress_line(done: int, total: int, name: str) -> str:
    """`n/N NAME`: enough on a terminal to see a long load advance (no dependency)."""
    return f"{done}/{total} {name}"


def _signature(path: Path) -> tuple[int, int]:
    """Size and modification time: what changes while a writer is still at work."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


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
                signature = _signature(path)
            except OSError:
                del self._seen[path]
                continue
            if signature != before:
                self._seen[path] = (signature, now)
            elif now - since >= self.settle:
                out.append(path)
                del self._seen[path]
        return ingest_order(out)


@dataclass
class Retries:
    """Files to look at again after a failure that may pass, each after a longer wait than the last."""

    delays: tuple[float, ...] = RETRY_DELAYS
    clock: Callable[[], float] = time.monotonic
    _due: dict[Path, float] = field(default_factory=dict)
    _tries: dict[Path, int] = field(default_factory=dict)

    def __len__(self) -> int:
        """How many files are waiting for another attempt."""
        return len(self._due)

    def exhausted(self, path: Path) -> bool:
        """True when the file has had all its attempts: the next failure is final."""
        return self._tries.get(path, 0) >= len(self.delays)

    def later(self, path: Path) -> float:
        """Book another attempt at the file; returns the wait in seconds."""
        tries = self._tries.get(path, 0)
        wait = self.delays[min(tries, len(self.delays) - 1)]
        self._tries[path], self._due[path] = tries + 1, self.clock() + wait
        return wait

    def due(self) -> list[Path]:
        """Files whose wait is over (they go back to settling)."""
        now = self.clock()
        ready = [path for path, when in self._due.items() if when <= now]
        for path in ready:
            del self._due[path]
        return ready

    def forget(self, path: Path) -> None:
        """The file is done with (loaded, or failed for good)."""
        self._due.pop(path, None)
        self._tries.pop(path, None)


def readable_whole(path: Path) -> bool:
    """True when the whole file can be read now and did not change while it was read.

    With the settle time this is the test that a writer has finished. An advisory lock (`fcntl.flock`) is
    no test at all: cp, rsync and Samba writers never take one, and looking through /proc for open
    handles needs root and misses writers on another machine. What does show is this: a Windows writer
    on a share holds the file shut (the open fails), and a writer still at work changes its size.
    Raises OSError when the file cannot be opened.
    """
    before = _signature(path)
    with path.open("rb") as handle:
        size = sum(len(block) for block in iter(lambda: handle.read(1 << 20), b""))
    return size == before[0] and _signature(path) == before


def _numbered(name: str, n: int) -> str:
    """`NAME (n)` before its feed suffix: the second file of one name."""
    suffix = next((s for s in FEED_SUFFIXES if name.lower().endswith(s)), "")
    stem = name[: len(name) - len(suffix)] if suffix else name
    return f"{stem} ({n}){name[len(stem) :]}"


def _free_name(folder: Path, name: str) -> Path:
    """`NAME`, or `NAME (2)` before its feed suffix when a file of that name was moved here before."""
    target, n = folder / name, 2
    while target.exists():
        target, n = folder / _numbered(name, n), n + 1
    return target


WATCHER = "inbox watcher"  # the audit log's name for loads from the watched inbox


@dataclass
class Inbox:
    """A folder that loads what is dropped into it, and keeps going whatever a file or the database does."""

    folder: Path
    store: Store
    cfg: Config
    settle: float = SETTLE_SECONDS
    report: Callable[[str], None] = print
    retry_delays: tuple[float, ...] = RETRY_DELAYS

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        for sub in (PROCESSED, FAILED):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    def waiting(self) -> list[Path]:
        """Files in the inbox itself (not its subfolders) that are not temporary names."""
        return [p for p in self.folder.iterdir() if p.is_file() and not is_temporary(p.name)]

    def process(self, path: Path, retrying: bool = False) -> IngestResult:
        """Load one settled file and move it to processed/ or failed/ (with the reason beside it).

        With `retrying`, a failure that may pass (a busy database) leaves the file where it is for another try.
        """
        if not path.name.lower().endswith(FEED_SUFFIXES):
            result = IngestResult(
                path.name, None, "failed", LoadCounts(), f"not a feed file (expected {', '.join(FEED_SUFFIXES)})"
            )
        else:
            result = ingest_file(self.store, path, self.cfg, retrying=retrying)
        if result.status == "loaded":  # what changed the data goes on the audit log, as every load does
            self.store.audit(auth.LOADED, WATCHER, "admin", detail=f"inbox {result.summary()}")
        if result.transient and retrying:
            return result
        self._move(path, result)
        return result

    def _move(self, path: Path, result: IngestResult) -> None:
        """processed/ for a loaded or repeated file; failed/ with NAME.reason.txt (one line) for the rest."""
        folder = self.folder / (FAILED if result.status == "failed" else PROCESSED)
        folder.mkdir(parents=True, exist_ok=True)  # someone may have tidied the folder away
        target = _free_name(folder, path.name)
        shutil.move(path, target)
        if result.status == "failed":
            reason = result.message
            if result.transient:
                reason += "; it was tried several times: move the file back into the inbox to try again"
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")

    def _take(self, path: Path, settling: Settling, retries: Retries) -> IngestResult | None:
        """Load a settled file, or put it back to wait; None while the file is to be tried again.

        Nothing a file, the disk or the database does stops the inbox: every failure is logged, reported in
        one line, and either tried again later or, when it cannot pass, the file goes to failed/.
        """
        stuck = False
        try:
            if not readable_whole(path):  # still growing after all: settle again
                settling.add(path)
                return None
            result = self.process(path, retrying=not retries.exhausted(path))
        except FileNotFoundError:  # taken away meanwhile: nothing to do
            retries.forget(path)
            return None
        except Exception as exc:  # held shut by its writer, or the move failed
            log.exception("%s: could not be taken from the inbox", path.name)
            result, stuck = IngestResult(path.name, None, "failed", LoadCounts(), explain(exc), transient=True), True
        if result.transient and not retries.exhausted(path):
            self.report(f"{path.name}: not loaded yet: {result.message}; trying again in {retries.later(path):g} s")
            return None
        retries.forget(path)
        return replace(result, message=result.message + "; the file is left in the inbox") if stuck else result

    def _process_all(
        self, paths: list[Path], done: int, total: int, settling: Settling, retries: Retries
    ) -> list[IngestResult]:
        """Take files in order, with an `n/N` line before each and the summary after a final result."""
        results: list[IngestResult] = []
        for path in paths:
            print(progress_line(done + len(results) + 1, total, path.name), file=sys.stderr, flush=True)
            if (result := self._take(path, settling, retries)) is not None:
                results.append(result)
                self.report(result.summary())
        return results

    def _tick(self, tick: float | None) -> float:
        """How often to look at files that are settling."""
        return tick or min(0.25, self.settle / 4 or 0.01)

    def run_once(self, tick: float | None = None) -> list[IngestResult]:
        """Load everything in the inbox now, each file once it has settled, then return (`watch --once`)."""
        settling, retries = Settling(self.settle), Retries(self.retry_delays)
        for path in self.waiting():
            settling.add(path)
        total = len(settling)
        results: list[IngestResult] = []
        while len(settling) or len(retries):
            for path in retries.due():
                settling.add(path)
            results += self._process_all(settling.ready(), len(results), total, settling, retries)
            if len(settling) or len(retries):
                time.sleep(self._tick(tick))
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
        settling, retries, done = Settling(self.settle), Retries(self.retry_delays), 0
        wait = self._tick(tick)
        try:
            for path in self.waiting():  # what was dropped while nobody watched
                settling.add(path.resolve())
            self.report(f"watching {self.folder} (settle {self.settle:g} s); stop with Ctrl+C")
            while not stop.is_set():
                try:
                    done += self._watch_step(arrived, settling, retries, wait, done)
                except Exception as exc:  # never die: say what happened and carry on watching
                    log.exception("the inbox watcher met a problem")
                    self.report(f"watching {self.folder}: {explain(exc)}; still watching")
                    stop.wait(1.0)
        finally:
            observer.stop()
            observer.join()

    def _watch_step(
        self, arrived: queue.Queue[Path], settling: Settling, retries: Retries, wait: float, done: int
    ) -> int:
        """Wait for an event (briefly while files are settling or waiting to retry), then take what is ready."""
        with contextlib.suppress(queue.Empty):
            settling.add(arrived.get(timeout=wait if len(settling) or len(retries) else 0.5))
        while not arrived.empty():
            settling.add(arrived.get_nowait())
        for path in retries.due():
            settling.add(path)
        ready = settling.ready()
        return len(self._process_all(ready, done, done + len(ready) + len(settling), settling, retries))


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
    rejects: pl.DataFrame  # line, column, reason, raw, outcome
    error: str = ""  # the file cannot be loaded at all

    @property
    def rows_rejected(self) -> int:
        """Rows rejected outright (a dropped value leaves the row loading), as the load log will count them."""
        rejected = self.rejects.filter(pl.col("outcome") == "rejected")
        return rejected["line"].n_unique() if rejected.height else 0


def preview_file(store: Store, path: Path, cfg: Config) -> Preview:
    """Parse and validate a file and count the stored rows it would replace; the store is only read.

    Whatever goes wrong becomes the preview's error sentence (the detail goes to the log), so one odd
    file never hides the others' previews.
    """
    path = Path(path)
    empty = pl.DataFrame(
        schema={"line": pl.Int64, "column": pl.String, "reason": pl.String, "raw": pl.String, "outcome": pl.String}
    )
    try:
        sha = file_sha256(path.read_bytes())
        feed = parse(path, cfg)
        return Preview(
            feed.file,
            feed.kind,
            store.already_loaded(sha),
            feed.rows_read,
            feed.tables[main_table(feed.kind)].height,
            store.rows_to_replace(feed.kind, feed.tables),
            feed.rejects,
        )
    except Exception as exc:
        if not isinstance(exc, FeedError):
            log.exception("%s: preview failed", path.name)
        return Preview(path.name, None, False, 0, 0, 0, empty, explain(exc))


# Characters that cannot be in a file name on some system (and the path separators above all).
UNSAFE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


def upload_names(names: list[str]) -> dict[str, int]:
    """A safe, distinct file name for each upload, with the upload's position, in the order they must load.

    The name becomes a temporary file and the load log's entry: a separator or a leading dot could point
    outside the temporary folder, and two uploads called `attendance.csv` must both load (the second as
    `attendance (2).csv`, and after the first, as chosen), not one silently replace the other.
    """
    out: dict[str, int] = {}
    for i in sorted(range(len(names)), key=lambda i: load_rank(names[i])):
        safe = UNSAFE_NAME.sub("_", names[i]).strip().lstrip(".")[-200:] or "upload.csv"
        n, unique = 2, safe
        while unique.lower() in {o.lower() for o in out}:
            unique, n = _numbered(safe, n), n + 1
        out[unique] = i
    return out
