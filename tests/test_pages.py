"""Every page through Streamlit's AppTest on the sample authority: renders, agrees with the metrics, filters."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from vsdash import config as config_mod
from vsdash import metrics, triage, ui, views
from vsdash.config import PROJECT_ROOT, load_config
from vsdash.filters import Filters
from vsdash.frames import CHILDREN_SCHEMA
from vsdash.glossary import terms
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
def sample_store(db_url):
    """The test's own Store on its copy of the sample (the app opens its own), disposed afterwards."""
    store = Store(db_url)
    yield store
    store.dispose()


@pytest.fixture
def frames(sample_store):
    return sample_store.frames(config_mod.load_config())


def app() -> AppTest:
    return AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)


def as_user(at: AppTest, store: Store, name: str, role: str, **limits) -> AppTest:
    """Sign `at` in as a new local user of `store` (the session key the sign-in form sets: the boundary)."""
    store.add_user(name, role, **limits)
    at.session_state[ui.SIGNED_IN] = name
    return at


def signed_in_app(db_url: str, role: str = "admin", name: str = "A. Admin", **limits) -> AppTest:
    """The app signed in as a new local user of the store at `db_url`."""
    store = Store(db_url)
    try:
        return as_user(app(), store, name, role, **limits)
    finally:
        store.dispose()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def expected_headline(frames, filters: Filters) -> dict:
    return metrics.aggregate(views.selected_children(views.Figures(frames, load_config()), filters), []).row(
        0, named=True
    )


LAST_DAY = date(2026, 2, 13)  # the sample's last school day


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
    at.selectbox(key="school_la").set_value("666").run()  # a Powys school cannot be in-area
    assert not at.exception, at.exception
    assert any("No children match" in i.value for i in at.info)
    assert not at.metric


def test_triage_lists_the_children_with_signals(db_url, frames, sample_store):
    at = app().run()
    at.switch_page("pages/triage.py").run()
    assert not at.exception, at.exception
    expected = views.triage_list(
        views.Figures(frames, load_config()), Filters(as_of=LAST_DAY), sample_store.actions_frame()
    )
    assert metric(at, "Children on the list") == f"{expected.height:,}"
    assert metric(at, "Severe absence") == f"{expected['severe_absence'].sum():,}"
    shown = at.dataframe[0].value
    assert len(shown) == expected.height
    assert shown["priority"].iloc[0].startswith("1 ")  # severe absence first

    at.selectbox(key="cohort").set_value("CLA").run()
    cla = views.triage_list(
        views.Figures(frames, load_config()),
        Filters(as_of=LAST_DAY, cohort="CLA"),
        sample_store.actions_frame(),
    )
    assert metric(at, "Children on the list") == f"{cla.height:,}" and cla.height < expected.height


def test_an_action_is_recorded_and_survives_a_reload(db_url, sample_store):
    at = as_user(app(), sample_store, "A. Officer", "officer").run()
    at.switch_page("pages/triage.py").run()
    child = next(s for s in at.selectbox if s.label == "Child")
    assert child.value is None  # no default child: an action can never go to the wrong one
    next(s for s in at.selectbox if s.label == "Action").set_value("Contacted school")
    next(t for t in at.text_area if t.label == "Note").input("Spoke to the DSL; attendance plan agreed")
    next(b for b in at.button if b.label == "Save action").click().run()
    assert at.error[0].value == "Choose the child this action is for; nothing was saved."
    assert sample_store.actions_frame().is_empty()
    assert next(t for t in at.text_area if t.label == "Note").value == "Spoke to the DSL; attendance plan agreed"
    child_id = next(s for s in at.selectbox if s.label == "Child").options[3]
    child_id = child_id[child_id.rindex("(") + 1 : -1]
    next(s for s in at.selectbox if s.label == "Child").set_value(child_id)
    next(b for b in at.button if b.label == "Save action").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Saved: Contacted school for ") for s in at.success)
    assert next(t for t in at.text_area if t.label == "Note").value == ""  # a fresh form for the next one
    stored = sample_store.actions_frame(child_id)
    assert stored.select("action", "note", "recorded_by").rows() == [
        ("Contacted school", "Spoke to the DSL; attendance plan agreed", "A. Officer")
    ]
    shown = at.dataframe[0].value
    row = shown[shown["la_child_id"] == child_id].iloc[0]
    assert (row["last_action"], row["follow_up"]) == (f"Contacted school {date.today():%d/%m/%Y} (A. Officer)", "")
    # A feed reload never touches actions: load the bundled children list again under a new name.
    from vsdash.ingest import SAMPLE_DATA, ingest_file

    copy = Path(db_url[len("sqlite:///") :]).parent / "children_resend.csv"
    copy.write_text((SAMPLE_DATA / "children.csv").read_text() + "\n")
    assert ingest_file(sample_store, copy, load_config()).status == "loaded"
    assert sample_store.actions_frame(child_id).height == 1


