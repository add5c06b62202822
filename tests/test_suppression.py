"""Small-number suppression on hand-made tables whose withheld cells were worked out by hand (threshold 5)."""

from __future__ import annotations

import polars as pl
import pytest

from vsdash.suppression import Spec, as_text, is_small, protect, suppress, withheld_as_null


def hidden(mask: pl.DataFrame, key: list[str], column: str) -> list[str]:
    """The keys of the rows whose `column` is withheld."""
    return [k for k, w in zip(key, mask[column].to_list(), strict=True) if w]


@pytest.mark.parametrize(
    ("value", "small"), [(0, False), (1, True), (4, True), (5, False), (None, False), (120, False)]
)
def test_primary_rule_is_one_to_threshold_minus_one(value, small):
    assert is_small(value, 5) is small


def test_one_small_cell_in_a_column_takes_the_next_smallest_with_it():
    # A 3, B 10, C 12, total 25: A is small; the total would give it away (25 - 10 - 12), so the smallest
    # other cell, B (10), goes too; C and the total stay.
    detail = pl.DataFrame({"school": ["A", "B", "C"], "children": [3, 10, 12]})
    out = suppress(detail, Spec(counts=("children",)))
    assert hidden(out.detail_withheld, ["A", "B", "C"], "children") == ["A", "B"]
    assert out.total["children"].to_list() == [25]
    assert out.total_withheld["children"].to_list() == [False]


def test_a_true_zero_is_no_protection():
    # A 3, B 0, C 20, total 23: withholding B (a zero) would leave A = 23 - 20; C goes instead.
    detail = pl.DataFrame({"school": ["A", "B", "C"], "children": [3, 0, 20]})
    out = suppress(detail, Spec(counts=("children",)))
    assert hidden(out.detail_withheld, ["A", "B", "C"], "children") == ["A", "C"]
    shown = as_text(detail, out.detail_withheld, Spec(counts=("children",)))
    assert shown["children"].to_list() == ["c", "0", "c"]


def test_two_small_cells_protect_each_other():
    # A 2, B 3, C 40: both small, the total then gives only their sum (5): nothing more is withheld.
    detail = pl.DataFrame({"school": ["A", "B", "C"], "children": [2, 3, 40]})
    out = suppress(detail, Spec(counts=("children",)))
    assert hidden(out.detail_withheld, ["A", "B", "C"], "children") == ["A", "B"]


def test_row_and_column_totals():
    #          boys girls total
    #   X        2    8    10       X.boys is small; row X would give it (10 - 8): X.girls (8 < 10) goes;
    #   Y        6    9    15       column boys would give it (8 - 6): Y.boys (6 < 8) goes; then column girls
    #   total    8   17    25       has X.girls alone: Y.girls (9 < 17) goes. Row Y then has two: done.
    detail = pl.DataFrame({"group": ["X", "Y"], "boys": [2, 6], "girls": [8, 9], "total": [10, 15]})
    spec = Spec(counts=("boys", "girls", "total"), row_totals={"total": ("boys", "girls")})
    out = suppress(detail, spec)
    mask = out.detail_withheld
    assert mask.to_dict(as_series=False) == {"boys": [True, True], "girls": [True, True], "total": [False, False]}
    assert out.total.row(0) == (8, 17, 25)
    assert out.total_withheld.row(0) == (False, False, False)


def test_rest_of_the_authority_cannot_be_worked_out_through_a_locality():
    # Schools S1 12 (North), S2 3 and S3 30 (South); South 33, North 12, authority 45. S2 is small: the
    # South subtotal would give it (33 - 30), so S3 (30 < 33) goes; the schools' column then has two withheld
    # cells and the localities none: S2 + S3 = 33 is all anyone can work out.
    detail = pl.DataFrame({"school": ["S1", "S2", "S3"], "locality": ["North", "South", "South"], "n": [12, 3, 30]})
    margins = {"locality": pl.DataFrame({"locality": ["North", "South"], "n": [12, 33], "schools": [1, 2]})}
    out = suppress(detail, Spec(counts=("n",)), margins=margins)
    assert hidden(out.detail_withheld, ["S1", "S2", "S3"], "n") == ["S2", "S3"]
    assert hidden(out.margins_withheld["locality"], ["North", "South"], "n") == []


