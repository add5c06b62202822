"""One benchmark run: load, read and views, pages; then the table and the JSON file."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import peers
from bench.direct import measure_direct
from bench.load import database_size_mb, load_phase
from bench.measure import Results, Row, phase_memory, process_peak_mb
from bench.report import format_table, machine_facts, write_json
from bench.scenario import FILTER_NAMES, FINDER_MEASURE, PAGE_VISITS, PAGES
from vsdash.config import load_config
from vsdash.store import Store


@dataclass(frozen=True)
class Params:
    """What a run is asked to do (the command line's options); written into the JSON file."""

    children: int = 30_000
    # 189 days' backfill and the day's feed are the 190 school days of one academic year, so the pages' as-at
    # date (the feed's day) is in the year the backfill loaded, as through most of a real year (190 put the
    # feed on the first day of the next year: a one-day year on every page).
    days: int = 189
    repeat: int = 3
    cold_repeat: int = 1
    seed: int = 1
    skip_pages: bool = False
    reuse_store: bool = False


def expected_measures(params: Params, sqlite: bool = True) -> list[str]:
    """Every measure a complete run reports, in order, so a test can check none went missing."""
    names = (
        []
        if params.reuse_store
        else [
            "generate the sample authority (child process)",
            "full-year backfill (ingest of the folder)",
            "backfill rate (attendance rows / total seconds)",
            "peak RSS during backfill",
            "one new day's feed, ingest_file end to end",
            "the same day re-sent (every row replaced)",
            "peak RSS during day feed",
        ]
    )
    names += ["SQLite file size (with WAL)"] if sqlite else []
    names += [
        "store.frames(): the week summary and every record into polars",
        "filter_options (runs on every page rerun)",
        "find_children: first search of a data version (makes the keys)",
        "find_children: a search (the surname's start and an initial)",
        *peers.measure_names(),
    ]
    names += [f"{page}: views call, {n}" for page in PAGES for n in ("no filter", *FILTER_NAMES)]
    names += ["peak RSS during read and views"]
    if not params.skip_pages:
        for page in PAGES:
            names += [f"{page}: cold start (AppTest)", *(f"{page}: filter change, {n} (AppTest)" for n in FILTER_NAMES)]
            names += [FINDER_MEASURE] if page == "child" else []
        names += [f"{page}: {visit} (AppTest)" for page, visits in PAGE_VISITS.items() for visit in visits]
        names += ["peak RSS during pages", "peak RSS of a dashboard process"]
    return [*names, "peak RSS of the whole process (ru_maxrss)"]


def open_store(url: str, workdir: Path, params: Params, wipe: bool, results: Results) -> Store:
    """The loaded store: the one a previous run left (--reuse-store), or a new one loaded now."""
    if not params.reuse_store:
        return load_phase(url, workdir, params.children, params.days, params.seed, wipe, load_config(), results)
    store = Store(url)
    if not store.data_version():
        raise SystemExit(f"--reuse-store: {url} holds no data; run once without it first")
    return store


def measure(url: str, workdir: Path, params: Params, wipe: bool) -> list[Row]:
    """Every phase against the store at `url`, in order."""
    cfg = load_config()
    results = Results()
    store = open_store(url, workdir, params, wipe, results)
    size = database_size_mb(url)
    if size is not None:
        results.add(Row("load", "SQLite file size (with WAL)", size, "MiB"))
    with phase_memory(results, "read and views"):
        scenario, floors, beside = measure_direct(
            store, cfg, workdir / "floor", params.repeat, params.cold_repeat, results
        )
    if not params.skip_pages:
        from bench import pages  # Streamlit only for the page phase: --skip-pages runs without it

        with phase_memory(results, "pages"):
            pages.measure_pages(url, scenario, floors, params.repeat, params.cold_repeat, results, beside)
        pages.measure_dashboard_memory(url, scenario, params.repeat, results)
    results.add(
        Row(
            "memory",
            "peak RSS of the whole process (ru_maxrss)",
            round(process_peak_mb(), 1),
            "MiB",
            note="the benchmark itself: the loader's batches and the floor's frames beside the pages",
        )
    )
    store.dispose()
    return results.rows


def run(params: Params, out: Path, db: str | None = None, work: Path | None = None, wipe: bool = False) -> list[Row]:
    """Generate, load, read, draw; print the table and write the JSON (`work` kept, else a temp folder)."""
    workdir = Path(work) if work else Path(tempfile.mkdtemp(prefix="vsdash-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = db or f"sqlite:///{workdir / 'vsdash.db'}"
    if db is None and not params.reuse_store:
        for stale in workdir.glob("vsdash.db*"):
            stale.unlink()
    try:
        rows = measure(url, workdir, params, wipe)
    finally:
        if work is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(format_table(rows))
    write_json(out, machine_facts(url if db else "sqlite://"), asdict(params), rows)
    print(f"\nwrote {out}")
    return rows
