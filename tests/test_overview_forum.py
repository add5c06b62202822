"""The Overview in forum mode (issue 15): the forum role always, anyone else with the switch; no child and no
count from 1 to threshold - 1 on any card, table, chart, caption or download; a suppressed bar left out of its
chart and said so. Hand-made checks: a locality of 3 children shows c, and the cell that would give it away
from the cards' total is withheld too."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl
import pytest

from tests.test_pages import LAST_DAY, app, signed_in_app
from tests.test_pages import db_url as db_url
from tests.test_pages import frames as frames
from tests.test_pages import sample_store as sample_store
from tests.test_schools_page import cells, frame_of, identities
from vsdash import export, suppression, views
from vsdash.access import DataAccess
from vsdash.auth import User
from vsdash.config import load_config
from vsdash.filters import Filters
from vsdash.glossary import headed

SMALL = re.compile(r"[1-4]")  # threshold 5
COUNT_COLUMNS = {
    "children",
    "children_with_data",
    "suspensions",
    "permanent_exclusions",
    "persistent_absence_children",
    "severe_absence_children",
    "suspended_children",
}


def team_table(at) -> pl.DataFrame:
    """The breakdown by social-care team (the table with a team column and its children with data)."""
    frames = [frame_of(e) for e in at.dataframe]
    return next(f for f in frames if {"team", "children_with_data"} <= set(f.columns))


def small_counts(frame: pl.DataFrame) -> list[str]:
    """Cells of a table's count columns that hold 1 to 4."""
    return [
        f"{c}={v}"
        for c in frame.columns
        if c in COUNT_COLUMNS
        for v in frame[c].cast(pl.String).to_list()
        if SMALL.fullmatch(v or "")
    ]


def assert_overview_forum_safe(at, store) -> None:
    """No card, table, chart label or caption on the page holds an identity or a small count."""
    known = identities(store)
    assert at.metric, "the cards are drawn"
    for card in at.metric:
        assert not SMALL.fullmatch(card.value.replace(",", "")), (card.label, card.value)
        assert not SMALL.fullmatch((card.proto.delta or "").lstrip("+-")), (card.label, card.proto.delta)
    for element in at.dataframe:
        frame = frame_of(element)
        assert not small_counts(frame), small_counts(frame)
        assert not known & set(cells(frame))
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        labels = [t for trace in spec["data"] for t in trace.get("text") or []]
        assert not [t for t in labels if re.search(r"n=[1-4]\)", t)], labels
    for text in [*(c.value for c in at.caption), *(m.value for m in at.markdown)]:
        assert not [k for k in known if k in text]
        # A card's line: "Same point last year (DD/MM/YYYY): VALUE" and "group: VALUE · National ...".
        for value in re.findall(r": ([^ ·\n]+)", text):
            assert not SMALL.fullmatch(value.replace(",", "")), text


def test_the_forum_role_s_overview_withholds_small_counts_and_cannot_be_switched_off(db_url, sample_store):
    at = signed_in_app(db_url, role="forum", name="F. Forum").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Overview"
    assert not at.toggle  # no switch to turn forum mode off
    assert any(c.value.startswith("Forum mode:") for c in at.caption)
    assert_overview_forum_safe(at, sample_store)
    # A cohort of few children: its cards are c, not a small number.
    at.selectbox(key="cohort").set_value("PLAC").run()
    assert not at.exception, at.exception
    assert_overview_forum_safe(at, sample_store)


def test_the_switch_puts_anyone_else_s_overview_in_forum_mode(db_url, sample_store):
    at = app().run()
    normal = team_table(at)
    assert small_counts(normal), "the sample has small teams: the test can fail"
    at.toggle(key="forum_overview").set_value(True).run()
    assert not at.exception, at.exception
    forum = team_table(at)
    assert forum.height == normal.height
    for column in COUNT_COLUMNS & set(normal.columns):  # every small count of the normal table is c now
        was_small = normal[column].is_between(1, 4).to_list()
        assert all(v == "c" for v, small in zip(forum[column].to_list(), was_small, strict=True) if small)
    assert_overview_forum_safe(at, sample_store)
    # The chart leaves withheld bars out, and its caption names them (the sample's CLA have small teams).
    at.selectbox(key="cohort").set_value("CLA").run()
    assert not at.exception, at.exception
    assert_overview_forum_safe(at, sample_store)
    forum = team_table(at)
    bars = json.loads(at.get("plotly_chart")[-1].proto.spec)  # the team breakdown is the last chart
    drawn = {y for trace in bars["data"] for y in trace.get("y") or []}
    withheld = set(forum.filter(pl.col("persistent_absence_rate") == "c")["team"].to_list())
    assert withheld and not drawn & withheld
    assert any("Left out of the chart" in c.value and next(iter(withheld)) in c.value for c in at.caption)


