"""Per-child figures and aggregates on small hand-made data, each answer worked out by hand."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import polars as pl
import pytest
from helpers import weekdays

from vsdash import metrics
from vsdash.config import load_config
from vsdash.frames import Frames
from vsdash.ingest import ingest_file

CFG = load_config()
AS_OF = date(2024, 10, 31)
WINDOW = metrics.window_for(CFG, AS_OF)  # 1 September 2024 to 31 October 2024


def child(la_child_id: str = "C1", upn: str | None = "U1", **extra) -> dict:
    return {"la_child_id": la_child_id, "upn": upn, "responsible_la": "893", **extra}


def marks_from_sessions(sessions: list[str | None], upn: str = "U1", urn: int = 100001) -> list[dict]:
    """Marks rows from a flat list of session codes: AM, PM, AM, PM, ... on consecutive weekdays."""
    days = weekdays((len(sessions) + 1) // 2)
    padded = sessions + [None] * (2 * len(days) - len(sessions))
    return [
        {"upn": upn, "urn": urn, "date": d, "am": padded[2 * i], "pm": padded[2 * i + 1]} for i, d in enumerate(days)
    ]


def one(frames: Frames, **kwargs) -> dict:
    """The single per-child row, as a dict."""
    out = metrics.per_child(frames, WINDOW, CFG, **kwargs)
    assert out.height == 1
    return out.row(0, named=True)


# --- the DfE boundaries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "absent, pct, persistent, severe",
    [
        (0, 100.0, False, False),
        (1, 95.0, False, False),  # 1 of 20 missed = 5%: not PA
        (2, 90.0, True, False),  # 2 of 20 = exactly 10%: PA (DfE "10% or more"), attendance exactly 90.0%
        (9, 55.0, True, False),  # 9 of 20 = 45%: not yet severe
        (10, 50.0, True, True),  # 10 of 20 = exactly 50%: severe
        (20, 0.0, True, True),
    ],
)
def test_persistent_and_severe_boundaries(absent, pct, persistent, severe):
    # 10 days = 20 possible sessions; `absent` of them coded N (unauthorised), the rest present.
    sessions = ["N"] * absent + ["/"] * (20 - absent)
    row = one(Frames.build(marks=marks_from_sessions(sessions), children=[child()]))
    assert row["possible_sessions"] == 20
    assert row["absence_sessions"] == absent
    assert row["attendance_pct"] == pytest.approx(pct)
    assert row["persistent_absence"] is persistent
    assert row["severe_absence"] is severe
    assert row["has_data"] is True


def test_boundary_uses_integers_not_floats():
    # 30 possible, 3 absent: 3 x 100 = 300 >= 10 x 30 = 300, so PA; 27/30 in floats is 0.8999999...
    sessions = ["O"] * 3 + ["/"] * 27
    row = one(Frames.build(marks=marks_from_sessions(sessions), children=[child()]))
    assert row["possible_sessions"] == 30
    assert row["persistent_absence"] is True


# --- every code in its category -------------------------------------------------------------------

COLUMN_OF = {
    "present": "present_sessions",
    "approved_activity": "aea_sessions",
    "authorised": "authorised_sessions",
    "unauthorised": "unauthorised_sessions",
}


@pytest.mark.parametrize("code, category", sorted(CFG.code_category.items()))
def test_each_configured_code_counts_in_its_category(code, category):
    # One AM session with the code, PM not yet sent (null counts nowhere).
    row = one(
        Frames.build(marks=[{"upn": "U1", "urn": 1, "date": "2024-09-02", "am": code, "pm": None}], children=[child()])
    )
    counted = {column: row[column] for column in COLUMN_OF.values()}
    if category == "not_possible":
        assert row["possible_sessions"] == 0 and set(counted.values()) == {0}
        assert row["attendance_pct"] is None and row["has_data"] is False
    else:
        assert row["possible_sessions"] == 1
        assert counted == {c: int(c == COLUMN_OF[category]) for c in COLUMN_OF.values()}
        assert row["absence_sessions"] == int(category in ("authorised", "unauthorised"))


@pytest.mark.parametrize(
    "code, category",
    # DfE codes from August 2024, written out independently of the config file.
    [
        ("/", "present"),
        ("\\", "present"),
        ("L", "present"),
        ("K", "approved_activity"),
        ("B", "approved_activity"),
        ("C2", "authorised"),
        ("E", "authorised"),
        ("J1", "authorised"),
        ("I", "authorised"),
        ("U", "unauthorised"),
        ("G", "unauthorised"),
        ("N", "unauthorised"),
        ("D", "not_possible"),
        ("X", "not_possible"),
        ("Y4", "not_possible"),
        ("#", "not_possible"),
        ("Z", "not_possible"),
    ],
)
def test_config_matches_dfe_categories(code, category):
    assert CFG.code_category[code] == category


def test_aea_counts_as_attendance_not_absence():
    # 4 sessions: 2 present, 1 K (LA-arranged provision), 1 I (illness): (2 + 1) / 4 = 75%.
    row = one(Frames.build(marks=marks_from_sessions(["/", "\\", "K", "I"]), children=[child()]))
    assert (row["present_sessions"], row["aea_sessions"], row["authorised_sessions"]) == (2, 1, 1)
    assert row["attendance_pct"] == pytest.approx(75.0)
    assert row["absence_sessions"] == 1


def test_unknown_and_unsent_sessions_count_nowhere():
    # AM "??" is no code we know, PM unsent; the next day is 2 present sessions: 2 possible.
    row = one(Frames.build(marks=marks_from_sessions(["??", None, "/", "\\"]), children=[child()]))
    assert row["possible_sessions"] == 2 and row["attendance_pct"] == 100.0


# --- school, corrections, window ------------------------------------------------------------------


def test_school_move_with_dual_registration_code():
    # Days 1-3 at school 1 (present); days 4-6 school 1 sends D (attending elsewhere), school 2 sends present;
    # day 7 school 1 still sends D and school 2 has sent nothing: current school is school 2.
    days = weekdays(7)
    rows = [{"upn": "U1", "urn": 1, "date": d, "am": "/", "pm": "\\"} for d in days[:3]]
    rows += [{"upn": "U1", "urn": 1, "date": d, "am": "D", "pm": "D"} for d in days[3:]]
    rows += [{"upn": "U1", "urn": 2, "date": d, "am": "/", "pm": "N"} for d in days[3:6]]
    row = one(Frames.build(marks=rows, children=[child()]))
    assert row["school_urn"] == 2
    # D is not a possible session: 3 days x 2 at school 1 + 3 days x 2 at school 2 = 12 possible, 3 N.
    assert row["possible_sessions"] == 12 and row["unauthorised_sessions"] == 3
    assert row["last_mark_date"] == days[6]  # any code counts for the last mark, D included


UPN = "B801200005001"  # a valid UPN (the loader checks the check letter)


def attendance_csv(rows: list[tuple]) -> str:
    return "UPN,URN,Date,AM,PM\n" + "".join(f"{UPN},{urn},{d},{am},{pm}\n" for urn, d, am, pm in rows)


@pytest.mark.parametrize("held", [True, False], ids=["day rows", "week summary"])
def test_a_corrected_file_changes_the_figures(store, write, cfg, held):
    # Feed rule: a later file for the same child, school and date replaces the earlier marks.
    mon, tue, wed = weekdays(3)
    ingest_file(store, write("children.csv", f"LA Child ID,UPN,Cohort,Start Date\nC1,{UPN},CLA,2020-01-01\n"), cfg)
    ingest_file(
        store,
        write(
            "attendance_2024-09-04.csv",
            attendance_csv([(100001, mon, "/", "\\"), (100001, tue, "N", "N"), (100001, wed, "N", "N")]),
        ),
        cfg,
    )
    window = metrics.window_for(cfg, wed)
    before = metrics.per_child(store.frames(cfg, held=held), window, cfg).row(0, named=True)
    # Mon present; Tue and Wed unauthorised: 4 of 6 missed.
    assert (before["present_sessions"], before["authorised_sessions"], before["unauthorised_sessions"]) == (2, 0, 4)
    assert before["severe_absence"] is True
    # The school corrects Tuesday to illness and Wednesday afternoon to late; another school's D the same
    # Tuesday is a second row (dual registration), not a correction, and counts nowhere.
    fix = ingest_file(
        store,
        write(
            "attendance_fix.csv",
            attendance_csv([(100001, tue, "I", "I"), (100001, wed, "N", "L"), (100002, tue, "D", "D")]),
        ),
        cfg,
    )
    assert (fix.status, fix.counts.rows_loaded, fix.counts.rows_replaced) == ("loaded", 3, 2)
    after = metrics.per_child(store.frames(cfg, held=held), window, cfg).row(0, named=True)
    # Now 3 present, 2 authorised, 1 unauthorised: 3 of 6 missed = 50%, attendance 50%.
    assert (after["present_sessions"], after["authorised_sessions"], after["unauthorised_sessions"]) == (3, 2, 1)
    assert (after["possible_sessions"], after["attendance_pct"]) == (6, pytest.approx(50.0))
    assert (after["persistent_absence"], after["severe_absence"]) == (True, True)
    assert after["school_urn"] == 100001  # the D elsewhere does not move the child


def test_marks_outside_the_window_are_not_counted():
    # A mark before 1 September and one after as_of: only the 2 in-window sessions count.
    rows = [
        {"upn": "U1", "urn": 1, "date": "2024-07-15", "am": "N", "pm": "N"},
        {"upn": "U1", "urn": 1, "date": "2024-09-02", "am": "/", "pm": "\\"},
        {"upn": "U1", "urn": 2, "date": "2024-11-04", "am": "N", "pm": "N"},
    ]
    row = one(Frames.build(marks=rows, children=[child()]))
    assert (row["possible_sessions"], row["absence_sessions"]) == (2, 0)
    assert row["school_urn"] == 1 and row["last_mark_date"] == date(2024, 9, 2)


def test_child_with_no_marks():
    row = one(Frames.build(children=[child(upn=None)]))
    counts = [
        "possible_sessions",
        "present_sessions",
        "aea_sessions",
        "authorised_sessions",
        "unauthorised_sessions",
        "absence_sessions",
        "suspensions",
        "suspension_sessions",
        "permanent_exclusions",
    ]
    assert {c: row[c] for c in counts} == {c: 0 for c in counts}
    assert row["attendance_pct"] is None
    assert (row["persistent_absence"], row["severe_absence"], row["has_data"]) == (False, False, False)
    # Domain: a child with no mark has no current school and is not counted as out of area.
    assert row["school_urn"] is None and row["out_of_area"] is False and row["last_mark_date"] is None


def test_output_types():
    out = metrics.per_child(Frames.build(children=[child()]), WINDOW, CFG)
    assert out.schema == pl.Schema(metrics.PER_CHILD_SCHEMA)


def test_a_child_s_figures_by_name_hold_every_per_child_column():
    # The child page reads ChildFigures: a column added to the per-child frame must reach it too.
    assert [f.name for f in fields(metrics.ChildFigures)] == list(metrics.PER_CHILD_SCHEMA)
    frames = Frames.build(marks=marks_from_sessions(["/", "N", "/", "\\"]), children=[child(), child("C2", "U2")])
    mine = metrics.child_row(metrics.ChildFigures, metrics.per_child(frames, WINDOW, CFG), "C1")
    assert (mine.la_child_id, mine.possible_sessions, mine.unauthorised_sessions, mine.attendance_pct) == (
        "C1",
        4,
        1,
        75.0,
    )


def test_window_must_not_end_before_it_starts():
    with pytest.raises(ValueError):
        metrics.Window(date(2024, 10, 1), date(2024, 9, 30))
    assert metrics.window_for(CFG, date(2025, 3, 1)).start == date(2024, 9, 1)
    assert metrics.window_for(CFG, date(2024, 9, 1)).start == date(2024, 9, 1)


# --- suspensions ----------------------------------------------------------------------------------


def test_suspensions_in_window_only():
    suspensions = [
        {"upn": "U1", "urn": 1, "start_date": "2024-07-01", "sessions": 4, "category": "suspension"},  # before window
        {"upn": "U1", "urn": 1, "start_date": "2024-09-10", "sessions": 2, "category": "suspension"},
        {"upn": "U1", "urn": 1, "start_date": "2024-10-01", "sessions": 3, "category": "suspension"},
        {"upn": "U1", "urn": 1, "start_date": "2024-10-02", "sessions": 1, "category": "lunchtime"},  # not counted
        {"upn": "U1", "urn": 1, "start_date": "2024-10-20", "sessions": None, "category": "permanent_exclusion"},
        {"upn": "U1", "urn": 1, "start_date": "2024-11-05", "sessions": 2, "category": "suspension"},  # after as_of
    ]
    row = one(Frames.build(children=[child()], suspensions=suspensions))
    # 2 suspensions in the window: 2 + 3 = 5 sessions; one permanent exclusion.
    assert (row["suspensions"], row["suspension_sessions"], row["permanent_exclusions"]) == (2, 5, 1)


# --- out of area ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "school_la, responsible_la, expected",
    [
        ("886", "893", True),  # our child at a Kent school
        ("893", "893", False),
        ("893", "886", True),  # another authority's child in our school
        ("886", None, True),  # responsible LA defaults to the configured authority (893)
        (None, "893", None),  # school not in the schools list: unknown
    ],
)
def test_out_of_area(school_la, responsible_la, expected):
    schools = [{"urn": 100001, "la_code": school_la}] if school_la else [{"urn": 9, "la_code": "893"}]
    frames = Frames.build(
        marks=marks_from_sessions(["/", "\\"]),
        children=[child(responsible_la=responsible_la)],
        schools=schools,
    )
    row = one(frames)
    assert row["school_la"] == school_la
    assert row["out_of_area"] is expected


# --- cohorts --------------------------------------------------------------------------------------

EPISODES = [
    {"la_child_id": "C1", "cohort": "CP", "start_date": "2024-10-01", "end_date": None},  # starts in window
    {"la_child_id": "C2", "cohort": "CP", "start_date": "2024-03-01", "end_date": "2024-10-15"},  # ends in window
    {"la_child_id": "C2", "cohort": "CIN", "start_date": "2024-10-16", "end_date": None},
    {"la_child_id": "C3", "cohort": "CLA", "start_date": "2020-01-01", "end_date": None},
]


def cohort_frames() -> Frames:
    return Frames.build(children=[child("C1", "U1"), child("C2", "U2"), child("C3", "U3")], episodes=EPISODES)


@pytest.mark.parametrize(
    "cohort, any_time, expected",
    [
        ("CP", False, ["C1"]),
        ("CP", True, ["C1", "C2"]),  # C2 was on a CP plan until 15 October
        ("CIN", False, ["C2"]),
        ("CWSW", False, ["C1", "C2"]),
        ("CLA", False, ["C3"]),
        ("PLAC", False, []),
    ],
)
def test_per_child_for_a_cohort(cohort, any_time, expected):
    out = metrics.per_child(cohort_frames(), WINDOW, CFG, cohort=cohort, any_time_in_window=any_time)
    assert sorted(out["la_child_id"]) == expected


def test_cohorts_list_as_at():
    out = metrics.per_child(cohort_frames(), WINDOW, CFG).sort("la_child_id")
    assert out["cohorts"].to_list() == [["CP", "CWSW"], ["CIN", "CWSW"], ["CLA"]]


# --- aggregates -----------------------------------------------------------------------------------


def aggregate_frames() -> Frames:
    # C1 (team A): 10 sessions, all present = 100%.
    # C2 (team A): 20 sessions, 2 present, 18 N = 10%: PA and SA, 1 suspension of 2 sessions.
    # C3 (team B): no marks at all (no data).
    # C4 (team B): 20 sessions, 18 present, 2 I = 90%: PA.
    marks = (
        marks_from_sessions(["/"] * 10, upn="U1")
        + marks_from_sessions(["/"] * 2 + ["N"] * 18, upn="U2")
        + marks_from_sessions(["/"] * 18 + ["I"] * 2, upn="U4", urn=2)
    )
    children = [
        child("C1", "U1", team="A"),
        child("C2", "U2", team="A"),
        child("C3", "U3", team="B"),
        child("C4", "U4", team="B"),
    ]
    suspensions = [{"upn": "U2", "urn": 1, "start_date": "2024-09-20", "sessions": 2, "category": "suspension"}]
    schools = [{"urn": 100001, "la_code": "893"}, {"urn": 2, "la_code": "886"}]
    return Frames.build(marks=marks, children=children, suspensions=suspensions, schools=schools)


def test_headline_from_summed_sessions():
    pc = metrics.per_child(aggregate_frames(), WINDOW, CFG)
    row = metrics.aggregate(pc, []).row(0, named=True)
    assert (row["children"], row["children_with_data"]) == (4, 3)
    assert row["possible_sessions"] == 50  # 10 + 20 + 0 + 20
    # (10 + 2 + 18) / 50 = 60%; the average of the three percentages would be 66.7%.
    assert row["attendance_pct"] == pytest.approx(60.0)
    # PA: C2 and C4 of 3 children with data (C3 is not in the denominator) = 66.7%.
    assert row["persistent_absence_rate"] == pytest.approx(200 / 3)
    assert row["severe_absence_rate"] == pytest.approx(100 / 3)
    # 1 child suspended of 4 children = 25%.
    assert row["suspension_rate"] == pytest.approx(25.0)
    assert row["suspension_sessions"] == 2
    assert row["out_of_area_children"] == 1  # C4's school is in LA 886


def test_aggregate_by_team():
    pc = metrics.per_child(aggregate_frames(), WINDOW, CFG)
    out = metrics.aggregate(pc, ["team"])
    assert out["team"].to_list() == ["A", "B"]
    a, b = out.rows(named=True)
    # Team A: (10 + 2) / 30 = 40% (not the 55% average of 100% and 10%).
    assert a["attendance_pct"] == pytest.approx(40.0)
    assert (a["children"], a["persistent_absence_rate"]) == (2, 50.0)
    # Team B: 18 / 20 = 90%; C3 has no data: 1 PA of 1 child with data = 100%.
    assert b["attendance_pct"] == pytest.approx(90.0)
    assert (b["children"], b["children_with_data"], b["persistent_absence_rate"]) == (2, 1, 100.0)


def test_aggregate_by_cohort_counts_a_child_in_each_cohort():
    frames = Frames.build(
        children=[child("C1", "U1"), child("C2", "U2")],
        episodes=[
            {"la_child_id": "C1", "cohort": "CIN", "start_date": "2024-01-01"},
            {"la_child_id": "C1", "cohort": "CLA", "start_date": "2024-01-01"},
            {"la_child_id": "C2", "cohort": "CLA", "start_date": "2024-01-01"},
        ],
    )
    out = metrics.aggregate(metrics.per_child(frames, WINDOW, CFG), ["cohort"])
    assert dict(zip(out["cohort"], out["children"], strict=True)) == {"CIN": 1, "CLA": 2, "CWSW": 1}


def test_empty_cohort_aggregates_without_dividing_by_zero():
    pc = metrics.per_child(aggregate_frames(), WINDOW, CFG, cohort="PLAC")
    assert pc.is_empty()
    headline = metrics.aggregate(pc, [])
    assert headline.height == 1
    row = headline.row(0, named=True)
    assert row["children"] == 0 and row["possible_sessions"] == 0
    assert row["attendance_pct"] is None and row["persistent_absence_rate"] is None
    assert row["suspension_rate"] is None
    by_team = metrics.aggregate(pc, ["team"])
    assert by_team.is_empty() and "attendance_pct" in by_team.columns
    trend = metrics.weekly_trend(aggregate_frames(), WINDOW, CFG, ["team"], cohort="PLAC")
    assert trend.is_empty() and "persistent_absence_rate" in trend.columns


def test_children_with_no_data_give_null_not_nan():
    pc = metrics.per_child(Frames.build(children=[child(upn=None, team="A")]), WINDOW, CFG)
    row = metrics.aggregate(pc, ["team"]).row(0, named=True)
    assert row["attendance_pct"] is None and row["persistent_absence_rate"] is None
    assert row["suspension_rate"] == 0.0


def test_aggregate_rejects_unknown_grouping():
    with pytest.raises(ValueError):
        metrics.aggregate(metrics.per_child(aggregate_frames(), WINDOW, CFG), ["favourite_colour"])


# --- weekly trend ---------------------------------------------------------------------------------


def test_weekly_trend():
    # Week of 2 Sept: C1 present 10 of 10; C2 2 present, 8 N = 20%.
    # Week of 9 Sept: C1 6 present, 4 N; C2 no marks.  Week of 16 Sept (half term-like gap): nobody.
    # Week of 23 Sept: C1 10 present.
    w1, w2, w4 = weekdays(5), weekdays(5, date(2024, 9, 9)), weekdays(5, date(2024, 9, 23))
    rows = [{"upn": "U1", "urn": 1, "date": d, "am": "/", "pm": "\\"} for d in w1 + w4]
    rows += [
        {"upn": "U1", "urn": 1, "date": d, "am": "/" if i < 3 else "N", "pm": "\\" if i < 3 else "N"}
        for i, d in enumerate(w2)
    ]
    rows += [
        {"upn": "U2", "urn": 1, "date": d, "am": "/" if i == 0 else "N", "pm": "\\" if i == 0 else "N"}
        for i, d in enumerate(w1)
    ]
    frames = Frames.build(marks=rows, children=[child("C1", "U1", team="A"), child("C2", "U2", team="A")])
    out = metrics.weekly_trend(frames, WINDOW, CFG, ["team"])
    assert out["week_start"].to_list() == [date(2024, 9, 2), date(2024, 9, 9), date(2024, 9, 23)]
    # Week 1: (10 + 2) / 20 = 60%; PA to date: C2 (8 of 10 missed) of 2 = 50%.
    # Week 2: 6 / 10 = 60%; C1 to date missed 4 of 20 = 20%: PA; C2 still PA: 2 of 2 = 100%.
    # Week 4: 10 / 10 = 100%; C1 to date missed 4 of 30 = 13.3%: still PA; 100%.
    assert out["attendance_pct"].to_list() == pytest.approx([60.0, 60.0, 100.0])
    assert out["persistent_absence_rate"].to_list() == pytest.approx([50.0, 100.0, 100.0])
    assert out["children_with_data"].to_list() == [2, 2, 2]
    assert out["possible_sessions"].to_list() == [20, 10, 10]


def test_empty_lists_build_empty_frames():
    # Regression: Frames.build(children=[]) once made one all-null child.
    frames = Frames.build(marks=[], children=[])
    assert frames.children.height == 0 and frames.marks.height == 0
    assert metrics.per_child(frames, WINDOW, CFG).height == 0
