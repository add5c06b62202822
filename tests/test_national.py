"""National comparisons on the DfE's own definitions (issue 14, point 9), on hand-made children worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
import yaml
from helpers import weekdays

from vsdash import charts, metrics, views
from vsdash.config import DEFAULT_CONFIG, load_config, parse_config
from vsdash.filters import Filters
from vsdash.frames import Frames

CFG = load_config()
AS_OF = date(2024, 10, 31)  # the window: 01/09/2024 to 31/10/2024
LONG_AGO = "2022-01-01"  # looked after from here: more than 12 months before the as-at date


def episode(child: str, cohort: str, start: str, end: str | None = None) -> dict:
    return {"la_child_id": child, "cohort": cohort, "start_date": start, "end_date": end}


def marks(upn: str, codes: list[str], first: date = date(2024, 9, 2)) -> list[dict]:
    """One day row per code, the same code AM and PM, on consecutive weekdays from `first`."""
    return [
        {"upn": upn, "urn": 100001, "date": d, "am": c, "pm": c}
        for d, c in zip(weekdays(len(codes), first), codes, strict=True)
    ]


def groups_of(frames: Frames) -> dict[str, str | None]:
    children = metrics.per_child(frames, metrics.window_for(CFG, AS_OF), CFG)
    return dict(metrics.with_dfe_group(children, frames.episodes, AS_OF).select("la_child_id", "dfe_group").iter_rows())


def test_each_child_has_one_dfe_group_cla_before_cp_before_cin():
    # A: CIN and CP plans open -> CP only.  B: CP plan and looked after since 2022 -> CLA only.
    # C: looked after since 01/08/2024 (3 months) and on a CP plan -> no group: not in the DfE's 12-month CLA
    #    figure, and its CP figure leaves looked-after children out.  D: CIN only -> CIN.
    # E: previously looked after only -> no group.  F: a CP plan that ended on 30/09/2024 and a CIN plan -> CIN.
    frames = Frames.build(
        children=[{"la_child_id": c, "upn": f"U{c}"} for c in "ABCDEF"],
        episodes=[
            episode("A", "CIN", "2024-01-01"),
            episode("A", "CP", "2024-06-01"),
            episode("B", "CP", "2024-03-01"),
            episode("B", "CLA", LONG_AGO),
            episode("C", "CP", "2024-03-01"),
            episode("C", "CLA", "2024-08-01"),
            episode("D", "CIN", "2024-02-01"),
            episode("E", "PLAC", "2020-05-01"),
            episode("F", "CP", "2024-01-01", "2024-09-30"),
            episode("F", "CIN", "2024-01-01"),
        ],
    )
    assert groups_of(frames) == {"A": "CP", "B": "CLA", "C": None, "D": "CIN", "E": None, "F": "CIN"}


def test_looked_after_for_12_months_runs_across_a_change_of_placement_but_not_a_gap():
    # G: two episodes, the second starting the day after the first ended (a new placement): since 2023 -> in.
    # H: looked after 2022 to 31/01/2024, back in care from 01/03/2024: the break means 8 months -> out.
    # I: looked after since 31/10/2023, exactly a year -> in.  J: an episode that ended on 30/10/2024 -> out.
    episodes = Frames.build(
        episodes=[
            episode("G", "CLA", "2023-01-01", "2023-12-31"),
            episode("G", "CLA", "2024-01-01"),
            episode("H", "CLA", LONG_AGO, "2024-01-31"),
            episode("H", "CLA", "2024-03-01"),
            episode("I", "CLA", "2023-10-31"),
            episode("J", "CLA", LONG_AGO, "2024-10-30"),
        ]
    ).episodes
    assert metrics.looked_after_continuously(episodes, AS_OF).to_list() == ["G", "I"]


def test_episodes_after_the_as_at_date_do_not_change_who_was_looked_after_for_12_months():
    """The spans are made once per data version from every episode, later ones too, and read for any as-at
    date: K's next episode starts the day after AS_OF and joins the span (it already reached AS_OF), L's
    starts a week after a gap, M's first episode starts after AS_OF; the answer is AS_OF's alone."""
    later = (AS_OF + timedelta(days=1)).isoformat()
    episodes = Frames.build(
        episodes=[
            episode("K", "CLA", LONG_AGO, AS_OF.isoformat()),
            episode("K", "CLA", later),
            episode("L", "CLA", LONG_AGO, "2024-06-30"),
            episode("L", "CLA", (AS_OF + timedelta(days=7)).isoformat()),
            episode("M", "CLA", later),
        ]
    ).episodes
    spans = metrics.looked_after_spans(episodes)
    assert metrics.looked_after_continuously(episodes, AS_OF, spans=spans).to_list() == ["K"]
    for day in (AS_OF, AS_OF - timedelta(days=200), AS_OF + timedelta(days=30)):
        upto = episodes.filter(pl.col("start_date") <= day)
        assert metrics.looked_after_continuously(episodes, day, spans=spans).to_list() == (
            metrics.looked_after_continuously(upto, day).to_list()
        ), day


@pytest.fixture
def two_in_need() -> views.Figures:
    """Two children with a CIN plan, 10 school days each (20 possible sessions):
    - K: CIN only, 9 days present and 1 day unauthorised (N): 18 of 20 = 90.0%; 2 of 20 missed = exactly 10%: PA.
    - L: CIN and CP, 5 days present and 5 absent: 10 of 20 = 50.0%, severely absent.
    Selected as CIN (any child with a CIN plan): 28 of 40 = 70.0%. On the DfE's definitions K is CIN (not CP or
    CLA) and L is CP (not CLA): CIN 90.0% against England's CIN 82.6% (100 - 17.4), CP 50.0% against 78.2%."""
    frames = Frames.build(
        children=[{"la_child_id": "K", "upn": "UK"}, {"la_child_id": "L", "upn": "UL"}],
        episodes=[
            episode("K", "CIN", "2024-01-01"),
            episode("L", "CIN", "2024-01-01"),
            episode("L", "CP", "2024-05-01"),
        ],
        marks=marks("UK", ["/"] * 9 + ["N"]) + marks("UL", ["/"] * 5 + ["N"] * 5),
    )
    return views.Figures(frames, CFG)


