"""The page phase: every page drawn cold and on each filter change through Streamlit's AppTest, and a
dashboard process's own peak memory. The only module of the benchmark that imports Streamlit."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.direct import Floors
from bench.measure import (
    COLD_PAGE_MAX_S,
    FILTER_CHANGE_MAX_RATIO,
    FILTER_CHANGE_MAX_S,
    PEAK_MEMORY_MAX_MB,
    Results,
    Row,
    Target,
    peak_rss_mb,
    timed,
)
from bench.scenario import FINDER_MEASURE, PAGES, FilterCase, Scenario
from vsdash import config as config_mod
from vsdash import ui
from vsdash.config import PROJECT_ROOT
from vsdash.store import Store

PAGE_FILES = {"overview": "pages/overview.py", "triage": "pages/triage.py", "child": "pages/child.py"}
DEFAULT_PAGE = "overview"  # what app.py draws first (st.Page(..., default=True))
APP = str(PROJECT_ROOT / "app.py")
TIMEOUT_S = 600
BENCH_USER = "benchmark"


def clear_caches() -> None:
    """Empty every cache a cold start must miss."""
    st.cache_resource.clear()
    st.cache_data.clear()
    config_mod.cached_config.cache_clear()


def app(child_id: str) -> AppTest:
    """A fresh AppTest of the whole app signed in as the benchmark's admin, with a child in the URL for the
    child page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["child"] = child_id
    at.session_state[ui.SIGNED_IN] = BENCH_USER
    return at


def ensure_bench_user(url: str) -> None:
    """The generated authority is not the bundled sample, so every page asks for a signed-in user: the
    benchmark's own admin (no password: the session key the sign-in form sets is the boundary)."""
    store = Store(url)
    try:
        if store.account(name=BENCH_USER) is None:
            store.add_user(BENCH_USER, "admin")
    finally:
        store.dispose()


def rerun(at: AppTest) -> float:
    """Rerun the app and return the seconds; a page exception is an error, not a figure."""
    seconds, _ = timed(at.run)
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return seconds


def open_page(at: AppTest, page: str, cold: bool = False) -> float:
    """Draw the page (caches emptied first when cold) and return the seconds."""
    # The default page is the app's first run; another needs that run first (st.navigation), then a switch.
    if page != DEFAULT_PAGE:
        at.run()
        at.switch_page(PAGE_FILES[page])
    if cold:
        clear_caches()
    return rerun(at)


def set_filter(at: AppTest, widget: str, key: str, value: Any) -> None:
    """Set one filter widget (the next run applies it)."""
    getattr(at, widget)(key=key).set_value(value)


@contextmanager
def dashboard_database(url: str) -> Iterator[None]:
    """The app reads `url` while the block runs; the caches are emptied after it."""
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest's "no runtime" warnings are expected here
    previous = os.environ.get("VSDASH_DATABASE_URL")
    os.environ["VSDASH_DATABASE_URL"] = url
    ensure_bench_user(url)
    try:
        yield
    finally:
        clear_caches()
        if previous is None:
            os.environ.pop("VSDASH_DATABASE_URL", None)
        else:
            os.environ["VSDASH_DATABASE_URL"] = previous


def measure_pages(
    url: str, scenario: Scenario, floors: Floors, repeat: int, cold_repeat: int, results: Results
) -> None:
    """Cold start and each filter change on each page, through AppTest against the loaded store."""
    with dashboard_database(url):
        for page in PAGES:
            at = measure_cold(page, scenario, floors, cold_repeat, results)
            if at is not None:
                for case in scenario.cases:
                    measure_filter(at, page, case, floors, repeat, results)
                if page == "child":
                    measure_finder(at, scenario, repeat, results)


def measure_cold(page: str, scenario: Scenario, floors: Floors, repeat: int, results: Results) -> AppTest | None:
    """Empty caches, then draw the page: the first visitor after a restart or a new load."""
    measure = f"{page}: cold start (AppTest)"
    runs: list[float] = []
    try:
        for _ in range(repeat):
            at = app(scenario.child_id)
            runs.append(open_page(at, page, cold=True))
    except Exception as exc:
        results.failed("pages", measure, exc)
        return None
    results.add(
        Row(
            "pages",
            measure,
            statistics.median(runs),
            floor=floors[(page, "cold")],
            target=Target(COLD_PAGE_MAX_S),
            runs=runs,
            note="caches empty to drawn; floor: parquet read + compute",
        )
    )
    return at


