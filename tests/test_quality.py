"""Data quality on hand-made lists: the match rules, freshness by school, rejects in plain words, the report."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from openpyxl import load_workbook
from polars.testing import assert_frame_equal
from test_pages import app, as_user, db_url, metric, sample_store  # noqa: F401  (db_url, sample_store: fixtures)

from vsdash import quality, views
from vsdash.config import load_config
from vsdash.frames import ALIASES_SCHEMA, CHILDREN_SCHEMA, SENDING_SCHEMA, SENT_SCHEMA, Frames, conform
from vsdash.identifiers import with_check_letter
from vsdash.ingest import ingest_file

U = {n: with_check_letter(f"8931234250{n:02d}") for n in range(1, 10)}

CHILDREN = conform(
    [
        {"la_child_id": "C1", "upn": U[1], "first_name": "Ava", "last_name": "Price", "dob": date(2014, 3, 2)},
        {
            "la_child_id": "C2",
            "upn": U[2],
            "first_name": "Ben",
            "last_name": "Jones",
            "dob": date(2013, 5, 6),
        },  # school sends U[5]
        {
            "la_child_id": "C3",
            "upn": None,
            "first_name": "Cara",
            "last_name": "Lloyd",
            "dob": date(2012, 7, 8),
        },  # no UPN held
        {
            "la_child_id": "C4",
            "upn": U[4],
            "first_name": "Dan",
            "last_name": "Evans",
            "dob": date(2011, 9, 10),
        },  # nothing sent
        {
            "la_child_id": "C6",
            "upn": U[6],
            "first_name": "Eve",
            "last_name": "Hughes",
            "dob": date(2015, 1, 2),
        },  # confirmed
    ],
    CHILDREN_SCHEMA,
)


def sent(*rows: tuple) -> pl.DataFrame:
    """Attendance as sent: (upn, la_child_id carried, urn, rows)."""
    return pl.DataFrame(
        [
            {
                "upn": u,
                "la_child_id": c,
                "urn": s,
                "rows": n,
                "first_date": date(2025, 9, 3),
                "last_date": date(2025, 9, 30),
            }
            for u, c, s, n in rows
        ],
        schema=SENT_SCHEMA,
    )


SENT = sent(
    (U[1], None, 111111, 20),  # C1 by UPN
    (U[5], "C2", 111111, 20),  # C2's attendance under another UPN, carrying C2's ID
    (U[7], None, 222222, 15),  # nobody on the list
    (U[8], "C3", 222222, 10),  # C3 (no UPN held) found by the ID carried
    (U[9], "C6", 111111, 5),
)  # C6's confirmed alias

CONFIRMED = pl.DataFrame(
    [
        {
            "alias_upn": U[9],
            "upn": U[6],
            "la_child_id": "C6",
            "confirmed_by": "D. Manager",
            "confirmed_at": datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
        }
    ],
    schema=ALIASES_SCHEMA,
)


@pytest.fixture(scope="module")
def matching() -> quality.Matching:
    return quality.match_children(CHILDREN, SENT, CONFIRMED)


@pytest.mark.parametrize(
    "child, status, attendance_upn",
    [
        ("C1", quality.MATCHED_UPN, U[1]),
        ("C2", quality.SUGGESTED, U[5]),
        ("C3", quality.SUGGESTED, U[8]),
        ("C4", quality.NO_DATA, None),
        ("C6", quality.CONFIRMED, U[9]),
    ],
)
def test_match_rules(matching, child, status, attendance_upn):
    row = matching.children.filter(pl.col("la_child_id") == child).row(0, named=True)
    assert (row["status"], row["attendance_upn"]) == (status, attendance_upn)


def test_suggestions_unknown_pupils_and_rate(matching):
    assert matching.suggestions.select("la_child_id", "attendance_upn", "rule").rows() == [
        ("C2", U[5], quality.BY_CHILD_ID),
        ("C3", U[8], quality.BY_CHILD_ID),
    ]  # Jones, Lloyd
    assert matching.unknown_pupils.select("upn", "schools", "rows").rows() == [(U[7], "222222", 15)]
    assert matching.counts() == {
        "listed": 5,
        quality.MATCHED_UPN: 1,
        quality.CONFIRMED: 1,
        quality.SUGGESTED: 2,
        quality.NO_DATA: 1,
        "unknown_pupils": 1,
    }
    assert matching.match_rate() == pytest.approx(40.0)


def test_an_id_the_list_does_not_know_leaves_the_pupil_unknown():
    out = quality.match_children(CHILDREN, sent((U[7], "C99", 222222, 3)), CONFIRMED.clear())
    assert out.suggestions.is_empty() and out.unknown_pupils["upn"].to_list() == [U[7]]


def test_name_and_date_of_birth_suggest_when_the_attendance_carries_them():
    with_names = SENT.filter(pl.col("upn") == U[7]).with_columns(
        first_name=pl.lit("DAN"), last_name=pl.lit("evans"), dob=pl.lit(date(2011, 9, 10))
    )
    out = quality.match_children(CHILDREN.filter(pl.col("la_child_id") == "C4"), with_names, CONFIRMED.clear())
    assert out.suggestions.select("la_child_id", "attendance_upn", "rule").rows() == [("C4", U[7], quality.BY_NAME_DOB)]
    assert out.unknown_pupils.is_empty()


# ---- freshness by school --------------------------------------------------------------------------------

DAYS = [
    date(2026, 1, 26) + timedelta(days=i) for i in range(12) if (date(2026, 1, 26) + timedelta(days=i)).weekday() < 5
]


def marks_for(urn: int, days: list[date], upn: str = U[1]) -> list[dict]:
    return [{"upn": upn, "urn": urn, "date": d, "am": "/", "pm": "\\"} for d in days]


SCHOOLS = [
    {"urn": 111111, "name": "Sending", "la_code": "893"},
    {"urn": 222222, "name": "Quiet", "la_code": "893"},
    {"urn": 333333, "name": "Welsh", "la_code": "665", "la_name": "Wrexham"},
    {"urn": 444444, "name": "Two days", "la_code": "893"},
]


FRESHNESS_MARKS = (
    marks_for(111111, DAYS)
    + [{"upn": U[4], "urn": 111111, "date": d, "am": "D", "pm": "D"} for d in DAYS[:3]]  # coded: counts as sent
    + marks_for(222222, DAYS[:4], U[2])
    + marks_for(444444, DAYS[:-2], U[3])
)


def freshness_store(store, write, cfg):
    """The store holding FRESHNESS_MARKS, loaded as a school's file would be."""
    lines = ["UPN,URN,Date,AM,PM", *(f"{m['upn']},{m['urn']},{m['date']},{m['am']},{m['pm']}" for m in FRESHNESS_MARKS)]
    assert ingest_file(store, write("attendance_2026-02-06.csv", "\n".join(lines) + "\n"), cfg).status == "loaded"
    return store