def card(result: views.Overview, key: str) -> views.Card:
    return next(c for c in result.cards if c.key == key)


def test_the_cin_card_shows_the_selection_and_compares_like_for_like(two_in_need):
    result = views.overview(two_in_need, Filters(as_of=AS_OF, cohort="CIN"))
    attendance = card(result, "attendance_pct")
    assert attendance.value == pytest.approx(70.0)  # the selection: both children
    assert [c.text() for c in attendance.comparisons] == ["CIN (not CP or CLA): 90.0% · National 2024/25: 82.6%"]
    # K missed 2 of 20 (exactly 10%: persistently absent), L 10 of 20 (severe): the CIN group is K alone.
    assert [c.text() for c in card(result, "persistent_absence_rate").comparisons] == [
        "CIN (not CP or CLA): 100.0% · National 2024/25: 46.0%"
    ]
    assert [c.text() for c in card(result, "severe_absence_rate").comparisons] == [
        "CIN (not CP or CLA): 0.0% · National 2024/25: 11.3%"
    ]


def test_children_with_a_social_worker_compare_with_both_groups_and_all_children_in_a_table(two_in_need):
    cwsw = views.overview(two_in_need, Filters(as_of=AS_OF, cohort="CWSW"))
    assert [c.text() for c in card(cwsw, "attendance_pct").comparisons] == [
        "CP (not CLA): 50.0% · National 2024/25: 78.2%",
        "CIN (not CP or CLA): 90.0% · National 2024/25: 82.6%",
    ]
    everyone = views.overview(two_in_need, Filters(as_of=AS_OF))
    # Three groups are too many for a card: they are in the table (CLA with no child here, so no figure).
    assert card(everyone, "attendance_pct").comparisons == ()
    table = everyone.compared.select("dfe_group", "children", "attendance_pct", "national_attendance_pct")
    assert table.rows() == [("CLA", 0, None, 91.0), ("CP", 1, 50.0, 78.2), ("CIN", 1, 90.0, 82.6)]


def test_the_weekly_trend_by_dfe_group_and_its_national_lines(two_in_need):
    result = views.overview(two_in_need, Filters(as_of=AS_OF))
    # Ten school days from Monday 02/09/2024: two school weeks, each child in one group all along.
    week_one = result.weekly_groups.filter(pl.col("week_start") == date(2024, 9, 2)).sort("dfe_group")
    assert week_one.select("dfe_group", "attendance_pct").rows() == [("CIN", 100.0), ("CP", 100.0)]
    lines = charts.national_lines(result.national, "attendance_pct", {"CIN": "CIN (not CP or CLA)"})
    assert [(line.group, line.value, line.year) for line in lines] == [
        ("CLA", 91.0, "2024/25"),
        ("CP", 78.2, "2024/25"),
        ("CIN", 82.6, "2024/25"),
    ]
    fig = charts.trend_lines(
        result.weekly_groups, "attendance_pct", "dfe_group", "t", "y", {"CP": "CP (not CLA)"}, lines
    )
    assert {t.name for t in fig.data} == {"CIN", "CP (not CLA)"}
    dashed = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert sorted(s.y0 for s in dashed) == [78.2, 82.6, 91.0]
    assert "England 2024/25: 82.6%" in {a.text for a in fig.layout.annotations}
    assert fig.layout.font.size >= 14 and fig.layout.xaxis.tickfont.size >= 13
    assert fig.layout.xaxis.hoverformat.endswith("%d/%m/%Y")


