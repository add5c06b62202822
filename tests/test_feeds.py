"""Reading and validating feed files, without a database."""

import gzip
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from vsdash.feeds import FeedError, detect_kind, parse

GOOD = "B801200005001"  # valid UPN (DfE example)
OTHER = "A801200005002"  # sum 93 - 13 + 26 = 106, 106 mod 23 = 14 -> 'Q', so 'A' is the wrong check letter


def test_other_upn_constant_is_really_invalid_so_tests_below_mean_something():
    from vsdash.identifiers import upn_problem

    assert upn_problem(GOOD) is None
    assert upn_problem(OTHER) is not None


@pytest.mark.parametrize(
    "header, kind",
    [
        (["UPN", "URN", "Date", "AM", "PM"], "attendance"),
        (["upn", "urn", "date", "am", "pm", "la_child_id"], "attendance"),
        (["LA Child ID", "UPN", "Cohort", "Start Date", "End Date"], "children"),
        (["la_child_id", "cohort", "start_date"], "children"),
        (["UPN", "URN", "Start Date", "Sessions", "Category", "Reason"], "suspensions"),
        (["URN", "EstablishmentName", "LA (code)", "LA (name)", "Easting", "Northing"], "schools"),
    ],
)
def test_kind_is_detected_from_the_header(header, kind):
    assert detect_kind(header) == kind


def test_unrecognised_header_names_what_was_expected():
    with pytest.raises(FeedError, match=r"no recognisable header .*attendance: UPN, URN, Date, AM, PM"):
        detect_kind(["Pupil", "When", "Mark"])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["UPN", "URN", "Date", "AM"], "this looks like an attendance file, but the PM column is missing"),
        (["URN", "Date", "AM", "PM"], "this looks like an attendance file, but the UPN column is missing"),
        (["LA Child ID", "Cohort"], "this looks like a children list, but the Start Date column is missing"),
        (["UPN", "URN", "Start Date"], "this looks like a suspensions file, but the Category column is missing"),
        (["UPN", "Date"], "this looks like an attendance file, but the URN, AM, PM columns are missing"),
        (["UPN", "Mark"], "no recognisable header"),  # too little of any kind to say which
    ],
)
def test_a_missing_required_column_is_named(header, message):
    with pytest.raises(FeedError) as err:
        detect_kind(header)
    assert str(err.value).startswith(message)


def test_attendance_rows_validate_line_by_line(write, cfg):
    path = write(
        "att.csv",
        f"""
UPN,URN,Date,AM,PM
{GOOD},123456,2025-09-02,/,\\
{GOOD},123456,03/09/2025,n,N
{OTHER},123456,2025-09-02,/,\\
{GOOD},12345,2025-09-04,/,H9
{GOOD},123456,2025-09-31,/,/
{GOOD},123456,2025-09-05,,
{GOOD},123456,2025-09-08,/,
x,y
""",
    )
    feed = parse(path, cfg)
    assert feed.kind == "attendance"
    assert feed.rows_read == 8
    rows = feed.tables["attendance"].sort("date")
    # lines 2, 3 and 8 are good; line 3's lower-case n is the code N; line 8's empty PM is "not yet sent"
    assert rows.select("date", "am", "pm").rows() == [
        (date(2025, 9, 2), "/", "\\"),
        (date(2025, 9, 3), "N", "N"),
        (date(2025, 9, 8), "/", None),
    ]
    rejects = {(r["line"], r["column"]): r["reason"] for r in feed.rejects.iter_rows(named=True)}
    assert "wrong check letter" in rejects[(4, "UPN")]
    assert rejects[(5, "URN")] == "URN '12345' is not a 6-digit school reference number"
    assert rejects[(5, "PM")] == "PM code 'H9' is not an attendance code in the configuration"
    assert "'2025-09-31' is not a date" in rejects[(6, "Date")]
    assert rejects[(7, "AM")] == "both AM and PM are empty"
    assert rejects[(9, None)] == "the row has 2 fields but the header has 5"
    assert feed.rejects.filter(pl.col("line") == 4)["raw"][0] == f"{OTHER},123456,2025-09-02,/,\\"


def test_a_repeated_row_in_one_file_keeps_the_later(write, cfg):
    path = write(
        "att.csv",
        f"""
UPN,URN,Date,AM,PM
{GOOD},123456,2025-09-02,N,N
{GOOD},123456,2025-09-02,/,\\
""",
    )
    feed = parse(path, cfg)
    assert feed.tables["attendance"].select("am", "pm").rows() == [("/", "\\")]
    assert feed.rejects["line"].to_list() == [2]
    assert "appears again at line 3" in feed.rejects["reason"][0]


