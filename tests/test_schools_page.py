"""The Schools page through AppTest: normal and forum mode, the forum role always in forum mode, and no
child's identity or small count anywhere on the forum's page or its downloads."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
import pytest

from tests.test_browser import SHOTS, open_page
from tests.test_browser import app_url as app_url
from tests.test_browser import browser as browser
from tests.test_browser import opened as opened
from tests.test_pages import LAST_DAY, app, signed_in_app
from tests.test_pages import db_url as db_url
from tests.test_pages import frames as frames
from tests.test_pages import sample_store as sample_store
from vsdash import auth, export, metrics, schools, views
from vsdash.access import AccessDenied, DataAccess
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


# ---- a school opened ---------------------------------------------------------------------------------


def busiest_school(frames) -> tuple[int, pl.DataFrame]:
    """The sample's school with the most selected children, and those children's per-child figures."""
    children = views.selected_children(views.Figures(frames, load_config()), Filters(as_of=LAST_DAY))
    urn = children.group_by("school_urn").len().drop_nulls().sort("len", "school_urn", descending=True)[0, "school_urn"]
    return urn, children.filter(pl.col("school_urn") == urn)


def table_with(at, column: str):
    """The page's table holding this column, or None: the school's figures are the only one with the
    authority's figures beside ("authority_attendance_pct"), its children the only one with "la_child_id"."""
    return next((d for d in at.dataframe if column in d.value.columns), None)


def schools_page(at, school: str | None = None):
    """The Schools page opened from a link with `?school=` (None: none asked for), drawn without an error."""
    if school is not None:
        at.query_params["school"] = school
    at.run()
    at.switch_page("pages/schools.py").run()
    assert not at.exception, at.exception
    return at


def test_a_school_opened_from_the_list_shows_its_trend_figures_and_audited_children(db_url, frames, sample_store):
    urn, mine = busiest_school(frames)
    at = schools_page(app())
    assert table_with(at, "la_child_id") is None  # nothing opened yet
    at.selectbox(key="open_school").set_value(urn).run()
    assert not at.exception, at.exception
    name = frames.schools.filter(pl.col("urn") == urn)["name"][0]
    assert [h.value for h in at.header] == [name]
    assert at.query_params["school"] == str(urn)  # a link to what is open
    assert {c.key for c in at.get("plotly_chart")} >= {
        "school_trend_attendance_pct",
        "school_trend_persistent_absence_rate",
    }
    everyone = frame_of(table_with(at, "authority_attendance_pct")).row(0, named=True)
    expected = metrics.aggregate(mine, []).row(0, named=True)
    assert everyone["children"] == expected["children"] == mine.height
    assert everyone["attendance_pct"] == pytest.approx(expected["attendance_pct"])
    listed = frame_of(table_with(at, "la_child_id"))
    assert sorted(listed["la_child_id"].to_list()) == sorted(mine["la_child_id"].to_list())
    log = sample_store.audit_frame(event=auth.SCHOOL_CHILDREN_LISTED)
    assert log.height == 1 and log["detail"][0].startswith(f"URN {urn}: ")
    at.toggle(key="forum_schools").set_value(True).run()  # forum mode: the same school, no child
    assert not at.exception, at.exception
    assert table_with(at, "la_child_id") is None and table_with(at, "authority_attendance_pct") is not None
    assert_forum_safe(at, sample_store)


def test_a_school_opens_from_its_link(db_url, frames):
    urn, mine = busiest_school(frames)
    at = schools_page(signed_in_app(db_url, role="officer", name="O. Officer"), str(urn))
    assert at.selectbox(key="open_school").value == urn
    assert [h.value for h in at.header] == [frames.schools.filter(pl.col("urn") == urn)["name"][0]]
    assert frame_of(table_with(at, "la_child_id")).height == mine.height


@pytest.mark.parametrize(
    ("wanted", "said"),
    [("999999", "No school with URN 999999 is on the schools list"), ("abc", "URN abc is not a school's URN")],
)
def test_an_unknown_school_in_the_link_is_said(db_url, wanted, said):
    at = schools_page(app(), wanted)
    assert any(said in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.header and table_with(at, "la_child_id") is None


def test_the_forum_opens_a_school_without_its_children(db_url, frames, sample_store):
    urn, _ = busiest_school(frames)
    at = schools_page(signed_in_app(db_url, role="forum", name="F. Forum"), str(urn))
    assert [h.value for h in at.header] == [frames.schools.filter(pl.col("urn") == urn)["name"][0]]
    assert table_with(at, "authority_attendance_pct") is not None and table_with(at, "la_child_id") is None
    assert_forum_safe(at, sample_store)
    page_text = [*(h.value for h in at.header), *(c.value for c in at.caption), *(s.value for s in at.subheader)]
    assert not [k for k in identities(sample_store) if any(k in text for text in page_text)]
    assert sample_store.audit_frame(event=auth.SCHOOL_CHILDREN_LISTED).is_empty()
    with pytest.raises(AccessDenied):
        DataAccess(sample_store, load_config(), User("F. Forum", "forum")).school_detail(
            urn, Filters(as_of=LAST_DAY), children=True
        )


@pytest.mark.browser
def test_a_child_on_an_opened_school_s_list_opens_their_page(opened, browser, frames):
    """The officer's path in a real browser: a link opens the school, a row of its children opens the child."""
    urn, mine = busiest_school(frames)
    page = open_page(browser, f"{opened}/schools?school={urn}")
    page.wait_for_selector("h2", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("h2").first.scroll_into_view_if_needed()  # the page scrolls inside its own container
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "schools_opened.png"))
    page.locator("h3:has-text('Beside the authority')").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "schools_opened_figures.png"))
    grid = page.locator(".st-key-school_children [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "schools_opened_children.png"))
    first = schools.on_roll(mine, frames.children, urn).row(0, named=True)  # the lowest attendance comes first
    corner = grid.bounding_box()
    page.mouse.click(corner["x"] + 12, corner["y"] + 52)  # the selection box of the first row
    page.wait_for_url(f"**/child?child={first['la_child_id']}**", timeout=60_000)
    page.wait_for_selector(f"h2:has-text('{first['child']}')", timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()
