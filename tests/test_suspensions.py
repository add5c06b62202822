"""Suspension figures on hand-made data: each rate, reasons once per event, repeats, the 45-day limit, the
sixth-day rule, and `report suspensions` whose All row is the per-child figures' sums."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import polars as pl
import pytest

from vsdash import metrics, triage
from vsdash import suspensions as susp
from vsdash.cli import main
from vsdash.frames import MARKS_SCHEMA, SUSPENSIONS_SCHEMA, Frames, conform

START, AS_OF = date(2025, 9, 1), date(2025, 12, 19)


def events(*rows: dict) -> pl.DataFrame:
    """Suspension rows with the feed's columns (category suspension, 2 sessions unless said)."""
    return conform([{"category": "suspension", "sessions": 2, "urn": 100001, **r} for r in rows], SUSPENSIONS_SCHEMA)


def children(*counts: tuple[int, int, int], cohorts: list[list[str]] | None = None) -> pl.DataFrame:
    """Per-child rows (suspensions, sessions, permanent exclusions) as `metrics.per_child` gives them."""
    return pl.DataFrame(
        {
            "la_child_id": [f"C{i}" for i in range(len(counts))],
            "suspensions": [c[0] for c in counts],
            "suspension_sessions": [c[1] for c in counts],
            "permanent_exclusions": [c[2] for c in counts],
            "cohorts": cohorts or [["CIN"]] * len(counts),
            "school_urn": [100001] * len(counts),
            "team": ["North"] * len(counts),
            "locality": [None] * len(counts),
        },
        schema_overrides={"locality": pl.String},
    )


# ---- the three rates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, suspension_rate, one_or_more, permanent",
    [
        # 4 children: 3 suspensions by 2 children, one permanent exclusion -> 75, 50, 25 per 100.
        ([(2, 4, 0), (1, 1, 1), (0, 0, 0), (0, 0, 0)], 75.0, 50.0, 25.0),
        # 8 children, one suspended 3 times: rate 37.5 per 100 but only 12.5% suspended at least once.
        ([(3, 6, 0)] + [(0, 0, 0)] * 7, 37.5, 12.5, 0.0),
        # Nobody suspended: true zeros, not "no figure".
        ([(0, 0, 0)] * 5, 0.0, 0.0, 0.0),
    ],
)
def test_each_rate_is_per_100_children(counts, suspension_rate, one_or_more, permanent):
    rates = susp.rates(children(*counts))
    assert rates == {
        "suspension_rate": suspension_rate,
        "one_or_more_rate": one_or_more,
        "permanent_exclusion_rate": permanent,
    }
    # The Overview's cards read the same definition.
    assert metrics.exclusion_rates(children(*counts))["one_or_more_suspension"] == one_or_more


def test_a_group_of_no_children_has_no_rate():
    assert susp.rates(children()) == dict.fromkeys(("suspension_rate", "one_or_more_rate", "permanent_exclusion_rate"))


def test_by_cohort_counts_a_child_in_each_cohort_held_and_all_first():
    table = susp.by_group(children((1, 2, 0), (0, 0, 1), (2, 3, 0), cohorts=[["CIN", "CP"], ["CLA"], []]), "cohort")
    assert table.columns == susp.REPORT_COLUMNS
    rows = {r["group"]: r for r in table.iter_rows(named=True)}
    assert table["group"].to_list() == ["All", "CIN", "CLA", "CP"]  # the child with no cohort is only in All
    named = susp.by_group(children((1, 2, 0), cohorts=[["CLA"]]), "cohort", cohort_names={"CLA": "Children in care"})
    assert named["group"].to_list() == ["All", "Children in care"]
    assert (rows["All"]["children"], rows["All"]["suspensions"], rows["All"]["children_suspended"]) == (3, 3, 2)
    assert (rows["CIN"]["children"], rows["CIN"]["suspension_rate"]) == (1, 100.0)
    assert rows["CLA"]["permanent_exclusion_rate"] == 100.0 and rows["CLA"]["one_or_more_rate"] == 0.0


def test_by_school_names_the_school_and_refuses_an_unknown_grouping():
    table = susp.by_group(children((1, 2, 0)), "school", {100001: "Hill School"})
    assert table["group"].to_list() == ["All", "Hill School (100001)"]
    with pytest.raises(ValueError, match="cannot group by 'year'"):
        susp.by_group(children((1, 2, 0)), "year")


