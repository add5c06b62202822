"""The load phase: the sample authority generated, backfilled as `ingest FOLDER` does, then one day's feed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.measure import Results, Row, Target, Targets, phase_memory, targets_for, timed
from vsdash.config import PROJECT_ROOT, Config
from vsdash.ingest import IngestResult, feed_files, ingest_file, ingest_files
from vsdash.store import Store, metadata

MIB = 1024 * 1024


def generate_sample(out: Path, children: int, days: int, seed: int) -> float:
    """Write the sample feeds in a child process, so the generator's memory is not counted as ours."""
    command = [
        sys.executable,
        "-m",
        "vsdash",
        "sample",
        "--out",
        str(out),
        "--children",
        str(children),
        "--days",
        str(days),
        "--seed",
        str(seed),
    ]
    seconds, _ = timed(lambda: subprocess.run(command, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL))
    return seconds


def split_last_day(feeds: Path) -> tuple[list[Path], Path]:
    """The backfill (everything but the newest day's attendance file) and that day's file, held back."""
    files = feed_files(feeds)
    attendance = sorted(p for p in files if p.name.startswith("attendance_") and "_corrected" not in p.name)
    newest = attendance[-1]
    return [p for p in files if p != newest], newest


def fresh_store(url: str, wipe: bool) -> Store:
    """An empty store at `url`; a non-empty database is refused unless told to wipe it."""
    store = Store(url)
    if store.data_version():
        if not wipe:
            raise SystemExit(f"{url} already holds data: pass an empty database, or --wipe to drop vsdash's tables")
        metadata.drop_all(store.engine)
        store.create_schema()
    return store


def backfill(store: Store, files: list[Path], cfg: Config, targets: Targets, results: Results) -> None:
    """Load the year as `python -m vsdash ingest FOLDER` does (consecutive days batched); time and rate."""
    loaded: list[IngestResult] = []
    seconds, _ = timed(lambda: loaded.extend(ingest_files(store, files, cfg)))
    failed = [r for r in loaded if r.status != "loaded"]
    if failed:
        raise RuntimeError(f"backfill: {failed[0].summary()}")
    rows = sum(r.counts.rows_loaded for r in loaded if r.kind == "attendance")
    days = sum(r.kind == "attendance" for r in loaded)
    results.add(
        Row(
            "load",
            "full-year backfill (ingest of the folder)",
            seconds,
            target=Target(targets.backfill),
            note=f"{len(files)} files; {rows:,} attendance rows in {days} of them",
        )
    )
    results.add(Row("load", "backfill rate (attendance rows / total seconds)", rows / seconds, "rows/s"))


def day_feed(store: Store, newest: Path, cfg: Config, targets: Targets, results: Results) -> None:
    """One new day's feed into the loaded store, then the same day re-sent (every row replaced)."""
    seconds, result = timed(lambda: ingest_file(store, newest, cfg))
    results.add(
        Row(
            "load",
            "one new day's feed, ingest_file end to end",
            seconds,
            target=Target(targets.day_feed),
            note=result.summary().split(": ", 1)[-1],
        )
    )
    resend = newest.with_name(newest.stem + "_resend.csv")
    resend.write_bytes(newest.read_bytes() + b"\n")  # new content, so it is not skipped as already loaded
    seconds, result = timed(lambda: ingest_file(store, resend, cfg))
    results.add(
        Row("load", "the same day re-sent (every row replaced)", seconds, note=result.summary().split(": ", 1)[-1])
    )


def database_size_mb(url: str) -> float | None:
    """The SQLite file's size (with its WAL), or None for a server database."""
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url[len("sqlite:///") :])
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / MIB


def load_phase(
    url: str, workdir: Path, children: int, days: int, seed: int, wipe: bool, cfg: Config, results: Results
) -> Store:
    """Generate the sample, backfill the year and load the next day's feed."""
    feeds = workdir / "feeds"
    shutil.rmtree(feeds, ignore_errors=True)
    # One day more than asked: the backfill is the year, the extra day is the next morning's feed.
    seconds = generate_sample(feeds, children, days + 1, seed)
    results.add(
        Row(
            "sample",
            "generate the sample authority (child process)",
            seconds,
            note=f"{children:,} children x {days + 1} days",
        )
    )
    backfill_files, newest = split_last_day(feeds)
    store = fresh_store(url, wipe)
    with phase_memory(results, "backfill"):
        backfill(store, backfill_files, cfg, targets_for(children), results)
    with phase_memory(results, "day feed"):
        day_feed(store, newest, cfg, targets_for(children), results)
    return store