def test_headers_match_ignoring_case_spaces_and_underscores_and_extra_columns_are_ignored(write, cfg):
    path = write(
        "att.csv",
        f"""
 upn ,U_R_N,DATE,Am,pM,Comment
{GOOD},123456,2025-09-02,/,\\,hello
""",
    )
    feed = parse(path, cfg)
    assert feed.tables["attendance"].height == 1 and feed.rejects.is_empty()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "not a CSV or XLSX"),
        (b"Pupil,When\n1,2\n", "no recognisable header"),
        (b"PK\x03\x04broken zip", "XLSX file cannot be opened"),
        (b"UPN,URN,Date,AM,AM\n", "repeats column(s) AM"),
    ],
)
def test_unreadable_files_fail_with_one_line(write, cfg, content, message):
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(write("bad.csv", content), cfg)


def test_named_kind_must_have_its_columns(write, cfg):
    path = write("att.csv", f"UPN,URN,Date,AM\n{GOOD},123456,2025-09-02,/\n")
    with pytest.raises(FeedError, match=r"lacks column.s. pm"):
        parse(path, cfg, kind="attendance")


def test_xlsx_and_gzip_and_latin1(tmp_path: Path, cfg):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["UPN", "URN", "Date", "AM", "PM"])
    ws.append([GOOD, 123456, date(2025, 9, 2), "/", "\\"])
    ws.append(["bad", 123456, date(2025, 9, 2), "/", "\\"])
    wb.save(tmp_path / "att.xlsx")
    feed = parse(tmp_path / "att.xlsx", cfg)
    assert feed.tables["attendance"].select("urn", "date").rows() == [(123456, date(2025, 9, 2))]
    assert feed.rejects.select("line", "column").rows() == [(3, "UPN")]

    (tmp_path / "att.csv.gz").write_bytes(gzip.compress(f"UPN,URN,Date,AM,PM\n{GOOD},123456,2025-09-02,/,/\n".encode()))
    assert parse(tmp_path / "att.csv.gz", cfg).tables["attendance"].height == 1

    gias = "URN,EstablishmentName,LA (code),LA (name),Easting,Northing\n123456,Ysgol Gymraeg Llanfair-ym-Muallt,666,Powys,304500,251000\n"
    (tmp_path / "gias.csv").write_bytes(gias.replace("Gymraeg", "G\xe2ymraeg").encode("latin-1"))
    schools = parse(tmp_path / "gias.csv", cfg).tables["schools"]
    assert schools["name"][0] == "Ysgol G\xe2ymraeg Llanfair-ym-Muallt"


def test_schools_get_latitude_and_longitude_from_the_national_grid(write, cfg):
    path = write(
        "gias.csv",
        """
URN,EstablishmentName,LA (code),LA (name),PhaseOfEducation (name),Postcode,Easting,Northing
123456,Shrewsbury Castle Primary,893,Shropshire,Primary,SY1 2AA,349300,312900
123457,No Coordinates School,893,Shropshire,Secondary,SY1 2AB,,
123458,Bad Coordinates School,893,Shropshire,Secondary,SY1 2AC,east,1
12345,Too Short,893,Shropshire,Primary,SY1 2AD,1,1
""",
    )
    feed = parse(path, cfg)
    rows = {r["urn"]: r for r in feed.tables["schools"].iter_rows(named=True)}
    # Shrewsbury town centre is at about 52.707 N, 2.752 W
    assert rows[123456]["latitude"] == pytest.approx(52.707, abs=0.005)
    assert rows[123456]["longitude"] == pytest.approx(-2.752, abs=0.005)
    assert rows[123457]["latitude"] is None
    assert rows[123458]["easting"] is None  # value dropped, school kept
    assert 12345 not in rows
    outcomes = {(r["line"], r["outcome"]) for r in feed.rejects.iter_rows(named=True)}
    assert outcomes == {(4, "value dropped"), (5, "rejected")}


CHILDREN = f"""
LA Child ID,UPN,First Name,Last Name,DOB,Gender,Cohort,Start Date,End Date,Social Worker,Team,Locality,EHCP,Responsible LA,Year Group
C1,{GOOD},Amy,Smith,2014-03-01,F,CIN,2025-06-01,2025-09-09,Jo Old,North 1,North,N,,6
C1,{GOOD},Amy,Smith,2014-03-01,F,CP,2025-09-10,,Jo New,North 2,North,N,,6
C2,XX,Bob,Jones,01/02/2012,M,cla,2024-01-01,,Sam Lee,South 2,South,yes,886,8
C3,,Cy,Doe,2012-01-01,M,ZZ,2024-01-01,,Sam Lee,South 2,South,no,,8
C4,,Di,Roe,2012-01-01,F,CIN,2025-01-01,2024-12-01,Sam Lee,South 2,South,maybe,88,8
"""


