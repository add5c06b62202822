"""Benchmark: the sample authority at scale, loaded like a real one and driven through the pages, beside the polars floor.

`python -m vsdash.bench [--children N] [--days D] [--db URL] [--out bench/results.json] [--skip-pages]`
generates the sample authority, backfills it as `ingest FOLDER` does (days batched), loads one more day,
then times each page cold and on each filter change (through Streamlit's AppTest and by calling the
view functions directly) next to the shortest polars code over a parquet copy of the same marks.
Streamlit is imported only for the page phase, so `--skip-pages` runs without it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import polars as pl
import sqlalchemy

from vsdash import views
from vsdash.config import PROJECT_ROOT, Config, load_config
from vsdash.filters import Filters
from vsdash.frames import Frames
from vsdash.ingest import IngestResult, feed_files, ingest_file, ingest_files
from vsdash.metrics import Window, window_for
from vsdash.sessions import COUNTED_CATEGORIES
from vsdash.store import Store, metadata

PAGES = ("overview", "triage", "child")
FILTER_NAMES = ("cohort", "team", "school", "start", "as_of")
MIB = 1024 * 1024

# Issue 6 targets for 30,000 children on a 2-core machine with the SQLite store.
BACKFILL_MAX_S = 60.0
DAY_FEED_MAX_S = 2.0
FILTER_CHANGE_MAX_S = 0.5
FILTER_CHANGE_MAX_RATIO = 3.0
COLD_PAGE_MAX_S = 5.0
PEAK_MEMORY_MAX_MB = 1536.0


# ---- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A limit a figure must stay under, and optionally a multiple of its floor."""

    limit: float
    max_ratio: float | None = None

    def describe(self, unit: str) -> str:
        """The target as the table prints it."""
        text = f"<= {self.limit:g} {unit}"
        return text + (f", <= {self.max_ratio:g}x floor" if self.max_ratio else "")


@dataclass
class Row:
    """One line of the results table: a measured figure, its floor and target, and whether it met it."""

    section: str
    measure: str
    value: float | None
    unit: str = "s"
    floor: float | None = None
    target: Target | None = None
    runs: list[float] = field(default_factory=list)
    note: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times the floor this figure is (None without a floor)."""
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def status(self) -> str:
        """PASS or MISS against the target; ERROR when the measurement failed; blank when untargeted."""
        if self.error:
            return "ERROR"
        if self.target is None or self.value is None:
            return ""
        ok = self.value <= self.target.limit
        if self.target.max_ratio and self.ratio is not None:
            ok = ok and self.ratio <= self.target.max_ratio
        return "PASS" if ok else "MISS"

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the JSON file."""
        out = asdict(self)
        out["target"] = self.target.describe(self.unit) if self.target else None
        out["ratio"] = self.ratio
        out["status"] = self.status
        return out


