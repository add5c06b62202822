"""Property: per-child figures, group aggregates and the headline agree, and match a plain-Python count."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.test_pages import db_url as db_url
from tests.test_pages import sample_store as sample_store
from vsdash import metrics, triage
from vsdash import weeks as weeks_mod
from vsdash.config import load_config
from vsdash.frames import Frames

CFG = load_config()
AS_OF = date(2024, 9, 20)
WINDOW = metrics.window_for(CFG, AS_OF)
CODES = [*sorted(CFG.code_category), None]
DAYS = [date(2024, 9, 2) + timedelta(days=i) for i in range(19) if (date(2024, 9, 2) + timedelta(days=i)).weekday() < 5]

child_marks = st.lists(
    st.tuples(
        st.sampled_from(DAYS), st.sampled_from(CODES), st.sampled_from(CODES), st.sampled_from([100001, 100002])
    ),  # a school move on any day
    max_size=12,
    unique_by=lambda t: t[0],
)
children_st = st.lists(st.tuples(st.sampled_from(["A", "B", "C", None]), child_marks), min_size=0, max_size=8)


def build(children: list) -> Frames:
    rows, kids = [], []
    for i, (team, marks) in enumerate(children):
        kids.append({"la_child_id": f"C{i}", "upn": f"U{i}", "team": team})
        rows += [{"upn": f"U{i}", "urn": urn, "date": d, "am": am, "pm": pm} for d, am, pm, urn in marks]
    return Frames.build(marks=rows, children=kids)


def by_hand(marks: list) -> dict[str, int]:
    """Count sessions the long way, straight from the config's categories."""
    counts = {"present": 0, "approved_activity": 0, "authorised": 0, "unauthorised": 0}
    for _, am, pm, _ in marks:
        for code in (am, pm):
            category = CFG.code_category.get(code) if code else None
            if category in counts:
                counts[category] += 1
    return counts


@settings(max_examples=60, deadline=None)
@given(children_st)
def test_per_child_matches_a_plain_count(children):
    out = {r["la_child_id"]: r for r in metrics.per_child(build(children), WINDOW, CFG).iter_rows(named=True)}
    assert len(out) == len(children)
    for i, (_, marks) in enumerate(children):
        row, counts = out[f"C{i}"], by_hand(marks)
        possible = sum(counts.values())
        absence = counts["authorised"] + counts["unauthorised"]
        assert row["possible_sessions"] == possible
        assert row["present_sessions"] == counts["present"]
        assert row["aea_sessions"] == counts["approved_activity"]
        assert row["absence_sessions"] == absence
        # DfE: PA at 10% or more, SA at 50% or more, neither without possible sessions.
        assert row["persistent_absence"] is (possible > 0 and 10 * absence >= possible)
        assert row["severe_absence"] is (possible > 0 and 2 * absence >= possible)
        if possible:
            attended = counts["present"] + counts["approved_activity"]
            assert row["attendance_pct"] == pytest.approx(100 * attended / possible)
        else:
            assert row["attendance_pct"] is None


@settings(max_examples=60, deadline=None)
@given(children_st)
def test_groups_add_up_to_the_headline(children):
    pc = metrics.per_child(build(children), WINDOW, CFG)
    headline = metrics.aggregate(pc, []).row(0, named=True)
    groups = metrics.aggregate(pc, ["team"])
    additive = [
        "children",
        "children_with_data",
        "possible_sessions",
        "present_sessions",
        "aea_sessions",
        "authorised_sessions",
        "unauthorised_sessions",
        "absence_sessions",
        "persistent_absence_children",
        "severe_absence_children",
    ]
    for column in additive:
        assert groups[column].sum() == headline[column], column
    assert groups.height == len({team for team, _ in children})
    for row in groups.iter_rows(named=True):
        if row["possible_sessions"]:
            expected = 100 * (row["present_sessions"] + row["aea_sessions"]) / row["possible_sessions"]
            assert row["attendance_pct"] == pytest.approx(expected)
            assert row["persistent_absence_rate"] == pytest.approx(
                100 * row["persistent_absence_children"] / row["children_with_data"]
            )
        else:
            assert row["attendance_pct"] is None and row["persistent_absence_rate"] is None


@settings(max_examples=40, deadline=None)
@given(children_st)
def test_weekly_trend_adds_up_to_the_window(children):
    frames = build(children)
    pc = metrics.per_child(frames, WINDOW, CFG)
    trend = metrics.weekly_trend(frames, WINDOW, CFG, ["team"])
    headline = metrics.aggregate(pc, []).row(0, named=True)
    assert trend["possible_sessions"].sum() == headline["possible_sessions"]
    assert trend["absence_sessions"].sum() == headline["absence_sessions"]
    if trend.height:
        # The PA status at the end of the last school week is the window's.
        last = trend.filter(trend["week_start"] == trend["week_start"].max())
        assert last["persistent_absence_children"].sum() == headline["persistent_absence_children"]
        assert last["children_with_data"].sum() == headline["children_with_data"]


