"""The Suspensions and exclusions page through AppTest on the sample authority: its figures are the
definitions', its tables speak people's words, the Monday check's status is set by people and survives a
reload of the feed, and each role sees only what it may."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_pages import app, db_url, sample_store, signed_in_app  # noqa: F401 (fixtures)
from vsdash import auth, suspensions, ui, views
from vsdash.access import AccessDenied, DataAccess
from vsdash.config import PROJECT_ROOT, load_config
from vsdash.filters import Filters
from vsdash.ingest import SAMPLE_DATA, ingest_file
from vsdash.metrics import window_for
from vsdash.store import Store

PAGE = "pages/suspensions.py"


def opened(db_url: str, role: str = "admin", name: str = "A. Admin", **limits):
    """The page drawn for a new user of the role."""
    at = signed_in_app(db_url, role, name, **limits)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def headers(table) -> dict[str, str]:
    """A table's columns and the header each is shown under."""
    config = json.loads(table.proto.columns)
    return {column: config.get(column, {}).get("label", column) for column in table.value.columns}


def table_with(at, column: str):
    """The first table on the page holding a column."""
    return next(t for t in at.dataframe if column in t.value.columns)


@pytest.fixture
def figures(sample_store):
    return views.Figures(sample_store.frames(load_config(), held=False), load_config())


def test_the_cards_and_rates_are_the_definitions_of_the_selected_children(db_url, figures):
    at = opened(db_url)
    assert at.title[0].value == "Suspensions and exclusions"
    as_of = figures.calendar.max()
    children = views.selected_children(figures, Filters(as_of=as_of))
    everyone = suspensions.by_group(children).row(0, named=True)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Suspensions"] == f"{everyone['suspensions']:,}"
    assert shown["Suspended at least once %"] == f"{everyone['one_or_more_rate']:.2f}"
    assert shown["Permanent exclusion rate %"] == f"{everyone['permanent_exclusion_rate']:.2f}"
    assert any("All pupils nationally 2023/24: 4.04%" in c.value for c in at.caption)
    by_cohort = table_with(at, "one_or_more_rate").value
    assert by_cohort["group"].iloc[0] == "All" and by_cohort["children"].iloc[0] == children.height
    assert set(by_cohort["group"].iloc[1:]) <= set(load_config().cohorts.values())  # cohorts by name


def test_every_table_speaks_people_s_words_and_shows_no_none(db_url):
    at = opened(db_url)
    assert len(at.dataframe) >= 8  # Monday check, four rate tables, reasons, repeats, no provision, moves...
    for table in at.dataframe:
        for column, label in headers(table).items():
            assert label != column and "_" not in label, f"{column} shown as {label!r}"
        text = table.value.select_dtypes(["object", "str"])
        assert not text.isna().any().any(), f"an empty text cell shows None in {list(table.value.columns)}"
    reasons = table_with(at, "reason_words").value
    assert all(": " in r for r in reasons["reason_words"])  # "DB: Persistent disruptive behaviour"
    assert at.get("plotly_chart") and len(at.get("plotly_chart")) == 2  # reasons and timeline
    # The sample's long suspensions: those with no provision on day 6 are listed, those with K are not.
    listed = table_with(at, "e_sessions").value
    assert len(listed) >= 3 and (listed["e_sessions"] > 0).all()
    assert (listed["sessions"] > 10).all()
    moves = table_with(at, "move_back").value
    assert len(moves) >= 10


def test_the_monday_check_is_set_by_people_and_survives_a_reload_of_the_feed(db_url, sample_store):
    at = opened(db_url, "officer", "O. Officer")
    monday = table_with(at, "notified_text").value
    assert set(monday["notified_text"]) == {"Not notified"}
    next(m for m in at.multiselect if m.label == "Suspensions").set_value([0])
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception, at.exception
    assert any("Marked notified: 1 suspension" in s.value for s in at.success)
    notices = sample_store.suspension_notices_frame()
    assert notices.height == 1 and notices["notified"].to_list() == [True]
    assert notices["set_by"].to_list() == ["O. Officer"]
    assert not sample_store.audit_frame(event=auth.SUSPENSION_NOTICE).is_empty()

    # A reload of the suspensions feed (a corrected file) keeps what people set.
    corrected = SAMPLE_DATA / "suspensions.csv"
    changed = corrected.read_text(encoding="utf-8").replace(",suspension,", ",FIXD,", 5)
    path = Path(db_url.removeprefix("sqlite:///")).with_name("suspensions_corrected.csv")
    path.write_text(changed, encoding="utf-8")
    assert ingest_file(sample_store, path, load_config()).status == "loaded"
    assert sample_store.suspension_notices_frame().height == 1
    at.run()
    assert "Notified" in set(table_with(at, "notified_text").value["notified_text"])


def test_an_officer_sees_only_their_own_children_and_the_forum_not_the_page(db_url, figures):
    team = figures.frames.children["team"].drop_nulls().mode()[0]
    at = opened(db_url, "officer", "T. Officer", teams=[team])
    lists = [table_with(at, c).value for c in ("notified_text", "move_back", "last_suspension")]
    assert sum(len(t) for t in lists) > 0
    for shown in lists:
        assert set(shown["team"]) <= {team}

    # The forum's menu has no such page, the page file run on its own refuses it, and so does the door.
    forum = signed_in_app(db_url, "forum", "F. Forum").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        forum.switch_page(PAGE)
    alone = AppTest.from_file(str(PROJECT_ROOT / PAGE), default_timeout=90)
    alone.session_state[ui.SIGNED_IN] = "F. Forum"
    alone.run()
    assert not alone.dataframe and "forum role may not open this page" in alone.error[0].value
    door = DataAccess(Store(db_url), load_config(), auth.User("F. Forum", "forum"))
    with pytest.raises(AccessDenied):
        door.suspensions_page(Filters(as_of=figures.calendar.max()))
    with pytest.raises(AccessDenied):
        door.set_suspension_notice("A", 1, date(2026, 2, 2), "suspension", True)


def test_the_report_s_all_row_matches_the_page_for_every_known_child(db_url, sample_store):
    cfg = load_config()
    door = DataAccess(Store(db_url), cfg, auth.command_line_user())
    window = window_for(cfg, date(2026, 2, 13))
    rates = door.suspension_rates(window, "team")
    per_child = door.per_child(window)
    everyone = rates.row(0, named=True)
    assert everyone["group"] == "All" and everyone["children"] == per_child.height
    assert everyone["suspensions"] == per_child["suspensions"].sum()
    assert rates.filter(pl.col("group") != "All")["children"].sum() == per_child.height  # one team each
