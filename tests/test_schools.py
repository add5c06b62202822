"""vsdash.schools and the door's forum mode on the sample authority: rates equal the metrics, forum output
withholds every small count in every table, and the forum role cannot turn it off."""

from __future__ import annotations

import re
import shutil

import polars as pl
import pytest

from tests.test_pages import LAST_DAY
from vsdash import metrics, schools, views
from vsdash.access import DataAccess
from vsdash.auth import User
from vsdash.cli import main
from vsdash.filters import Filters
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
