"""The monthly meeting pack (issue 18): its figures are the metrics' for the same selection; a forum pack holds
no identity and no count from 1 to threshold - 1; the HTML asks no other host for anything and opens in
headless Chromium without a console error; the PDF has one page per section with text that can be searched;
the XLSX has a cover and a sheet per table; the command line says in one line what is wrong."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.test_pages import LAST_DAY
from tests.test_pages import db_url as db_url
from tests.test_pages import sample_store as sample_store
from tests.test_schools_page import identities
from vsdash import auth, metrics, pack, pack_files, suspension_views, views
from vsdash.access import DataAccess
from vsdash.auth import User
from vsdash.cli import main
from vsdash.config import load_config
from vsdash.filters import Filters

MADE = datetime(2026, 2, 16, 7, 30)
BROWSER = load_config().pack.browser
needs_chromium = pytest.mark.skipif(
    not Path(BROWSER).exists(), reason=f"no Chromium at {BROWSER} (CI installs Debian's chromium)"
)
SMALL = re.compile(r"[1-4]")  # threshold 5
COUNTS = {
    "children",
    "children_with_data",
    "suspensions",
    "children_suspended",
    "suspended_children",
    "suspension_sessions",
    "permanent_exclusions",
    "moves",
    "children_moved",
    "to_out_of_area",
    "moves_back",
    "after_suspension",
}


def door(store, role: str = "manager") -> DataAccess:
    return DataAccess(store, load_config(), User("M. Manager", role))


def table(made: pack.Pack, title: str) -> pl.DataFrame:
    return next(t.frame for s in made.sections for t in s.tables if t.title == title)


def test_the_headline_figures_are_the_metrics_for_the_same_selection(sample_store):
    cfg = load_config()
    made = door(sample_store).meeting_pack(LAST_DAY, made=MADE)
    figures = views.Figures(sample_store.frames(cfg), cfg)
    everyone = metrics.aggregate(views.selected_children(figures, Filters(as_of=LAST_DAY)), []).row(0, named=True)
    headline = dict(table(made, "All children: every headline figure").select("figure", "now").iter_rows())
    assert headline["Attendance"] == f"{everyone['attendance_pct']:.1f}%"
    assert headline["Persistent absence"] == f"{everyone['persistent_absence_rate']:.1f}%"
    assert headline["Children"] == f"{everyone['children']:,}"
    # Per cohort: each selection's rows are that cohort's figures.
    by_cohort = door(sample_store).meeting_pack(LAST_DAY, ["CLA", "CP"], made=MADE)
    cla = metrics.aggregate(views.selected_children(figures, Filters(as_of=LAST_DAY, cohort="CLA")), []).row(
        0, named=True
    )
    rows = table(by_cohort, f"{cfg.cohorts['CLA']}: every headline figure")
    assert [s.title for s in by_cohort.sections][:2] == [f"Headline figures: {cfg.cohorts[c]}" for c in ("CLA", "CP")]
    assert dict(rows.select("figure", "now").iter_rows())["Severe absence"] == f"{cla['severe_absence_rate']:.1f}%"
    assert by_cohort.selection == f"{cfg.cohorts['CLA']}, {cfg.cohorts['CP']}"


def test_suspensions_moves_and_out_of_area_are_the_pages_figures(sample_store):
    cfg = load_config()
    access = door(sample_store)
    made = access.meeting_pack(LAST_DAY, made=MADE)
    filters = Filters(as_of=LAST_DAY)
    page = access.suspensions_page(filters)
    suspensions = table(made, "By cohort")
    assert suspensions.equals(
        page.groups["cohort"].with_columns(pl.col(c).round(2) for c in pack.SUSPENSION_SPEC.derived)
    )
    moves = access.moves(filters)
    counted = table(made, "School moves in the window").row(0, named=True)
    assert counted["moves"] == moves.height > 0
    assert counted["children_moved"] == moves["upn"].n_unique()
    assert counted["to_out_of_area"] == moves["to_out_of_area"].sum()
    area = access.out_of_area(filters)
    assert table(made, "In and out of area")["children"].to_list() == area.compared["children"].to_list()
    assert [s.title for s in made.sections] == [
        "Headline figures",
        "Compared with England",
        "Trends by cohort",
        "By locality and team: All children",
        "Largest movers since last month",
        "Suspensions and exclusions",
        "School moves",
        "Out-of-area children",
        "Data quality and definitions",
    ]
    assert cfg.authority_name == made.authority and made.marking == "OFFICIAL-SENSITIVE"


def test_a_forum_table_withholds_a_small_cohort_and_the_cell_that_gives_it_away():
    """Worked out by hand: All 30 children, 6 suspended; CLA 3 children (c), CIN 27. With the All row shown,
    27 would give CLA's 3 back (30 - 27), so CIN's children are withheld too; CLA's 1 suspended child is c,
    and CIN's 5 then too (6 - 5 = 1); the All row stays shown. Rates built on a withheld count are c."""
    frame = pl.DataFrame(
        {
            "group": ["All", "CLA", "CIN"],
            "children": [30, 3, 27],
            "suspensions": [8, 1, 7],
            "children_suspended": [6, 1, 5],
            "suspension_sessions": [20, 2, 18],
            "permanent_exclusions": [0, 0, 0],
            suspension_views.PER_100: [26.67, 33.33, 25.93],
            "one_or_more_rate": [20.0, 33.33, 18.52],
            "permanent_exclusion_rate": [0.0, 0.0, 0.0],
        }
    )
    shown = pack._forum_text(frame, pack.SUSPENSION_SPEC, 5, total_row=True)
    assert shown["children"].to_list() == ["30", "c", "c"]
    assert shown["children_suspended"].to_list() == ["6", "c", "c"]
    assert shown["suspensions"].to_list() == ["8", "c", "c"]
    assert shown["permanent_exclusions"].to_list() == ["0", "0", "0"]  # a true zero is shown
    assert shown["one_or_more_rate"].to_list() == ["20.0", "c", "c"]
    # A moves table of one row: 7 moves of 4 children (c), 2 to out of area (c), 0 back (a true zero), 5 after a
    # suspension.
    moves = pl.DataFrame({"upn": ["A"] * 4 + ["B", "C", "D"]}).with_columns(
        to_out_of_area=pl.Series([True, True, False, False, False, False, False]),
        move_back=pl.lit(False),
        suspended_before=pl.Series([True] * 5 + [False] * 2),
    )
    assert pack.moves_table(moves, True, 5).row(0) == ("7", "c", "c", "0", "5")


