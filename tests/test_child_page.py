"""The child's page reads like a register: its tables in people's words, the calendar as a table, the summary
ready to print in a new tab (AppTest on the sample authority, and one real browser)."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from test_browser import browser, need_chromium, running_app  # noqa: F401 (browser: a fixture)
from test_pages import db_url, frames, sample_store, signed_in_app  # noqa: F401 (fixtures)

from vsdash.child_search import FOUND
from vsdash.config import PROJECT_ROOT, load_config
from vsdash.ingest import SAMPLE_DATA
from vsdash.store import Store

CFG = load_config()
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def suspended_child() -> str:
    """The child with the earliest suspension giving two reasons (in school since September): every table has
    rows and the calendar has marks from its first weeks."""
    children = pl.read_csv(SAMPLE_DATA / "children.csv", infer_schema_length=0)
    suspensions = pl.read_csv(SAMPLE_DATA / "suspensions.csv", infer_schema_length=0)
    twice = suspensions.filter(pl.col("Reason 2").is_not_null())
    return children.join(twice, on="UPN").sort("Start Date_right", "LA Child ID")["LA Child ID"][0]


CHILD = suspended_child()


@pytest.fixture
def child_page(db_url):
    at = signed_in_app(db_url)
    at.query_params["child"] = CHILD
    at.run()
    at.switch_page("pages/child.py").run()
    assert not at.exception, at.exception
    return at


def child_app(db_url: str, **limits):
    """The Child page with no child chosen yet, signed in (as an officer of `limits` when given)."""
    at = signed_in_app(db_url, "officer", "A. Officer", **limits) if limits else signed_in_app(db_url)
    at.run()
    at.switch_page("pages/child.py").run()
    assert not at.exception, at.exception
    return at


def offered(at) -> dict[str, str]:
    """The children the finder lists: LA child ID to the label of the button that opens them."""
    return {b.key.removeprefix(FOUND): b.label for b in at.button if b.key and b.key.startswith(FOUND)}


def search(at, words: str) -> dict[str, str]:
    """Type into the finder (it runs again as the typing pauses) and return the children it lists."""
    at.text_input(key="child_search").set_value(words).run()
    assert not at.exception, at.exception
    return offered(at)


def starts_a_word(words: str, child: dict) -> bool:
    """Whether one typed word starts a word of the child's name, or their LA child ID or UPN (worked out here
    without the search module, to check it)."""
    name = f"{child['first_name'] or ''} {child['last_name'] or ''}".lower().replace("-", " ").replace("'", "")
    ids = [str(child[c]).lower() for c in ("la_child_id", "upn") if child[c]]
    return any(w.startswith(words) for w in name.split()) or any(i.startswith(words) for i in ids)


def test_a_name_typed_in_any_order_lists_the_child_and_choosing_opens_their_page(db_url, frames):
    child = frames.children.filter(pl.col("la_child_id") == CHILD).row(0, named=True)
    at = child_app(db_url)
    assert any(i.value.startswith("Choose a child above") for i in at.info) and not offered(at)
    listed = search(at, f"{child['last_name'].upper()} {child['first_name'][:2].lower()}")
    assert f"(LA child ID {CHILD}," in listed[CHILD]
    assert not at.header  # nothing opens until a child is chosen
    at.button(key=FOUND + CHILD).click().run()
    assert not at.exception, at.exception
    assert at.header[0].value == f"{child['first_name']} {child['last_name']}"
    assert at.query_params["child"] == CHILD
    at.run()  # a rerun keeps the child
    assert at.header[0].value == f"{child['first_name']} {child['last_name']}"
    search(at, "zzzz")  # another search: the child stays open until another is chosen
    assert any("No child matches" in c.value for c in at.caption)
    assert at.header[0].value == f"{child['first_name']} {child['last_name']}" and at.query_params["child"] == CHILD


def test_a_short_start_lists_twenty_children_and_counts_the_rest(db_url, frames):
    rows = frames.children.sort("last_name", "first_name", "la_child_id").to_dicts()
    matching = [r for r in rows if starts_a_word("s", r)]
    assert len(matching) > 20  # the sample has hundreds
    at = child_app(db_url)
    assert list(search(at, "S")) == [r["la_child_id"] for r in matching[:20]]
    assert f"Showing 20 of {len(matching):,} matches; type more of the name." in [c.value for c in at.caption]


def test_a_child_from_the_triage_page_opens_directly(db_url):
    at = signed_in_app(db_url)
    at.run()
    at.session_state["open_child"] = CHILD
    at.switch_page("pages/child.py").run()
    assert not at.exception, at.exception
    assert at.header and at.query_params["child"] == CHILD and at.text_input(key="child_search").value == ""


def test_an_officer_cannot_find_another_team_s_child(db_url, frames):
    team = "North Children in Care"
    other = frames.children.filter(pl.col("team").is_not_null() & (pl.col("team") != team)).row(0, named=True)
    at = child_app(db_url, teams=[team])
    assert search(at, other["la_child_id"]) == {}
    assert any(c.value.startswith("No child among your teams, schools and localities matches") for c in at.caption)
    assert other["la_child_id"] not in search(at, f"{other['first_name']} {other['last_name']}")
    at.query_params["child"] = other["la_child_id"]  # nor open them by the URL
    at.run()
    assert not at.exception, at.exception
    assert at.warning[0].value.startswith(
        f"No child with LA child ID {other['la_child_id']} is on the list among your teams"
    )
    assert not at.header


def headers(table) -> dict[str, str]:
    """A table's columns and the header each is shown under (its column configuration's label)."""
    config = json.loads(table.proto.columns)
    return {column: config.get(column, {}).get("label", column) for column in table.value.columns}


def test_no_table_on_the_child_page_shows_a_raw_column_name(child_page):
    tables = [headers(t) for t in child_page.dataframe]
    assert len(tables) == 4  # cohorts, suspensions, schools, actions
    for shown in tables:
        for column, label in shown.items():
            assert label != column and "_" not in label, f"{column} shown as {label!r}"
    every = {label for shown in tables for label in shown.values()}
    assert {"Cohort", "From", "To (blank: still open)", "Reasons", "Local authority", "URN", "Recorded at"} <= every


def test_the_tables_say_what_codes_mean(child_page):
    values = " | ".join(t.value.to_csv() for t in child_page.dataframe)
    assert re.search(r"[A-Z]{2}: [A-Z][a-z]+", values), "a reason code with its meaning"
    suspensions = next(t.value for t in child_page.dataframe if "reasons" in t.value.columns)
    reasons = suspensions["reasons"].dropna().tolist()
    assert reasons and all(": " in r for r in reasons)
    assert any(
        part.split(": ")[1] == CFG.suspension_reasons[part.split(": ")[0]] for r in reasons for part in r.split("; ")
    )
    assert set(suspensions["category"]) <= {"Suspension", "Permanent exclusion"}
    cohorts = next(t.value for t in child_page.dataframe if "cohort" in t.value.columns)["cohort"].tolist()
    assert all(re.fullmatch(r".+ \([A-Z0-9]+\)", c) for c in cohorts) and any(
        c == f"{CFG.cohorts[c[c.rindex('(') + 1 : -1]]} ({c[c.rindex('(') + 1 : -1]})" for c in cohorts
    )
    schools = next(t.value for t in child_page.dataframe if "local_authority" in t.value.columns)
    assert all(re.fullmatch(r"\d{3} \S.*", la) for la in schools["local_authority"])
    words = [v for t in child_page.dataframe for v in t.value.to_numpy().ravel() if isinstance(v, str)]
    assert not [w for w in words if w in ("None", "null") or "_" in w or "00:00:00" in w]
    assert "None" not in " ".join(c.value for c in child_page.caption)
    assert re.search(r"born \d{2}/\d{2}/\d{4}", " ".join(c.value for c in child_page.caption))


def test_the_calendar_is_a_table_of_weeks_with_codes(child_page):
    calendar = next(h.proto.body for h in child_page.get("html") if "vs-register" in h.proto.body)
    weeks = re.findall(r'<th scope="row">w/c (\d{2}/\d{2}/\d{4})</th>', calendar)
    assert len(weeks) >= 20 and len(set(weeks)) == len(weeks)
    assert "no school days" in calendar  # the sample's half-term and Christmas weeks
    assert re.search(r'title="Mon \d{2}/\d{2}/\d{4} AM: /, Present \(AM\)">/</td>', calendar)


def test_the_printable_summary_is_an_audited_export_that_opens_to_print(child_page, db_url):
    assert not child_page.get("iframe")  # nothing is built until asked for
    child_page.button(key="summary_print").click().run()
    assert not child_page.exception, child_page.exception
    opener = child_page.get("iframe")
    assert len(opener) == 1 and "Open the summary to print" in opener[0].proto.srcdoc
    assert "window.open(url" in opener[0].proto.srcdoc and "@media print" in opener[0].proto.srcdoc
    store = Store(db_url)
    try:
        exports = store.audit_frame("export")
    finally:
        store.dispose()
    assert exports.height == 1 and f"attendance_summary_{CHILD}.html" in exports["detail"][0]


@pytest.mark.browser
def test_the_child_s_calendar_draws_and_the_summary_opens_in_a_new_tab(browser, tmp_path):
    need_chromium()
    with running_app(f"sqlite:///{tmp_path / 'vsdash.db'}") as url:
        # Tall enough for the whole calendar: Streamlit scrolls inside its own container, not the page.
        context = browser.new_context(viewport={"width": 1440, "height": 2400})
        page = context.new_page()
        page.goto(url, timeout=60_000)  # the address first: this ends Streamlit's start-up legacy page mode
        page.wait_for_selector("h1:has-text('Overview')", timeout=120_000)
        page.goto(f"{url}/child?child={CHILD}", timeout=60_000)
        page.wait_for_selector("table.vs-register", timeout=120_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        page.wait_for_function("document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0")
        page.wait_for_timeout(500)  # the weekly chart's drawing
        cell = page.locator("table.vs-register td[title]").first
        assert float(cell.evaluate("c => parseFloat(getComputedStyle(c).fontSize)")) >= 12
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "child_calendar.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0

        page.get_by_role("button", name="Printable summary").click()
        opener = page.frame_locator("iframe[srcdoc*='Open the summary to print']")
        with context.expect_page(timeout=30_000) as opened:
            opener.get_by_role("button", name="Open the summary to print").click()
        summary = opened.value
        summary.wait_for_load_state()
        assert summary.url.startswith("blob:")
        assert summary.title().startswith("Attendance summary: ")
        assert summary.locator("table.vs-register").count() == 1
        summary.emulate_media(media="print")  # as it prints: A4 styles, colours kept
        summary.screenshot(path=str(ARTIFACTS / "child_summary_print.png"), full_page=True)
        context.close()
