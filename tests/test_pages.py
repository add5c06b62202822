"""Every page through Streamlit's AppTest on the sample authority: renders, agrees with the metrics, filters."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from vsdash import config as config_mod
from vsdash import metrics, views
from vsdash.config import PROJECT_ROOT, load_config
from vsdash.filters import Filters
from vsdash.store import Store


@pytest.fixture
def db_url(sample_db, tmp_path, monkeypatch):
    """A private copy of the sample store for one test, named in VSDASH_DATABASE_URL like a deployment does."""
    path = tmp_path / "app.db"
    shutil.copy(sample_db, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("VSDASH_DATABASE_URL", url)
    config_mod.cached_config.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    config_mod.cached_config.cache_clear()
    st.cache_resource.clear()


@pytest.fixture
def frames(db_url):
    store = Store(db_url)
    yield store.frames()
    store.dispose()


def app() -> AppTest:
    return AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def expected_headline(frames, filters: Filters) -> dict:
    return metrics.aggregate(views.selected_children(frames, load_config(), filters), []).row(0, named=True)


LAST_DAY = date(2026, 2, 13)   # the sample's last school day


def test_overview_headline_equals_the_metrics_and_follows_the_cohort_filter(db_url, frames):
    at = app().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Overview"]
    everyone = expected_headline(frames, Filters(as_of=LAST_DAY))
    assert metric(at, "Children") == f"{everyone['children']:,}"
    assert metric(at, "Attendance") == f"{everyone['attendance_pct']:.1f}%"
    assert metric(at, "Persistent absence") == f"{everyone['persistent_absence_rate']:.1f}%"
    assert metric(at, "Severe absence") == f"{everyone['severe_absence_rate']:.1f}%"
    assert metric(at, "Suspensions") == f"{everyone['suspensions']:,}"

    at.selectbox(key="cohort").set_value("CP").run()
    assert not at.exception, at.exception
    cp = expected_headline(frames, Filters(as_of=LAST_DAY, cohort="CP"))
    assert cp["children"] < everyone["children"]
    assert metric(at, "Children") == f"{cp['children']:,}"
    assert metric(at, "Persistent absence") == f"{cp['persistent_absence_rate']:.1f}%"
    assert metric(at, "Persistent absence") != f"{everyone['persistent_absence_rate']:.1f}%"
    # CP has a national comparison (DfE, latest year in the configuration)
    assert any("National 2024/25: 55.4%" in c.value for c in at.caption)


def test_overview_as_at_date_and_locality_filters(db_url, frames):
    at = app().run()
    at.date_input(key="as_of").set_value(date(2025, 12, 19)).run()
    at.selectbox(key="locality").set_value("North").run()
    assert not at.exception, at.exception
    expected = expected_headline(frames, Filters(as_of=date(2025, 12, 19), locality="North"))
    assert metric(at, "Children") == f"{expected['children']:,}"
    assert metric(at, "Attendance") == f"{expected['attendance_pct']:.1f}%"


def test_empty_selection_says_no_children_match(db_url):
    at = app().run()
    at.selectbox(key="area").set_value("in").run()
    at.selectbox(key="school_la").set_value("666").run()   # a Powys school cannot be in-area
    assert not at.exception, at.exception
    assert any("No children match" in i.value for i in at.info)
    assert not at.metric


def test_triage_lists_the_children_with_signals(db_url, frames):
    at = app().run()
    at.switch_page("pages/triage.py").run()
    assert not at.exception, at.exception
    expected = views.triage_list(frames, load_config(), Filters(as_of=LAST_DAY), Store(db_url).actions_frame(), date.today())
    assert metric(at, "Children on the list") == f"{expected.height:,}"
    assert metric(at, "Severe absence") == f"{expected['severe_absence'].sum():,}"
    shown = at.dataframe[0].value
    assert len(shown) == expected.height
    assert shown["priority"].iloc[0].startswith("1 ")   # severe absence first

    at.selectbox(key="cohort").set_value("CLA").run()
    cla = views.triage_list(frames, load_config(), Filters(as_of=LAST_DAY, cohort="CLA"), Store(db_url).actions_frame(), date.today())
    assert metric(at, "Children on the list") == f"{cla.height:,}" and cla.height < expected.height


def test_an_action_is_recorded_and_survives_a_reload(db_url, sample_db):
    at = app().run()
    at.switch_page("pages/triage.py").run()
    child_id = next(s for s in at.selectbox if s.label == "Child").value
    next(s for s in at.selectbox if s.label == "Action").set_value("Contacted school")
    next(t for t in at.text_area if t.label == "Note").input("Spoke to the DSL; attendance plan agreed")
    next(t for t in at.text_input if t.label == "Your name").input("A. Officer")
    next(b for b in at.button if b.label == "Save action").click().run()
    assert not at.exception, at.exception
    stored = Store(db_url).actions_frame(child_id)
    assert stored.select("action", "note", "recorded_by").rows() == [
        ("Contacted school", "Spoke to the DSL; attendance plan agreed", "A. Officer")]
    shown = at.dataframe[0].value
    assert shown[shown["la_child_id"] == child_id]["last_action"].iloc[0] == "Contacted school"
    # A feed reload never touches actions: load the bundled children list again under a new name.
    from vsdash.ingest import SAMPLE_DATA, ingest_file
    copy = Path(db_url[len("sqlite:///"):]).parent / "children_resend.csv"
    copy.write_text((SAMPLE_DATA / "children.csv").read_text() + "\n")
    assert ingest_file(Store(db_url), copy, load_config()).status == "loaded"
    assert Store(db_url).actions_frame(child_id).height == 1


def test_child_page_from_the_url(db_url, frames):
    child = frames.children.filter(pl.col("upn").is_not_null()).sort("la_child_id").row(0, named=True)
    at = app()
    at.query_params["child"] = child["la_child_id"]
    at.run()
    at.switch_page("pages/child.py").run()
    assert not at.exception, at.exception
    assert at.header[0].value == f"{child['first_name']} {child['last_name']}"
    figures = metrics.per_child(frames, metrics.window_for(load_config(), LAST_DAY), load_config())
    mine = figures.filter(pl.col("la_child_id") == child["la_child_id"]).row(0, named=True)
    assert metric(at, "Possible sessions") == str(mine["possible_sessions"])
    charts = at.get("plotly_chart")
    assert len(charts) == 2   # calendar heatmap and weekly attendance


def test_child_page_without_a_child_asks_for_one(db_url):
    at = app().run()
    at.switch_page("pages/child.py").run()
    assert not at.exception
    assert any("Choose a child" in i.value for i in at.info)


@pytest.mark.parametrize("page, title", [("pages/about.py", "About these figures"), ("pages/data_loaded.py", "Data loaded")])
def test_other_pages_render(db_url, page, title):
    at = app().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
