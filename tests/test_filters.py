"""The filter bar as a value: the URL's parameters -> Filters -> which children it selects, and the sentence."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from vsdash.filters import FilterError, Filters

AS_OF = date(2026, 2, 13)
SCHOOLS = {100001: "Oak Primary", 100002: "Ash Academy"}
COHORTS = {"CWSW": "Children with a social worker"}

# A per-child frame with the columns the filters read (as metrics.per_child gives them).
CHILDREN = pl.DataFrame(
    [
        ("C1", ["CLA"], 100001, "893", False, "North", "A", "S. Patel", "Y7", True),
        ("C2", ["CIN", "CWSW"], 100002, "886", True, "South", "B", "J. Jones", "Y9", False),
        ("C3", ["CP", "CWSW"], None, None, False, "North", "B", None, "R", None),  # no mark yet: no school
        ("C4", ["EVER6"], 100003, None, None, None, None, None, None, False),  # school not on the list
        # In no cohort as at the date (first episode later, or Ever 6 run out): never one of "all children",
        # though every other filter would pick them as C1.
        ("C5", [], 100001, "893", False, "North", "A", "S. Patel", "Y7", True),
    ],
    schema={
        "la_child_id": pl.String,
        "cohorts": pl.List(pl.String),
        "school_urn": pl.Int64,
        "school_la": pl.String,
        "out_of_area": pl.Boolean,
        "locality": pl.String,
        "team": pl.String,
        "social_worker": pl.String,
        "year_group": pl.String,
        "ehcp": pl.Boolean,
    },
    orient="row",
)


@pytest.mark.parametrize(
    "params, selected, sentence",
    [
        ({}, ["C1", "C2", "C3", "C4"], "all children, as at 13/02/2026"),
        ({"cohort": "CWSW"}, ["C2", "C3"], "children where cohort Children with a social worker, as at 13/02/2026"),
        ({"cohort": "PLAC"}, [], "children where cohort PLAC, as at 13/02/2026"),
        ({"school_urn": 100001}, ["C1"], "children where school Oak Primary (100001), as at 13/02/2026"),
        ({"school_urn": 100003}, ["C4"], "children where school 100003, as at 13/02/2026"),
        # Out of area unknown (school not on the list) is in neither; no school yet counts as in area.
        ({"area": "out"}, ["C2"], "children where out-of-area schools, as at 13/02/2026"),
        ({"area": "in"}, ["C1", "C3"], "children where in-area schools, as at 13/02/2026"),
        ({"school_la": "886"}, ["C2"], "children where school LA 886, as at 13/02/2026"),
        ({"team": "B", "locality": "North"}, ["C3"], "children where locality North and team B, as at 13/02/2026"),
        (
            {"social_worker": "S. Patel", "year_group": "Y7"},
            ["C1"],
            "children where social worker S. Patel and year group Y7, as at 13/02/2026",
        ),
        ({"ehcp": True}, ["C1"], "children where with an EHCP, as at 13/02/2026"),
        ({"ehcp": False}, ["C2", "C3", "C4"], "children where without an EHCP, as at 13/02/2026"),  # unknown: none
        (
            {"cohort": "CWSW", "area": "out", "team": "B"},
            ["C2"],
            "children where cohort Children with a social worker and out-of-area schools and team B, as at 13/02/2026",
        ),
        ({"start": date(2026, 1, 5)}, ["C1", "C2", "C3", "C4"], "all children, from 05/01/2026 as at 13/02/2026"),
        (
            {"as_of": date(2025, 12, 19), "locality": "South"},
            ["C2"],
            "children where locality South, as at 19/12/2025",
        ),
    ],
)
def test_parameters_select_children_and_say_so(params, selected, sentence):
    filters = Filters(**{"as_of": AS_OF, **params})
    assert CHILDREN.filter(filters.expression())["la_child_id"].to_list() == selected
    assert filters.describe(SCHOOLS, COHORTS) == sentence


@pytest.mark.parametrize(
    "params, message",
    [
        ({"area": "elsewhere"}, "area must be one of all, in, out"),
        ({"start": date(2026, 2, 16)}, "The From date 16/02/2026 is after the as-at date 13/02/2026"),
    ],
)
def test_a_selection_that_cannot_be_a_filter_is_refused(params, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Filters(**{"as_of": AS_OF, **params})


def test_the_same_view_a_month_earlier_keeps_the_selection():
    filters = Filters(as_of=AS_OF, cohort="CWSW", team="B")
    earlier = filters.with_changes(as_of=date(2026, 1, 13))
    assert (earlier.as_of, earlier.cohort, earlier.team) == (date(2026, 1, 13), "CWSW", "B")
    assert filters.as_of == AS_OF and hash(earlier) != hash(filters)  # a cache key of its own
