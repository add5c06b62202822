"""The page phase: every page drawn cold and on each filter change through Streamlit's AppTest, and a
dashboard process's own peak memory. The only module of the benchmark that imports Streamlit."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import streamlit as st
from streamlit.testing.v1 import AppTest

from bench import peers
from bench.direct import Floors
from bench.measure import (
    Results,
    Row,
    Target,
    Targets,
    change_target,
    peak_rss_mb,
    timed,
)
from bench.scenario import FINDER_MEASURE, PAGE_TOGGLES, PAGE_VISITS, PAGES, FilterCase, Scenario
from vsdash import config as config_mod
from vsdash import ui
from vsdash.config import PROJECT_ROOT
from vsdash.store import Store

PAGE_FILES = {
    "overview": "pages/overview.py",
    "triage": "pages/triage.py",
    "child": "pages/child.py",
    "data quality": "pages/data.py",
    "upload": "pages/upload.py",
    "suspensions": "pages/suspensions.py",
    "schools": "pages/schools.py",
    "map": "pages/map.py",
    "out of area": "pages/out_of_area.py",
}
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
    url: str,
    scenario: Scenario,
    floors: Floors,
    repeat: int,
    cold_repeat: int,
    results: Results,
    beside: peers.Peers | None = None,
) -> None:
    """Cold start and each filter change on each page, through AppTest against the loaded store; the peers'
    times for the same kind of step beside each."""
    with dashboard_database(url):
        for page in PAGES:
            at = measure_cold(page, scenario, floors, cold_repeat, results, beside)
            if at is not None:
                for case in scenario.cases:
                    measure_filter(at, page, case, floors, repeat, results, scenario.targets, beside)
                if page == "child":
                    measure_finder(at, scenario, repeat, results)
        for page in PAGE_VISITS:
            if page == "upload":
                measure_upload(url, scenario, repeat, cold_repeat, results)
            else:
                measure_visits(page, scenario, repeat, cold_repeat, results)


def measure_cold(
    page: str, scenario: Scenario, floors: Floors, repeat: int, results: Results, beside: peers.Peers | None = None
) -> AppTest | None:
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
            target=Target(scenario.targets.cold_page),
            runs=runs,
            note="caches empty to drawn; floor: parquet read + compute",
            **peer_times(beside, "cold"),
        )
    )
    return at


def peer_times(beside: peers.Peers | None, step: str) -> dict[str, float | None]:
    """The peers' seconds for a page step, as a Row's fields (none when the peers were not measured)."""
    if beside is None:
        return {}
    return {"pandas": beside.pandas.of(step), "duckdb": beside.duckdb.of(step)}


def measure_filter(
    at: AppTest,
    page: str,
    case: FilterCase,
    floors: Floors,
    repeat: int,
    results: Results,
    targets: Targets,
    beside: peers.Peers | None = None,
) -> None:
    """One filter change on a warm page, set and reset `repeat` times; only the setting run is timed."""
    # A window change takes a new date each run: the dashboard keeps each window's figures, so a window
    # seen before would time the cache, not the change.
    measure = f"{page}: filter change, {case.name} (AppTest)"
    try:
        runs = change_runs(at, case, repeat)
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
            target=change_target(targets, case.name),
            note=f"{case.key} = {case.value}; runs " + ", ".join(f"{r:.2f}" for r in runs),
            **peer_times(beside, case.name),
        )
    )


def measure_finder(at: AppTest, scenario: Scenario, repeat: int, results: Results) -> None:
    """Words typed into the child page's finder with a child open, then cleared; only the typing run is timed
    (AppTest runs the whole page again; in a browser the finder, a fragment, runs alone)."""
    words = scenario.child_words
    typed = FilterCase("finder", "text_input", "child_search", words, "", (words,), scenario.base)
    try:
        runs = change_runs(at, typed, repeat)
    except Exception as exc:
        results.failed("pages", FINDER_MEASURE, exc)
        return
    note = f'"{words}" typed; runs ' + ", ".join(f"{r:.2f}" for r in runs)
    target = Target(scenario.targets.filter_change)
    results.add(Row("pages", FINDER_MEASURE, statistics.median(runs), runs=runs, target=target, note=note))


def change_runs(at: AppTest, case: FilterCase, repeat: int) -> list[float]:
    """Seconds of the run after each setting of the filter (a new value each time), reset in between."""
    runs: list[float] = []
    for i in range(repeat):
        set_filter(at, case.widget, case.key, case.fresh[i % len(case.fresh)])
        runs.append(rerun(at))
        set_filter(at, case.widget, case.key, case.reset)
        rerun(at)
    return runs


# ---- pages measured by their visits (no views call, no floor) -------------------------------------


def measure_visit(page: str, visit: str, runs: Callable[[], list[float]], target: Target, results: Results) -> None:
    """One visit of a page (`runs` gives its seconds), or its error, as a row of the table."""
    measure = f"{page}: {visit} (AppTest)"
    try:
        seconds = runs()
    except Exception as exc:
        results.failed("pages", measure, exc)
        return
    note = "runs " + ", ".join(f"{r:.2f}" for r in seconds)
    results.add(Row("pages", measure, statistics.median(seconds), target=target, runs=seconds, note=note))


def drawn(at: list[AppTest]) -> AppTest:
    """The app the cold start drew, for the visits that follow it."""
    if not at:
        raise RuntimeError("the page did not draw from cold, so nothing was measured on it warm")
    return at[-1]


def cold_runs(page: str, scenario: Scenario, repeat: int, drawn_apps: list[AppTest]) -> list[float]:
    """Seconds of `repeat` cold starts of the page; the last app drawn kept for the warm visits."""
    runs = []
    for _ in range(repeat):
        at = app(scenario.child_id)
        runs.append(open_page(at, page, cold=True))
        drawn_apps.append(at)
    return runs


def toggle_runs(at: AppTest, key: str, repeat: int) -> list[float]:
    """Seconds of the run after turning a toggle on, turned off again in between."""
    runs = []
    for _ in range(repeat):
        at.toggle(key=key).set_value(True)
        runs.append(rerun(at))
        at.toggle(key=key).set_value(False)
        rerun(at)
    return runs


def measure_visits(page: str, scenario: Scenario, repeat: int, cold_repeat: int, results: Results) -> None:
    """A page with no figures per filter: cold, a rerun, a filter change, a new window and its own toggle."""
    cold, again, cohort, window, *own = PAGE_VISITS[page]
    case = {c.name: c for c in scenario.cases}
    at: list[AppTest] = []
    targets = scenario.targets
    quick = Target(targets.filter_change)
    measure_visit(page, cold, lambda: cold_runs(page, scenario, cold_repeat, at), Target(targets.cold_page), results)
    measure_visit(page, again, lambda: [rerun(drawn(at)) for _ in range(repeat)], quick, results)
    measure_visit(page, cohort, lambda: change_runs(drawn(at), case["cohort"], repeat), quick, results)
    measure_visit(
        page, window, lambda: change_runs(drawn(at), case["as_of"], repeat), Target(targets.new_window), results
    )
    for visit in own:
        measure_visit(page, visit, lambda: toggle_runs(drawn(at), PAGE_TOGGLES[page], repeat), quick, results)


def resent_day(url: str, day: date) -> tuple[str, bytes]:
    """A day's stored marks as a school would send them again (every row would replace a stored one)."""
    store = Store(url)
    try:
        marks = store.days(day, day)
    finally:
        store.dispose()
    csv = marks.select(UPN="upn", URN="urn", Date="date", AM="am", PM="pm").write_csv()
    return f"attendance_{day:%Y-%m-%d}_resent.csv", csv.encode()