def forum_safe(made: pack.Pack, known: set[str]) -> None:
    """No identity anywhere and no count from 1 to 4 in any count column of any table of the pack."""
    for section in made.sections:
        for t in section.tables:
            for column in COUNTS & set(t.frame.columns):
                small = [v for v in t.frame[column].cast(pl.String).to_list() if SMALL.fullmatch(v or "")]
                assert not small, (section.title, t.title, column, small)
            text = " ".join(str(v) for c in t.frame.columns for v in t.frame[c].to_list())
            assert not [k for k in known if k in text], t.title
        assert not [k for k in known if any(k in line for line in section.lines)]


def test_the_forum_role_only_makes_forum_packs_and_they_identify_no_child(sample_store):
    made = door(sample_store, "forum").meeting_pack(LAST_DAY, ["CLA", "PLAC"], forum=False, made=MADE)
    assert made.forum
    known = identities(sample_store)
    forum_safe(made, known)
    page = pack_files.html(made, [[] for _ in made.sections])  # the pages as printed, charts aside
    assert "forum pack" in page and not [k for k in known if k in page]
    normal = door(sample_store).meeting_pack(LAST_DAY, ["CLA", "PLAC"], made=MADE)
    with pytest.raises(AssertionError):  # the sample's small teams: the check can fail on a normal pack
        forum_safe(normal, identities(sample_store))


def test_xlsx_has_a_cover_and_a_sheet_per_table_in_people_s_words(sample_store):
    access = door(sample_store, "forum")
    name, data = access.meeting_pack_file(".xlsx", LAST_DAY)
    assert name == f"forum-pack_{LAST_DAY:%Y-%m-%d}.xlsx"
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames[0] == "Cover"
    assert {"Headline, All children", "By cohort", "Definitions", "In and out of area"} <= set(book.sheetnames)
    cover = [row[0] for row in book["Cover"].iter_rows(values_only=True) if row and row[0]]
    assert "OFFICIAL-SENSITIVE" in cover and f"As at {LAST_DAY:%d/%m/%Y} (from 01/09/2025)" in cover
    headers = next(r for r in book["By cohort"].iter_rows(values_only=True) if r and r[0] == "Group")
    assert "Suspensions per 100 children" in headers
    everything = " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    assert not [k for k in identities(sample_store) if k in everything]
    entries = sample_store.audit_frame(auth.EXPORTED)
    assert entries["detail"][0].startswith(name)