def test_lunchtime_and_out_of_window_events_do_not_count():
    rows = events(
        {"upn": "U1", "start_date": date(2025, 9, 10)},
        {"upn": "U1", "start_date": date(2025, 9, 11), "category": "lunchtime", "sessions": 1},
        {"upn": "U1", "start_date": date(2025, 8, 20)},  # the previous academic year
        {"upn": "U2", "start_date": date(2025, 10, 1), "category": "permanent_exclusion", "sessions": None},
    )
    per_upn = susp.per_upn(rows, START, AS_OF).collect().sort("upn").to_dicts()
    assert per_upn == [
        {"upn": "U1", "suspensions": 1, "suspension_sessions": 2, "permanent_exclusions": 0},
        {"upn": "U2", "suspensions": 0, "suspension_sessions": 0, "permanent_exclusions": 1},
    ]


# ---- reasons, repeats, the limit ---------------------------------------------------------------------------


def test_reasons_count_once_per_event_per_reason():
    rows = events(
        {"upn": "U1", "start_date": date(2025, 9, 10), "reason": "DB", "reason_2": "VA", "reason_3": "DB"},
        {"upn": "U1", "start_date": date(2025, 9, 20), "reason": "DB"},
        {"upn": "U2", "start_date": date(2025, 9, 20), "reason": "VA", "reason_2": None, "reason_3": "PP"},
        {"upn": "U3", "start_date": date(2025, 9, 22)},  # no reason given
    )
    out = susp.reasons(rows).to_dicts()
    assert out == [
        {"reason": "DB", "events": 2, "children": 1},  # DB twice in one event counts once
        {"reason": "VA", "events": 2, "children": 2},
        {"reason": "PP", "events": 1, "children": 1},
    ]


def test_repeat_suspensions_are_two_or_more_with_their_totals():
    rows = events(
        {"upn": "U1", "start_date": date(2025, 9, 10), "sessions": 3},
        {"upn": "U1", "start_date": date(2025, 11, 3), "sessions": 4},
        {"upn": "U2", "start_date": date(2025, 9, 10)},
        {"upn": "U2", "start_date": date(2025, 10, 1), "category": "permanent_exclusion", "sessions": None},
    )
    assert susp.repeats(rows).to_dicts() == [
        {
            "upn": "U1",
            "suspensions": 2,
            "suspension_sessions": 7,
            "first_suspension": date(2025, 9, 10),
            "last_suspension": date(2025, 11, 3),
        }
    ]


def test_the_45_day_limit_counts_the_academic_year_across_schools():
    rows = events(
        # 58 sessions last year do not count; 30 + 31 sessions this year at two schools = 30.5 school days.
        {"upn": "U1", "start_date": date(2025, 6, 2), "sessions": 58},
        {"upn": "U1", "start_date": date(2025, 9, 10), "sessions": 30},
        {"upn": "U1", "start_date": date(2025, 11, 3), "sessions": 31, "urn": 100002},
        {"upn": "U2", "start_date": date(2025, 9, 10), "sessions": 59},  # 29.5 days: not yet 30
        {"upn": "U3", "start_date": date(2025, 9, 10), "sessions": 92},  # 46 days: past the limit
    )
    days = susp.year_days(rows, date(2025, 9, 1), AS_OF)
    near = susp.nearing_limit(days, 30).select("upn", "suspension_days", "days_left", "schools_suspending")
    assert near.to_dicts() == [
        {"upn": "U3", "suspension_days": 46.0, "days_left": -1.0, "schools_suspending": 1},
        {"upn": "U1", "suspension_days": 30.5, "days_left": 14.5, "schools_suspending": 2},
    ]


# ---- the sixth day -----------------------------------------------------------------------------------------

SCHOOL_DAYS = pl.Series([d for d in (date(2025, 11, 3) + timedelta(days=i) for i in range(28)) if d.weekday() < 5])


def marks(upn: str, codes: list[tuple[str, str]], first: date = date(2025, 11, 3)) -> list[dict]:
    """Day rows from a school day on, one (AM, PM) pair per school day."""
    days = [d for d in SCHOOL_DAYS.to_list() if d >= first]
    return [
        {"upn": upn, "urn": 100001, "date": d, "am": am, "pm": pm} for d, (am, pm) in zip(days, codes, strict=False)
    ]