def preview_runs(at: AppTest, upload: tuple[str, bytes], repeat: int) -> list[float]:
    """Seconds of the run after choosing the file (its preview drawn), the uploader emptied in between."""
    name, data = upload
    runs = []
    for _ in range(repeat):
        at.file_uploader[0].set_value([(name, data, "text/csv")])
        runs.append(rerun(at))
        at.file_uploader[0].set_value([])
        rerun(at)
    return runs


def measure_upload(url: str, scenario: Scenario, repeat: int, cold_repeat: int, results: Results) -> None:
    """The admin's upload page: cold, then the preview of a day's attendance file (nothing is loaded)."""
    page = "upload"
    cold, preview = PAGE_VISITS[page]
    at: list[AppTest] = []
    targets = scenario.targets
    measure_visit(page, cold, lambda: cold_runs(page, scenario, cold_repeat, at), Target(targets.cold_page), results)
    upload = resent_day(url, scenario.base.as_of)
    measure_visit(page, preview, lambda: preview_runs(drawn(at), upload, repeat), Target(targets.day_feed), results)


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
            target=Target(scenario.targets.memory_mb),
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
    for page in PAGE_VISITS:  # the pages with no filter figures: drawn once each
        open_page(app(child_id), page)
    return peak_rss_mb()  # VmHWM: this process's own peak (ru_maxrss keeps the parent's from before the fork)


if __name__ == "__main__":
    print(dashboard_session(*json.loads(sys.argv[1])))
