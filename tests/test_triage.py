"""Triage signals on hand-made school calendars: runs, not being seen, drift, C2, suspensions, new cohorts."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import polars as pl
import pytest
from helpers import weekdays

from vsdash import metrics, triage
from vsdash.config import load_config
from vsdash.frames import Frames

CFG = load_config()


def day_marks(upn: str, days: list[date], codes: list[str]) -> list[dict]:
    """One row per day, the same code AM and PM (a present day is '/', '\\')."""
    return [
        {"upn": upn, "urn": 1, "date": d, "am": c, "pm": "\\" if c == "/" else c}
        for d, c in zip(days, codes, strict=False)  # a test may give fewer codes than days: the rest unmarked
    ]


def calendar(days: list[date]) -> list[dict]:
    """Marks for a child the list does not know, so the authority's calendar has these school days."""
    return day_marks("CALENDAR", days, ["/"] * len(days))


def signals_for(marks: list[dict], as_of: date, episodes=None, suspensions=None, children=None) -> dict:
    children = children or [{"la_child_id": "C1", "upn": "U1"}]
    episodes = (
        episodes if episodes is not None else [{"la_child_id": "C1", "cohort": "CLA", "start_date": "2020-01-01"}]
    )
    frames = Frames.build(marks=marks, children=children, episodes=episodes, suspensions=suspensions)
    out = triage.signals(metrics.WindowFigures(frames, CFG, metrics.window_for(CFG, as_of)))
    return {row["la_child_id"]: row for row in out.iter_rows(named=True)}


DAYS = weekdays(30)


@pytest.mark.parametrize(
    "codes, absence_run, unauthorised_run",
    [
        (["/", "N", "N", "N"], 3, 3),
        (["N", "/", "N", "X", "N"], 2, 2),  # X (no possible session) neither breaks nor extends
        (["N", "N", "I", "N"], 4, 1),  # illness extends absence, breaks the unauthorised run
        (["N", "N", "N", "#"], 3, 3),  # run ends at the latest mark day, whatever its code
        (["/", "/"], 0, 0),
    ],
)
def test_consecutive_runs(codes, absence_run, unauthorised_run):
    row = signals_for(day_marks("U1", DAYS, codes), DAYS[len(codes) - 1])["C1"]
    assert (row["consecutive_absence_days"], row["consecutive_unauthorised_days"]) == (absence_run, unauthorised_run)


LONG = weekdays(60)  # twelve school weeks: the drift spans cover the last eight


@pytest.mark.parametrize(
    "codes, absence_run, unauthorised_run",
    [
        (["/"] * 5 + ["N"] * 55, 55, 55),  # the run began before the recent weeks: followed back to week 1
        (["N"] * 60, 60, 60),  # never broken in the window
        (["/"] * 5 + ["I"] * 30 + ["N"] * 25, 55, 25),  # illness extends absence; the unauthorised run is recent
        (["N"] * 10 + ["/"] + ["N"] * 49, 49, 49),
        (["/"] * 5 + ["N"] * 20, 20, 20),  # no mark in the recent weeks: the run is the last one marked
        (["/"] * 58 + ["N"] * 2, 2, 2),  # broken lately: the recent weeks alone decide
    ],
)
def test_runs_that_began_before_the_recent_weeks(codes, absence_run, unauthorised_run):
    """Triage works the runs out over the recent weeks the drift spans read, and follows back through the
    window's earlier weeks only the children whose runs those weeks do not break: the runs are the same."""
    marks = day_marks("U1", LONG, codes) + calendar(LONG)
    row = signals_for(marks, LONG[-1], children=[{"la_child_id": "C1", "upn": "U1"}])["C1"]
    assert (row["consecutive_absence_days"], row["consecutive_unauthorised_days"]) == (absence_run, unauthorised_run)