def change_runs(at: AppTest, widget: str, key: str, fresh: tuple[Any, ...], reset: Any, repeat: int) -> list[float]:
    """Set a widget and time the run, then set it back (untimed), `repeat` times."""
    runs = []
    for i in range(repeat):
        set_filter(at, widget, key, fresh[i % len(fresh)])
        runs.append(rerun(at))
        set_filter(at, widget, key, reset)
        rerun(at)
    return runs


def measure_filter(at: AppTest, page: str, case: FilterCase, floors: Floors, repeat: int, results: Results) -> None:
    """One filter change on a warm page, set and reset `repeat` times; only the setting run is timed."""
    # A window change takes a new date each run: the dashboard keeps each window's figures, so a window
    # seen before would time the cache, not the change.
    measure = f"{page}: filter change, {case.name} (AppTest)"
    try:
        runs = change_runs(at, case.widget, case.key, case.fresh, case.reset, repeat)
    except Exception as exc:
        results.failed("pages", measure, exc)
        return
    results.add(
        Row(
            "pages",
            measure,
            statistics.median(runs),
            floor=floors[(page, case.name)],
            runs=runs,
            target=Target(FILTER_CHANGE_MAX_S, FILTER_CHANGE_MAX_RATIO),
            note=f"{case.key} = {case.value}; runs " + ", ".join(f"{r:.2f}" for r in runs),
        )
    )


def measure_finder(at: AppTest, scenario: Scenario, repeat: int, results: Results) -> None:
    """Words typed into the child page's finder with a child open, then cleared; only the typing run is timed
    (AppTest runs the whole page again; in a browser the finder, a fragment, runs alone)."""
    try:
        runs = change_runs(at, "text_input", "child_search", (scenario.child_words,), "", repeat)
    except Exception as exc:
        results.failed("pages", FINDER_MEASURE, exc)
        return
    note = f'"{scenario.child_words}" typed; runs ' + ", ".join(f"{r:.2f}" for r in runs)
    target = Target(FILTER_CHANGE_MAX_S)
    results.add(Row("pages", FINDER_MEASURE, statistics.median(runs), runs=runs, target=target, note=note))


# ---- the dashboard's own memory -------------------------------------------------------------------


def measure_dashboard_memory(url: str, scenario: Scenario, repeat: int, results: Results) -> None:
    """Peak RSS of a process that is only the dashboard: every page, then `repeat` values of each filter."""
    # The benchmark's own process also holds the loader's batches and the floor's frames, so its peak says
    # little about what a dashboard server needs.
    measure = "peak RSS of a dashboard process"
    ensure_bench_user(url)
    visits = [[c.widget, c.key, [jsonable(v) for v in c.fresh[:repeat]], jsonable(c.reset)] for c in scenario.cases]
    env = {**os.environ, "VSDASH_DATABASE_URL": url, "STREAMLIT_LOGGER_LEVEL": "error"}
    command = [sys.executable, "-m", "bench.pages", json.dumps([scenario.child_id, visits])]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        results.failed("memory", measure, RuntimeError((done.stderr.strip().splitlines() or ["failed"])[-1]), "MiB")
        return
    peak = round(float(done.stdout.split()[-1]), 1)
    results.add(
        Row(
            "memory",
            measure,
            peak,
            "MiB",
            target=Target(PEAK_MEMORY_MAX_MB),
            note="every page, then each filter change on it (AppTest), in a process of its own",
        )
    )


def jsonable(value: Any) -> Any:
    """Dates as tagged text, so a widget value survives the trip to the child process."""
    return {"date": value.isoformat()} if isinstance(value, date) else value


def from_json(value: Any) -> Any:
    """A widget value back from `jsonable`."""
    return date.fromisoformat(value["date"]) if isinstance(value, dict) else value


def dashboard_session(child_id: str, visits: list) -> float:
    """Draw each page and apply each filter change; return this process's own peak RSS (MiB)."""
    for page in PAGES:
        at = app(child_id)
        open_page(at, page)
        for widget, key, fresh, reset in visits:
            for value in [*fresh, reset]:
                set_filter(at, widget, key, from_json(value))
                rerun(at)
    return peak_rss_mb()  # VmHWM: this process's own peak (ru_maxrss keeps the parent's from before the fork)


if __name__ == "__main__":
    print(dashboard_session(*json.loads(sys.argv[1])))