def test_no_provision_from_the_sixth_day_is_an_e_on_day_6_or_later():
    rows = events(
        {"upn": "E6", "start_date": date(2025, 11, 3), "sessions": 14},  # 7 days, E throughout
        {"upn": "K6", "start_date": date(2025, 11, 3), "sessions": 14},  # 7 days, provision (K) from day 6
        {"upn": "E5", "start_date": date(2025, 11, 3), "sessions": 10},  # exactly 5 days: provision not yet due
        {"upn": "PM", "start_date": date(2025, 11, 3), "sessions": 11},  # 6th day is a morning only: E that morning
    )
    day_rows = conform(
        marks("E6", [("E", "E")] * 7)
        + marks("K6", [("E", "E")] * 5 + [("K", "K")] * 2)
        + marks("E5", [("E", "E")] * 5 + [("/", "\\")])
        + marks("PM", [("E", "E")] * 5 + [("E", "/")]),
        MARKS_SCHEMA,
    )
    found = susp.without_provision(rows, day_rows, SCHOOL_DAYS, AS_OF)
    assert found.select("upn", "sixth_day", "e_sessions").to_dicts() == [
        {"upn": "E6", "sixth_day": date(2025, 11, 10), "e_sessions": 4},
        {"upn": "PM", "sixth_day": date(2025, 11, 10), "e_sessions": 1},
    ]


def test_the_sixth_day_is_a_school_day_and_not_yet_come_is_not_a_breach():
    # Starting on a Thursday, day 6 is the next Thursday (a weekend between); as at the Wednesday it has not come.
    rows = events({"upn": "U1", "start_date": date(2025, 11, 6), "sessions": 16})
    day_rows = conform(marks("U1", [("E", "E")] * 8, first=date(2025, 11, 6)), MARKS_SCHEMA)
    numbered = susp.school_days_of(rows, SCHOOL_DAYS)
    assert numbered.filter(pl.col("day_number") == 6)["date"].to_list() == [date(2025, 11, 13)]
    assert susp.without_provision(rows, day_rows, SCHOOL_DAYS, date(2025, 11, 12)).is_empty()
    assert susp.without_provision(rows, day_rows, SCHOOL_DAYS, date(2025, 11, 13))["e_sessions"].to_list() == [2]


def test_the_recent_suspension_signal_uses_the_same_definition():
    rows = events(
        {"upn": "U1", "start_date": date(2025, 11, 20)},
        {"upn": "U2", "start_date": date(2025, 11, 20), "category": "lunchtime", "sessions": 1},
    )
    window = metrics.Window(START, date(2025, 11, 28))
    recent = triage.recent_suspensions(rows, window, date(2025, 11, 17))
    assert recent["upn"].to_list() == susp.recent(rows, date(2025, 11, 17), window.as_of)["upn"].to_list() == ["U1"]


def test_the_timeline_counts_by_week():
    rows = events(
        {"upn": "U1", "start_date": date(2025, 11, 3), "sessions": 3},
        {"upn": "U2", "start_date": date(2025, 11, 7)},
        {"upn": "U3", "start_date": date(2025, 11, 12), "category": "permanent_exclusion", "sessions": None},
    )
    assert susp.timeline(rows).to_dicts() == [
        {"week_start": date(2025, 11, 3), "suspensions": 2, "permanent_exclusions": 0, "suspension_sessions": 5},
        {"week_start": date(2025, 11, 10), "suspensions": 0, "permanent_exclusions": 1, "suspension_sessions": 0},
    ]


# ---- the command ---------------------------------------------------------------------------------------------