def test_a_group_of_one_school_is_withheld_whole():
    # North has one school (S1, 12): the DfE's rule withholds North's figures. North = S1, so S1 goes too;
    # North + South = 62 would then give North: South (50 < 62) goes; the schools' column (S1 alone withheld
    # against the authority's 62) takes S2 (20 < 30 < 62). South = S2 + S3 then has two withheld: done.
    # Left shown: S3 and the authority's 62, from which only S1 + S2 = 32 follows.
    detail = pl.DataFrame(
        {"school": ["S1", "S2", "S3"], "locality": ["North", "South", "South"], "n": [12, 20, 30], "pa": [6, 5, 9]}
    )
    margins = {
        "locality": pl.DataFrame({"locality": ["North", "South"], "n": [12, 50], "pa": [6, 14], "schools": [1, 2]})
    }
    spec = Spec(counts=("n", "pa"), derived={"pa_rate": ("pa", "n")}, unit="schools")
    out = suppress(detail, spec, margins=margins)
    assert hidden(out.detail_withheld, ["S1", "S2", "S3"], "n") == ["S1", "S2"]
    assert hidden(out.margins_withheld["locality"], ["North", "South"], "n") == ["North", "South"]
    assert out.total_withheld["n"].to_list() == [False]


def test_an_authority_of_one_school_shows_nothing():
    detail = pl.DataFrame({"school": ["S1"], "n": [40]})
    total = pl.DataFrame({"n": [40], "schools": [1]})
    out = suppress(detail, Spec(counts=("n",), unit="schools"), total=total)
    assert out.total_withheld["n"].to_list() == [True]
    assert out.detail_withheld["n"].to_list() == [True]


def test_a_rate_is_withheld_with_its_numerator_or_denominator_and_z_when_nothing_to_divide():
    # A: 2 of 20 persistently absent (numerator small); B: 3 of 3 children with data (both small); C: no
    # child with data (a true zero: the rate is not applicable, z); D: 10 of 40; E: 9 of 15.
    detail = pl.DataFrame(
        {
            "school": ["A", "B", "C", "D", "E"],
            "pa": [2, 3, 0, 10, 9],
            "with_data": [20, 3, 0, 40, 15],
            "pa_rate": [10.0, 100.0, None, 25.0, 60.0],
        }
    )
    spec = Spec(
        counts=("pa", "with_data"),
        derived={"pa_rate": ("pa", "with_data")},
        not_applicable_when_zero={"pa_rate": "with_data"},
    )
    out = suppress(detail, spec)
    shown = as_text(detail, out.detail_withheld, spec)
    # pa: A 2 and B 3 small (two withheld: the column is safe). with_data: B 3 small, then the smallest other
    # non-zero, E 15 (below A's 20), goes with it, and E's rate with it.
    assert shown["pa"].to_list() == ["c", "c", "0", "10", "9"]
    assert shown["with_data"].to_list() == ["20", "c", "0", "40", "c"]
    assert shown["pa_rate"].to_list() == ["c", "c", "z", "25.0", "c"]
    safe = withheld_as_null(detail, out.detail_withheld)
    assert safe["pa"].to_list() == [None, None, 0, 10, 9]


def test_protect_stops_when_every_sum_has_none_or_several():
    values = {(0, "n"): 1, (1, "n"): 7, (2, "n"): 8}
    assert protect(values, {(0, "n")}, [[(0, "n"), (1, "n"), (2, "n")]]) == {(0, "n"), (1, "n")}
    assert protect(values, set(), [[(0, "n"), (1, "n"), (2, "n")]]) == set()