def by_hand_runs(marks: list) -> tuple[int, int]:
    """The current runs of wholly absent and wholly unauthorised days, walking the days in order."""
    absent = unauthorised = 0
    for _, am, pm, _ in sorted(marks, key=lambda m: m[0]):
        categories = [CFG.code_category.get(c) for c in (am, pm) if c]
        possible = [c for c in categories if c in ("present", "approved_activity", "authorised", "unauthorised")]
        if not possible:
            continue  # no possible session: neither breaks nor extends a run
        missed = [c for c in possible if c in ("authorised", "unauthorised")]
        absent = absent + 1 if len(missed) == len(possible) else 0
        unauthorised = unauthorised + 1 if possible.count("unauthorised") == len(possible) else 0
    return absent, unauthorised


@settings(max_examples=80, deadline=None)
@given(children_st, st.tuples(st.sampled_from(DAYS), st.sampled_from(DAYS)).map(sorted))
def test_any_window_matches_a_plain_count(children, bounds):
    # Windows that start or end mid-week: the summary's cut weeks are worked out again from day rows.
    window = metrics.Window(*bounds)
    frames = build(children)
    out = {r["la_child_id"]: r for r in metrics.per_child(frames, window, CFG).iter_rows(named=True)}
    signals = {
        r["la_child_id"]: r for r in triage.signals(metrics.WindowFigures(frames, CFG, window)).iter_rows(named=True)
    }
    for i, (_, marks) in enumerate(children):
        row, signal = out[f"C{i}"], signals[f"C{i}"]
        inside = [m for m in marks if window.start <= m[0] <= window.as_of]
        counts = by_hand(inside)
        assert row["possible_sessions"] == sum(counts.values())
        assert row["unauthorised_sessions"] == counts["unauthorised"]
        assert row["authorised_sessions"] == counts["authorised"]
        # The last mark and the school look back before the window start, never past its as-at date.
        upto = [m for m in marks if m[0] <= window.as_of]
        assert row["last_mark_date"] == max((d for d, am, pm, _ in upto if am or pm), default=None)
        attending = sorted((d, urn) for d, am, pm, urn in upto if any(c and c != "D" for c in (am, pm)))
        assert row["school_urn"] == (attending[-1][1] if attending else None)
        runs = by_hand_runs(inside)
        assert (signal["consecutive_absence_days"], signal["consecutive_unauthorised_days"]) == runs
        assert signal["part_time_timetable"] is any("C2" in (am, pm) for _, am, pm, _ in inside)


def test_a_window_from_the_running_totals_is_a_plain_sum_of_its_rows(sample_store):
    """Every window's per-child sessions and child-week grid come from the data version's running totals
    (two columns per child, and the weeks the window cuts from their rows): they equal a plain sum of the
    window's own rows, for windows from the year's start and from a start of their own, ending on every
    weekday, the first school day, a half-term and a weekend."""
    from tests.test_pages import LAST_DAY
    from vsdash import sessions, views

    cfg = load_config()
    figures = views.Figures(sample_store.frames(cfg), cfg, windows=64)
    days = figures.calendar
    ends = [days[0], days[1], days[4], days[37], days[38], days[39], days[40], days[41], days[-6], days[-2], LAST_DAY]
    ends += [d + timedelta(days=2) for d in ends[3:5]]  # a weekend (and a half-term) after a school day
    windows = [metrics.window_for(cfg, d) for d in ends]
    windows += [metrics.Window(days[3], d) for d in ends[3:]] + [metrics.Window(days[38], days[38])]
    counts = list(metrics.SESSION_COUNTS)
    for window in windows:
        figures_at = figures.at(window)
        rows = figures_at.rows.with_columns(*sessions.session_totals())
        per_upn = rows.group_by("upn").agg(pl.col(counts).sum())
        children = figures_at.children.filter(pl.col("upn").is_not_null())
        got = children.select("upn", *counts).join(per_upn, on="upn", how="left", suffix="_rows")
        for c in counts:
            assert (got[c] == got[f"{c}_rows"].fill_null(0)).all(), (window, c)
        weeks = weeks_mod.school_weeks(figures_at.school_days)
        upns = children.select(pl.col("upn").unique().sort())
        by_hand = (
            upns.join(weeks.to_frame(), how="cross")
            .join(rows.group_by("upn", "week_start").agg(pl.col(counts).sum()), on=["upn", "week_start"], how="left")
            .with_columns(pl.col(counts).fill_null(0))
            .sort("upn", "week_start")
            .with_columns(
                _possible=pl.col("possible_sessions").cum_sum().over("upn"),
                _absence=pl.col("absence_sessions").cum_sum().over("upn"),
            )
            .select(
                "upn",
                "week_start",
                *(pl.col(c).cast(pl.Int32) for c in counts if c not in ("possible_sessions", "absence_sessions")),
                _with_data=pl.col("_possible") > 0,
                # DfE: persistently absent from the window start to the week's end at 10% or more.
                _pa=(pl.col("_possible") > 0) & (pl.col("_absence") * 10 >= pl.col("_possible")),
            )
        )
        grid = figures_at.weeks.frame().sort("upn", "week_start")
        assert_frame_equal(grid.select(by_hand.columns), by_hand, check_exact=True)
