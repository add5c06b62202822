"""The Overview as the performance meeting sees it (issue 14): comparisons on every card, no raw column names,
a table behind every chart, lists narrowed by locality, and legible at 1440 px and on a 1280x720 projector."""

from __future__ import annotations

import json
import re

import pytest
from test_browser import SHOTS, browser, need_chromium, running_app  # noqa: F401 (browser: a fixture)
from test_pages import LAST_DAY, app, db_url  # noqa: F401 (db_url: a fixture)

from vsdash import views
from vsdash.config import load_config
from vsdash.glossary import COLUMNS


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_cards_compare_with_last_month_last_year_and_england(db_url):
    at = app().run()
    at.selectbox(key="cohort").set_value("CIN").run()
    assert not at.exception, at.exception
    text = "\n".join(captions(at))
    last_year = f"{LAST_DAY.replace(year=LAST_DAY.year - 1):%d/%m/%Y}"
    assert text.count(f"Same point last year ({last_year})") == len(at.metric)
    for line in ("CIN (not CP or CLA): ", "National 2024/25: 82.6%", "National 2024/25: 46.0%"):
        assert line in text
    assert "All pupils nationally 2023/24: 4.04%" in text and "All pupils nationally 2023/24: 0.13%" in text
    assert "Outcomes for children in need" in text  # the source and year are said
    month_ago = f"vs {views.month_before(LAST_DAY):%d/%m/%Y}"  # the pill says the date it compares with
    assert all(m.proto.delta_description == month_ago for m in at.metric if m.proto.delta)


def test_every_chart_has_a_caption_and_a_table_of_its_figures(db_url):
    at = app().run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    tables = [e for e in at.expander if e.label == "The figures in this chart"]
    breakdowns = 2  # by locality and by team: their tables stand under the chart, not in an expander
    assert len(charts) == len(tables) + breakdowns and len(tables) == 4
    for chart in charts:
        spec = json.loads(chart.proto.spec)
        assert spec["layout"]["font"]["size"] >= 14
        names = {t.get("name") for t in spec["data"] if t.get("name")}
        assert not names & set(load_config().cohorts), "legends name cohorts by their labels, not codes"
    england = [
        json.loads(c.proto.spec)
        for c in charts
        if "DfE groups" in json.dumps(json.loads(c.proto.spec)["layout"]["title"])
    ]
    assert england and all(
        any(a["text"].startswith("England 2024/25") for a in spec["layout"]["annotations"]) for spec in england
    )


def test_no_table_shows_a_raw_column_name(db_url):
    at = app().run()
    assert not at.exception, at.exception
    assert at.dataframe
    for table in at.dataframe:
        settings = json.loads(table.proto.columns)
        for column in table.value.columns:
            label = (settings.get(column) or {}).get("label")
            assert label, f"column {column} has no header of its own"
            assert not re.search(r"[a-z]_[a-z]", label), f"raw name {label}"
    assert {"dfe_group", "national_attendance_pct"} <= set(COLUMNS)


def test_one_locality_lists_its_teams_and_breaks_down_by_team(db_url, frames):
    at = app().run()
    every_team = at.selectbox(key="team").options
    at.selectbox(key="locality").set_value("North").run()
    assert not at.exception, at.exception
    north = sorted(frames.children.filter(frames.children["locality"] == "North")["team"].drop_nulls().unique())
    assert at.selectbox(key="team").options == north and len(north) < len(every_team)
    headings = [h.value for h in at.subheader]
    assert "By social-care team in North" in headings and "By locality" not in headings


@pytest.fixture
def frames(db_url):
    from vsdash.store import Store

    store = Store(db_url)
    yield store.frames(load_config())
    store.dispose()


@pytest.mark.browser
def test_screenshots_at_1440_and_on_a_1280x720_projector(db_url, browser):
    """The drawn page at both sizes, into test-artifacts/; every download button shows its whole label."""
    need_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_app(db_url) as url:
        for width, height in [(1440, 900), (1280, 720)]:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, timeout=60_000)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
            page.wait_for_selector("h1:has-text('Overview')", timeout=60_000)
            page.wait_for_function(
                "!document.querySelector('[data-testid=stSkeleton], [data-testid=stSpinner]')", timeout=60_000
            )
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            assert not page.query_selector("[data-testid='stException']")
            page.screenshot(path=str(SHOTS / f"overview_{width}.png"))
            # Scroll to the breakdowns and screenshot them too.
            page.locator("h3:has-text('By locality')").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"overview_{width}_breakdown.png"))
            cut = page.evaluate(
                "[...document.querySelectorAll('[data-testid=stDownloadButton] button')]"
                ".filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText)"
            )
            assert cut == [], f"download buttons cut short at {width} px: {cut}"
            page.close()


def test_the_comparisons_name_their_groups():
    assert views.comparison_groups(load_config(), "CWSW") == ["CP", "CIN"]
    assert views.comparison_groups(load_config(), "EVER6") == []