def test_a_follow_up_due_by_the_as_at_date_is_listed_until_marked_done(db_url, sample_store, frames):
    # A follow-up on 10/02/2026 is due at the sample's as-at date (13/02/2026), whatever today's date is; the
    # child is on the list for it even with no signal, and leaves the due view once marked done.
    signals = views.Figures(frames, load_config()).at(metrics.window_for(load_config(), LAST_DAY)).signals
    quiet = signals.filter(pl.col("urgency").is_null() & ~pl.col("no_attendance") & (pl.col("cohorts").list.len() > 0))
    quiet_child = quiet["la_child_id"][0]
    sample_store.add_action(quiet_child, "Contacted carer", "A. Officer", "call back", date(2026, 2, 10))
    later = sample_store.add_action(quiet["la_child_id"][1], "Note", "A. Officer", follow_up=date(2026, 2, 20))
    at = as_user(app(), sample_store, "A. Officer", "officer").run()
    at.switch_page("pages/triage.py").run()
    assert not at.exception, at.exception
    at.segmented_control(key="triage_view").set_value("due").run()
    shown = at.dataframe[0].value
    assert shown["la_child_id"].tolist() == [quiet_child]  # the follow-up on 20/02 is not due yet
    assert shown["priority"].iloc[0] == f"{views.FOLLOW_UP_RANK} Follow-up due"
    assert shown["follow_up"].iloc[0] == "10/02/2026 (due)"
    done = next(m for m in at.multiselect if m.label == "Follow-ups done")
    done.set_value([int(sample_store.actions_frame(quiet_child)["id"][0])])
    next(b for b in at.button if b.label == "Mark done").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "Marked done: 1 follow-up." for s in at.success)
    stored = sample_store.actions_frame(quiet_child).row(0, named=True)
    assert stored["done_by"] == "A. Officer" and stored["done_at"] is not None
    assert at.dataframe[0].value.empty  # nothing is due now
    assert "follow-up done" in sample_store.audit_frame()["event"].to_list()
    assert sample_store.actions_frame()["done_at"].is_null().sum() == 1 and later


def test_children_with_no_attendance_ever_are_counted_on_triage_not_listed(db_url, frames):
    signals = views.Figures(frames, load_config()).at(metrics.window_for(load_config(), LAST_DAY)).signals
    selected = views.selected_children(views.Figures(frames, load_config()), Filters(as_of=LAST_DAY))
    never = signals.join(selected.select("la_child_id"), on="la_child_id", how="semi").filter("no_attendance")
    assert never.height > 0
    at = signed_in_app(db_url).run()
    at.switch_page("pages/triage.py").run()
    assert not at.exception, at.exception
    assert any(i.value.startswith(f"{never.height:,} children in this selection have no attendance") for i in at.info)
    listed = set(at.dataframe[0].value["la_child_id"])
    # Only a child with another signal (a suspension, new to a cohort) is listed, for that signal.
    assert listed & set(never["la_child_id"]) == set(never.filter(pl.col("urgency").is_not_null())["la_child_id"])
    assert never.filter(pl.col("urgency").is_null()).height > 0
    assert all("no attendance ever" not in why and "None" not in why for why in at.dataframe[0].value["why"])
    assert not re.search(r"\d{4}-\d{2}-\d{2}", " ".join(at.dataframe[0].value["why"]))  # UK dates only