def test_what_each_school_sent_is_summed_in_the_database(store, write, cfg):
    sending = freshness_store(store, write, cfg).school_sending().sort("urn")
    assert sending.rows() == [
        (111111, DAYS[0], DAYS[-1], len(DAYS), 2),  # two pupils: one attending, one dual registered (D)
        (222222, DAYS[0], DAYS[3], 4, 1),
        (444444, DAYS[0], DAYS[-3], len(DAYS) - 2, 1),
    ]


def test_a_scan_of_every_day_row_gives_its_connection_back_as_the_loads_set_it(store, write, cfg):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's page cache and memory map only")
    freshness_store(store, write, cfg).table_counts()  # a count of every day row
    with store.engine.connect() as conn:  # the pool hands back the connection the scan used
        assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == 1 << 30
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -262144
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY


def test_school_freshness_counts_school_days_by_the_authority_calendar(store, write, cfg):
    sending = freshness_store(store, write, cfg).school_sending()
    frames = Frames.build(schools=SCHOOLS, children=[{"la_child_id": "C1", "upn": U[1]}], marks=FRESHNESS_MARKS)
    fresh = quality.school_freshness(frames, sending, cfg).select(
        "urn", "status", "last_mark", "school_days_silent", "out_of_area", "listed_children", "pupils"
    )
    assert {r[0]: r[1:] for r in fresh.rows()} == {
        333333: (quality.NEVER_SENT, None, None, True, 0, 0),
        222222: (quality.SILENT, DAYS[3], len(DAYS) - 4, False, 0, 1),
        444444: (quality.SENDING, DAYS[-3], 2, False, 0, 1),  # 2 < silent_school_days (3)
        111111: (quality.SENDING, DAYS[-1], 0, False, 1, 2),
    }
    assert fresh["urn"].to_list()[:2] == [333333, 222222]  # problems first