def test_same_point_last_year_is_the_same_selection_a_year_earlier():
    # M: CIN since 2022, 10 days in September 2023 (5 present, 5 absent: 50.0%) and 10 days in September 2024
    # (all present: 100.0%). N: CIN only from 2024, so not a child of the virtual school a year earlier.
    frames = Frames.build(
        children=[{"la_child_id": "M", "upn": "UM"}, {"la_child_id": "N", "upn": "UN"}],
        episodes=[episode("M", "CIN", "2022-01-01"), episode("N", "CIN", "2024-01-01")],
        marks=marks("UM", ["/"] * 5 + ["N"] * 5, date(2023, 9, 4)) + marks("UM", ["/"] * 10) + marks("UN", ["/"] * 10),
    )
    result = views.overview(views.Figures(frames, CFG), Filters(as_of=AS_OF, cohort="CIN"))
    assert result.last_year == date(2023, 10, 31)
    assert card(result, "children").value == 2 and card(result, "children").last_year == 1
    assert card(result, "attendance_pct").value == pytest.approx(100.0)
    assert card(result, "attendance_pct").last_year == pytest.approx(50.0)
    assert card(result, "severe_absence_rate").last_year == pytest.approx(100.0)  # 5 of 10 days: 50%: severe


def test_no_figures_last_year_before_any_data(two_in_need):
    result = views.overview(two_in_need, Filters(as_of=AS_OF))
    assert all(c.last_year is None for c in result.cards)  # not zeros: nothing was loaded for 2023


def test_the_suspension_cards_compare_with_all_pupils():
    # Five children with a CIN plan: P has two suspensions, Q a permanent exclusion, R, S and T neither.
    # One or more suspensions: 1 of 5 = 20.0%; permanent exclusion rate 1 / 5 x 100 = 20.0%; suspension rate
    # 2 / 5 x 100 = 40.0 per 100 children.
    ids = "PQRST"
    frames = Frames.build(
        children=[{"la_child_id": c, "upn": f"U{c}"} for c in ids],
        episodes=[episode(c, "CIN", "2024-01-01") for c in ids],
        marks=[row for c in ids for row in marks(f"U{c}", ["/"] * 5)],
        suspensions=[
            {"upn": "UP", "urn": 100001, "start_date": "2024-09-10", "sessions": 2, "category": "suspension"},
            {"upn": "UP", "urn": 100001, "start_date": "2024-10-01", "sessions": 4, "category": "suspension"},
            {"upn": "UQ", "urn": 100001, "start_date": "2024-10-02", "category": "permanent_exclusion"},
        ],
    )
    result = views.overview(views.Figures(frames, CFG), Filters(as_of=AS_OF))
    assert [c.text() for c in card(result, "suspensions").comparisons] == [
        "Suspended at least once: 20.0% · All pupils nationally 2023/24: 4.04%"
    ]
    assert [c.text() for c in card(result, "permanent_exclusions").comparisons] == [
        "Permanent exclusion rate: 20.0% · All pupils nationally 2023/24: 0.13%"
    ]
    children = views.selected_children(views.Figures(frames, CFG), Filters(as_of=AS_OF))
    assert metrics.exclusion_rates(children) == {
        "suspension_rate_per_100": 40.0,
        "one_or_more_suspension": 20.0,
        "permanent_exclusion": 20.0,
    }
    assert "2023/24" in (result.all_pupils_source or "")


def test_without_all_pupil_figures_the_suspension_cards_have_no_national_line(two_in_need):
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    del raw["national_benchmarks"]["all_pupils"]
    cfg = parse_config(raw)
    assert cfg.benchmarks.all_pupils == {}
    two_in_need.cfg = cfg
    result = views.overview(two_in_need, Filters(as_of=AS_OF))
    assert card(result, "suspensions").comparisons == () and result.all_pupils_source is None
    assert card(result, "permanent_exclusions").comparisons == ()


@pytest.mark.parametrize(
    ("value", "exact", "text"),
    [
        (82.6, False, "82.6%"),
        (4.04, True, "4.04%"),
        (4.04, False, "4.0%"),
        (0.13, False, "0.13%"),
        (None, False, "no figures"),
    ],
)
def test_percent_text(value, exact, text):
    assert views.percent_text(value, exact) == text


def test_team_and_social_worker_lists_narrow_to_the_locality():
    options = views.FilterOptions(
        cohorts=[],
        schools={},
        school_las={},
        localities=["North", "South"],
        teams=["Alpha", "Beta", "Gamma"],
        social_workers=["Ann", "Bob", "Cat"],
        year_groups=[],
        first_date=None,
        last_date=None,
        staffing=(("North", "Alpha", "Ann"), ("North", "Beta", "Bob"), ("South", "Beta", "Cat"), ("South", None, None)),
    )
    assert options.teams_in(None) == ["Alpha", "Beta", "Gamma"]
    assert options.teams_in("North") == ["Alpha", "Beta"]
    assert options.teams_in("South") == ["Beta"]
    assert options.social_workers_in("South", None) == ["Cat"]
    assert options.social_workers_in(None, "Beta") == ["Bob", "Cat"]
    assert options.social_workers_in("North", "Beta") == ["Bob"]


def test_one_locality_is_broken_down_by_team(two_in_need):
    assert [b.title for b in views.overview(two_in_need, Filters(as_of=AS_OF)).breakdowns] == [
        "By locality",
        "By social-care team",
    ]
    one = views.breakdowns(
        views.selected_children(two_in_need, Filters(as_of=AS_OF)), Filters(as_of=AS_OF, locality="North")
    )
    assert [(b.title, b.column) for b in one] == [("By social-care team in North", "team")]