def test_an_action_is_recorded_from_the_child_page_for_that_child(db_url, sample_store, frames):
    child = frames.children.filter(pl.col("upn").is_not_null()).sort("la_child_id").row(0, named=True)
    at = as_user(app(), sample_store, "A. Officer", "officer")
    at.query_params["child"] = child["la_child_id"]
    at.run()
    at.switch_page("pages/child.py").run()
    assert any(
        f"For **{child['first_name']} {child['last_name']}** ({child['la_child_id']})" in m.value for m in at.markdown
    )
    next(s for s in at.selectbox if s.label == "Action").set_value("Contacted carer")
    next(b for b in at.button if b.label == "Save action").click().run()
    assert not at.exception, at.exception
    assert sample_store.actions_frame(child["la_child_id"]).select("action", "recorded_by").rows() == [
        ("Contacted carer", "A. Officer")
    ]
    assert any("Contacted carer" in d.value.to_csv() for d in at.dataframe)  # the page shows it at once


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
    assert [c.key for c in at.get("plotly_chart")] == ["weekly"]  # weekly attendance; the calendar is a table
    assert any("w/c " in h.proto.body for h in at.get("html"))


def test_a_child_s_identity_by_name_holds_every_column_of_the_list():
    assert [f.name for f in dataclasses.fields(views.Identity)] == list(CHILDREN_SCHEMA)
    named = views.Identity(**{c: None for c in CHILDREN_SCHEMA} | {"la_child_id": "C9", "last_name": "Okafor"})
    assert (
        named.name == "Okafor"
        and views.Identity(**{c: None for c in CHILDREN_SCHEMA} | {"la_child_id": "C9"}).name == "C9"
    )


def test_child_page_without_a_child_asks_for_one(db_url):
    at = app().run()
    at.switch_page("pages/child.py").run()
    assert not at.exception
    assert any("Choose a child" in i.value for i in at.info)


@pytest.mark.parametrize("page, title", [("pages/about.py", "About these figures"), ("pages/data.py", "Data quality")])
def test_other_pages_render(db_url, page, title):
    at = app().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value == title


def test_triage_priority_labels_are_the_glossary_s(db_url):
    at = app().run()
    at.switch_page("pages/triage.py").run()
    assert not at.exception, at.exception
    words = terms(load_config())
    shown = at.dataframe[0].value
    expected = {f"{rank} {words.of(signal).label}" for rank, signal in enumerate(triage.SIGNALS, start=1)}
    assert set(shown["priority"]) <= expected and len(set(shown["priority"])) > 2
    assert [m.label for m in at.metric][1:] == [
        words.of(s).label for s in ("severe_absence", "consecutive_unauthorised", "not_seen", "drift")
    ]


@pytest.fixture
def stricter_config(db_url, tmp_path, monkeypatch):
    """The project's configuration with persistent absence at 15% and severe absence at 40%."""
    text = (PROJECT_ROOT / "config" / "vsdash.yaml").read_text(encoding="utf-8")
    text, n = re.subn(r"persistent_absence_pct: 10\b", "persistent_absence_pct: 15", text)
    text, m = re.subn(r"severe_absence_pct: 50\b", "severe_absence_pct: 40", text)
    assert n == m == 1
    path = tmp_path / "vsdash.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("VSDASH_CONFIG", str(path))
    config_mod.cached_config.cache_clear()
    yield config_mod.load_config(path)
    config_mod.cached_config.cache_clear()


def test_about_page_and_child_chart_follow_the_configured_thresholds(stricter_config, frames):
    at = app().run()
    at.switch_page("pages/about.py").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert (
        "missed 15% or more" in text and "exactly 85.0% attendance" in text and "**Severe absence**: missed 40%" in text
    )
    assert "10%" not in text and "50%" not in text
    child = frames.children.filter(pl.col("upn").is_not_null()).sort("la_child_id")["la_child_id"][0]
    at.query_params["child"] = child
    at.switch_page("pages/child.py").run()
    assert not at.exception, at.exception
    spec = json.loads(next(c for c in at.get("plotly_chart") if c.key == "weekly").proto.spec)
    lines = {shape["y0"] for shape in spec["layout"]["shapes"]}
    words = {a["text"] for a in spec["layout"]["annotations"]}
    assert lines == {85, 60}
    assert words == {"85% or below: persistent absence", "60% or below: severe absence"}


