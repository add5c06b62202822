"""Bad input, one kind per case: the good rows load, each bad row is rejected (or its value dropped) with its
line, column and reason, and a file is refused whole only when nothing in it can be read."""

from __future__ import annotations

import dataclasses
import gzip
import io
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vsdash.config import load_config
from vsdash.feeds import FeedError, parse
from vsdash.ingest import ingest_file

TODAY = date(2026, 2, 13)
A, B = "B801200005001", "Q801200005002"
MARKS = "UPN,URN,Date,AM,PM"
GOOD = [f"{A},123456,2025-09-02,/,\\", f"{B},123456,2025-09-02,N,N", f"{A},123456,2025-09-03,/,\\"]
CHILDREN = "LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date,Year Group"
SUSPENSIONS = "UPN,URN,Start Date,End Date,Sessions,Category,Reason"
CFG = load_config()


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    """A feed file as a data manager would drop it."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def lines(*rows: str) -> str:
    """A CSV from its lines."""
    return "\n".join(rows) + "\n"


# (file text, main table, rows loaded, [(line, column or None, outcome, words in the reason)])
CASES = {
    "a stray quote loses only its line": (
        lines(MARKS, GOOD[0], f'{B},123456,"2025-09-02,N,N', *GOOD[1:]),
        "attendance",
        3,
        [(3, None, "rejected", "quote")],
    ),
    "a 200 KB quoted cell loses only its row": (
        lines("UPN,URN,Date,AM,PM,LA Child ID", GOOD[0] + ",C1", f'{B},123456,2025-09-02,N,N,"{"x" * 200_000}"'),
        "attendance",
        1,
        [(3, None, "rejected", "longer than 10,000 characters")],
    ),
    "full-width digits are not a URN": (
        lines(MARKS, GOOD[0], f"{B},１２３４５６,2025-09-02,N,N"),
        "attendance",
        1,
        [(3, "URN", "rejected", "6-digit")],
    ),
    "a date after today": (
        lines(MARKS, GOOD[0], f"{B},123456,2099-01-01,N,N"),
        "attendance",
        1,
        [(3, "Date", "rejected", "is after 13/02/2026")],
    ),
    "a date more than ten academic years back": (
        lines(MARKS, GOOD[0], f"{B},123456,2014-09-02,N,N"),
        "attendance",
        1,
        [(3, "Date", "rejected", "is before 01/09/2015")],
    ),
    "a two-digit year": (
        lines(MARKS, GOOD[0], f"{B},123456,17/09/25,N,N"),
        "attendance",
        1,
        [(3, "Date", "rejected", "two-digit year")],
    ),
    "a Saturday": (
        lines(MARKS, GOOD[0], f"{B},123456,2025-09-06,N,N"),
        "attendance",
        1,
        [(3, "Date", "rejected", "Saturday")],
    ),
    "a 60-character LA Child ID": (
        lines("UPN,URN,Date,AM,PM,LA Child ID", GOOD[0] + ",C1", f"{B},123456,2025-09-02,N,N,{'C' * 60}"),
        "attendance",
        1,
        [(3, "LA Child ID", "rejected", "60 characters; at most 40")],
    ),
    "a superscript year group is dropped, the child kept": (
        lines(
            CHILDREN,
            f"C1,{A},Amy,Smith,2012-03-04,CLA,2025-01-01,²",
            f"C2,{B},Ben,Jones,2013-03-04,CP,2025-01-01,Year 7",
        ),
        "cohort_episodes",
        2,
        [(2, "Year Group", "value dropped", "is not R, N1, N2")],
    ),
    "a date of birth in the future is dropped": (
        lines(CHILDREN, f"C1,{A},Amy,Smith,2030-03-04,CLA,2025-01-01,7"),
        "cohort_episodes",
        1,
        [(2, "DOB", "value dropped", "is after 13/02/2026")],
    ),
    "a suspension ending before it starts, and one far ahead": (
        lines(
            SUSPENSIONS,
            f"{A},123456,2025-10-06,2025-10-07,2,FIXD,DB",
            f"{A},123456,2025-10-08,2025-10-01,2,FIXD,DB",
            f"{B},123456,2026-06-01,,2,FIXD,DB",
        ),
        "suspensions",
        1,
        [(3, "End Date", "rejected", "is before Start Date"), (4, "Start Date", "rejected", "is after 15/03/2026")],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_each_kind_of_bad_row(tmp_path, name):
    text, table, loaded, expected = CASES[name]
    feed = parse(write(tmp_path, "feed.csv", text), CFG, today=TODAY)
    assert feed.tables[table].height == loaded
    got = feed.rejects.select("line", "column", "outcome", "reason").rows()
    assert [(line, column, outcome) for line, column, outcome, _ in got] == [e[:3] for e in expected]
    for (*_, reason), (*_, words) in zip(got, expected, strict=True):
        assert words in reason


def test_a_few_bad_bytes_in_a_utf8_file_lose_only_their_lines(tmp_path):
    data = lines(
        CHILDREN, f"C1,{A},Zoë,Smith,2012-03-04,CLA,2025-01-01,7"
    ).encode() + f"C2,{B},Zo\xeb,Jones,2013-03-04,CP,2025-01-01,8\n".encode("latin-1")
    feed = parse(write(tmp_path, "children.csv", data), CFG, today=TODAY)
    assert feed.tables["children"]["first_name"].to_list() == ["Zoë"]  # not 'ZoÃ«'
    assert feed.rejects.select("line", "outcome").rows() == [(3, "rejected")]
    assert "not UTF-8" in feed.rejects["reason"][0]


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_each_encoding_is_read_as_written(tmp_path, encoding):
    data = lines(CHILDREN, f"C1,{A},Zoë,Smith,2012-03-04,CLA,2025-01-01,7").encode(encoding)
    feed = parse(write(tmp_path, "children.csv", data), CFG, today=TODAY)
    assert feed.tables["children"]["first_name"].to_list() == ["Zoë"] and feed.rejects.is_empty()


def test_a_closure_day_takes_only_not_possible_codes(tmp_path):
    cfg = dataclasses.replace(CFG, feeds=dataclasses.replace(CFG.feeds, closure_dates=(date(2025, 9, 3),)))
    text = lines(MARKS, GOOD[0], f"{A},123456,2025-09-03,#,#", f"{B},123456,2025-09-03,N,N")
    feed = parse(write(tmp_path, "a.csv", text), cfg, today=TODAY)
    assert feed.tables["attendance"].height == 2
    assert feed.rejects.select("line", "column").rows() == [(4, "Date")]


def test_a_spreadsheet_with_a_title_and_blank_trailing_cells_loads_every_row(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    book.active.append(["Attendance for the virtual school"])
    sheet = book.create_sheet("Marks")
    sheet.append(["Exported 13/02/2026"])
    sheet.append([])
    sheet.append(["UPN", "URN", "Date", "AM", "PM", "LA Child ID"])
    sheet.append([A, 123456, date(2025, 9, 2), "/", "\\", "C1"])
    sheet.append([B, 123456, date(2025, 9, 2), "N"])  # no PM yet, no LA Child ID: blank trailing cells
    buffer = io.BytesIO()
    book.save(buffer)
    feed = parse(write(tmp_path, "marks.xlsx", buffer.getvalue()), CFG, today=TODAY)
    assert feed.tables["attendance"].select("upn", "urn", "pm").rows() == [(A, 123456, "\\"), (B, 123456, None)]
    assert feed.rejects.is_empty()


def test_a_gzip_bomb_is_refused_without_unpacking_it_all(tmp_path):
    cfg = dataclasses.replace(CFG, feeds=dataclasses.replace(CFG.feeds, max_uncompressed_mb=1))
    bomb = gzip.compress((MARKS + "\n").encode() + b"," * (3 * 1024 * 1024))
    with pytest.raises(FeedError, match="unpacks to more than 1 MB"):
        parse(write(tmp_path, "a.csv.gz", bomb), cfg, today=TODAY)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"Dear data team,\nplease find attached\n", "no recognisable header"),
    ],
)
def test_a_file_is_refused_whole_only_when_nothing_can_be_read(tmp_path, data, words):
    with pytest.raises(FeedError, match=words):
        parse(write(tmp_path, "a.csv", data), CFG, today=TODAY)


def test_an_overlong_id_is_one_rejected_row_on_both_databases(store, tmp_path):
    text = lines("UPN,URN,Date,AM,PM,LA Child ID", GOOD[0] + ",C1", f"{B},123456,2025-09-02,N,N,{'C' * 60}")
    result = ingest_file(store, write(tmp_path, "a.csv", text), CFG)
    assert (result.status, result.counts.rows_loaded, result.counts.rows_rejected) == ("loaded", 1, 1)
    assert store.marks()["upn"].to_list() == [A]


# ---- a property: any mix of bad rows into a good file ----------------------------------------------------

SCHOOL_DAYS = [d for d in (date(2025, 9, 1) + timedelta(days=i) for i in range(60)) if d.weekday() < 5]
BAD_ROWS = {
    "stray quote": f'{A},123456,"2025-09-02,N,N',
    "full-width digit": f"{A},12345６,2025-09-02,N,N",
    "future date": f"{A},123456,2031-09-02,N,N",
    "two-digit year": f"{A},123456,02/09/25,N,N",
    "unknown code": f"{A},123456,2025-09-02,Ω,N",
    "weekend": f"{A},123456,2025-09-07,N,N",
    "too many fields": f"{A},123456,2025-09-02,N,N,extra,more",
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    good_days=st.lists(st.sampled_from(SCHOOL_DAYS), min_size=1, max_size=25, unique=True),
    bad=st.lists(st.sampled_from(sorted(BAD_ROWS)), max_size=8),
    seed=st.randoms(use_true_random=False),
)
def test_every_good_row_loads_and_every_bad_row_is_rejected_on_its_line(tmp_path, good_days, bad, seed):
    rows = [("good", f"{A},123456,{d.isoformat()},/,\\") for d in good_days] + [("bad", BAD_ROWS[b]) for b in bad]
    seed.shuffle(rows)
    feed = parse(write(tmp_path, "mixed.csv", lines(MARKS, *[text for _, text in rows])), CFG, today=TODAY)
    bad_lines = {i + 2 for i, (kind, _) in enumerate(rows) if kind == "bad"}
    assert sorted(feed.tables["attendance"]["date"].to_list()) == sorted(good_days)
    rejected = feed.rejects.filter(pl.col("outcome") == "rejected")
    assert set(rejected["line"].to_list()) == bad_lines
    assert rejected["reason"].str.len_chars().min() or not bad_lines


def test_a_formula_never_calculated_is_rejected_not_loaded_blank(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["UPN", "URN", "Date", "AM", "PM"])
    sheet.append([A, 123456, date(2025, 9, 2), "/", "\\"])
    sheet.append([B, 123456, "=DATE(2025,9,2)", "N", "N"])  # openpyxl saves no value for a formula
    buffer = io.BytesIO()
    book.save(buffer)
    feed = parse(write(tmp_path, "marks.xlsx", buffer.getvalue()), CFG, today=TODAY)
    assert feed.tables["attendance"]["upn"].to_list() == [A]
    assert feed.rejects.select("line", "outcome").rows() == [(3, "rejected")]
    assert "formula with no saved value" in feed.rejects["reason"][0]
