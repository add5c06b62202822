"""Identity conflicts in the children list: worked out by hand on tiny lists, then through the loader on
both engines."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from vsdash import identity
from vsdash.identifiers import with_check_letter
from vsdash.ingest import ingest_file

A, B, C = (with_check_letter(body) for body in ("801200005001", "801200005002", "801200005003"))
HEADER = "LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date"


def children(rows: list[tuple]) -> pl.DataFrame:
    """An incoming list's children with the lines they came from."""
    return pl.DataFrame(
        rows,
        schema={
            "la_child_id": pl.String,
            "upn": pl.String,
            "first_name": pl.String,
            "last_name": pl.String,
            "dob": pl.Date,
            "_line": pl.Int64,
        },
        orient="row",
    )


STORED = children(
    [("C1", A, "Amy", "Smith", date(2012, 3, 4), 0), ("C2", B, "Ben", "Jones", date(2013, 5, 6), 0)]
).drop("_line")


@pytest.mark.parametrize(
    "incoming, expected",
    [
        pytest.param([("C1", A, "Amy", "Smith", date(2012, 3, 4), 2)], [], id="the same child again"),
        pytest.param([("C1", A, "AMY", "smith", date(2012, 3, 4), 2)], [], id="a name in other capitals is the same"),
        pytest.param([("C1", A, None, None, None, 2)], [], id="a value left out is not a change"),
        pytest.param(
            [("C1", C, "Amy", "Smith", date(2012, 3, 4), 2)],
            [(2, "upn", f"LA Child ID C1's UPN changes from {A} to {C}")],
            id="a changed UPN",
        ),
        pytest.param(
            [("C1", A, "Ann", "Smith", date(2012, 3, 4), 2)],
            [(2, "first_name", "LA Child ID C1's name changes from 'Amy Smith' to 'Ann Smith'")],
            id="a changed name",
        ),
        pytest.param(
            [("C1", A, "Amy", "Smith", date(2012, 4, 3), 2)],
            [(2, "dob", "LA Child ID C1's date of birth changes from 04/03/2012 to 03/04/2012")],
            id="a changed DOB",
        ),
        pytest.param(
            [("C3", C, "Cat", "Lee", None, 2), ("C4", C, "Dan", "Lee", None, 3)],
            [(3, "upn", f"UPN {C} is also given to LA Child ID C3 (line 2)")],
            id="one UPN on two new children",
        ),
        pytest.param(
            [("C3", A, "Cat", "Lee", None, 2)],
            [(2, "upn", f"UPN {A} is already held by LA Child ID C1")],
            id="a UPN the store holds for another child",
        ),
        pytest.param(
            [("C3", A, "Cat", "Lee", None, 2), ("C1", C, "Amy", "Smith", date(2012, 3, 4), 3)],
            [(3, "upn", f"LA Child ID C1's UPN changes from {A} to {C}")],
            id="a UPN handed on by a child who moves off it is not held elsewhere",
        ),
    ],
)
def test_conflicts_worked_out_by_hand(incoming, expected):
    found = identity.conflicts(children(incoming), STORED)
    assert found.height == len(expected)
    for (line, column, reason), row in zip(expected, found.iter_rows(named=True), strict=True):
        assert (row["line"], row["column"], row["outcome"]) == (line, column, "flagged")
        assert row["reason"].startswith(f"identity conflict: {reason}")


def test_a_conflict_loads_the_list_and_is_flagged_in_the_summary_and_the_store(store, cfg, write):
    first = ingest_file(
        store,
        write(
            "children_1.csv",
            f"""
{HEADER}
C1,{A},Amy,Smith,2012-03-04,CLA,2025-01-01
C2,{B},Ben,Jones,2013-05-06,CP,2025-01-01
""",
        ),
        cfg,
    )
    assert first.counts.rows_flagged == 0 and "identity" not in first.summary()
    second = ingest_file(
        store,
        write(
            "children_2.csv",
            f"""
{HEADER}
C1,{C},Amy,Smith,2012-03-04,CLA,2025-01-01
C2,{B},Ben,Jones,2013-05-06,CP,2025-01-01
C5,{B},Eve,Jones,2014-01-01,CIN,2025-02-01
""",
        ),
        cfg,
    )
    assert (second.status, second.counts.rows_loaded, second.counts.rows_rejected) == ("loaded", 3, 0)
    assert second.counts.rows_flagged == 2
    assert "2 with an identity conflict to check" in second.summary()
    assert store.children_frame().sort("la_child_id")["upn"].to_list() == [C, B, B]  # the list is the record
    flagged = store.rejected_frame("children_2.csv").filter(pl.col("outcome") == "flagged")
    assert flagged.select("line", "column").sort("line").rows() == [(2, "upn"), (4, "upn")]