def test_the_legacy_pages_folder_workaround_still_matches_streamlit():
    """ui.end_legacy_page_mode sets an internal Streamlit flag: an upgrade that renames it, stops setting it
    from a pages/ folder or stops reading it fails here, before it fails for a user."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    # Streamlit runs the legacy multipage mode (_mpa_v1) when this flag is set ...
    assert "if PagesManager.uses_pages_directory:" in inspect.getsource(script_runner.ScriptRunner)
    assert callable(script_runner._mpa_v1)
    saved = PagesManager.uses_pages_directory
    try:
        PagesManager.uses_pages_directory = None
        PagesManager(str(PROJECT_ROOT / "app.py"))
        assert PagesManager.uses_pages_directory is True  # ... sets it from the pages/ folder beside app.py ...
        ui.end_legacy_page_mode()
        assert PagesManager.uses_pages_directory is False  # ... and vsdash ends it.
    finally:
        PagesManager.uses_pages_directory = saved


# ---- live data (issue 5): the data-quality and upload pages ------------------------------------------------

SAMPLE_TEXT = {"UPN": pl.String, "AM": pl.String, "PM": pl.String, "LA Child ID": pl.String, "LA (code)": pl.String}


def _sample_csv(path: Path) -> pl.DataFrame:
    import gzip

    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return pl.read_csv(data, schema_overrides=SAMPLE_TEXT, infer_schema_length=None)


def _valid_upn(upn: str | None) -> bool:
    """Shape and check letter, worked out here with python-stdnum rather than vsdash's own check."""
    from stdnum.gb.upn import calc_check_digit

    return (
        upn is not None
        and len(upn) == 13
        and upn[0].isalpha()
        and upn[1:12].isdigit()
        and calc_check_digit(upn[1:]) == upn[0]
    )


@pytest.fixture(scope="module")
def sample_facts() -> dict:
    """The sample's faults counted straight from its files, independently of vsdash.quality."""
    from vsdash.ingest import SAMPLE_DATA

    attendance = pl.concat([_sample_csv(f) for f in sorted((SAMPLE_DATA / "attendance").iterdir())])
    attendance = attendance.filter(pl.col("UPN").map_elements(_valid_upn, return_dtype=pl.Boolean))
    attendance = attendance.with_columns(pl.col("Date").str.to_date())
    children = _sample_csv(SAMPLE_DATA / "children.csv").unique("LA Child ID")
    schools = _sample_csv(SAMPLE_DATA / "schools.csv")
    calendar = attendance["Date"].unique()
    last = attendance.group_by("URN").agg(pl.col("Date").max())
    list_upns = set(children["UPN"].drop_nulls().to_list())
    sent_upns = set(attendance["UPN"].to_list())
    matched = {c for c, u in children.select("LA Child ID", "UPN").rows() if u in sent_upns}
    outside = attendance.filter(~pl.col("UPN").is_in(list(list_upns)))
    carried = outside.filter(pl.col("LA Child ID").is_in(children["LA Child ID"].to_list()))
    suggested = set(carried["LA Child ID"].to_list()) - matched
    silent_last = last.filter(pl.col("URN") == 135060)["Date"].item()
    return {
        "silent_last": silent_last,
        "silent_days": int((calendar > silent_last).sum()),
        "never_sent": sorted(set(schools["URN"].to_list()) - set(attendance["URN"].to_list())),
        "listed": children.height,
        "matched": len(matched),
        "suggested": len(suggested),
        "no_data": children.height - len(matched) - len(suggested),
        "unknown": len(set(outside["UPN"].to_list()) - set(carried["UPN"].to_list())),
        "last_day": attendance["Date"].max(),
    }


def test_data_quality_page_shows_the_sample_faults(db_url, sample_facts):
    at = app().run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    facts = sample_facts
    assert facts["silent_last"] == date(2026, 1, 30) and 401690 in facts["never_sent"]  # as the sample's README says
    silent = [w.value for w in at.warning if "135060" in w.value]
    assert (
        len(silent) == 1
        and f"since {facts['silent_last']:%a %d/%m/%Y}: {facts['silent_days']} school days" in silent[0]
    )
    never = [e.value for e in at.error if "never sent" in e.value]
    assert sorted(int(re.search(r"\((\d{6}),", text).group(1)) for text in never) == facts["never_sent"]
    assert any("401690" in text and "Wrexham, out of area" in text for text in never)
    assert metric(at, "Never sent") == str(len(facts["never_sent"]))
    assert metric(at, "Silent schools") == "1"
    assert metric(at, "Latest school day") == f"{facts['last_day']:%d/%m/%Y}"
    assert metric(at, "Children on the list") == f"{facts['listed']:,}"
    assert metric(at, "Matched by UPN") == f"{facts['matched']:,}"
    assert metric(at, "Suggested matches") == f"{facts['suggested']:,}"
    assert metric(at, "No attendance found") == f"{facts['no_data']:,}"
    assert metric(at, "Unknown pupils") == f"{facts['unknown']:,}"
    assert metric(at, "Match rate") == f"{100 * facts['matched'] / facts['listed']:.1f}%"
    assert 77 <= 100 * facts["matched"] / facts["listed"] <= 90  # the field reports' range, roughly
    headers = [h.value for h in at.subheader]
    assert f"Unknown pupils ({facts['unknown']:,})" in headers
    assert {b.label for b in at.get("download_button")} >= {"Exceptions report (XLSX)", "Exceptions report (CSV)"}