# ---- rejects in plain words -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason, problem",
    [
        ("UPN 'A1234' has 5 characters; a UPN has 13", "UPN format error"),
        ("UPN 'B801200005002' has the wrong check letter (expected H)", "UPN format error"),
        ("AM code 'H9' is not an attendance code in the configuration", "Unknown attendance code"),
        ("Date '31/02/2026' is not a date (use YYYY-MM-DD or DD/MM/YYYY)", "Date not understood"),
        ("URN is empty", "Required value missing"),
        (
            "the same child, school and date appears again at line 9; the later row was kept",
            "Repeated row (the later one was kept)",
        ),
        ("the row has 4 fields but the header has 6", "Wrong number of fields"),
        ("something new", "Other"),
    ],
)
def test_problem_kind(reason, problem):
    assert pl.select(quality.problem_kind(pl.lit(reason))).item() == problem


REJECTED = pl.DataFrame(
    {
        "file": ["a1.csv", "a2.csv", "a2.csv", "children.csv"],
        "line": [2, 3, 4, 5],
        "column": ["UPN", "UPN", "AM", "UPN"],
        "outcome": ["rejected", "rejected", "rejected", "value dropped"],
        "reason": ["UPN 'X89312' has 6 characters; a UPN has 13"] * 2
        + ["AM code 'H9' is not an attendance code", "UPN 'B801200005002' has the wrong check letter (expected H)"],
        "raw": ["r1", "r2", "r3", "r4"],
        "load_id": [1, 2, 2, 3],
    }
)
LOAD_LOG = pl.DataFrame({"id": [1, 2, 3], "kind": ["attendance", "attendance", "children"]})


def test_upn_format_errors_group_by_upn_as_sent():
    errors = quality.upn_format_errors(quality.explain_rejects(REJECTED, LOAD_LOG))
    assert errors.select("upn_as_sent", "kind", "rows", "first_file", "last_file").rows() == [
        ("X89312", "attendance", 2, "a1.csv", "a2.csv"),
        ("B801200005002", "children", 1, "children.csv", "children.csv"),
    ]


def test_school_disagreements_ignore_dual_registration():
    day = date(2026, 1, 5)
    marks = conform(
        [
            {"upn": U[1], "urn": 111111, "date": day, "am": "/", "pm": "\\"},
            {"upn": U[1], "urn": 222222, "date": day, "am": "/", "pm": None},
            {"upn": U[2], "urn": 111111, "date": day, "am": "/", "pm": "\\"},
            {"upn": U[2], "urn": 222222, "date": day, "am": "D", "pm": "D"},
        ],
        Frames.build().marks.schema,
    )
    assert quality.school_disagreements(marks).select("upn", "schools", "days").rows() == [(U[1], "111111, 222222", 1)]