@needs_chromium
def test_html_is_self_contained_and_opens_offline_without_a_console_error(sample_store, tmp_path):
    from playwright.sync_api import sync_playwright

    name, data = door(sample_store).meeting_pack_file(".html", LAST_DAY)
    text = data.decode()
    assert name == f"meeting-pack_{LAST_DAY:%Y-%m-%d}.html"
    assert "<svg" in text and "<script" not in text  # charts drawn in: nothing to run, nothing to fetch
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    path = tmp_path / name
    path.write_bytes(data)
    requests, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("networkidle")
        headings = page.locator("h1").all_inner_texts()
        charts = page.locator("figure svg").count()
        browser.close()
    assert requests == [path.as_uri()] and not errors
    assert headings[0] == "Headline figures" and charts == 2
    assert "Attendance by week" in text and "OFFICIAL-SENSITIVE" in text


@needs_chromium
def test_pdf_has_one_page_per_section_with_marking_and_page_numbers(sample_store):
    access = door(sample_store)
    made = access.meeting_pack(LAST_DAY, ["CLA", "CIN"], forum=True, made=MADE)
    reader = PdfReader(io.BytesIO(pack_files.pdf_bytes(made, BROWSER)))
    assert len(reader.pages) == len(made.sections) == 11
    for number, (page, section) in enumerate(zip(reader.pages, made.sections, strict=True), start=1):
        text = page.extract_text()
        assert section.title.replace("fi", "\ufb01") in text or section.title in text
        assert text.count("OFFICIAL-SENSITIVE") >= 2 and f"Page {number} of 11" in text
        assert f"as at {LAST_DAY:%d/%m/%Y}" in text and "forum pack" in text
    assert "Marches" in reader.pages[0].extract_text()


def test_the_command_line_writes_the_pack_and_says_what_is_wrong_in_one_line(db_url, tmp_path, capsys):
    out = tmp_path / "pack.xlsx"
    assert main(["pack", "--db", db_url, "--as-of", "2026-02-13", "--cohort", "CLA", "--out", str(out)]) == 0
    assert load_workbook(out, read_only=True).sheetnames[0] == "Cover"
    assert "wrote the meeting pack as at 13/02/2026" in capsys.readouterr().out
    for argv, said in [
        (["--out", str(tmp_path / "pack.docx")], "name a file ending in .html, .pdf, .xlsx"),
        (["--out", str(tmp_path / "nowhere" / "pack.pdf")], "does not exist"),
        (["--cohort", "XYZ", "--out", str(out)], "unknown cohort 'XYZ'"),
    ]:
        assert main(["pack", "--db", db_url, "--as-of", "2026-02-13", *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_chromium_is_one_line_saying_what_to_install(sample_store):
    made = door(sample_store).meeting_pack(LAST_DAY, made=MADE)
    with pytest.raises(pack_files.PackError, match=r"needs Chromium at /nowhere/chromium: install it"):
        pack_files.pack_bytes(made, ".pdf", "/nowhere/chromium")
    assert pack_files.pack_bytes(replace(made), ".xlsx", "/nowhere/chromium")[:2] == b"PK"  # no browser needed


def test_the_overview_makes_the_pack_on_request_and_the_forum_role_gets_a_forum_pack(db_url):
    from tests.test_pages import signed_in_app

    for role, name in [("manager", "meeting-pack"), ("forum", "forum-pack")]:
        at = signed_in_app(db_url, role=role, name=f"P. {role.title()}").run()
        assert not at.exception, at.exception
        assert not at.get("download_button") or all("pack" not in d.proto.label for d in at.get("download_button"))
        at.radio(key="pack_format").set_value(".xlsx").run()
        at.button(key="pack_make").click().run()
        assert not at.exception, at.exception
        labels = [d.proto.label for d in at.get("download_button")]
        assert f"Download {name}_{LAST_DAY:%Y-%m-%d}.xlsx" in labels, labels
