"""vsdash.schools and the door's forum mode on the sample authority: rates equal the metrics, forum output
withholds every small count in every table, and the forum role cannot turn it off."""

from __future__ import annotations

import re
import shutil
from datetime import date

import polars as pl
import pytest

from tests.helpers import weekdays
from tests.test_pages import LAST_DAY
from vsdash import auth, metrics, schools, views
from vsdash.access import AccessDenied, DataAccess
from vsdash.auth import User
from vsdash.cli import main
from vsdash.filters import Filters
from vsdash.frames import Frames
from vsdash.store import Store


@pytest.fixture(scope="module")
def store(sample_db):
    s = Store(f"sqlite:///{sample_db}")
    yield s
    s.dispose()


def door(store, cfg, role: str) -> DataAccess:
    return DataAccess(store, cfg, User(f"someone {role}", role))


def small(frame: pl.DataFrame, threshold: int = 5) -> list[str]:
    """Cells of count columns holding 1 to threshold - 1."""
    counts = [c for c in frame.columns if c in schools.COUNTS or c.startswith("children_")]
    return [
        f"{c}={v}"
        for c in counts
        for v in frame[c].cast(pl.String).to_list()
        if v and re.fullmatch(r"\d+", v) and 0 < int(v) < threshold
    ]


def test_a_school_s_rates_are_the_metrics_for_its_children(store, cfg):
    figures = views.Figures(store.frames(cfg, held=False), cfg)
    filters = Filters(as_of=LAST_DAY, cohort="CLA")
    children = views.selected_children(figures, filters)
    table = door(store, cfg, "manager").schools(filters)
    assert not table.forum
    expected = metrics.aggregate(children, ["school_urn"])
    joined = table.schools.join(expected, on="school_urn", how="inner", nulls_equal=True, suffix="_m")
    assert joined.height == expected.height
    for column in ("children", "attendance_pct", "persistent_absence_rate", "suspension_rate"):
        assert joined[column].to_list() == joined[f"{column}_m"].to_list()
    assert table.authority["children"][0] == children.height
    # Each cohort column counts the children holding it (CLA: every child of this selection).
    assert (table.schools["children_CLA"] == table.schools["children"]).all()


def test_forum_output_withholds_every_small_count_in_every_table(store, cfg):
    forum = door(store, cfg, "manager").schools(Filters(as_of=LAST_DAY), forum=True)
    plain = door(store, cfg, "manager").schools(Filters(as_of=LAST_DAY))
    assert small(plain.schools)  # there are small counts to withhold
    for frame in [forum.schools, forum.authority, *forum.summaries.values()]:
        assert small(frame) == []
    assert "possible_sessions" not in forum.schools.columns
    assert (forum.schools["children"] == "c").sum() >= (plain.schools["children"].is_between(1, 4)).sum()


def test_the_forum_role_always_gets_forum_output(store, cfg):
    table = door(store, cfg, "forum").schools(Filters(as_of=LAST_DAY), forum=False)
    assert table.forum
    assert small(table.schools) == []


def test_a_locality_of_one_school_is_withheld_whole(store, cfg):
    # Keep, of the North's schools, only its biggest: North's figures are then that school's (and not small).
    figures = views.Figures(store.frames(cfg, held=False), cfg)
    filters = Filters(as_of=LAST_DAY)
    located = schools.with_school_attributes(views.selected_children(figures, filters), figures.frames.schools, cfg)
    north = located.filter(pl.col("school_locality") == "North")
    biggest = north.group_by("school_urn").len().sort("len", descending=True)["school_urn"][0]
    kept = located.filter((pl.col("school_locality") != "North").fill_null(True) | (pl.col("school_urn") == biggest))
    children = kept.select(views.selected_children(figures, filters).columns)
    table = schools.schools_table(children, figures.frames, figures.of(filters).rows, cfg)
    row = table.summaries["school_locality"].filter(pl.col("school_locality") == "North").row(0, named=True)
    assert row["schools"] == 1 and row["children"] >= 5
    forum = schools.for_forum(table)
    shown = forum.summaries["school_locality"].filter(pl.col("school_locality") == "North").row(0, named=True)
    assert shown["children"] == "c" and shown["attendance_pct"] == "c"
    school = forum.schools.filter(pl.col("school_urn") == biggest).row(0, named=True)
    assert school["children"] == "c"  # else North's withheld figure would be read off its one school