class Results:
    """The rows measured so far, in the order they were measured."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, row: Row) -> Row:
        """Keep a row and say it on stderr, so a long run shows progress."""
        self.rows.append(row)
        value = "-" if row.value is None else f"{row.value:.3f} {row.unit}"
        print(f"  {row.section}: {row.measure}: {value} {row.status} {row.error}", file=sys.stderr, flush=True)
        return row


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, and what it returned."""
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def median_of(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds of `repeat` calls (the caller takes the median)."""
    return [timed(fn)[0] for _ in range(repeat)]


# ---- memory --------------------------------------------------------------------------------------

def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux 4.0+), so each phase reports its own peak."""
    try:
        Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """The peak resident set since the last reset (VmHWM), else the process's ru_maxrss."""
    try:
        for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return process_peak_mb()


def process_peak_mb() -> float:
    """ru_maxrss of the whole process in MiB (kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def phase_memory(results: Results, phase: str, target: Target | None = None) -> Iterator[None]:
    """Record the peak RSS reached during one phase of the benchmark."""
    per_phase = _reset_peak_rss()
    yield
    note = "VmHWM since the phase began" if per_phase else "ru_maxrss so far (no per-phase reset here)"
    results.add(Row("memory", f"peak RSS during {phase}", round(_peak_rss_mb(), 1), "MiB", target=target, note=note))


# ---- machine facts -------------------------------------------------------------------------------

def machine_facts(db_url: str) -> dict[str, Any]:
    """What the figures were measured on, so a later run can be compared fairly."""
    import streamlit  # noqa: PLC0415 - version only

    pages = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "ram_gib": round(pages / 1024**3, 1),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "streamlit": streamlit.__version__,
        "sqlite": sqlite3.sqlite_version,
        "database": db_url.split("://", 1)[0],
        "database_server": _server_version(db_url),
        **_code_version(),
    }


def _code_version() -> dict[str, Any]:
    """The commit measured and the files changed on top of it (read-only git), so figures match code."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "uncommitted": [line[3:] for line in git("status", "--porcelain").splitlines()]}


def _server_version(url: str) -> str:
    """The database server's version string."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar()
            return str(conn.exec_driver_sql("select version()").scalar())
    finally:
        engine.dispose()


# ---- the sample and the store --------------------------------------------------------------------

def generate_sample(out: Path, children: int, days: int, seed: int) -> float:
    """Write the sample feeds in a child process, so the generator's memory is not counted as ours."""
    command = [sys.executable, "-m", "vsdash", "sample", "--out", str(out), "--children", str(children),
               "--days", str(days), "--seed", str(seed)]
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


def backfill(store: Store, files: list[Path], cfg: Config, results: Results) -> None:
    """Load the year as `python -m vsdash ingest FOLDER` does (consecutive days batched), and report the
    total and attendance rows per second."""
    loaded: list[IngestResult] = []
    seconds, _ = timed(lambda: loaded.extend(ingest_files(store, files, cfg)))
    failed = [r for r in loaded if r.status != "loaded"]
    if failed:
        raise RuntimeError(f"backfill: {failed[0].summary()}")
    rows = sum(r.counts.rows_loaded for r in loaded if r.kind == "attendance")
    days = sum(r.kind == "attendance" for r in loaded)
    results.add(Row("load", "full-year backfill (ingest of the folder)", seconds, target=Target(BACKFILL_MAX_S),
                    note=f"{len(files)} files; {rows:,} attendance rows in {days} of them"))
    results.add(Row("load", "backfill rate (attendance rows / total seconds)", rows / seconds, "rows/s"))


def day_feed(store: Store, newest: Path, cfg: Config, results: Results) -> None:
    """One new day's feed into the loaded store, then the same day re-sent (every row replaced)."""
    seconds, result = timed(lambda: ingest_file(store, newest, cfg))
    results.add(Row("load", "one new day's feed, ingest_file end to end", seconds, target=Target(DAY_FEED_MAX_S),
                    note=result.summary().split(": ", 1)[-1]))
    resend = newest.with_name(newest.stem + "_resend.csv")
    resend.write_bytes(newest.read_bytes() + b"\n")   # new content, so it is not skipped as already loaded
    seconds, result = timed(lambda: ingest_file(store, resend, cfg))
    results.add(Row("load", "the same day re-sent (every row replaced)", seconds, note=result.summary().split(": ", 1)[-1]))


def database_size_mb(url: str) -> float | None:
    """The SQLite file's size (with its WAL), or None for a server database."""
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url[len("sqlite:///"):])
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / MIB


# ---- the floor: the shortest polars code over a parquet copy of the marks ------------------------

@dataclass(frozen=True)
class FloorData:
    """The marks (codes as an Enum ordered by category), children and episodes, as the floor reads them."""

    marks: pl.DataFrame
    children: pl.DataFrame
    episodes: pl.DataFrame
    attended_below: int      # codes with a smaller position are present or approved activity
    possible_below: int      # codes with a smaller position are possible sessions


def code_enum(cfg: Config) -> tuple[pl.Enum, int, int]:
    """Codes ordered present, activity, authorised, unauthorised, the rest, so categories are position ranges."""
    ordered = [c for category in COUNTED_CATEGORIES for c in cfg.codes_in(category)]
    attended = len(cfg.codes_in("present")) + len(cfg.codes_in("approved_activity"))
    rest = [c for c in cfg.code_category if c not in ordered]
    return pl.Enum(ordered + rest), attended, len(ordered)