def test_children_list_gives_episodes_children_and_allocations(write, cfg):
    feed = parse(write("children.csv", CHILDREN), cfg)
    episodes = feed.tables["cohort_episodes"].sort("la_child_id", "start_date")
    assert episodes.select("la_child_id", "cohort", "end_date").rows() == [
        ("C1", "CIN", date(2025, 9, 9)),
        ("C1", "CP", None),
        ("C2", "CLA", None),
    ]
    children = {r["la_child_id"]: r for r in feed.tables["children"].iter_rows(named=True)}
    assert children["C1"]["responsible_la"] == "893"  # defaults to the configured authority
    assert children["C2"]["upn"] is None  # bad UPN dropped, child kept
    assert children["C2"]["ehcp"] is True and children["C2"]["responsible_la"] == "886"
    assert children["C2"]["dob"] == date(2012, 2, 1)
    allocation = feed.tables["allocations"].filter(pl.col("la_child_id") == "C1").row(0, named=True)
    assert allocation["social_worker"] == "Jo New"  # from the latest episode
    reasons = {(r["line"], r["column"]): (r["outcome"], r["reason"]) for r in feed.rejects.iter_rows(named=True)}
    assert reasons[(4, "UPN")][0] == "value dropped"
    assert reasons[(5, "Cohort")] == ("rejected", "Cohort 'ZZ' is not one of CLA, CIN, CP, PLAC, EVER6, CWSW")
    assert reasons[(6, "End Date")] == ("rejected", "End Date 2024-12-01 is before Start Date 2025-01-01")


def test_suspensions(write, cfg):
    feed = parse(
        write(
            "susp.csv",
            f"""
UPN,URN,Start Date,Sessions,Category,Reason,Reason 2
{GOOD},123456,2025-10-01,2,FIXD,PA,VA
{GOOD},123456,2025-11-01,,PERM,DB,
{GOOD},123456,2025-11-05,,suspension,DB,
{GOOD},123456,2025-11-06,3,suspension,XX,
{GOOD},123456,2025-11-07,1,expelled,DB,
{GOOD},123456,2025-11-08,0,suspension,DB,
""",
        ),
        cfg,
    )
    rows = feed.tables["suspensions"].sort("start_date")
    assert rows.select("category", "sessions", "reason", "reason_2").rows() == [
        ("suspension", 2, "PA", "VA"),
        ("permanent_exclusion", None, "DB", None),
    ]
    reasons = {r["line"]: r["reason"] for r in feed.rejects.iter_rows(named=True)}
    assert reasons == {
        4: "Sessions is empty; a suspension needs its number of sessions",
        5: "Reason 'XX' is not a reason code in the configuration",
        6: "Category 'EXPELLED' is not suspension or permanent_exclusion (or FIXD / PERM)",
        7: "Sessions is 0; a suspension lasts at least one session",
    }


def test_plain_and_quoted_csv_read_the_same(write, cfg):
    # Plain files are split in polars; quoted ones go through the csv module. Both must agree on rows,
    # line numbers (blank lines counted), trailing commas and short rows.
    plain = f"UPN,URN,Date,AM,PM\n{GOOD},123456,2025-09-02,/,\\\n\n{GOOD},123456,2025-09-03,N,N,,\nshort,row\n{OTHER},123456,2025-09-03,/,/\n"
    quoted = plain.replace(f"{GOOD},123456,2025-09-02", f'"{GOOD}","123456","2025-09-02"')
    a, b = parse(write("plain.csv", plain), cfg), parse(write("quoted.csv", quoted), cfg)
    assert a.tables["attendance"].rows() == b.tables["attendance"].rows()
    assert a.tables["attendance"].height == 2
    assert a.rejects.select("line", "column", "reason").rows() == b.rejects.select("line", "column", "reason").rows()
    assert a.rejects.select("line", "reason").rows() == [
        (5, "the row has 2 fields but the header has 5"),
        (6, "UPN 'A801200005002' has the wrong check letter (expected Q)"),
    ]
    assert a.rejects["raw"].to_list() == ["short,row", f"{OTHER},123456,2025-09-03,/,/"]


def test_a_quoted_field_may_hold_a_comma(write, cfg):
    feed = parse(write("schools.csv", 'URN,EstablishmentName,LA (code)\n123456,"St Mary\'s, Ludlow",893\n'), cfg)
    assert feed.tables["schools"]["name"].to_list() == ["St Mary's, Ludlow"]