def test_report_schools_writes_the_page_s_table_and_forum_applies_its_suppression(
    capsys, sample_db, tmp_path, store, cfg
):
    db = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(sample_db, tmp_path / "copy.db")
    out = tmp_path / "schools.csv"
    code = main(["report", "schools", "--as-of", "2026-02-13", "--out", str(out), "--db", db])
    assert code == 0, capsys.readouterr().err
    plain = pl.read_csv(out)
    assert small(plain.rename({"Children": "children"}))  # the plain table has small counts
    code = main(["report", "schools", "--as-of", "2026-02-13", "--forum", "--out", str(out), "--db", db])
    assert code == 0
    forum = pl.read_csv(out, infer_schema=False)
    assert forum.height == plain.height
    assert small(forum.rename({"Children": "children", "With data": "children_with_data"})) == []
    text = out.read_text()
    children = store.children_frame()
    assert not [v for v in [*children["upn"].drop_nulls(), *children["la_child_id"].drop_nulls()] if v in text]
    expected = schools.shown_schools(door(store, cfg, "forum").schools(Filters(as_of=LAST_DAY)), schools.SchoolChoice())
    assert forum["Children"].to_list() == expected["children"].to_list()
    xlsx = tmp_path / "schools.xlsx"
    assert (
        main(
            ["report", "schools", "--as-of", "2026-02-13", "--cohort", "CLA", "--forum", "--out", str(xlsx), "--db", db]
        )
        == 0
    )
    assert xlsx.stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--cohort", "XYZ", "--out", "x.csv"], "unknown cohort 'XYZ'"),
        (["--out", "schools.txt"], "name a .csv or .xlsx file"),
    ],
)
def test_report_schools_mistakes_are_one_line_and_exit_2(capsys, args, said):
    code = main(["report", "schools", "--as-of", "2026-02-13", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---- one school opened: small hand-made data, each answer worked out by hand -------------------------

ALPHA, BETA = 100001, 100002
OPENED = date(2024, 9, 13)  # a Friday: the window is 1 to 13 September 2024, two school weeks


def week(upn: str, urn: int, monday: date, codes: list[str]) -> list[dict]:
    """A week of marks, one code a day for both sessions."""
    return [
        {"upn": upn, "urn": urn, "date": d, "am": c, "pm": c} for d, c in zip(weekdays(5, monday), codes, strict=True)
    ]


def opened_frames() -> Frames:
    """C1 (CLA) and C2 (CIN) at Alpha, in the authority; C3 (CLA) at Beta, out of area.

    C1: week 1 all present; week 2 present 3 days, N 2 days. C2: week 1 present 1 day, N 4 days; week 2 all
    present. C3: both weeks all present."""
    one, two = date(2024, 9, 2), date(2024, 9, 9)
    marks = [
        *week("U1", ALPHA, one, ["/"] * 5),
        *week("U1", ALPHA, two, ["/", "/", "/", "N", "N"]),
        *week("U2", ALPHA, one, ["/", "N", "N", "N", "N"]),
        *week("U2", ALPHA, two, ["/"] * 5),
        *week("U3", BETA, one, ["/"] * 5),
        *week("U3", BETA, two, ["/"] * 5),
    ]
    children = [
        {"la_child_id": f"C{i}", "upn": f"U{i}", "first_name": name, "last_name": "Pupil", "team": team}
        for i, name, team in [(1, "Ann", "A"), (2, "Bea", "B"), (3, "Cal", "A")]
    ]
    episodes = [
        {"la_child_id": child, "cohort": cohort, "start_date": "2024-01-01"}
        for child, cohort in [("C1", "CLA"), ("C2", "CIN"), ("C3", "CLA")]
    ]
    schools_list = [
        {
            "urn": ALPHA,
            "name": "Alpha Primary",
            "la_code": "893",
            "la_name": "Marches",
            "phase": "Primary",
            "locality": "North",
        },
        {"urn": BETA, "name": "Beta Academy", "la_code": "999", "la_name": "Elsewhere", "phase": "Secondary"},
    ]
    return Frames.build(marks=marks, children=children, episodes=episodes, schools=schools_list)


def line(weekly: pl.DataFrame, cohort: str, column: str) -> list[float]:
    """One cohort's line of a weekly trend, week by week."""
    return weekly.filter(pl.col("cohort") == cohort).sort("week_start")[column].to_list()


def test_an_opened_school_s_trend_and_figures_are_its_children_s_beside_the_authority_s(cfg):
    detail = views.school_detail(views.Figures(opened_frames(), cfg), ALPHA, Filters(as_of=OPENED))
    assert detail is not None
    assert (detail.name, detail.la_name, detail.phase, detail.area) == (
        "Alpha Primary",
        "Marches",
        "Primary",
        "In area",
    )
    assert detail.children == 2 and not detail.forum and detail.on_roll is None
    weekly = detail.weekly
    assert sorted(set(weekly["week_start"].to_list())) == [date(2024, 9, 2), date(2024, 9, 9)]
    # Week 1: C1 10 of 10 present, C2 2 of 10: 12 / 20 = 60%; so far C2 missed 8 of 10 (PA), C1 none: 1 of 2.
    # Week 2: C1 6 of 10, C2 10 of 10: 16 / 20 = 80%; so far C1 missed 4 of 20 = 20% (PA), C2 8 of 20: 2 of 2.
    assert line(weekly, "All", "attendance_pct") == pytest.approx([60.0, 80.0])
    assert line(weekly, "All", "persistent_absence_rate") == pytest.approx([50.0, 100.0])
    # CLA is C1 alone (C3 is at Beta): 100% then 60%; PA so far 0% then 100%. CIN and CWSW are C2 alone.
    assert line(weekly, "CLA", "attendance_pct") == pytest.approx([100.0, 60.0])
    assert line(weekly, "CLA", "persistent_absence_rate") == pytest.approx([0.0, 100.0])
    assert line(weekly, "CIN", "attendance_pct") == pytest.approx([20.0, 100.0])
    assert line(weekly, "CWSW", "persistent_absence_rate") == pytest.approx([100.0, 100.0])
    figures = {row["cohort"]: row for row in detail.figures.iter_rows(named=True)}
    assert list(figures) == ["All", "CIN", "CLA", "CWSW"]
    # Alpha: 28 of 40 sessions = 70%, both PA; the authority adds C3's 20 of 20: 48 / 60 = 80%, PA 2 of 3.
    assert figures["All"]["attendance_pct"] == pytest.approx(70.0)
    assert figures["All"]["authority_attendance_pct"] == pytest.approx(80.0)
    assert figures["All"]["persistent_absence_rate"] == pytest.approx(100.0)
    assert figures["All"]["authority_persistent_absence_rate"] == pytest.approx(200 / 3)
    # CLA: Alpha's C1 16 / 20 = 80%; the authority's C1 and C3 36 / 40 = 90%, PA 1 of 2.
    assert figures["CLA"]["attendance_pct"] == pytest.approx(80.0)
    assert figures["CLA"]["authority_attendance_pct"] == pytest.approx(90.0)
    assert figures["CLA"]["authority_persistent_absence_rate"] == pytest.approx(50.0)
    assert (figures["CIN"]["children"], figures["CIN"]["attendance_pct"]) == (1, pytest.approx(60.0))


def test_an_opened_school_follows_the_cohort_filter_and_an_unknown_urn_is_none(cfg):
    figures = views.Figures(opened_frames(), cfg)
    cla = views.school_detail(figures, ALPHA, Filters(as_of=OPENED, cohort="CLA"))
    assert cla is not None and cla.children == 1
    assert set(cla.weekly["cohort"].to_list()) == {"CLA"}  # the cohort chosen, as the Overview's trend
    assert cla.figures["cohort"].to_list() == ["CLA"]
    assert views.school_detail(figures, BETA, Filters(as_of=OPENED, cohort="CIN")).children == 0
    assert views.school_detail(figures, 999999, Filters(as_of=OPENED)) is None
    assert schools.urn_from_text("100001") == ALPHA
    assert [schools.urn_from_text(t) for t in ("abc", "", None, "1e5", "-3", "１２")] == [None] * 6


def test_an_opened_school_in_forum_mode_withholds_its_small_counts_and_names_nobody(cfg):
    # Every count here is 1 to 4: all withheld, and no point of the trend is drawn.
    detail = views.school_detail(views.Figures(opened_frames(), cfg), ALPHA, Filters(as_of=OPENED), forum=True)
    assert detail is not None and detail.forum and detail.on_roll is None
    assert detail.children == "c"
    assert detail.weekly.is_empty() and detail.withheld_points
    for column in ("children", "children_with_data", "attendance_pct", "authority_attendance_pct"):
        assert set(detail.figures[column].to_list()) == {"c"}, column


def opened_door(tmp_path, cfg, role: str, **limits) -> DataAccess:
    """The door to the hand-made authority, with an audit log of its own."""
    figures = views.Figures(opened_frames(), cfg)
    store = Store(f"sqlite:///{tmp_path / 'audit.db'}")
    return DataAccess(store, cfg, User(f"someone {role}", role, **limits), figures_source=lambda: figures)


def test_a_school_s_children_are_for_child_level_roles_their_own_and_each_look_audited(tmp_path, cfg):
    door_ = opened_door(tmp_path, cfg, "manager")
    filters = Filters(as_of=OPENED)
    detail = door_.school_detail(ALPHA, filters, children=True)
    assert detail is not None and detail.on_roll is not None
    rows = detail.on_roll.rows(named=True)
    assert list(detail.on_roll.columns) == list(schools.ON_ROLL)
    # Lowest attendance first: C2 12 of 20 (60%), then C1 16 of 20 (80%).
    assert [(r["child"], r["la_child_id"], r["upn"], r["cohorts"]) for r in rows] == [
        ("Bea Pupil", "C2", "U2", "CIN, CWSW"),
        ("Ann Pupil", "C1", "U1", "CLA"),
    ]
    assert [(r["persistent_absence"], r["severe_absence"], r["suspensions"]) for r in rows] == [(True, False, 0)] * 2
    door_.school_detail(ALPHA, filters, children=True)  # the page redrawn: the same look
    door_.school_detail(ALPHA, filters)  # the trend alone names nobody: not on the log
    door_.school_detail(BETA, filters, children=True)
    log = door_.store.audit_frame(event=auth.SCHOOL_CHILDREN_LISTED)
    assert sorted(log["detail"].to_list()) == [f"URN {ALPHA}: 2 children", f"URN {BETA}: 1 child"]
    assert set(log["user_name"].to_list()) == {"someone manager"}
    # An officer limited to team A sees only C1 of Alpha's children.
    limited = opened_door(tmp_path, cfg, "officer", teams=("A",)).school_detail(ALPHA, filters, children=True)
    assert limited.on_roll["la_child_id"].to_list() == ["C1"]
    assert limited.children == 2  # the school's figures are every selected child's, as the Schools table's


def test_the_forum_never_gets_a_school_s_children(tmp_path, cfg):
    filters = Filters(as_of=OPENED)
    forum = opened_door(tmp_path, cfg, "forum")
    with pytest.raises(AccessDenied):
        forum.school_detail(ALPHA, filters, children=True)
    shown = forum.school_detail(ALPHA, filters, forum=False)  # the forum role is always in forum mode
    assert shown is not None and shown.forum and shown.on_roll is None
    with pytest.raises(AccessDenied):  # anyone else's forum mode names nobody either
        opened_door(tmp_path, cfg, "manager").school_detail(ALPHA, filters, forum=True, children=True)
    assert forum.store.audit_frame(event=auth.SCHOOL_CHILDREN_LISTED).is_empty()


def test_an_opened_school_withholds_what_its_row_of_the_schools_table_withholds(store, cfg):
    """Schools whose 5 or more children the forum's Schools table withholds (secondary suppression): opened,
    the same count is withheld, and the trend's line for all of them (whose points would give it away) too."""
    filters = Filters(as_of=LAST_DAY)
    forum = door(store, cfg, "forum")
    plain = door(store, cfg, "manager").schools(filters).schools.select("school_urn", "children")
    shown = forum.schools(filters).schools.select("school_urn", pl.col("children").alias("shown"))
    joined = plain.join(shown, on="school_urn").filter(pl.col("school_urn").is_not_null())
    secondary = joined.filter((pl.col("children") >= 5) & (pl.col("shown") == "c"))["school_urn"].to_list()
    assert secondary  # the sample has such schools: the test can fail
    busiest = joined.sort("children", descending=True)["school_urn"].head(3).to_list()
    for urn in [*secondary, *busiest]:
        detail = forum.school_detail(urn, filters)
        assert detail is not None and detail.forum and small(detail.figures) == []
        everyone = detail.figures.row(0, named=True)
        if urn in secondary:
            assert detail.children == everyone["children"] == everyone["children_with_data"] == "c"
            assert "All" not in detail.weekly["cohort"].to_list()
        assert detail.weekly.filter(pl.col("children_with_data").is_between(1, 4)).is_empty()
