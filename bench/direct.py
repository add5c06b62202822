"""The read and views phase: the store read, then each page's figures per filter through `DataAccess`
(what the page calls, without Streamlit), with the floor beside each."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import floor, peers
from bench.measure import SEARCH_MAX_S, Results, Row, Target, runs_of, timed
from bench.scenario import PAGES, Scenario, choose_scenario, selections
from vsdash import metrics, views
from vsdash.access import DataAccess
from vsdash.auth import User
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.frames import Frames
from vsdash.store import Store

# Floor medians per (page, filter name or 'cold'): worked out here, set beside the pages' figures later.
Floors = dict[tuple[str, str], float]


def door(store: Store, figures: views.Figures) -> DataAccess:
    """The pages' door to the data, over figures already in memory (as the dashboard's shared cache)."""
    return DataAccess(store, figures.cfg, User("benchmark", "admin"), figures_source=lambda: figures)


def page_call(page: str, access: DataAccess, filters: Filters, scenario: Scenario) -> Callable[[], Any]:
    """What the page asks the door for, as a call to time."""
    if page == "overview":
        return lambda: access.overview(filters)
    if page == "triage":
        return lambda: access.triage_list(filters)
    return lambda: access.child_page(scenario.child_id, filters)


def time_page_call(
    page: str, store: Store, frames: Frames, cfg: Config, filters: Filters, scenario: Scenario, repeat: int
) -> list[float]:
    """A filter change as the page meets it: the first visit drawn already, the new selection not."""
    # For the first visit itself ('no filter') this times a redraw of the same selection.
    runs = []
    for _ in range(repeat):
        access = door(store, views.Figures(frames, cfg))
        page_call(page, access, scenario.base, scenario)()
        runs.append(timed(page_call(page, access, filters, scenario))[0])
    return runs


def measure_search(access: DataAccess, scenario: Scenario, repeat: int, results: Results) -> None:
    """The child page's finder: the first search of a data version makes every child's search keys; after
    that a search is a scan of them."""
    words = scenario.child_words
    first, found = timed(lambda: access.find_children(words))
    note = f'"{words}": {found.total:,} of {access.find_children("", 0).total:,} children match'
    results.add(Row("views", "find_children: first search of a data version (makes the keys)", first, note=note))
    runs = runs_of(lambda: access.find_children(words), repeat)
    results.add(
        Row(
            "views",
            "find_children: a search (the surname's start and an initial)",
            statistics.median(runs),
            target=Target(SEARCH_MAX_S),
            runs=runs,
            note=note,
        )
    )


def median_run(fn: Callable[[], Any], repeat: int) -> float:
    """The median seconds of `repeat` calls."""
    return statistics.median(runs_of(fn, repeat))


def read_store(store: Store, cfg: Config, folder: Path, cold_repeat: int, repeat: int, results: Results) -> Frames:
    """Time the dashboard's read of the store; write the floor's copy and time the floor reading it."""

    def read() -> Frames:
        return store.frames(cfg, held=False)

    first, frames = timed(read)
    runs = [first, *runs_of(read, cold_repeat - 1)]
    floor.write_floor_parquet(frames, cfg, folder)
    marks = floor.read_floor(folder, cfg).marks.height
    results.add(
        Row(
            "read",
            "store.frames(): the week summary and every record into polars",
            statistics.median(runs),
            floor=median_run(lambda: floor.read_floor(folder, cfg), repeat),
            runs=runs,
            note=f"{frames.weeks.height:,} child-weeks; floor: the listed children's {marks:,} marks from parquet",
        )
    )
    return frames


def measure_peers(
    store: Store,
    cfg: Config,
    folder: Path,
    scenario: Scenario,
    figures: views.Figures,
    repeat: int,
    cold_repeat: int,
    results: Results,
) -> peers.Peers:
    """The peers' first figure, rerun, filter change and new window on the same store and marks."""
    url = store.engine.url.render_as_string(hide_password=False)
    parquet = folder / "marks.parquet"
    window = metrics.window_for(cfg, scenario.base.as_of)
    moved = metrics.window_for(cfg, next(c.filters.as_of for c in scenario.cases if c.name == "as_of"))
    chosen = views.selected_children(figures, next(c.filters for c in scenario.cases if c.name == "cohort"))
    upns = chosen["upn"].drop_nulls().to_list()
    with_pandas = scenario.children <= peers.PANDAS_MAX_CHILDREN
    marks = peers.pandas_marks(url) if with_pandas else None
    steps = {
        "pandas": {
            "cold": lambda: peers.pandas_cold(url, cfg, window),
            "rerun": lambda: peers.headline(peers.pandas_per_child(marks, cfg, window)),
            "filter": lambda: peers.headline(peers.pandas_per_child(marks, cfg, window, upns)),
            "window": lambda: peers.headline(peers.pandas_per_child(marks, cfg, moved)),
        },
        "DuckDB": {
            "cold": lambda: peers.duckdb_headline(parquet, cfg, window),
            "rerun": lambda: peers.duckdb_headline(parquet, cfg, window),
            "filter": lambda: peers.duckdb_headline(parquet, cfg, window, upns),
            "window": lambda: peers.duckdb_headline(parquet, cfg, moved),
        },
    }
    times = {}
    for peer, calls in steps.items():
        medians: dict[str, float | None] = {}
        for step, call in calls.items():
            measure = f"{peer}: {peers.STEPS[step]}"
            if peer == "pandas" and not with_pandas:
                medians[step] = None
                note = f"not measured above {peers.PANDAS_MAX_CHILDREN:,} children (every mark as Python objects)"
                results.add(Row("peers", measure, None, note=note))
                continue
            runs = runs_of(call, cold_repeat if step == "cold" else repeat)
            medians[step] = statistics.median(runs)
            results.add(Row("peers", measure, medians[step], runs=runs))
        times[peer] = peers.PeerTimes(**medians)
    return peers.Peers(times["pandas"], times["DuckDB"])


def measure_direct(
    store: Store, cfg: Config, folder: Path, repeat: int, cold_repeat: int, results: Results
) -> tuple[Scenario, Floors, peers.Peers]:
    """Time the store read, each page's call per filter with frames in memory, and the floor beside each."""
    frames = read_store(store, cfg, folder, cold_repeat, repeat, results)
    figures = views.Figures(frames, cfg)
    scenario = choose_scenario(figures)
    access = door(store, figures)
    results.add(Row("views", "filter_options (runs on every page rerun)", median_run(access.filter_options, repeat)))
    measure_search(access, scenario, repeat, results)
    d = floor.read_floor(folder, cfg)
    beside = measure_peers(store, cfg, folder, scenario, figures, repeat, cold_repeat, results)
    floors: Floors = {}
    for page in PAGES:
        cold = floor.cold_call(page, folder, cfg, scenario.base, scenario.child_upn)
        floors[(page, "cold")] = median_run(cold, repeat)
        for name, filters in selections(scenario):
            runs = time_page_call(page, store, frames, cfg, filters, scenario, repeat)
            floors[(page, name)] = median_run(floor.call(page, d, filters, scenario.child_upn), repeat)
            results.add(
                Row(
                    "views",
                    f"{page}: views call, {name}",
                    statistics.median(runs),
                    floor=floors[(page, name)],
                    runs=runs,
                    note="through DataAccess, as the page calls it",
                    pandas=beside.pandas.of(name),
                    duckdb=beside.duckdb.of(name),
                )
            )
    return scenario, floors, beside
