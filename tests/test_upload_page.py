"""The upload page keeps every upload, and no page ever shows a traceback (AppTest on the sample authority)."""

from __future__ import annotations

import tomllib

import polars as pl
import pytest
from streamlit import config as st_config
from test_pages import LAST_DAY, app, db_url, signed_in_app  # noqa: F401  (db_url is the fixture: a private copy of the sample)

from vsdash import export
from vsdash.access import DataAccess
from vsdash.config import PROJECT_ROOT
from vsdash.store import Store


def attendance(store: Store, skip: int, n: int = 2) -> bytes:
    """An attendance file re-sending n of the last day's marks (a different n for a different `skip`)."""
    marks = store.marks().filter(pl.col("date") == LAST_DAY).sort("upn").slice(skip, n)
    return (
        "UPN,URN,Date,AM,PM\n"
        + "".join(f"{r['upn']},{r['urn']},{LAST_DAY},/,\\\n" for r in marks.iter_rows(named=True))
    ).encode()


def upload(at, files: list[tuple[str, bytes]]):
    """Choose files in the uploader, as a browser sends them."""
    at.switch_page("pages/upload.py").run()
    return at.file_uploader[0].set_value([(name, data, "text/csv") for name, data in files]).run()


def test_two_uploads_with_the_same_name_are_both_previewed_and_loaded(db_url):
    store = Store(db_url)
    before = store.load_log_frame().height
    at = upload(
        signed_in_app(db_url).run(),
        [("attendance.csv", attendance(store, 0)), ("attendance.csv", attendance(store, 2, 3))],
    )
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == ["attendance.csv", "attendance (2).csv"]
    assert [m.value for m in at.metric if m.label == "Rows to load"] == ["2", "3"]
    assert any(c.value.startswith("Uploaded as “attendance.csv”: renamed") for c in at.caption)
    at.button(key="confirm_upload").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Loaded.")
    assert at.code[0].value.splitlines() == [
        "attendance.csv: attendance: loaded 2, replaced 2, rejected 0",
        "attendance (2).csv: attendance: loaded 3, replaced 3, rejected 0",
    ]
    assert store.load_log_frame().height == before + 2


def test_a_name_with_a_folder_separator_is_previewed_and_loaded(db_url):
    store = Store(db_url)
    at = upload(signed_in_app(db_url).run(), [("reports/attendance.csv", attendance(store, 0))])
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == ["reports_attendance.csv"]
    at.button(key="confirm_upload").click().run()
    assert not at.exception, at.exception
    assert at.code[0].value == "reports_attendance.csv: attendance: loaded 2, replaced 2, rejected 0"


def test_a_file_that_cannot_load_is_said_and_the_others_still_load(db_url):
    store = Store(db_url)
    at = upload(
        signed_in_app(db_url).run(),
        [("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00"), ("attendance.csv", attendance(store, 0))],
    )
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "This file cannot be loaded: this is not a CSV or XLSX file (it contains binary data)"
    ]
    at.button(key="confirm_upload").click().run()
    assert at.code[0].value == "attendance.csv: attendance: loaded 2, replaced 2, rejected 0"


@pytest.fixture
def error_details():
    """Set client.showErrorDetails for one test, as the deployment's config.toml or a developer's flag does."""
    before = st_config.get_option("client.showErrorDetails")
    yield lambda value: st_config.set_option("client.showErrorDetails", value)
    st_config.set_option("client.showErrorDetails", before)


def test_a_failing_page_shows_one_sentence_and_no_traceback(db_url, monkeypatch, error_details):
    error_details("none")

    def broken(self):
        raise RuntimeError("the week summary is missing a column")

    monkeypatch.setattr(DataAccess, "filter_options", broken)
    at = app().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This page could not be shown: an unexpected problem (RuntimeError: the week summary is missing a column); "
        "the details are in the vsdash log: please send it to your support contact."
    ]


def test_a_developer_who_asks_for_details_gets_the_real_exception(db_url, monkeypatch, error_details):
    error_details("full")
    monkeypatch.setattr(DataAccess, "filter_options", lambda self: 1 / 0)
    at = app().run()
    assert "ZeroDivisionError" in at.exception[0].value or "division by zero" in at.exception[0].message


def test_st_stop_and_rerun_pass_through_the_page_wrapper(db_url, error_details):
    error_details("none")
    at = signed_in_app(db_url).run()
    at.switch_page("pages/upload.py").run()  # no files chosen: the page calls st.stop()
    assert not at.exception and not at.error
    assert at.info[0].value.startswith("Choose one or more files")


def test_streamlit_is_configured_to_hide_error_details_and_developer_tools():
    client = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())["client"]
    assert client == {"showErrorDetails": "none", "toolbarMode": "viewer"}
    assert client["showErrorDetails"] in {o.value for o in st_config.ShowErrorDetailsConfigOptions}


def test_download_file_names_carry_the_selection_and_as_at_date(db_url, monkeypatch):
    names: list[str] = []
    real = export.file_name
    monkeypatch.setattr(export, "file_name", lambda *args: names.append(real(*args)) or names[-1])
    at = app().run()
    at.switch_page("pages/triage.py").run()
    at.selectbox(key="cohort").set_value("CP").run()
    assert not at.exception, at.exception
    assert f"triage_CP_as-at-{LAST_DAY}.csv" in names and f"triage_CP_as-at-{LAST_DAY}.xlsx" in names


def test_a_file_loaded_before_is_left_out_and_confirm_is_disabled(db_url):
    store = Store(db_url)
    data = attendance(store, 0)
    at = upload(signed_in_app(db_url).run(), [("attendance.csv", data)])
    at.button(key="confirm_upload").click().run()
    at = upload(at, [("attendance_again.csv", data)])
    assert not at.exception, at.exception
    assert any("loaded before" in i.value and "left out" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label == "Rows to load"]  # no "replaced" count beside "nothing"
    confirm = at.button(key="confirm_upload")
    assert confirm.disabled and confirm.label == "Nothing new to load"
    store.dispose()
