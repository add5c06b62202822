"""The register calendar's layout on hand-made weeks: rows are weeks, cells Monday AM to Friday PM, holidays blank."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import polars as pl
import pytest

from vsdash import register, report, views
from vsdash.config import load_config
from vsdash.metrics import Window

CFG = load_config()
MONDAY = date(2024, 9, 2)  # w/c 02/09/2024


def codes(days: dict[date, tuple[str | None, str | None]], cfg=CFG) -> pl.DataFrame:
    """The calendar's input (`metrics.session_codes`): every school day's AM and PM with code and category."""
    rows = [
        {"date": d, "session": s, "code": c, "category": cfg.code_category.get(c) if c else None}
        for d, (am, pm) in days.items()
        for s, c in (("AM", am), ("PM", pm))
    ]
    return pl.DataFrame(rows, schema={"date": pl.Date, "session": pl.String, "code": pl.String, "category": pl.String})


def week(monday: date, marks: list[tuple[str | None, str | None]], skip: tuple[int, ...] = ()) -> dict:
    """Monday to Friday of one week with these (AM, PM) codes; the weekdays in `skip` are not school days."""
    return {monday + timedelta(days=i): m for i, m in enumerate(marks) if i not in skip}


PRESENT = [("/", "\\")] * 5
ABSENT = [("N", "N")] * 5
NO_MARKS = [(None, None)] * 5


def built(days: dict, start: date = MONDAY, as_of: date = date(2024, 10, 4), cfg=CFG) -> register.Register:
    return register.build(codes(days, cfg), Window(start, as_of), cfg)


def test_weeks_are_rows_of_ten_sessions_labelled_by_their_monday():
    cal = built(week(MONDAY, PRESENT) | week(MONDAY + timedelta(7), PRESENT))
    assert [w.label for w in cal.weeks] == ["w/c 02/09/2024", "w/c 09/09/2024"]
    assert all(len(w.cells) == 10 for w in cal.weeks)
    first = cal.weeks[0].cells
    assert [(c.day.weekday(), c.session) for c in first] == [(d, s) for d in range(5) for s in ("AM", "PM")]


def test_each_code_is_printed_in_its_own_day_and_session():
    marks = [("/", "\\"), ("/", "I"), ("L", "\\"), ("N", "N"), ("/", "\\")]
    cells = built(week(MONDAY, marks)).weeks[0].cells
    assert [c.text for c in cells] == ["/", "\\", "/", "I", "L", "\\", "N", "N", "/", "\\"]
    tuesday_pm = cells[3]
    assert (tuesday_pm.day, tuesday_pm.session, tuesday_pm.kind) == (date(2024, 9, 3), "PM", "authorised")
    assert cells[6].kind == "unauthorised" and cells[0].kind == "present"
    assert cells[6].hover == "Thu 05/09/2024 AM: N, Reason not yet established"


def test_a_holiday_day_is_blank_and_says_so_not_painted_as_absence():
    # Wednesday is not a school day for anyone (absent from every child's marks), e.g. an INSET day.
    cal = built(week(MONDAY, ABSENT, skip=(2,)))
    wednesday = cal.weeks[0].days[2]
    assert [c.kind for c in wednesday] == ["holiday", "holiday"]
    assert [c.text for c in wednesday] == ["holiday", "holiday"]
    assert wednesday[0].hover == "Wed 04/09/2024: holiday: not a school day"
    # The holiday does not count: 8 unauthorised sessions out of 8 possible.
    assert cal.weeks[0].possible_sessions == 8 and cal.weeks[0].summary == "0.0%"
    html = report.register_html(cal)
    assert '<td colspan="2" class="k-holiday" title="Wed 04/09/2024: holiday: not a school day">holiday</td>' in html


def test_a_week_at_zero_percent_is_not_a_week_without_data():
    cal = built(week(MONDAY, ABSENT) | week(MONDAY + timedelta(7), NO_MARKS))
    absent, silent = cal.weeks
    assert absent.attendance_pct == 0.0 and absent.summary == "0.0%" and absent.has_marks
    assert silent.attendance_pct is None and silent.summary == "no data" and not silent.has_marks
    assert {c.kind for c in silent.cells} == {"no_mark"} and {c.text for c in silent.cells} == {""}
    assert silent.cells[0].hover == "Mon 09/09/2024 AM: no mark received"
    html = report.register_html(cal)
    assert '<td class="pct">0.0%</td>' in html and '<td class="pct none">no data</td>' in html
    assert html.count('class="k-no_mark"') == 10 + 1  # the week's ten cells and the legend's swatch


def test_a_half_term_week_is_one_row_with_no_school_days():
    cal = built(week(MONDAY, PRESENT) | week(MONDAY + timedelta(14), PRESENT))
    half_term = cal.weeks[1]
    assert half_term.label == "w/c 09/09/2024" and not half_term.school_week
    assert half_term.summary == "no school days" and {c.kind for c in half_term.cells} == {"holiday"}
    assert '<td colspan="10" class="k-holiday">no school days</td>' in report.register_html(cal)


def test_days_outside_the_window_are_empty_and_the_grid_stops_at_the_latest_school_day():
    cal = built(week(MONDAY, PRESENT), start=date(2024, 9, 4), as_of=date(2024, 12, 20))
    assert len(cal.weeks) == 1  # no marks after 06/09: later weeks have not happened in the data
    kinds = [c.kind for c in cal.weeks[0].cells]
    assert kinds[:4] == ["outside"] * 4 and kinds[4:] == ["present"] * 6
    assert cal.weeks[0].summary == "100.0%"


def test_closures_are_white_with_their_code_or_the_word_closed():
    closed_day = MONDAY + timedelta(days=4)
    cfg = dataclasses.replace(CFG, feeds=dataclasses.replace(CFG.feeds, closure_dates=(closed_day,)))
    marks = [("#", "#"), ("Y4", "Y4"), ("/", "\\"), ("/", "\\"), ("/", "\\")]
    days = week(MONDAY, marks, skip=(4,)) | week(MONDAY + timedelta(7), PRESENT)
    cells = built(days, cfg=cfg).weeks[0].cells
    assert [(c.kind, c.text) for c in cells[:4]] == [("not_possible", "#")] * 2 + [("not_possible", "Y4")] * 2
    assert [(c.kind, c.text) for c in cells[8:]] == [("closed", "closed")] * 2
    html = report.register_html(built(days, cfg=cfg))
    # A closure's cell is white, never a category's colour.
    assert ".vs-cal .k-not_possible { background: #fff;" in html and ".vs-cal .k-closed { background: #fff;" in html


@pytest.mark.parametrize(
    "marks, expected",
    [
        ([("/", "\\"), ("/", "\\"), ("/", "\\"), ("/", "\\"), ("I", "I")], 80.0),  # authorised still absence
        ([("K", "K"), ("/", "\\"), ("/", "\\"), ("/", "\\"), ("/", "\\")], 100.0),  # approved activity attends
        ([("D", "D"), ("/", "\\"), ("/", "\\"), ("/", "\\"), ("N", "N")], 75.0),  # D is not a possible session
    ],
)
def test_the_week_s_attendance_follows_the_dfe_arithmetic(marks, expected):
    assert built(week(MONDAY, marks)).weeks[0].attendance_pct == expected


def test_the_legend_is_in_words_with_the_codes():
    legend = dict(built(week(MONDAY, PRESENT)).legend)
    assert legend["unauthorised"] == "Unauthorised absence (G N O U)"
    assert legend["no_mark"] == "No mark received (outlined, empty)"
    assert "holiday" in legend


def test_the_printed_summary_keeps_the_last_school_weeks():
    days = {}
    for n in range(8):
        days |= week(MONDAY + timedelta(7 * n), PRESENT if n != 3 else NO_MARKS)
    cal = built(days, as_of=date(2024, 10, 25))
    last = cal.last(6)
    assert last.weeks[0].label == "w/c 16/09/2024" and len(last.weeks) == 6
    assert last.title == "The last 6 school weeks"


def test_the_summary_cannot_close_the_print_button_s_script():
    html = report.print_opener_html("<html><body><script>alert(1)</script></body></html>")
    # The summary's own markup is escaped inside the JavaScript string: only the button's script ends.
    assert html.count("</script>") == 1 and "\\u003cscript>alert(1)\\u003c/script>" in html


def test_the_sessions_download_says_what_each_code_means():
    rows = views.session_rows(codes(week(MONDAY, [("N", None), *PRESENT[1:]])), CFG)
    assert rows.row(0) == (MONDAY, "AM", "N", "Reason not yet established", "Unauthorised absence")
    assert rows.row(1) == (MONDAY, "PM", None, None, "No mark")