def test_school_disagreements_count_each_clash_s_days_and_not_a_move():
    first, second = date(2026, 1, 5), date(2026, 1, 6)
    marks = conform(
        [
            *(
                {"upn": U[1], "urn": urn, "date": d, "am": "/", "pm": "\\"}
                for urn in (111111, 222222)
                for d in (first, second)
            ),
            {"upn": U[3], "urn": 111111, "date": first, "am": "/", "pm": "\\"},  # moved school overnight
            {"upn": U[3], "urn": 222222, "date": second, "am": "/", "pm": "\\"},
            {"upn": U[4], "urn": 111111, "date": first, "am": "/", "pm": "\\"},
            {"upn": U[4], "urn": 222222, "date": first, "am": None, "pm": None},  # a row with no mark
        ],
        Frames.build().marks.schema,
    )
    assert quality.school_disagreements(marks).rows() == [(U[1], "111111, 222222", 2, first, second)]


def test_the_report_has_a_headed_sheet_per_exception_type(cfg, matching):
    sections = quality.exceptions_report(
        matching,
        quality.explain_rejects(pl.DataFrame(), pl.DataFrame()),
        pl.DataFrame(schema={"upn": pl.String}),
        CONFIRMED,
    )
    book = load_workbook(io.BytesIO(quality.report_xlsx(sections, cfg, date(2026, 2, 13))))
    assert book.sheetnames == [
        "Suggested matches",
        "No attendance found",
        "Unknown pupils",
        "UPN format errors",
        "Identity conflicts",
        "School disagreements",
        "Confirmed matches",
    ]
    sheet = book["Unknown pupils"]
    assert sheet["A1"].value.endswith("exceptions report for social care")
    assert sheet["A2"].value == "data as at 13/02/2026"
    assert sheet["A3"].value.startswith("Unknown pupils: Attendance received for UPNs")
    assert sheet["A5"].value == "upn" and sheet["A6"].value == U[7]
    assert book["Confirmed matches"]["E6"].value == datetime(2026, 2, 1, 9, 30)  # Excel has no time zones
    text = quality.report_csv(sections, cfg, date(2026, 2, 13)).decode()
    assert text.count("# data as at 13/02/2026") == len(sections)


# ---- kept per data version ------------------------------------------------------------------------------


class CountedSources:
    """The store's reads the checks start from, on the hand-made frames above, counting each read."""

    def __init__(self) -> None:
        self.reads: Counter[str] = Counter()

    def _read(self, name: str, frame: pl.DataFrame) -> pl.DataFrame:
        self.reads[name] += 1
        return frame

    def children_frame(self) -> pl.DataFrame:
        return self._read("children", CHILDREN)

    def sent_identities(self) -> pl.DataFrame:
        return self._read("sent", SENT)

    def aliases_frame(self) -> pl.DataFrame:
        return self._read("aliases", CONFIRMED)

    def rejected_frame(self) -> pl.DataFrame:
        return self._read("rejected", REJECTED)

    def load_log_frame(self) -> pl.DataFrame:
        return self._read("load log", LOAD_LOG)

    def school_sending(self) -> pl.DataFrame:
        return self._read("sending", SENDING)

    def loaded_counts(self) -> dict[str, int]:
        self.reads["counts"] += 1
        return {"attendance": 20}


SENDING = conform(
    [
        {"urn": 111111, "first_mark": DAYS[0], "last_mark": DAYS[-1], "days_sent": len(DAYS), "pupils": 2},
        {"urn": 222222, "first_mark": DAYS[0], "last_mark": DAYS[1], "days_sent": 2, "pupils": 1},
    ],
    SENDING_SCHEMA,
)


def freshness_figures(cfg) -> views.Figures:
    """U1 marked at two schools on two days (a clash), U2 at one school all along."""
    marks = marks_for(111111, DAYS) + marks_for(222222, DAYS[:2]) + marks_for(111111, DAYS, U[2])
    children = [{"la_child_id": "C1", "upn": U[1]}, {"la_child_id": "C2", "upn": U[2]}]
    return views.Figures(Frames.build(schools=SCHOOLS, children=children, marks=marks), cfg)


