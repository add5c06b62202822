"""Every chart on every page saves as a PNG fit for a projector (the camera button always there, twice the
screen's size, named by the chart and the selection); in forum mode the charts are one per row in the
projector's larger text, and normal mode keeps its charts side by side (issue 15)."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import polars as pl
import pytest

from tests.test_pages import LAST_DAY, app, signed_in_app
from tests.test_pages import db_url as db_url
from tests.test_pages import frames as frames
from tests.test_pages import sample_store as sample_store
from vsdash import charts
from vsdash.config import PROJECT_ROOT

AS_AT = f"as-at-{LAST_DAY:%Y-%m-%d}"


def chart_configs(at) -> dict[str, dict]:
    """Each chart's Plotly configuration, by its key."""
    return {chart.key: json.loads(chart.proto.config) for chart in at.get("plotly_chart")}


def assert_png_ready(at) -> None:
    """Every chart drawn has the camera button, saves a PNG at scale 2 named by its title and the as-at date."""
    configs = chart_configs(at)
    assert configs, "the page draws charts: the test can fail"
    for key, config in configs.items():
        png = config["toImageButtonOptions"]
        assert (png["format"], png["scale"]) == ("png", 2), key
        assert png["filename"].endswith(AS_AT) and not png["filename"].startswith(AS_AT), (key, png["filename"])
        assert config["displayModeBar"] is True and config["displaylogo"] is False, key


def opened(at, page: str | None, forum_key: str | None = None):
    """The app on a page (Overview when None), with its forum switch turned on when a key is given."""
    at.run()
    if page is not None:
        at.switch_page(page).run()
    if forum_key is not None:
        at.toggle(key=forum_key).set_value(True).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("page", "forum_key"),
    [
        (None, None),
        (None, "forum_overview"),
        ("pages/out_of_area.py", None),
        ("pages/out_of_area.py", "forum_out_of_area"),
        ("pages/suspensions.py", None),
    ],
)
def test_every_chart_saves_as_a_projector_png(db_url, page, forum_key):
    at = opened(app(), page, forum_key)
    assert_png_ready(at)


def test_the_child_page_s_chart_saves_as_a_png(db_url, frames):
    child = frames.children.filter(pl.col("upn").is_not_null()).sort("la_child_id").row(0, named=True)
    at = app()
    at.query_params["child"] = child["la_child_id"]
    at = opened(at, "pages/child.py")
    assert_png_ready(at)


@pytest.mark.parametrize("forum_key", [None, "forum_schools"])
def test_an_opened_school_s_charts_save_as_pngs(db_url, frames, forum_key):
    from tests.test_schools_page import busiest_school

    urn, _ = busiest_school(frames)
    at = app()
    at.query_params["school"] = str(urn)
    assert_png_ready(opened(at, "pages/schools.py", forum_key))


def test_the_tests_above_visit_every_page_that_draws_a_chart():
    """The pages drawing charts are the ones opened above (a new one would escape them), and no page draws a
    chart except through ui.chart (a direct st.plotly_chart would have no PNG settings)."""
    drawing = {f"pages/{p.name}" for p in (PROJECT_ROOT / "pages").glob("*.py") if "ui.chart(" in p.read_text("utf-8")}
    direct = [p.name for p in (PROJECT_ROOT / "pages").glob("*.py") if "st.plotly_chart" in p.read_text("utf-8")]
    assert drawing == {
        "pages/overview.py",
        "pages/out_of_area.py",
        "pages/suspensions.py",
        "pages/child.py",
        "pages/schools.py",
    }
    assert not direct


def in_columns(at) -> int:
    """How many charts are drawn inside st.columns (side by side)."""
    return sum(len(column.get("plotly_chart")) for column in at.columns)


def font_sizes(at) -> set[int]:
    """The base font size of every chart drawn."""
    return {json.loads(c.proto.spec)["layout"]["font"]["size"] for c in at.get("plotly_chart")}


def test_the_overview_in_forum_mode_draws_one_chart_per_row_in_projector_text(db_url):
    at = opened(app(), None)
    assert in_columns(at) >= 2 and font_sizes(at) == {charts.BASE_FONT}  # normal mode: trends side by side
    normal = len(at.get("plotly_chart"))
    at.toggle(key="forum_overview").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == normal
    assert in_columns(at) == 0 and font_sizes(at) == {charts.FORUM_FONT}


def test_the_forum_role_s_pages_are_in_projector_text(db_url, sample_store):
    at = signed_in_app(db_url, role="forum", name="F. Forum")
    for page in (None, "pages/out_of_area.py"):
        at = opened(at, page)
        assert in_columns(at) == 0 and font_sizes(at) == {charts.FORUM_FONT}, page


def test_the_forum_look_enlarges_every_text_of_a_chart_and_leaves_the_original_alone():
    table = pl.DataFrame({"locality": ["North", "South"], "persistent_absence_rate": [20.0, 30.0], "n": [20, 30]})
    bars = charts.breakdown_bars(table, "locality", "persistent_absence_rate", "n", "By locality", "Persistent %")
    big = charts.for_forum(bars)
    assert bars.layout.font.size == charts.BASE_FONT and bars.layout.height == 260  # unchanged
    assert big.layout.font.size == charts.FORUM_FONT and big.layout.title.font.size == charts.FORUM_TITLE_FONT
    assert big.layout.xaxis.tickfont.size == big.layout.yaxis.tickfont.size == charts.FORUM_TICK_FONT
    assert big.data[0].textfont.size == charts.FORUM_TICK_FONT and big.data[0].insidetextfont.color == "white"
    assert big.layout.height == round(260 * charts.FORUM_HEIGHT)
    weekly = pl.DataFrame({"week_start": [LAST_DAY], "cohort": ["CP"], "attendance_pct": [91.0]})
    line = [charts.NationalLine("CP", "CP", 80.0, "2024/25")]
    trend = charts.for_forum(charts.trend_lines(weekly, "attendance_pct", "cohort", "Attendance", "%", {}, line))
    assert [a.font.size for a in trend.layout.annotations] == [charts.FORUM_TICK_FONT]


def test_distance_bands_keep_their_order_nearest_at_the_top():
    table = pl.DataFrame({"band": ["Under 10 km", "10 to 25 km", "50 km or more"], "children": [5, 20, 9]})
    fig = charts.count_bars(table, "band", "children", "By distance", "Children", in_order=True)
    assert list(fig.data[0].y) == ["50 km or more", "10 to 25 km", "Under 10 km"]  # plotly: the first at the bottom
    assert isinstance(fig, go.Figure) and re.fullmatch(r"\d+", fig.data[0].text[0])