def test_mixed_day_breaks_the_run():
    # Last day: AM present, PM unauthorised: not all possible sessions absent, so the run is 0.
    rows = [*day_marks("U1", DAYS, ["N", "N"]), {"upn": "U1", "urn": 1, "date": DAYS[2], "am": "/", "pm": "N"}]
    assert signals_for(rows, DAYS[2])["C1"]["consecutive_absence_days"] == 0


@pytest.mark.parametrize("run, flagged", [(9, False), (10, True)])
def test_ten_consecutive_unauthorised_days(run, flagged):
    # Schools must tell the LA at 10 consecutive school days of unauthorised absence.
    row = signals_for(day_marks("U1", DAYS, ["/"] + ["O"] * run), DAYS[run])["C1"]
    assert row["consecutive_unauthorised"] is flagged
    if flagged:
        assert f"absent without authorisation for {run} consecutive school days" in row["reasons"]


def test_not_being_seen():
    # Calendar: 10 school days. C1's last mark is day 3 (4 Sept): no mark for days 4-10 = 7 school days.
    # C2 never had a mark: not a call but a matching question (no_attendance, off the list). C3 has no cohort now,
    # so is not chased. C4 was marked on day 7: 3 days, not yet.
    days = DAYS[:10]
    marks = calendar(days) + day_marks("U1", days[:3], ["/"] * 3) + day_marks("U4", days[:7], ["/"] * 7)
    children = [{"la_child_id": c, "upn": u} for c, u in [("C1", "U1"), ("C2", "U2"), ("C3", None), ("C4", "U4")]]
    episodes = [{"la_child_id": c, "cohort": "CLA", "start_date": "2020-01-01"} for c in ("C1", "C2", "C4")]
    out = signals_for(marks, days[-1], episodes=episodes, children=children)
    assert out["C1"]["not_seen"] and out["C1"]["days_since_last_mark"] == 7
    assert "no mark received for 7 school days (last 04/09/2024)" in out["C1"]["reasons"]
    assert out["C1"]["no_attendance"] is False
    assert out["C2"]["not_seen"] is False and out["C2"]["no_attendance"] is True and out["C2"]["reasons"] == []
    assert out["C2"]["urgency"] is None
    assert out["C3"]["not_seen"] is False and out["C3"]["no_attendance"] is False
    assert out["C4"]["not_seen"] is False and out["C4"]["days_since_last_mark"] == 3


def test_half_term_days_are_not_school_days():
    # Marks on 25 October, as-at Friday 1 November after a half-term week with no marks at all:
    # no school day has passed since the last mark.
    days = weekdays(5, date(2024, 10, 21))
    row = signals_for(day_marks("U1", days, ["/"] * 5), date(2024, 11, 1))["C1"]
    assert row["days_since_last_mark"] == 0 and row["not_seen"] is False


def drift_marks(prior_present: int, recent_present: int) -> list[dict]:
    """8 school weeks of 5 days (10 sessions a week) around a half-term week with no marks.

    The prior 4 weeks have `prior_present` of 40 sessions present (the rest N), the last 4 `recent_present`.
    """
    mondays = [
        date(2024, 9, 23),
        date(2024, 9, 30),
        date(2024, 10, 7),
        date(2024, 10, 14),
        date(2024, 10, 21),
        date(2024, 11, 4),
        date(2024, 11, 11),
        date(2024, 11, 18),
    ]  # 28 Oct: half term
    rows = []
    for span, present in ((mondays[:4], prior_present), (mondays[4:], recent_present)):
        sessions = ["/"] * present + ["N"] * (40 - present)
        days = [m + timedelta(days=i) for m in span for i in range(5)]
        for i, d in enumerate(days):
            rows.append({"upn": "U1", "urn": 1, "date": d, "am": sessions[2 * i], "pm": sessions[2 * i + 1]})
    return rows