A, B, C = "B801200005001", "Q801200005002", "E801200005003"
FEEDS = {
    "children.csv": (
        "LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date,End Date,Social Worker,Team,Locality\n"
        f"C1,{A},Ann,Ash,2012-01-01,CP,2025-01-01,,Sam,North,North\n"
        f"C2,{B},Ben,Birch,2012-01-01,CLA,2025-01-01,,Kim,South,South\n"
        f"C3,{C},Cal,Cedar,2012-01-01,CIN,2025-01-01,,Kim,South,South\n"
    ),
    "attendance.csv": "UPN,URN,Date,AM,PM\n"
    + "".join(f"{u},100001,2025-09-0{d},/,\\\n" for u in (A, B, C) for d in (1, 2, 3)),
    "suspensions.csv": (
        "UPN,URN,Start Date,Sessions,Category,Reason\n"
        f"{A},100001,2025-09-02,2,suspension,DB\n"
        f"{A},100001,2025-09-03,3,suspension,VA\n"
        f"{B},100001,2025-09-03,1,suspension,DB\n"
        f"{C},100001,2025-09-03,,permanent_exclusion,PA\n"
        f"{C},100001,2025-08-20,2,suspension,PA\n"  # last academic year: outside the window
    ),
}


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def loaded(capsys, write, tmp_path) -> str:
    db = f"sqlite:///{tmp_path / 'report.db'}"
    for name, text in FEEDS.items():
        write(f"feeds/{name}", text)
    assert run(capsys, "ingest", str(tmp_path / "feeds"), "--db", db)[0] == 0
    return db


def test_the_report_s_all_row_is_the_sum_of_the_per_child_figures(capsys, loaded, tmp_path):
    out = tmp_path / "rates.csv"
    code, said, _ = run(
        capsys, "report", "suspensions", "--as-of", "2025-09-05", "--by", "team", "--out", str(out), "--db", loaded
    )
    assert code == 0 and "wrote 3 rows" in said
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == susp.REPORT_COLUMNS
    assert [r["group"] for r in rows] == ["All", "North", "South"]

    code, per_child_csv, _ = run(capsys, "metrics", "--as-of", "2025-09-05", "--db", loaded)
    per_child = list(csv.DictReader(io.StringIO(per_child_csv)))
    every = rows[0]
    assert int(every["children"]) == len(per_child) == 3
    for column in ("suspensions", "suspension_sessions", "permanent_exclusions"):
        assert int(every[column]) == sum(int(r[column]) for r in per_child), column
    assert int(every["children_suspended"]) == sum(int(r["suspensions"]) > 0 for r in per_child) == 2
    # 3 suspensions / 3 children; 2 of 3 suspended; 1 permanent exclusion of 3.
    assert (every["suspension_rate"], every["one_or_more_rate"], every["permanent_exclusion_rate"]) == (
        "100.0",
        "66.67",
        "33.33",
    )
    north = rows[1]
    assert (north["children"], north["suspensions"], north["suspension_sessions"]) == ("1", "2", "5")


def test_the_report_writes_xlsx_and_a_bad_date_is_one_line(capsys, loaded, tmp_path):
    xlsx = tmp_path / "rates.xlsx"
    assert run(capsys, "report", "suspensions", "--as-of", "2025-09-05", "--out", str(xlsx), "--db", loaded)[0] == 0
    import openpyxl

    values = list(openpyxl.load_workbook(xlsx).active.values)
    header = next(i for i, row in enumerate(values) if row and row[0] == "group")
    assert list(values[header]) == susp.REPORT_COLUMNS and values[header + 1][0] == "All"

    code, _, err = run(capsys, "report", "suspensions", "--as-of", "13/02/2026", "--out", str(xlsx), "--db", loaded)
    assert code == 2 and err.strip() == "--as-of '13/02/2026' is not a date; write it as YYYY-MM-DD, such as 2026-02-13"
    code, _, err = run(capsys, "report", "moves", "--as-of", "2025-09-05", "--from", "2025-31-01", "--out", str(xlsx))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--from '2025-31-01' is not a date" in err
    code, _, err = run(capsys, "report", "moves", "--as-of", "2025-09-05", "--out", str(tmp_path / "x.txt"))
    assert code == 2 and "name a .csv or .xlsx file" in err


def test_per_child_counts_what_the_definition_counts(cfg):
    frames = Frames.build(
        children=[{"la_child_id": "C1", "upn": "U1"}],
        episodes=[{"la_child_id": "C1", "cohort": "CIN", "start_date": "2025-01-01"}],
        suspensions=events(
            {"upn": "U1", "start_date": date(2025, 9, 10), "sessions": 3},
            {"upn": "U1", "start_date": date(2025, 9, 11), "category": "lunchtime", "sessions": 1},
        ),
    )
    row = metrics.per_child(frames, metrics.Window(START, AS_OF), cfg).row(0, named=True)
    assert (row["suspensions"], row["suspension_sessions"], row["permanent_exclusions"]) == (1, 3, 0)