def test_the_forum_overview_s_downloads_are_what_is_shown(db_url, sample_store):
    """What ui.downloads writes for the forum role (glossary.headed then export.csv_bytes): the page's tables,
    with no identity and no count from 1 to 4."""
    cfg = load_config()
    result = DataAccess(sample_store, cfg, User("F. Forum", "forum")).overview(Filters(as_of=LAST_DAY))
    assert result.forum
    tables = [b.table for b in result.breakdowns] + [result.moved_teams, result.moved_schools]
    known = identities(sample_store)
    for table in tables:
        text = export.csv_bytes(headed(table)).decode()
        assert not [k for k in known if k in text]
        assert not small_counts(table)
    assert not [c for c in result.cards if isinstance(c.value, int) and 0 < c.value < 5]


def test_a_manager_without_the_switch_sees_every_figure(sample_store):
    result = DataAccess(sample_store, load_config(), User("M. Manager", "manager")).overview(Filters(as_of=LAST_DAY))
    assert not result.forum and result.breakdowns[0].table["children"].dtype == pl.Int64


def aggregate_row(children: int, with_data: int, pa: int, **extra: int) -> dict:
    """One aggregate row as metrics.aggregate gives it (rates worked from the counts)."""
    return {
        "children": children,
        "children_with_data": with_data,
        "persistent_absence_children": pa,
        "severe_absence_children": extra.get("severe", 0),
        "suspended_children": extra.get("suspended", 0),
        "suspensions": extra.get("suspended", 0),
        "permanent_exclusions": 0,
        "attendance_pct": 90.0,
        "persistent_absence_rate": pa * 100.0 / with_data if with_data else None,
        "severe_absence_rate": 0.0,
        "suspension_rate": extra.get("suspended", 0) * 100.0 / children,
        "suspension_sessions": 0,
    }


def test_a_locality_of_three_children_is_c_and_its_complement_is_hidden_too():
    """Worked out by hand: localities North 3, South 20, East 30 children (total 53, shown on the cards).
    North's 3 is primary (c). Without more, 53 - 20 - 30 = 3 gives it back, so the smallest other locality
    (South, 20) is withheld too; the teams (10, 43) split the same 53 with nothing small, so stay shown."""
    localities = pl.DataFrame(
        [
            {"locality": "North", **aggregate_row(3, 3, 1)},
            {"locality": "South", **aggregate_row(20, 20, 6)},
            {"locality": "East", **aggregate_row(30, 30, 9)},
        ]
    )
    teams = pl.DataFrame([{"team": "A", **aggregate_row(10, 10, 5)}, {"team": "B", **aggregate_row(43, 43, 11)}])
    total = pl.DataFrame([aggregate_row(53, 53, 16)])
    masks, total_mask = suppression.suppress_partitions(
        {"locality": localities, "team": teams}, total, views.FORUM_SPEC, 5
    )
    shown = views._published(localities, masks["locality"], ["locality"])
    assert shown["children"].to_list() == ["c", "c", "30"]
    assert shown["persistent_absence_rate"].to_list() == ["c", "c", "30.0"]  # North on 1 child; South with it
    assert views._published(teams, masks["team"], ["team"])["children"].to_list() == ["10", "43"]
    assert not total_mask["children"][0]
    # The persistent absence counts: North's 1 is primary; South's 6 (smallest of 6 and 9) hides it from
    # the total 16; team A's 5 and B's 11 are shown (nothing small among the teams).
    assert masks["locality"]["persistent_absence_children"].to_list() == [True, True, False]
    assert masks["team"]["persistent_absence_children"].to_list() == [False, False]


def test_a_small_team_withheld_in_one_split_is_protected_against_the_other():
    """Teams 2 and 40 (total 42): team A's 2 is c, team B's 40 is then the only other cell and is withheld
    (42 - 40 = 2); the localities 21 and 21 stay shown, and the total 42 too."""
    localities = pl.DataFrame(
        [{"locality": "N", **aggregate_row(21, 21, 5)}, {"locality": "S", **aggregate_row(21, 21, 5)}]
    )
    teams = pl.DataFrame([{"team": "A", **aggregate_row(2, 2, 0)}, {"team": "B", **aggregate_row(40, 40, 10)}])
    total = pl.DataFrame([aggregate_row(42, 42, 10)])
    masks, total_mask = suppression.suppress_partitions(
        {"locality": localities, "team": teams}, total, views.FORUM_SPEC, 5
    )
    assert masks["team"]["children"].to_list() == [True, True]
    assert masks["locality"]["children"].to_list() == [False, False]
    assert not total_mask["children"][0]