@pytest.mark.parametrize(
    "prior, recent, flagged",
    [
        (38, 34, True),  # 95.0% -> 85.0%: exactly 10 points
        (38, 35, False),  # 95.0% -> 87.5%: 7.5 points
        (30, 40, False),  # improving
    ],
)
def test_drift(prior, recent, flagged):
    row = signals_for(drift_marks(prior, recent), date(2024, 11, 22))["C1"]
    assert row["drift"] is flagged
    if flagged:
        assert "attendance fell from 95.0% to 85.0% over the last 4 school weeks" in row["reasons"]


def test_part_time_timetable_in_the_last_four_school_weeks():
    # C2 on 2 Sept, then present to 11 Oct (6 school weeks): the C2 is 5 school weeks ago: no signal.
    days = [d for d in weekdays(30) if d <= date(2024, 10, 11)]
    old = day_marks("U1", days, ["C2"] + ["/"] * (len(days) - 1))
    assert signals_for(old, days[-1])["C1"]["part_time_timetable"] is False
    recent = day_marks("U1", days, ["/"] * (len(days) - 1) + ["C2"])
    row = signals_for(recent, days[-1])["C1"]
    assert row["part_time_timetable"] is True
    assert any("part-time timetable" in r for r in row["reasons"])


def test_recent_suspension():
    # 30 school days from 2 Sept to 11 Oct; the last 20 start on Monday 16 Sept (days 11-30).
    marks = calendar(DAYS)
    suspensions = [
        {"upn": "U1", "urn": 1, "start_date": "2024-09-13", "sessions": 2, "category": "suspension"},  # 21 days back
        {"upn": "U2", "urn": 1, "start_date": "2024-09-16", "sessions": 2, "category": "suspension"},
        {"upn": "U3", "urn": 1, "start_date": "2024-10-08", "category": "permanent_exclusion"},
    ]
    children = [{"la_child_id": f"C{i}", "upn": f"U{i}"} for i in (1, 2, 3)]
    out = signals_for(marks, DAYS[-1], suspensions=suspensions, children=children, episodes=[])
    assert [out[c]["recent_suspension"] for c in ("C1", "C2", "C3")] == [False, True, True]
    assert "suspended on 16/09/2024" in out["C2"]["reasons"]
    assert "permanently excluded on 08/10/2024" in out["C3"]["reasons"]


def test_new_to_cohort():
    marks = calendar(DAYS) + day_marks("U1", DAYS, ["/"] * 30)
    episodes = [
        {"la_child_id": "C1", "cohort": "CP", "start_date": "2024-10-01"},
        {"la_child_id": "C1", "cohort": "CLA", "start_date": "2020-01-01"},
    ]
    row = signals_for(marks, DAYS[-1], episodes=episodes)["C1"]
    assert row["new_to_cohort"] is True
    assert row["reasons"] == ["new to CP since 01/10/2024"]


def test_urgency_orders_children():
    # C1: severe absence (4 of 10 present = 40%); C2: persistent only (9 of 10 present = 90%); C3: nothing.
    days = DAYS[:5]
    marks = (
        day_marks("U1", days, ["N", "N", "N", "/", "/"])
        + [{"upn": "U2", "urn": 1, "date": d, "am": "/", "pm": "I" if i == 4 else "\\"} for i, d in enumerate(days)]
        + day_marks("U3", days, ["/"] * 5)
    )
    children = [{"la_child_id": f"C{i}", "upn": f"U{i}"} for i in (3, 2, 1)]
    frames = Frames.build(marks=marks, children=children)
    out = triage.signals(metrics.WindowFigures(frames, CFG, metrics.window_for(CFG, days[-1])))
    assert out["la_child_id"].to_list() == ["C1", "C2", "C3"]
    assert out["urgency"].to_list() == [1, 7, None]
    assert out.row(0, named=True)["reasons"] == ["severe absence: attendance 40.0%"]
    assert out.row(1, named=True)["reasons"] == ["persistent absence: attendance 90.0%"]