def write_floor_parquet(frames: Frames, cfg: Config, folder: Path) -> None:
    """Write the marks, children and episodes once, in the representation the floor reads."""
    enum, _, _ = code_enum(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    frames.marks.with_columns(pl.col("am", "pm").cast(enum, strict=False)).sort("upn", "date").write_parquet(
        folder / "marks.parquet")
    children = frames.children.select("la_child_id", "upn", "first_name", "last_name", "team")
    children.write_parquet(folder / "children.parquet")
    frames.episodes.write_parquet(folder / "episodes.parquet")


def read_floor(folder: Path, cfg: Config) -> FloorData:
    """Read the floor's parquet files (the floor's share of a cold start)."""
    _, attended, possible = code_enum(cfg)
    return FloorData(pl.read_parquet(folder / "marks.parquet"), pl.read_parquet(folder / "children.parquet"),
                     pl.read_parquet(folder / "episodes.parquet"), attended, possible)


def _sessions(d: FloorData, below: int) -> pl.Expr:
    """Sessions (0-2) of a mark row whose code position is under `below`."""
    return sum((pl.col(s).to_physical() < below).fill_null(False).cast(pl.UInt8) for s in ("am", "pm"))


def _rows(d: FloorData, window: Window, upns: pl.DataFrame | None) -> pl.LazyFrame:
    """The window's mark rows for the selected children, with possible and attended sessions."""
    rows = d.marks.lazy().filter(pl.col("date").is_between(window.start, window.as_of))
    if upns is not None:
        rows = rows.join(upns.lazy(), on="upn", how="semi")
    return rows.with_columns(possible=_sessions(d, d.possible_below), attended=_sessions(d, d.attended_below))


def _flags(possible: pl.Expr, attended: pl.Expr) -> list[pl.Expr]:
    """Attendance %, persistent (10%+) and severe (50%+) absence from session counts."""
    absent = possible - attended
    return [(attended * 100.0 / possible).alias("pct"), ((absent * 10 >= possible) & (possible > 0)).alias("pa"),
            ((absent * 2 >= possible) & (possible > 0)).alias("sa")]


def floor_per_child(d: FloorData, window: Window, upns: pl.DataFrame | None) -> pl.DataFrame:
    """Per child: sessions, attendance %, PA and SA flags and the school of the latest mark."""
    return (
        _rows(d, window, upns).group_by("upn")
        .agg(pl.col("possible", "attended").sum(), school=pl.col("urn").last())
        .with_columns(_flags(pl.col("possible"), pl.col("attended")))
        .collect()
    )


def floor_headline(per_child: pl.DataFrame) -> dict[str, Any]:
    """The headline cards from per-child rows."""
    with_data = pl.col("possible") > 0
    return per_child.select(
        children=pl.len(), pct=pl.col("attended").sum() * 100.0 / pl.col("possible").sum(),
        pa_rate=pl.col("pa").sum() * 100.0 / with_data.sum(), sa_rate=pl.col("sa").sum() * 100.0 / with_data.sum(),
    ).row(0, named=True)


def floor_members(d: FloorData, as_of: date, cohort: str | None) -> pl.DataFrame:
    """(upn, cohort) for the children in each cohort as at the date, plus every child under 'All'."""
    open_then = (pl.col("start_date") <= as_of) & (pl.col("end_date").is_null() | (pl.col("end_date") >= as_of))
    episodes = d.episodes.filter(open_then & ((pl.col("cohort") == cohort) if cohort else pl.lit(True)))
    members = episodes.join(d.children, on="la_child_id").select("upn", "cohort").drop_nulls().unique()
    everyone = (members if cohort else d.children.drop_nulls("upn")).select("upn", cohort=pl.lit("All"))
    return pl.concat([everyone, members])


def floor_weekly(d: FloorData, window: Window, upns: pl.DataFrame | None, members: pl.DataFrame) -> pl.DataFrame:
    """Weekly attendance and persistent absence to date, for all the selected children and by cohort."""
    to_date = pl.col("possible").cum_sum().over("upn"), pl.col("attended").cum_sum().over("upn")
    return (
        _rows(d, window, upns)
        .group_by("upn", week=pl.col("date").dt.truncate("1w")).agg(pl.col("possible", "attended").sum())
        .sort("upn", "week")
        .with_columns(_flags(*to_date)[1], with_data=to_date[0] > 0)
        .join(members.lazy(), on="upn")
        .group_by("cohort", "week").agg(pl.col("possible", "attended", "pa", "with_data").sum())
        .collect()
    )


@dataclass(frozen=True)
class Selection:
    """One filter state as the floor applies it: the window and the selected children's UPNs."""

    window: Window
    cohort: str | None = None
    team: str | None = None
    school_urn: int | None = None


def floor_upns(d: FloorData, sel: Selection, per_child: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """The UPNs a selection keeps (None: everyone)."""
    keep = []
    if sel.cohort:
        keep.append(floor_members(d, sel.window.as_of, sel.cohort).filter(pl.col("cohort") != "All").select("upn"))
    if sel.team:
        keep.append(d.children.filter(pl.col("team") == sel.team).select("upn").drop_nulls())
    if sel.school_urn is not None:
        every = per_child if per_child is not None else floor_per_child(d, sel.window, None)
        keep.append(every.filter(pl.col("school") == sel.school_urn).select("upn"))
    if not keep:
        return None
    out = keep[0]
    for other in keep[1:]:
        out = out.join(other, on="upn", how="semi")
    return out


def floor_overview(d: FloorData, sel: Selection, last_month: Window) -> dict[str, Any]:
    """The overview: headline now and a month ago, and the weekly trend by cohort."""
    upns = floor_upns(d, sel)
    now = floor_headline(floor_per_child(d, sel.window, upns))
    earlier = Selection(last_month, sel.cohort, sel.team, sel.school_urn)
    then = floor_headline(floor_per_child(d, last_month, floor_upns(d, earlier)))
    weekly = floor_weekly(d, sel.window, upns, floor_members(d, sel.window.as_of, sel.cohort))
    return {"now": now, "then": then, "weeks": weekly.height}


def floor_triage(d: FloorData, sel: Selection) -> pl.DataFrame:
    """Per child: PA and SA, the current run of wholly absent days, days unseen and a drop in the last three weeks."""
    upns = floor_upns(d, sel)
    absent_day = (pl.col("possible") > 0) & (pl.col("attended") == 0)
    attended_day = pl.col("attended") > 0
    last_attended = pl.col("date").filter(attended_day).max().fill_null(date.min)
    recent = pl.col("date") > sel.window.as_of - timedelta(weeks=3)
    prior = (pl.col("date") > sel.window.as_of - timedelta(weeks=6)) & ~recent
    per = (
        _rows(d, sel.window, upns).group_by("upn")
        .agg(pl.col("possible", "attended").sum(), last_mark=pl.col("date").max(),
             run=(absent_day & (pl.col("date") > last_attended)).sum(),
             recent_p=pl.col("possible").filter(recent).sum(), recent_a=pl.col("attended").filter(recent).sum(),
             prior_p=pl.col("possible").filter(prior).sum(), prior_a=pl.col("attended").filter(prior).sum())
        .with_columns(_flags(pl.col("possible"), pl.col("attended")))
        .with_columns(unseen=pl.col("last_mark") < sel.window.as_of - timedelta(days=14), long_run=pl.col("run") >= 10,
                      drift=_pct("prior_a", "prior_p") - _pct("recent_a", "recent_p") >= 10)
        .filter(pl.any_horizontal(pl.col("sa", "long_run", "unseen", "drift", "pa").fill_null(False)))
        .collect()
    )
    return per.join(d.children, on="upn", how="left").sort("sa", "long_run", "pct", descending=[True, True, False])


def _pct(attended: str, possible: str) -> pl.Expr:
    """A percentage of two columns."""
    return pl.col(attended) * 100.0 / pl.col(possible)


def floor_child(d: FloorData, sel: Selection, upn: str) -> dict[str, Any]:
    """One child's page: weekly figures, schools and the authority's school days for the calendar."""
    rows = _rows(d, sel.window, pl.DataFrame({"upn": [upn]}))
    weekly = rows.group_by(week=pl.col("date").dt.truncate("1w")).agg(pl.col("possible", "attended").sum()).collect()
    schools = rows.group_by("urn").agg(first=pl.col("date").min(), last=pl.col("date").max(), days=pl.len()).collect()
    in_window = pl.col("date").is_between(sel.window.start, sel.window.as_of)
    days = d.marks.lazy().filter(in_window).select(pl.col("date").unique()).collect()
    return {"weeks": weekly.height, "schools": schools.height, "days": days.height}


# ---- filter cases --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FilterCase:
    """One filter change: the widget to set, its value and way back, and the same selection for views and floor."""

    name: str
    widget: str          # selectbox | date_input
    key: str
    value: Any
    reset: Any
    fresh: tuple[Any, ...]   # for a window: a new value per run, so no run meets a window already worked out
    filters: Filters
    selection: Selection


@dataclass(frozen=True)
class Scenario:
    """What the pages are asked for: the latest date, the filter changes and the child to open."""

    base: Filters
    base_selection: Selection
    cases: tuple[FilterCase, ...]
    child_id: str
    child_upn: str


def choose_scenario(frames: Frames, cfg: Config) -> Scenario:
    """Realistic selections: CP cohort, the largest team, the school with most children, a spring window, a month back."""
    figures = views.Figures(frames, cfg)
    days = figures.calendar
    last = days[-1]
    base = Filters(as_of=last)
    everyone = views.selected_children(figures, base)
    team = everyone["team"].drop_nulls().mode().sort()[0]
    school = int(everyone["school_urn"].drop_nulls().mode().sort()[0])
    start = days[len(days) // 2]
    earlier = days[max(len(days) - 21, 0)]
    window = window_for(cfg, last)
    child = everyone.filter(pl.col("has_data")).sort("la_child_id").row(0, named=True)

    def case(name: str, widget: str, key: str, value: Any, reset: Any, fresh: tuple = (), **change: Any) -> FilterCase:
        filters = base.with_changes(**change)
        w = window_for(cfg, filters.as_of, filters.start)
        sel = Selection(w, filters.cohort, filters.team, filters.school_urn)
        return FilterCase(name, widget, key, value, reset, fresh or (value,), filters, sel)

    mid, back = len(days) // 2, max(len(days) - 21, 0)
    cases = (
        case("cohort", "selectbox", "cohort", "CP", None, cohort="CP"),
        case("team", "selectbox", "team", team, None, team=team),
        case("school", "selectbox", "school_urn", school, None, school_urn=school),
        case("start", "date_input", "start", start, None, tuple(days[mid:mid + 10]), start=start),
        case("as_of", "date_input", "as_of", earlier, last, tuple(days[max(back - 9, 0):back + 1][::-1]), as_of=earlier),
    )
    return Scenario(base, Selection(window), cases, child["la_child_id"], child["upn"])


def view_call(page: str, figures: views.Figures, filters: Filters, scenario: Scenario,
              actions: pl.DataFrame) -> Callable[[], Any]:
    """The function the page calls, with frames already in memory."""
    if page == "overview":
        return lambda: views.overview(figures, filters)
    if page == "triage":
        return lambda: views.triage_list(figures, filters, actions, date.today())
    return lambda: views.child_page(figures, scenario.child_id, filters)


def time_view(page: str, frames: Frames, cfg: Config, filters: Filters, scenario: Scenario, actions: pl.DataFrame,
              repeat: int) -> list[float]:
    """A filter change as the page meets it: the page drawn unfiltered already (its window's figures
    worked out), the new selection not; with no filter, a redraw of the same selection."""
    runs = []
    for _ in range(repeat):
        figures = views.Figures(frames, cfg)
        view_call(page, figures, scenario.base, scenario, actions)()
        runs.append(timed(view_call(page, figures, filters, scenario, actions))[0])
    return runs


def floor_call(page: str, d: FloorData, sel: Selection, cfg: Config, scenario: Scenario) -> Callable[[], Any]:
    """The floor for a page and selection."""
    if page == "overview":
        last_month = window_for(cfg, views.month_before(sel.window.as_of),
                                sel.window.start if sel.window.start <= views.month_before(sel.window.as_of) else None)
        return lambda: floor_overview(d, sel, last_month)
    if page == "triage":
        return lambda: floor_triage(d, sel)
    return lambda: floor_child(d, sel, scenario.child_upn)


# ---- computation without Streamlit ---------------------------------------------------------------

@dataclass
class Floors:
    """Floor medians per (page, filter name or 'cold'), filled by the direct phase and read by the page phase."""

    seconds: dict[tuple[str, str], float] = field(default_factory=dict)


def measure_direct(store: Store, cfg: Config, folder: Path, scenario_out: list[Scenario], repeat: int,
                   cold_repeat: int, results: Results) -> Floors:
    """Time the store read, each view per filter with frames in memory, and the floor beside each."""
    def read() -> Frames:
        return store.frames(cfg, held=False)
    read_s, frames = timed(read)
    read_runs = [read_s, *median_of(read, max(cold_repeat - 1, 0))]
    marks = store.marks()
    write_floor_parquet(replace(frames, marks=marks), cfg, folder)
    floor_read = median_of(lambda: read_floor(folder, cfg), repeat)
    results.add(Row("read", "store.frames(): the week summary and every record into polars", statistics.median(read_runs),
                    floor=statistics.median(floor_read), runs=read_runs,
                    note=f"{frames.weeks.height:,} child-weeks summarising {marks.height:,} marks; "
                         "floor: the marks from parquet"))
    del marks
    scenario = choose_scenario(frames, cfg)
    scenario_out.append(scenario)
    d = read_floor(folder, cfg)
    actions = store.actions_frame()
    floors = Floors()
    figures = views.Figures(frames, cfg)
    results.add(Row("views", "filter_options (runs on every page rerun)",
                    statistics.median(median_of(lambda: views.filter_options(figures), repeat))))
    for page in PAGES:
        floors.seconds[(page, "cold")] = statistics.median(median_of(cold_floor_call(page, folder, cfg, scenario), repeat))
        for c in (None, *scenario.cases):
            filters, sel = (scenario.base, scenario.base_selection) if c is None else (c.filters, c.selection)
            name = "no filter" if c is None else c.name
            runs = time_view(page, frames, cfg, filters, scenario, actions, repeat)
            floor = statistics.median(median_of(floor_call(page, d, sel, cfg, scenario), repeat))
            floors.seconds[(page, name)] = floor
            results.add(Row("views", f"{page}: views call, {name}", statistics.median(runs), floor=floor, runs=runs))
    return floors


def cold_floor_call(page: str, folder: Path, cfg: Config, scenario: Scenario) -> Callable[[], Any]:
    """The floor of a cold page: read the parquet, then compute with no filter."""
    return lambda: floor_call(page, read_floor(folder, cfg), scenario.base_selection, cfg, scenario)()


# ---- the pages through Streamlit's AppTest -------------------------------------------------------

PAGE_FILES = {"overview": "pages/overview.py", "triage": "pages/triage.py", "child": "pages/child.py"}


def _clear_caches() -> None:
    """Empty every cache a cold start must miss."""
    import streamlit as st  # noqa: PLC0415 - only the page phase needs Streamlit

    from vsdash import config as config_mod  # noqa: PLC0415

    st.cache_resource.clear()
    st.cache_data.clear()
    config_mod.cached_config.cache_clear()


def _app(scenario: Scenario) -> Any:
    """A fresh AppTest of the whole app, with a child in the URL for the child page."""
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=600)
    at.query_params["child"] = scenario.child_id
    return at


def _run(at: Any) -> float:
    """Rerun the app and return the seconds; a page exception is an error, not a figure."""
    seconds, _ = timed(at.run)
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return seconds


def _set(at: Any, widget: str, key: str, value: Any) -> Any:
    """Set one filter widget (the next run applies it)."""
    return getattr(at, widget)(key=key).set_value(value)


def measure_pages(url: str, scenario: Scenario, floors: Floors, repeat: int, cold_repeat: int, results: Results) -> None:
    """Cold start and each filter change on each page, through AppTest against the loaded store."""
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")   # AppTest's "no runtime" warnings are expected here
    previous = os.environ.get("VSDASH_DATABASE_URL")
    os.environ["VSDASH_DATABASE_URL"] = url
    try:
        for page in PAGES:
            at = _measure_cold(page, scenario, floors, cold_repeat, results)
            if at is not None:
                _measure_filters(at, page, scenario, floors, repeat, results)
    finally:
        _clear_caches()
        if previous is None:
            os.environ.pop("VSDASH_DATABASE_URL", None)
        else:
            os.environ["VSDASH_DATABASE_URL"] = previous


def _measure_cold(page: str, scenario: Scenario, floors: Floors, repeat: int, results: Results) -> Any:
    """Empty caches, then draw the page: the first visitor after a restart or a new load."""
    runs: list[float] = []
    at = None
    try:
        for _ in range(repeat):
            at = _app(scenario)
            at.run()                       # st.navigation must have run once before switching pages
            _clear_caches()
            at.switch_page(PAGE_FILES[page])
            runs.append(_run(at))
    except Exception as exc:  # noqa: BLE001 - a failing page is reported, and the other pages still run
        results.add(Row("pages", f"{page}: cold start (AppTest)", None, error=f"{type(exc).__name__}: {exc}"))
        return None
    results.add(Row("pages", f"{page}: cold start (AppTest)", statistics.median(runs), floor=floors.seconds[(page, "cold")],
                    target=Target(COLD_PAGE_MAX_S), runs=runs, note="caches empty to drawn; floor: parquet read + compute"))
    return at


def _measure_filters(at: Any, page: str, scenario: Scenario, floors: Floors, repeat: int, results: Results) -> None:
    """Each filter change on a warm page, set and reset `repeat` times; only the setting run is timed.

    A window change takes a new date each run: the dashboard keeps each window's figures, so a window
    seen before would time the cache, not the change."""
    for case in scenario.cases:
        runs: list[float] = []
        try:
            for i in range(repeat):
                _set(at, case.widget, case.key, case.fresh[i % len(case.fresh)])
                runs.append(_run(at))
                _set(at, case.widget, case.key, case.reset)
                _run(at)
        except Exception as exc:  # noqa: BLE001 - reported as an ERROR row
            results.add(Row("pages", f"{page}: filter change, {case.name} (AppTest)", None,
                            error=f"{type(exc).__name__}: {exc}"))
            continue
        results.add(Row("pages", f"{page}: filter change, {case.name} (AppTest)", statistics.median(runs),
                        floor=floors.seconds[(page, case.name)], runs=runs,
                        target=Target(FILTER_CHANGE_MAX_S, FILTER_CHANGE_MAX_RATIO),
                        note=f"{case.key} = {case.value}; runs " + ", ".join(f"{r:.2f}" for r in runs)))


# ---- the dashboard's own memory -------------------------------------------------------------------

def measure_dashboard_memory(url: str, scenario: Scenario, results: Results) -> None:
    """Peak RSS of a process that is only the dashboard: every page cold, then each filter change on it.

    The benchmark's own process also holds the loader's batches and the floor's frames, so its peak says
    little about what a dashboard server needs."""
    visits = [[c.widget, c.key, [_jsonable(v) for v in c.fresh[:3]], _jsonable(c.reset)] for c in scenario.cases]
    env = {**os.environ, "VSDASH_DATABASE_URL": url, "STREAMLIT_LOGGER_LEVEL": "error"}
    code = "import sys, json; from vsdash.bench import _dashboard_session; _dashboard_session(*json.loads(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, json.dumps([scenario.child_id, visits])],
                          capture_output=True, text=True, env=env, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        results.add(Row("memory", "peak RSS of a dashboard process", None, "MiB",
                        error=(done.stderr.strip().splitlines() or ["failed"])[-1]))
        return
    results.add(Row("memory", "peak RSS of a dashboard process", round(float(done.stdout.split()[-1]), 1), "MiB",
                    target=Target(PEAK_MEMORY_MAX_MB),
                    note="every page cold, then each filter change on it (AppTest), in a process of its own"))


def _jsonable(value: Any) -> Any:
    """Dates as tagged text, so a widget value survives the trip to the child process."""
    return {"date": value.isoformat()} if isinstance(value, date) else value


def _dashboard_session(child_id: str, visits: list) -> None:
    """Run in the child process: draw each page and apply each filter change, then print ru_maxrss (MiB)."""
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415 - only the page phase needs Streamlit

    def value(v: Any) -> Any:
        return date.fromisoformat(v["date"]) if isinstance(v, dict) else v

    for page in PAGES:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=600)
        at.query_params["child"] = child_id
        at.run()
        at.switch_page(PAGE_FILES[page])
        _run(at)
        for widget, key, fresh, reset in visits:
            for v in fresh:
                _set(at, widget, key, value(v))
                _run(at)
            _set(at, widget, key, value(reset))
            _run(at)
    print(_peak_rss_mb())  # VmHWM: this process's own peak (ru_maxrss keeps the parent's from before the fork)


# ---- the table and the file ----------------------------------------------------------------------

def expected_measures(skip_pages: bool = False) -> list[str]:
    """Every measure a complete run reports, so a test can check none went missing."""
    names = [
        "full-year backfill (ingest of the folder)", "backfill rate (attendance rows / total seconds)",
        "one new day's feed, ingest_file end to end",
        "the same day re-sent (every row replaced)", "store.frames(): the week summary and every record into polars",
        "filter_options (runs on every page rerun)",
    ]
    for page in PAGES:
        names += [f"{page}: views call, {n}" for n in ("no filter", *FILTER_NAMES)]
        if not skip_pages:
            names += [f"{page}: cold start (AppTest)"]
            names += [f"{page}: filter change, {n} (AppTest)" for n in FILTER_NAMES]
    phases = ["backfill", "day feed", "read and views"] + ([] if skip_pages else ["pages"])
    names += [f"peak RSS during {p}" for p in phases] + ["peak RSS of the whole process (ru_maxrss)"]
    return names + ([] if skip_pages else ["peak RSS of a dashboard process"])


def format_table(rows: list[Row]) -> str:
    """The results as a fixed-width table."""
    head = ("section", "measure", "value", "unit", "floor", "x floor", "target", "status")
    def num(x: float | None, unit: str = "s") -> str:
        if x is None:
            return "-"
        return f"{x:,.0f}" if unit in ("rows/s", "MiB", "MB") or abs(x) >= 1000 else f"{x:.3f}"
    body = [(r.section, r.measure, num(r.value, r.unit), r.unit, num(r.floor), "-" if r.ratio is None else f"{r.ratio:.1f}",
             r.target.describe(r.unit) if r.target else "", r.status or (r.error[:40] if r.error else "")) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 or i > 5 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def write_json(path: Path, facts: dict[str, Any], params: dict[str, Any], rows: list[Row]) -> None:
    """The machine facts, the parameters and every row, for the next run to compare against."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": facts, "parameters": params, "rows": [r.as_dict() for r in rows],
                "misses": [r.measure for r in rows if r.status in ("MISS", "ERROR")]}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


# ---- the run -------------------------------------------------------------------------------------

def load_phase(url: str, workdir: Path, children: int, days: int, seed: int, wipe: bool, cfg: Config,
               results: Results) -> Store:
    """Generate the sample, backfill the year and load the next day's feed."""
    feeds = workdir / "feeds"
    shutil.rmtree(feeds, ignore_errors=True)
    # One day more than asked: the backfill is the year, the extra day is the next morning's feed.
    gen_s = generate_sample(feeds, children, days + 1, seed)
    results.add(Row("sample", f"generate {children:,} children x {days + 1} days (child process)", gen_s))
    backfill_files, newest = split_last_day(feeds)
    store = fresh_store(url, wipe)
    with phase_memory(results, "backfill"):
        backfill(store, backfill_files, cfg, results)
    with phase_memory(results, "day feed"):
        day_feed(store, newest, cfg, results)
    return store


def run(children: int, days: int, db: str | None, out: Path, skip_pages: bool, repeat: int, seed: int,
        work: Path | None, wipe: bool, cold_repeat: int = 1, reuse_store: bool = False) -> list[Row]:
    """Generate, load, read, draw; print the table and write the JSON."""
    cfg = load_config()
    workdir = Path(work) if work else Path(tempfile.mkdtemp(prefix="vsdash-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = db or f"sqlite:///{workdir / 'vsdash.db'}"
    if db is None and not reuse_store:
        for stale in workdir.glob("vsdash.db*"):
            stale.unlink()
    results = Results()
    try:
        if reuse_store:
            store = Store(url)
            if not store.data_version():
                raise SystemExit(f"--reuse-store: {url} holds no data; run once without it first")
        else:
            store = load_phase(url, workdir, children, days, seed, wipe, cfg, results)
        size = database_size_mb(url)
        if size is not None:
            results.add(Row("load", "SQLite file size (with WAL)", size, "MiB"))
        scenarios: list[Scenario] = []
        with phase_memory(results, "read and views"):
            floors = measure_direct(store, cfg, workdir / "floor", scenarios, repeat, cold_repeat, results)
        if not skip_pages:
            with phase_memory(results, "pages"):
                measure_pages(url, scenarios[0], floors, repeat, cold_repeat, results)
            measure_dashboard_memory(url, scenarios[0], results)
        results.add(Row("memory", "peak RSS of the whole process (ru_maxrss)", round(process_peak_mb(), 1), "MiB",
                        note="the benchmark itself: the loader's batches and the floor's frames beside the pages"))
        store.dispose()
    finally:
        if work is None:
            shutil.rmtree(workdir, ignore_errors=True)
    params = {"children": children, "days": days, "repeat": repeat, "cold_repeat": cold_repeat, "seed": seed,
              "skip_pages": skip_pages, "reuse_store": reuse_store}
    print(format_table(results.rows))
    write_json(out, machine_facts(url if db else "sqlite://"), params, results.rows)
    print(f"\nwrote {out}")
    return results.rows


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    p = argparse.ArgumentParser(prog="python -m vsdash.bench", description=__doc__.splitlines()[0])
    p.add_argument("--children", type=int, default=30_000)
    p.add_argument("--days", type=int, default=190, help="school days in the backfill (one more is the day's feed)")
    p.add_argument("--db", help="SQLAlchemy URL of an empty database (default: a fresh SQLite file in the work folder)")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.json")
    p.add_argument("--skip-pages", action="store_true", help="skip the Streamlit AppTest phase")
    p.add_argument("--repeat", type=int, default=3, help="runs per quick measurement (the median is reported)")
    p.add_argument("--cold-repeat", type=int, default=1, help="runs per cold start and full store read (slow at scale)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--work", type=Path, help="keep the feeds, store and parquet here (default: a temp folder, removed)")
    p.add_argument("--wipe", action="store_true", help="drop vsdash's tables in a non-empty --db first")
    p.add_argument("--reuse-store", action="store_true",
                   help="skip generating and loading: measure reads and pages on the store a previous --work run left")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a target was missed or a measurement failed."""
    a = build_parser().parse_args(argv)
    rows = run(a.children, a.days, a.db, a.out, a.skip_pages, max(a.repeat, 1), a.seed, a.work, a.wipe,
               max(a.cold_repeat, 1), a.reuse_store)
    return 1 if any(r.status in ("MISS", "ERROR") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
