"""What the pages are asked for: the latest date, one change of each filter and the child to open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from vsdash import views
from vsdash.filters import Filters

PAGES = ("overview", "triage", "child")
FINDER_MEASURE = "child page finder: a search typed, the child open (AppTest)"  # after the child page filter changes
FILTER_NAMES = ("cohort", "team", "school", "start", "as_of")
WINDOW_CHANGES = 10  # new dates offered to a window change, so no run meets a window already worked out


@dataclass(frozen=True)
class FilterCase:
    """One filter change: the widget to set, its value and way back, and the filters it makes."""

    name: str
    widget: str  # selectbox | date_input
    key: str
    value: Any
    reset: Any
    fresh: tuple[Any, ...]  # for a window: a new value per run
    filters: Filters


@dataclass(frozen=True)
class Scenario:
    """The filters of a first visit, the filter changes, and the child whose page is opened."""

    base: Filters
    cases: tuple[FilterCase, ...]
    child_id: str
    child_upn: str
    child_words: str  # what a person types to find that child: the surname's start and an initial


def choose_scenario(figures: views.Figures) -> Scenario:
    """Realistic selections: CP, the largest team and school, a spring start, a month back, a child with marks."""
    days = figures.calendar
    last = days[-1]
    base = Filters(as_of=last)
    everyone = views.selected_children(figures, base)
    team = everyone["team"].drop_nulls().mode().sort()[0]
    school = int(everyone["school_urn"].drop_nulls().mode().sort()[0])
    child = everyone.filter(pl.col("has_data")).sort("la_child_id").row(0, named=True)
    mid, back = len(days) // 2, max(len(days) - 21, 0)

    def case(name: str, widget: str, key: str, value: Any, reset: Any, fresh: tuple = (), **change: Any) -> FilterCase:
        return FilterCase(name, widget, key, value, reset, fresh or (value,), base.with_changes(**change))

    cases = (
        case("cohort", "selectbox", "cohort", "CP", None, cohort="CP"),
        case("team", "selectbox", "team", team, None, team=team),
        case("school", "selectbox", "school_urn", school, None, school_urn=school),
        case("start", "date_input", "start", days[mid], None, tuple(days[mid : mid + WINDOW_CHANGES]), start=days[mid]),
        case(
            "as_of",
            "date_input",
            "as_of",
            days[back],
            last,
            tuple(days[max(back - WINDOW_CHANGES + 1, 0) : back + 1][::-1]),
            as_of=days[back],
        ),
    )
    named = figures.frames.children.filter(pl.col("la_child_id") == child["la_child_id"]).row(0, named=True)
    words = f"{(named['last_name'] or '')[:3]} {(named['first_name'] or '')[:1]}".strip() or child["la_child_id"]
    return Scenario(base, cases, child["la_child_id"], child["upn"], words)


def selections(scenario: Scenario) -> list[tuple[str, Filters]]:
    """Each filter state measured, by name: the first visit ('no filter'), then each change."""
    return [("no filter", scenario.base), *((c.name, c.filters) for c in scenario.cases)]