def test_each_figure_is_worked_out_once_and_is_the_figure_itself(cfg):
    figures, asked, sources = freshness_figures(cfg), [], CountedSources()
    frames = figures.frames
    checks = quality.DataQuality(lambda: asked.append(1) or figures, sources, cfg)
    for _ in range(3):  # three redraws of the page
        assert_frame_equal(checks.freshness(), quality.school_freshness(frames, SENDING, cfg))
        # Only the children who attended two schools are looked at, and the answer is that of every day row.
        assert figures.several_schools_days["upn"].unique().to_list() == [U[1]]
        assert checks.disagreements().height == 1
        assert_frame_equal(checks.disagreements(), quality.school_disagreements(frames.days()))
        assert_frame_equal(checks.rejected(), quality.explain_rejects(REJECTED, LOAD_LOG))
        assert checks.loaded_counts() == {"attendance": 20}
        matching = quality.match_children(CHILDREN, SENT, CONFIRMED)
        assert checks.matching().counts() == matching.counts()
        report = quality.exceptions_report(matching, checks.rejected(), checks.disagreements(), CONFIRMED)
        for kept, made in zip(checks.report(), report, strict=True):
            assert (kept.name, kept.title) == (made.name, made.title)
            assert_frame_equal(kept.frame, made.frame)
    assert checks.matching() is checks.matching() and checks.report() is checks.report()
    assert len(asked) == 2  # freshness and disagreements once each
    assert sources.reads == {
        "children": 1,
        "sent": 1,
        "aliases": 1,
        "rejected": 1,
        "load log": 1,
        "sending": 1,
        "counts": 1,
    }


def test_two_sessions_asking_at_once_share_one_working_out(cfg):
    figures, days_read = freshness_figures(cfg), []

    def slow_days() -> views.Figures:
        days_read.append(1)
        time.sleep(0.2)  # the other session asks while this one is still working
        return figures

    checks = quality.DataQuality(slow_days, CountedSources(), cfg)
    answers: list[pl.DataFrame] = []
    sessions = [threading.Thread(target=lambda: answers.append(checks.freshness())) for _ in range(2)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join()
    assert len(days_read) == 1 and answers[0] is answers[1]


COMPUTED = ("school_freshness", "match_children", "explain_rejects", "school_disagreements", "exceptions_report")


def test_the_page_works_its_figures_out_once_per_data_version(db_url, sample_store, monkeypatch, tmp_path):
    """Reruns, the page's own filters and another session reuse the figures; a load makes them again."""
    calls: Counter[str] = Counter()
    for name in COMPUTED:
        real = getattr(quality, name)
        monkeypatch.setattr(
            quality, name, lambda *a, _real=real, _name=name, **k: calls.update([_name]) or _real(*a, **k)
        )
    at = as_user(app(), sample_store, "D. Manager", "admin").run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert calls == dict.fromkeys(COMPUTED, 1)
    at.run()
    at.toggle(key="only_problem_schools").set_value(True).run()
    other = as_user(app(), sample_store, "E. Manager", "admin").run()
    other.switch_page("pages/data.py").run()
    assert not at.exception and not other.exception
    assert calls == dict.fromkeys(COMPUTED, 1)
    assert metric(other, "Silent schools") == "1"

    silent = sample_store.marks().filter(pl.col("urn") == 135060)["upn"].unique().sort()  # the sample's silent school
    new_day = tmp_path / "attendance_2026-02-23.csv"
    new_day.write_text("UPN,URN,Date,AM,PM\n" + "".join(f"{upn},135060,2026-02-23,/,\\\n" for upn in silent))
    assert ingest_file(sample_store, new_day, load_config()).status == "loaded"
    at.run()
    assert not at.exception, at.exception
    assert calls == dict.fromkeys(COMPUTED, 2)
    assert metric(at, "Silent schools") == "0" and metric(at, "Latest school day") == "23/02/2026"
