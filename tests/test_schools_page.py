"""The Schools page through AppTest: normal and forum mode, the forum role always in forum mode, and no
child's identity or small count anywhere on the forum's page or its downloads."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
import pytest

from tests.test_pages import LAST_DAY, app, signed_in_app
from tests.test_pages import db_url as db_url
from tests.test_pages import frames as frames
from tests.test_pages import sample_store as sample_store
from vsdash import export, metrics, schools, views
from vsdash.access import DataAccess
from vsdash.auth import User
from vsdash.config import load_config
from vsdash.filters import Filters
from vsdash.glossary import headed


def frame_of(element) -> pl.DataFrame:
    """An st.dataframe element's data as polars."""
    return pl.from_pandas(element.value)


def identities(store) -> set[str]:
    """Every UPN and LA child ID on the sample's children list, and every child's full name: none may appear
    anywhere in forum output (a first name alone may be a school's, "St Thomas")."""
    children = store.children_frame()
    values = set(children["upn"].drop_nulls().to_list()) | set(children["la_child_id"].drop_nulls().to_list())
    names = children.select(pl.concat_str("first_name", "last_name", separator=" ").drop_nulls())
    return values | set(names.to_series().to_list())


def cells(frame: pl.DataFrame) -> list[str]:
    """Every cell of a table as text."""
    return [str(v) for column in frame.columns for v in frame[column].to_list()]


def test_schools_page_rows_agree_with_the_metrics(db_url, frames):
    at = app().run()
    at.switch_page("pages/schools.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Schools"
    table = frame_of(at.dataframe[0])
    cfg = load_config()
    children = views.selected_children(views.Figures(frames, cfg), Filters(as_of=LAST_DAY))
    by_school = metrics.aggregate(children, ["school_urn"]).filter(pl.col("school_urn").is_not_null())
    assert table.filter(pl.col("school_urn").is_not_null()).height == by_school.height
    busiest = by_school.sort("children", descending=True).row(0, named=True)
    row = table.filter(pl.col("school_urn") == busiest["school_urn"]).row(0, named=True)
    assert row["children"] == busiest["children"]
    assert row["attendance_pct"] == pytest.approx(busiest["attendance_pct"])
    assert row["persistent_absence_rate"] == pytest.approx(busiest["persistent_absence_rate"])
    everyone = metrics.aggregate(children, []).row(0, named=True)
    assert row["attendance_difference"] == pytest.approx(busiest["attendance_pct"] - everyone["attendance_pct"])
    assert not any(t.value == "Forum mode" for t in at.caption)


def test_forum_mode_switch_withholds_small_counts(db_url, sample_store):
    at = app().run()
    at.switch_page("pages/schools.py").run()
    normal = frame_of(at.dataframe[0])
    small = normal.filter(pl.col("children").is_between(1, 4))
    assert small.height > 0  # the sample has schools with a few of our children: the test can fail
    at.toggle(key="forum_schools").set_value(True).run()
    assert not at.exception, at.exception
    forum = frame_of(at.dataframe[0])
    assert forum.height == normal.height
    shown = forum.filter(pl.col("school_urn").is_in(small["school_urn"].implode()))
    assert set(shown["children"].to_list()) == {"c"}
    assert_forum_safe(at, sample_store)


def assert_forum_safe(at, store) -> None:
    """No table on the page holds a child's identity or a count from 1 to 4 (threshold 5)."""
    known = identities(store)
    counts = {"children", "children_with_data", "suspensions", "permanent_exclusions"}
    for element in at.dataframe:
        frame = frame_of(element)
        assert not known & set(cells(frame))
        for column in frame.columns:
            if column in counts or column.startswith("children_"):
                values = frame[column].cast(pl.String).to_list()
                assert not [v for v in values if re.fullmatch(r"[1-4]", v or "")], column
    for text in [*(c.value for c in at.caption), *(m.value for m in at.markdown)]:
        assert not [k for k in known if k in text]


def test_the_forum_role_sees_only_forum_mode(db_url, sample_store):
    at = signed_in_app(db_url, role="forum", name="F. Forum").run()
    at.switch_page("pages/schools.py").run()
    assert not at.exception, at.exception
    assert not at.toggle  # no switch to turn it off
    assert any(c.value.startswith("Forum mode:") for c in at.caption)
    assert_forum_safe(at, sample_store)
    # The summaries: a locality's figures with the cohorts' shares; South has a few PLAC children.
    locality = frame_of(at.dataframe[1])
    assert {"share_all", "share_CLA"} <= set(locality.columns)


def test_forum_exports_hold_no_child_and_no_small_count(db_url, sample_store):
    """What the page's download buttons write (glossary.headed then export.csv_bytes, as ui.downloads does)
    for the forum role: the page's own table, with no identity and no count from 1 to 4."""
    at = signed_in_app(db_url, role="forum", name="F. Forum").run()
    at.switch_page("pages/schools.py").run()
    cfg = load_config()
    forum = DataAccess(sample_store, cfg, User("F. Forum", "forum"))
    table = forum.schools(Filters(as_of=LAST_DAY))
    shown = schools.shown_schools(table, schools.SchoolChoice())
    assert shown["children"].to_list() == frame_of(at.dataframe[0])["children"].to_list()
    text = export.csv_bytes(headed(shown)).decode()
    assert not [k for k in identities(sample_store) if k in text]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and not [r for r in rows if re.fullmatch(r"[1-4]", r["Children"])]
    assert {r["Children"] for r in rows} & {"c"}