def test_no_marks_at_all():
    out = signals_for([], date(2024, 9, 10))
    assert out["C1"]["not_seen"] is False and out["C1"]["no_attendance"] is True and out["C1"]["drift"] is False


def test_a_child_s_signals_by_name():
    # The child page reads ChildSignals: every signal, in urgency order, then the columns that explain it.
    names = [f.name for f in fields(triage.ChildSignals)]
    assert names[: len(triage.SIGNALS)] == list(triage.SIGNALS)
    marks = day_marks("U1", DAYS[:6], ["/", "N", "N", "N", "N", "N"])
    frames = Frames.build(
        marks=marks,
        children=[{"la_child_id": "C1", "upn": "U1"}],
        episodes=[{"la_child_id": "C1", "cohort": "CLA", "start_date": "2020-01-01"}],
    )
    out = triage.signals(metrics.WindowFigures(frames, CFG, metrics.window_for(CFG, DAYS[5])))
    mine = metrics.child_row(triage.ChildSignals, out, "C1")
    assert set(names) <= set(out.columns)
    assert (mine.severe_absence, mine.urgency, mine.consecutive_absence_days) == (True, 1, 5)
    assert mine.reasons[0].startswith("severe absence: attendance 16.7%")


def test_the_latest_action_always_shows_and_a_follow_up_that_has_come_is_due():
    from datetime import UTC, datetime

    from vsdash import views
    from vsdash.frames import ACTIONS_SCHEMA, conform

    at = [datetime(2026, 1, d, 9, tzinfo=UTC) for d in (5, 6, 7)]
    actions = conform(
        pl.DataFrame(
            [
                {
                    "id": 1,
                    "la_child_id": "A",
                    "action": "Note",
                    "follow_up": None,
                    "recorded_by": "P",
                    "recorded_at": at[0],
                },
                {
                    "id": 2,
                    "la_child_id": "A",
                    "action": "Contacted school",
                    "follow_up": date(2026, 1, 9),
                    "recorded_by": "P",
                    "recorded_at": at[1],
                },
                {
                    "id": 3,
                    "la_child_id": "B",
                    "action": "Contacted carer",
                    "follow_up": date(2026, 1, 20),
                    "recorded_by": "Q",
                    "recorded_at": at[2],
                },
            ]
        ),
        ACTIONS_SCHEMA,
    )
    latest = views.latest_actions(actions, date(2026, 1, 12)).sort("la_child_id")
    # A's follow-up (9 January) has passed: still shown, and due; B's is to come.
    assert latest.select("la_child_id", "last_action", "last_action_on", "follow_up_due").rows() == [
        ("A", "Contacted school", date(2026, 1, 6), True),
        ("B", "Contacted carer", date(2026, 1, 7), False),
    ]
    on_the_day = views.latest_actions(actions, date(2026, 1, 9)).sort("la_child_id")
    assert on_the_day["follow_up_due"].to_list() == [True, False]  # due on the day itself


def test_a_follow_up_marked_done_is_no_longer_due(tmp_path):
    from vsdash import views
    from vsdash.store import Store

    store = Store(f"sqlite:///{tmp_path / 'actions.db'}")
    first = store.add_action("A", "Contacted school", "P", follow_up=date(2026, 1, 9))
    store.add_action("B", "Contacted carer", "Q", follow_up=date(2026, 1, 9))
    assert store.mark_action_done(first, "P") == "A"
    store.mark_action_done(first, "R")  # marking again keeps the first who marked it
    with pytest.raises(ValueError, match="no action 99"):
        store.mark_action_done(99, "P")
    latest = views.latest_actions(store.actions_frame(), date(2026, 1, 12)).sort("la_child_id")
    assert latest.select("la_child_id", "follow_up_due", "follow_up_done").rows() == [
        ("A", False, True),
        ("B", True, False),
    ]
    assert store.actions_frame("A")["done_by"].to_list() == ["P"]
    store.dispose()
