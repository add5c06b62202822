"""The benchmark: a tiny run reports every measure, verdicts and ratios on hand-made rows, the results file
round-trips, `python -m bench` starts from the project folder, and the floor counts what the product shows."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench import floor, peers
from bench.__main__ import build_parser
from bench.measure import FAILED, Row, Target, change_target, targets_for
from bench.report import changed_files, format_table, machine_facts, read_json, write_json
from bench.run import Params, expected_measures, run
from bench.scenario import FILTER_NAMES, PAGES, Scenario, choose_scenario, selections
from vsdash import metrics, triage, views
from vsdash.config import PROJECT_ROOT
from vsdash.store import Store

# Five school weeks: enough for every triage signal to be held by someone (see the last test).
TINY = Params(children=300, days=25, repeat=1)
SELECTIONS = ("no filter", *FILTER_NAMES)


@dataclass(frozen=True)
class TinyRun:
    """A finished run: its rows, its JSON file, and the work folder it kept (feeds, store, floor's parquet)."""

    rows: list[Row]
    out: Path
    work: Path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One benchmark run of the tiny authority, pages included."""
    folder = tmp_path_factory.mktemp("bench")
    out, work = folder / "results.json", folder / "work"
    return TinyRun(run(TINY, out, work=work), out, work)


# ---- the run -------------------------------------------------------------------------------------


def test_a_run_reports_every_measure_with_a_figure_and_no_error(tiny_run):
    rows = tiny_run.rows
    assert [r.measure for r in rows] == expected_measures(TINY)
    unmeasured = [
        (r.measure, r.value, r.error)
        for r in rows
        if r.error or not isinstance(r.value, (int, float)) or not math.isfinite(r.value) or r.value <= 0
    ]
    assert not unmeasured


def test_every_page_figure_has_its_floor_and_every_target_a_verdict(tiny_run):
    rows = tiny_run.rows
    pages = [r for r in rows if r.measure.split(":")[0] in PAGES]
    assert len(pages) == len(PAGES) * (2 * len(SELECTIONS))  # per page: each selection's call, cold start, each change
    assert not [r.measure for r in pages if not (r.floor and r.floor > 0)]
    assert not [r.measure for r in rows if r.target is not None and r.status not in ("PASS", "MISS")]
    assert not [r.measure for r in rows if r.target is None and r.status]


def test_the_table_prints_one_line_per_row_with_its_verdict(tiny_run):
    rows = tiny_run.rows
    lines = format_table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    for line, row in zip(lines[2:], rows, strict=True):
        assert line.startswith(row.section) and row.measure in line and line.endswith(row.status)


# ---- verdicts and ratios on hand-made rows -------------------------------------------------------


@pytest.mark.parametrize(
    "value, floor_s, target, error, status",
    [
        (0.4, None, Target(0.5), "", "PASS"),  # under the limit
        (0.6, None, Target(0.5), "", "MISS"),  # over it
        (0.5, None, Target(0.5), "", "PASS"),  # exactly at the limit: "<= 0.5 s" is met
        (0.75, 0.25, Target(1.0, 3.0), "", "PASS"),  # exactly 3x the floor: "<= 3x floor" is met
        (0.76, 0.25, Target(1.0, 3.0), "", "MISS"),  # in time, but more than 3x the floor
        (0.6, 0.5, Target(0.5, 3.0), "", "MISS"),  # within 3x the floor, but over the limit
        (0.4, None, Target(0.5, 3.0), "", "PASS"),  # no floor: the limit alone decides
        (9.0, None, None, "", ""),  # untargeted: no verdict
        (0.1, None, Target(0.5), "boom", "ERROR"),  # a failed measurement is an error, whatever its value
        (None, None, Target(0.5), "boom", "ERROR"),
    ],
)
def test_the_verdict_of_a_row(value, floor_s, target, error, status):
    assert Row("pages", "x", value, floor=floor_s, target=target, error=error).status == status


@pytest.mark.parametrize(
    "value, floor_s, ratio",
    [
        (0.3, 0.1, 3.0),
        (0.05, 0.2, 0.25),
        (0.3, None, None),
        (0.3, 0.0, None),
        (None, 0.1, None),
    ],
)
def test_the_ratio_to_the_floor(value, floor_s, ratio):
    got = Row("views", "x", value, floor=floor_s).ratio
    assert got == pytest.approx(ratio) if ratio is not None else got is None


# ---- the results file ----------------------------------------------------------------------------

HAND_ROWS = [
    Row("load", "backfill", 61.0, target=Target(60.0), note="194 files"),
    Row("pages", "filter change", 0.2, floor=0.1, target=Target(0.5, 3.0), runs=[0.2, 0.25, 0.19]),
    Row("pages", "broken page", None, error="RuntimeError: boom"),
    Row("memory", "peak", 812.5, "MiB"),
]


def current_commit() -> str | None:
    """HEAD of the checkout the tests run in (None outside one)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None


def test_the_results_file_round_trips_with_the_machine_and_commit(tmp_path):
    out = tmp_path / "results.json"
    write_json(out, machine_facts("sqlite://"), {"children": 7}, HAND_ROWS)
    machine, params, rows = read_json(out)
    assert rows == HAND_ROWS
    assert params == {"children": 7}
    assert machine["commit"] == current_commit()
    assert {
        "date",
        "cores",
        "ram_gib",
        "python",
        "polars",
        "sqlalchemy",
        "streamlit",
        "sqlite",
        "database",
        "database_server",
        "uncommitted",
    } <= set(machine)
    assert machine["database"] == "sqlite" and machine["database_server"].startswith("SQLite ")


def test_the_run_writes_what_it_measured(tiny_run):
    machine, params, written = read_json(tiny_run.out)
    assert written == tiny_run.rows
    assert params == asdict(TINY)
    assert machine["commit"] == current_commit()


def test_uncommitted_files_keep_their_whole_path():
    # A line of `git status --porcelain` starts with a space for an unstaged change: the first path once lost a letter.
    porcelain = " M README.md\nM  bench/run.py\n?? bench/new.py\nR  old.py -> renamed.py\n"
    assert changed_files(porcelain) == ["README.md", "bench/run.py", "bench/new.py", "renamed.py"]


# ---- the command line ----------------------------------------------------------------------------


def test_python_m_bench_starts_from_the_project_folder_without_streamlit():
    no_streamlit = (
        "import sys, bench.__main__, bench.run, bench.direct, bench.floor, bench.load, bench.report; "
        "assert 'streamlit' not in sys.modules, 'only bench.pages may import Streamlit'"
    )
    subprocess.run([sys.executable, "-c", no_streamlit], cwd=PROJECT_ROOT, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "--children" in done.stdout


def test_the_command_line_takes_the_flags_it_always_took():
    a = build_parser().parse_args(
        [
            "--children",
            "30000",
            "--days",
            "190",
            "--db",
            "sqlite:///x.db",
            "--repeat",
            "3",
            "--cold-repeat",
            "2",
            "--seed",
            "4",
            "--work",
            "w",
            "--wipe",
            "--reuse-store",
            "--skip-pages",
            "--out",
            "o.json",
        ]
    )
    assert (
        a.children,
        a.days,
        a.db,
        a.repeat,
        a.cold_repeat,
        a.seed,
        a.work,
        a.wipe,
        a.reuse_store,
        a.skip_pages,
        a.out,
    ) == (30000, 190, "sqlite:///x.db", 3, 2, 4, Path("w"), True, True, True, Path("o.json"))
    assert set(FAILED) == {"MISS", "ERROR"}


# ---- the floor against the product, on the tiny authority the run loaded -----------------------

# Thresholds other than the configured ones: the floor must follow the configuration, not restate it.
TIGHT = {
    "persistent_absence_pct": 20,
    "severe_absence_pct": 40,
    "drift_weeks": 2,
    "drift_points": 5,
    "consecutive_unauthorised_days": 3,
    "not_seen_school_days": 2,
    "recent_suspension_school_days": 10,
    "new_to_cohort_school_days": 10,
}
CARDS = ("children", "attendance_pct", "persistent_absence_rate", "severe_absence_rate")
FLAGS = ("attendance_pct", "persistent_absence", "severe_absence")


@dataclass(frozen=True)
class Authority:
    """The tiny authority as the product and the floor each see it, and the benchmark's selections."""

    store: Store
    figures: views.Figures
    floor_data: floor.FloorData
    scenario: Scenario

    def filters(self, name: str):
        """The filters of one selection the benchmark measures."""
        return dict(selections(self.scenario))[name]


@pytest.fixture(scope="module")
def loaded(tiny_run, cfg):
    """The tiny run's store and its frames as the dashboard reads them."""
    store = Store(f"sqlite:///{tiny_run.work / 'vsdash.db'}")
    yield store, store.frames(cfg, held=False)
    store.dispose()


@pytest.fixture(scope="module", params=["configured", "tight"])
def authority(request, tiny_run, loaded, cfg):
    """The tiny authority under the configured thresholds, and under tighter ones; the floor reads the
    copy the run wrote (it depends on the code categories only)."""
    store, frames = loaded
    rules = cfg if request.param == "configured" else replace(cfg, thresholds=replace(cfg.thresholds, **TIGHT))
    figures = views.Figures(frames, rules)
    return Authority(store, figures, floor.read_floor(tiny_run.work / "floor", rules), choose_scenario(figures))


def sessions_as_floor() -> list[pl.Expr]:
    """The product's session columns under the floor's names."""
    return [
        pl.col("possible_sessions").alias("possible"),
        (pl.col("present_sessions") + pl.col("aea_sessions")).alias("attended"),
    ]


def same(product: pl.DataFrame, counted: pl.DataFrame, keys: list[str]) -> None:
    """The two frames hold the same rows and values (types as the product's, rows in key order)."""
    assert_frame_equal(
        product.sort(keys), counted.select(product.columns).cast(product.schema).sort(keys), check_exact=True
    )


@pytest.mark.parametrize("name", SELECTIONS)
def test_the_floor_counts_the_overview_the_product_shows(authority, name):
    filters = authority.filters(name)
    shown = views.overview(authority.figures, filters)
    counted = floor.overview(authority.floor_data, filters)
    cards = {c.key: c for c in shown.cards}
    assert {k: (cards[k].value, cards[k].last_month) for k in CARDS} == {
        k: (counted["now"][k], counted["then"][k]) for k in CARDS
    }
    weekly = shown.weekly.select(
        "cohort",
        "week_start",
        *sessions_as_floor(),
        pl.col("children_with_data").alias("with_data"),
        pl.col("persistent_absence_children").alias("persistent_absence"),
        "attendance_pct",
        "persistent_absence_rate",
    )
    same(weekly, counted["weekly"], ["cohort", "week_start"])


@pytest.mark.parametrize("name", SELECTIONS)
def test_the_floor_lists_the_children_triage_lists(authority, name):
    filters = authority.filters(name)
    listed = views.triage_list(authority.figures, filters, authority.store.actions_frame())
    counted = floor.triage_list(authority.floor_data, filters)
    columns = [
        "la_child_id",
        *triage.SIGNALS,
        "attendance_pct",
        "consecutive_unauthorised_days",
        "days_since_last_mark",
    ]
    assert listed.height > 0
    same(listed.select(columns), counted, ["la_child_id"])


def children_to_open(a: Authority) -> list[str]:
    """The benchmark's child, and the child with marks at the most schools (a move or a dual registration)."""
    schools = (
        a.floor_data.marks.group_by("upn")
        .agg(schools=pl.col("urn").n_unique())
        .join(a.floor_data.children.select("upn", "la_child_id"), on="upn")
    )
    return [a.scenario.child_id, schools.sort("schools", "la_child_id", descending=[True, False])["la_child_id"][0]]


@pytest.mark.parametrize("name", SELECTIONS)
def test_the_floor_draws_the_child_page_the_product_draws(authority, name):
    filters = authority.filters(name)
    for child_id in children_to_open(authority):
        page = views.child_page(authority.figures, child_id, filters)
        counted = floor.child_page(authority.floor_data, filters, page.identity.upn)
        shown = page.figures
        assert {
            **{k: getattr(shown, k) for k in FLAGS},
            "possible": shown.possible_sessions,
            "attended": shown.present_sessions + shown.aea_sessions,
        } == counted["figures"]
        weekly = page.weekly.select(
            "week_start",
            *sessions_as_floor(),
            (pl.col("children_with_data") > 0).alias("with_data"),
            (pl.col("persistent_absence_children") > 0).alias("persistent_absence"),
        )
        same(weekly, counted["weekly"], ["week_start"])
        schools = page.schools.select("urn", pl.col("from").alias("first"), pl.col("to").alias("last"), "days")
        same(schools, counted["schools"], ["urn"])
        assert page.sessions["date"].unique().sort().to_list() == counted["school_days"].to_list()


def test_the_comparison_meets_every_signal_and_a_move(authority):
    # Each signal is held by someone and a child moved school, so the equalities above compare something.
    counted = floor.triage_list(authority.floor_data, authority.scenario.base)
    assert all(counted.select(pl.col(triage.SIGNALS).sum()).row(0))
    moved = views.child_page(authority.figures, children_to_open(authority)[1], authority.scenario.base)
    assert moved.schools.height > 1
    # The floor's copy holds only the listed children's marks: the figures count no one else.
    assert authority.floor_data.marks.join(authority.floor_data.children, on="upn", how="anti").is_empty()


@pytest.mark.parametrize("peer", ["pandas", "DuckDB"])
def test_the_peers_count_what_the_floor_counts(authority, tiny_run, peer):
    """pandas over read_sql and DuckDB over the parquet marks: the same per-child sessions and flags as the
    floor (under the configured and the tight thresholds), for every child and for a selection."""
    d, cfg = authority.floor_data, authority.figures.cfg
    url = authority.store.engine.url.render_as_string(hide_password=False)
    window = metrics.window_for(cfg, authority.scenario.base.as_of)
    chosen = views.selected_children(authority.figures, authority.filters("cohort"))["upn"].drop_nulls().to_list()
    expected = floor.per_child(d, window, None).select(
        "upn", "possible", "attended", "persistent_absence", "severe_absence"
    )
    for upns in (None, chosen):
        if peer == "pandas":
            got = peers.pandas_per_child(peers.pandas_marks(url), cfg, window, upns)
        else:
            got = peers.duckdb_per_child(tiny_run.work / "floor" / "marks.parquet", cfg, window, upns)
        wanted = expected if upns is None else expected.filter(pl.col("upn").is_in(upns))
        assert wanted.height > 0
        same(wanted, got, ["upn"])
        assert peers.headline(got) == peers.headline(wanted)


def test_issue_17_s_targets_follow_the_size_of_the_authority():
    local, regional = targets_for(30_000), targets_for(300_000)
    assert (local.cold_page, local.filter_change, local.new_window, local.day_feed, local.backfill) == (
        3,
        0.3,
        0.3,
        1,
        40,
    )
    assert (regional.cold_page, regional.new_window, regional.day_feed, regional.backfill) == (10, 1, 5, 600)
    assert (local.memory_mb, regional.memory_mb) == (1024, 2048)
    assert change_target(regional, "as_of").limit == 1 and change_target(regional, "cohort").limit == 0.5