def test_confirming_a_suggested_match_counts_it_everywhere(db_url, sample_store, sample_facts):
    at = as_user(app(), sample_store, "D. Manager", "admin").run()
    at.switch_page("pages/data.py").run()
    choices = at.multiselect(key="confirm_choices")
    upn = re.search(r"= (\w{13}) at", choices.options[0]).group(1)  # options show the child; the value is the UPN
    choices.select(upn).run()
    at.button(key="confirm_matches").click().run()
    assert not at.exception, at.exception
    assert metric(at, "Confirmed matches") == "1"
    assert metric(at, "Suggested matches") == f"{sample_facts['suggested'] - 1:,}"
    assert any("Confirmed 1 match" in s.value for s in at.success)
    assert sample_store.aliases_frame()["confirmed_by"].to_list() == ["D. Manager"]


def test_the_dashboard_picks_up_a_new_load_without_a_restart(db_url, sample_store, tmp_path):
    """The shared cache is keyed by the data version: a load is seen by the next rerun, with no cache cleared
    by hand."""
    at = as_user(app(), sample_store, "D. Manager", "admin").run()
    at.switch_page("pages/data.py").run()
    assert metric(at, "Latest school day") == "13/02/2026"
    from vsdash.ingest import ingest_file

    new_day = tmp_path / "attendance_2026-02-23.csv"
    new_day.write_text(
        "UPN,URN,Date,AM,PM\n"
        + "".join(
            f"{upn},135060,2026-02-23,/,\\\n"
            for upn in sample_store.marks().filter(pl.col("urn") == 135060)["upn"].unique().sort()
        )
    )
    assert ingest_file(sample_store, new_day, load_config()).status == "loaded"
    at.run()
    assert not at.exception, at.exception
    assert metric(at, "Latest school day") == "23/02/2026"
    assert metric(at, "Silent schools") == "0"  # 135060 is sending again
    assert not [w for w in at.warning if "135060" in w.value]


