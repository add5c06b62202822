"""Exports open safely in a spreadsheet: no live formula or link, the header on line 1, a telling file name."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import polars as pl
import pytest

from vsdash import export
from vsdash.filters import Filters

# OWASP "CSV injection": text a spreadsheet would run, and how it must come out.
DANGEROUS = [
    ("=1+1", "'=1+1"),
    ("+44 7700", "'+44 7700"),
    ("-x", "'-x"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("C1", "C1"),
    ("a=b", "a=b"),
    ("http://evil.example", "http://evil.example"),
]


def table() -> pl.DataFrame:
    """A table with each dangerous text beside numbers (negatives too), a list and a missing value."""
    n = len(DANGEROUS)
    return pl.DataFrame(
        {
            "la_child_id": [text for text, _ in DANGEROUS],
            "sessions": list(range(-2, n - 2)),
            "attendance_pct": [-12.5] + [87.5] * (n - 2) + [None],
            "cohorts": [["=CP", "CIN"]] + [["CLA"]] * (n - 1),
        }
    )


def expected_text() -> list[str]:
    return [safe for _, safe in DANGEROUS]


def test_csv_is_a_plain_table_with_formula_text_neutralised():
    data = export.csv_bytes(table())
    assert data.split(b"\r\n", 1)[0] == b"la_child_id,sessions,attendance_pct,cohorts"  # the header is line 1
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [r["la_child_id"] for r in rows] == expected_text()
    assert rows[0]["sessions"] == "-2" and rows[0]["attendance_pct"] == "-12.5"  # numbers as they are
    assert rows[0]["cohorts"] == "'=CP; CIN"
    read = pl.read_csv(data)
    assert read.columns == ["la_child_id", "sessions", "attendance_pct", "cohorts"]
    assert read["la_child_id"].to_list() == expected_text()
    assert read["sessions"].to_list() == list(range(-2, len(DANGEROUS) - 2))


def test_xlsx_has_no_formula_or_link_and_prefixes_formula_text():
    about = ['=HYPERLINK("http://evil.example")', "cohort CP, from 2025-09-01 to 2026-02-13"]
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(table(), about, sheet="triage")))
    sheet = book["triage"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.coordinate for c in cells if c.hyperlink]
    assert sheet["A1"].value == '\'=HYPERLINK("http://evil.example")'
    assert sheet["A2"].value == "cohort CP, from 2025-09-01 to 2026-02-13"
    header = [c.value for c in sheet[4]]
    assert header == ["la_child_id", "sessions", "attendance_pct", "cohorts"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    # openpyxl shows a stored carriage return as Excel's escape _x000D_
    assert [v[0].replace("_x000D_", "\r") for v in values] == expected_text()
    assert values[0][1:3] == [-2, -12.5] and values[0][3] == "'=CP; CIN"


@pytest.mark.parametrize(
    "frame",
    [
        pl.DataFrame({"team": pl.Series(["=North", "South"], dtype=pl.Categorical)}),
        pl.DataFrame({"team": pl.Series(["=North", "South"], dtype=pl.Enum(["=North", "South"]))}),
    ],
)
def test_categorical_text_is_neutralised_too(frame):
    assert export.csv_bytes(frame).decode().splitlines() == ["team", "'=North", "South"]


def test_the_exceptions_report_keeps_its_headed_sections():
    text = export.csv_bytes(pl.DataFrame({"upn": ["=A"]}), ["data as at 13/02/2026"]).decode()
    assert text == "# data as at 13/02/2026\r\nupn\r\n'=A\r\n"


@pytest.mark.parametrize(
    "filters, name",
    [
        (Filters(as_of=date(2026, 2, 13)), "triage_as-at-2026-02-13.csv"),
        (
            Filters(as_of=date(2026, 2, 13), start=date(2026, 1, 5), cohort="CP"),
            "triage_CP_from-2026-01-05_as-at-2026-02-13.csv",
        ),
        (
            Filters(
                as_of=date(2026, 2, 13),
                school_urn=123456,
                area="out",
                team="North 1",
                social_worker="Jo O'Neil",
                year_group="7",
                ehcp=False,
                school_la="893",
                locality="North",
            ),
            "triage_school-123456_out-of-area_la-893_locality-North_team-North-1_worker-Jo-O-Neil_year-7_no-ehcp_as-at-2026-02-13.csv",
        ),
        (
            Filters(as_of=date(2026, 2, 13), team="../../etc/passwd"),
            "triage_team-..-..-etc-passwd_as-at-2026-02-13.csv",
        ),
    ],
)
def test_file_names_carry_the_selection_and_as_at_date(filters, name):
    assert export.file_name("triage", export.selection_parts(filters), ".csv") == name


def test_write_table_leaves_no_half_file_when_the_disk_is_full(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"

    def full(self, data):
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(type(path), "write_bytes", full)
    with pytest.raises(OSError):
        export.write_table(table(), path)
    assert list(tmp_path.iterdir()) == []