def test_a_card_s_small_count_and_small_change_are_c():
    card = views.Card("suspensions", "Suspensions", 12, 9, None)
    forum = views._forum_card(card, ({}, {}, {}), {}, 5)
    assert forum.pill() == views.Pill("c", "off", "off")  # 3 new suspensions in the month: a small count
    withheld = views._forum_card(views.Card("children", "Children", 3, 3, None), ({"children": True}, {}, {}), {}, 5)
    assert withheld.shown(withheld.value) == "c" and withheld.pill() == views.Pill("c", "off", "off")


@pytest.mark.parametrize(
    ("card", "masks", "value", "last_month", "pill"),
    [
        # Attendance 91.0% now on 40 children with data, 88.5% last month on 3: last month is withheld, so the
        # change (+2.5 pts) is too: 91.0 - 2.5 would give last month's withheld figure back.
        (
            views.Card("attendance_pct", "Attendance", 91.0, 88.5, True),
            ({}, {"attendance_pct": True}, {}),
            91.0,
            "c",
            "c",
        ),
        # Suspensions 3 now (withheld), 20 last month: the change (-17) would give this month's 3 back.
        (views.Card("suspensions", "Suspensions", 3, 20, None), ({"suspensions": True}, {}, {}), "c", 20, "c"),
        # Children 40 now, 3 last month (withheld): +37 would give last month's back.
        (views.Card("children", "Children", 40, 3, None), ({}, {"children": True}, {}), 40, "c", "c"),
        # Both shown and a change of 12: shown as it is.
        (views.Card("children", "Children", 40, 28, None), ({}, {}, {}), 40, 28, "+12"),
        # Nothing last month to compare with: no change at all, withheld or not.
        (views.Card("children", "Children", 3, None, None), ({"children": True}, {}, {}), "c", None, None),
    ],
)
def test_a_change_made_from_a_withheld_figure_is_c(card, masks, value, last_month, pill):
    forum = views._forum_card(card, masks, {}, 5)
    assert (forum.value, forum.last_month) == (value, last_month)
    assert (forum.pill().text if forum.pill() else None) == pill


def test_last_month_is_withheld_by_the_rule_of_this_month():
    """The same aggregate row withheld as this month's cards (with the breakdowns that split it) and as last
    month's (on its own) gives the same mask: worked out by hand, 40 children all with data, 3 persistently
    absent (c, and its rate with it), 12 severely absent, none suspended (a true zero, shown)."""
    row = aggregate_row(40, 40, 3, severe=12)
    localities = pl.DataFrame([{"locality": "North", **aggregate_row(40, 40, 3, severe=12)}])
    _, now = suppression.suppress_partitions({"locality": localities}, pl.DataFrame([row]), views.FORUM_SPEC, 5)
    then = views._withheld_row({**row, "out_of_area_children": 0}, 5)
    expected = {"persistent_absence_children", "persistent_absence_rate"}
    assert {k for k, v in now.row(0, named=True).items() if v} == expected
    assert {k for k, v in then.items() if v} == expected


def test_the_forum_cards_changes_on_the_sample_follow_both_months_figures(sample_store):
    """Over the sample's cohorts: a card whose figure this month or last month has 1 to 4 behind it shows `c` for
    that figure and for its change."""
    cfg = load_config()
    forum_door = DataAccess(sample_store, cfg, User("F. Forum", "forum"))
    plain_door = DataAccess(sample_store, cfg, User("M. Manager", "manager"))
    seen_withheld_change = False
    for cohort in (None, "CLA", "CP", "PLAC"):
        filters = Filters(as_of=LAST_DAY, cohort=cohort)
        for plain, forum in zip(plain_door.overview(filters).cards, forum_door.overview(filters).cards, strict=True):
            counts = not plain.percent
            for mine, shown in ((plain.value, forum.value), (plain.last_month, forum.last_month)):
                if counts and isinstance(mine, int) and 0 < mine < 5:
                    assert shown == "c", (cohort, plain.key)
            if plain.change is not None and "c" in (forum.value, forum.last_month):
                assert forum.pill() is not None and forum.pill().text == "c", (cohort, plain.key)
                seen_withheld_change = True
    assert seen_withheld_change, "the sample has a small cohort: the test can fail"


@pytest.mark.parametrize("as_of", [LAST_DAY, date(LAST_DAY.year, 1, 9)])
def test_forum_trends_keep_only_points_with_shown_counts(sample_store, as_of):
    cfg = load_config()
    result = DataAccess(sample_store, cfg, User("F. Forum", "forum")).overview(Filters(as_of=as_of))
    for trend in (result.weekly, result.weekly_groups):
        if trend.is_empty():
            continue
        assert not trend.filter(pl.col("children_with_data").is_between(1, 4)).height