def test_upload_previews_then_loads_on_confirm(db_url, sample_store):
    at = as_user(app(), sample_store, "D. Manager", "admin").run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Upload feeds"
    store = sample_store
    before = store.load_log_frame().height
    upns = store.marks().filter(pl.col("date") == LAST_DAY).head(3)
    text = "UPN,URN,Date,AM,PM\n" + "".join(
        f"{r['upn']},{r['urn']},2026-02-13,/,\\\n" for r in upns.iter_rows(named=True)
    )
    text += "BAD,123456,2026-02-16,/,/\n" + f"{upns['upn'][0]},{upns['urn'][0]},2026-02-16,L,/\n"
    at.file_uploader[0].set_value(("attendance_fix.csv", text.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert any(c.value == "Recognised as an attendance file." for c in at.caption)
    assert metric(at, "Rows to load") == "4"
    assert metric(at, "Rows rejected") == "1"
    assert metric(at, "Stored rows replaced") == "3"
    assert at.dataframe[0].value["column"].tolist() == ["UPN"]
    assert store.load_log_frame().height == before  # nothing written by the preview
    at.button(key="confirm_upload").click().run()
    assert not at.exception, at.exception
    assert store.load_log_frame().height == before + 1
    assert any("attendance_fix.csv: attendance: loaded 4, replaced 3, rejected 1" in c.value for c in at.code)


def test_upload_is_for_the_admin_only(db_url, sample_store):
    at = as_user(app(), sample_store, "A. Officer", "officer").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # no entry, so no URL
        at.switch_page("pages/upload.py")
    page = AppTest.from_file(str(PROJECT_ROOT / "pages" / "upload.py"), default_timeout=90)
    page.session_state[ui.SIGNED_IN] = "A. Officer"
    page.run()  # and the page itself refuses
    assert not page.exception, page.exception
    assert any("officer role may not open this page" in e.value for e in page.error)
    assert not page.file_uploader


def test_child_page_agrees_with_the_whole_authority_figures(db_url, frames):
    # The child page works one child out alone; its figures and signals must equal the authority-wide ones.
    cfg = load_config()
    figures = views.Figures(frames, cfg)
    filters = Filters(as_of=LAST_DAY)
    at = figures.of(filters)
    flagged = at.signals.filter(pl.col("not_seen") | pl.col("drift") | pl.col("severe_absence")).head(5)
    assert flagged.height == 5
    for row in flagged.iter_rows(named=True):
        page = views.child_page(figures, row["la_child_id"], filters)
        whole = at.children.filter(pl.col("la_child_id") == row["la_child_id"]).row(0, named=True)
        assert dataclasses.asdict(page.figures) == whole
        assert {f: row[f] for f in dataclasses.asdict(page.signals)} == dataclasses.asdict(page.signals)
        assert page.identity.la_child_id == row["la_child_id"] and page.signals.reasons == row["reasons"]


def test_what_moved_lists_only_groups_of_at_least_the_configured_size(frames):
    cfg = load_config()
    smallest = cfg.thresholds.what_moved_min_children
    result = views.overview(views.Figures(frames, cfg), Filters(as_of=LAST_DAY))
    assert result.moved_schools.height and result.moved_teams.height
    assert min(result.moved_schools["children"]) >= smallest and min(result.moved_teams["children"]) >= smallest
    # Without the floor, small schools lead the list: the rule changes what a meeting sees.
    then = views.selected_children(views.Figures(frames, cfg), views.last_month_filters(Filters(as_of=LAST_DAY)))
    now = views.selected_children(views.Figures(frames, cfg), Filters(as_of=LAST_DAY))
    assert min(metrics.what_moved(now, then, "school_urn")["children"]) < smallest


@pytest.mark.parametrize(
    ("wanted", "said"),
    [
        ("NOPE123", "No child with LA child ID NOPE123 is on the list"),
        ("**bold**", "No child with that LA child ID is on the list"),
    ],
)
def test_an_unknown_child_in_the_url_is_said(db_url, wanted, said):
    at = app()
    at.query_params["child"] = wanted
    at.run()
    at.switch_page("pages/child.py").run()
    assert not at.exception, at.exception
    assert at.warning[0].value.startswith(said)


def test_filters_travel_in_the_url_as_codes_and_a_value_that_cannot_be_used_is_said(db_url, frames):
    at = app()
    for key, value in {"cohort": "CP", "area": "in", "ehcp": "no", "school_urn": "not-a-urn"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="cohort").value == "CP" and at.selectbox(key="area").value == "in"
    assert at.selectbox(key="ehcp").value is False
    assert [w.value for w in at.sidebar.warning] == ["Unknown school “not-a-urn” ignored."]
    # The URL keeps the codes the filters hold (not "CP: Child protection plan").
    assert at.query_params["cohort"] == "CP" and at.query_params["area"] == "in"
    assert at.query_params["ehcp"] == "no" and "school_urn" not in at.query_params
    expected = expected_headline(frames, Filters(as_of=LAST_DAY, cohort="CP", area="in", ehcp=False))
    assert metric(at, "Children") == f"{expected['children']:,}"
    at.selectbox(key="cohort").set_value("CLA").run()
    assert at.query_params["cohort"] == "CLA"
    at.selectbox(key="cohort").set_value(None).run()
    assert "cohort" not in at.query_params


def test_a_from_date_after_the_as_at_date_is_explained(db_url):
    at = app()
    at.query_params["cohort"] = "XYZ"
    at.query_params["as_of"] = "2026-02-06"
    at.query_params["start"] = "2026-02-10"
    at.run()
    assert not at.exception, at.exception
    assert [w.value for w in at.sidebar.warning] == [
        "Unknown cohort “XYZ” ignored.",
        "The From date 10/02/2026 is after the as-at date 06/02/2026: the window starts at the academic year's "
        "start instead. Choose an earlier From date.",
    ]
    beyond = app()
    beyond.query_params["as_of"] = "2099-01-01"
    beyond.run()
    assert [w.value for w in beyond.sidebar.warning] == [
        "As-at date “2099-01-01” is not a date within the data loaded: ignored."
    ]
