"""The printable one-page summary: the child's figures appear, and nothing sent by a school becomes markup."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from helpers import weekdays

from vsdash import views
from vsdash.config import load_config
from vsdash.filters import Filters
from vsdash.frames import Frames
from vsdash.report import cell, child_summary_html

CFG = load_config()
SCRIPT = "<script>alert(1)</script>"
DAYS = weekdays(10)


def summary(first_name: str = SCRIPT, note: str = "Called <b>mum</b> & the DSL") -> str:
    # 10 days: 7 present, 2 ill (authorised), 1 unauthorised = 20 sessions, 14 attended: 70%, PA not SA.
    codes = ["/"] * 7 + ["I", "I", "N"]
    marks = [
        {"upn": "U1", "urn": 100001, "date": d, "am": c, "pm": "\\" if c == "/" else c}
        for d, c in zip(DAYS, codes, strict=True)
    ]
    frames = Frames.build(
        marks=marks,
        children=[
            {
                "la_child_id": "C1",
                "upn": "U1",
                "first_name": first_name,
                "last_name": "O'Neil & Sons",
                "dob": "2012-05-01",
                "team": "Team <i>East</i>",
                "responsible_la": "893",
            }
        ],
        episodes=[{"la_child_id": "C1", "cohort": "CLA", "start_date": "2020-01-01"}],
        schools=[{"urn": 100001, "name": "St Mary's <C of E> School", "la_code": "893", "la_name": "Somewhere"}],
        suspensions=[
            {"upn": "U1", "urn": 100001, "start_date": DAYS[3], "sessions": 2, "category": "suspension", "reason": "DB"}
        ],
    )
    page = views.child_page(views.Figures(frames, CFG), "C1", Filters(as_of=DAYS[-1]))
    actions = pl.DataFrame(
        {
            "recorded_at": [datetime(2024, 9, 13, 9, 30)],
            "action": ["Contacted carer"],
            "note": [note],
            "recorded_by": ["A. Officer"],
            "follow_up": [date(2024, 9, 20)],
        }
    )
    return child_summary_html(page, CFG, actions, date(2024, 9, 16))


def test_a_name_that_is_markup_is_printed_as_text():
    html = summary()
    assert SCRIPT not in html and "<b>mum</b>" not in html and "<i>East</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Neil &amp; Sons: attendance summary" in html
    assert "Called &lt;b&gt;mum&lt;/b&gt; &amp; the DSL" in html
    assert "St Mary&#39;s &lt;C of E&gt; School" in html
    assert html.count("<script") == 0


def test_the_child_s_figures_appear():
    html = summary(first_name="Amara")
    assert "<title>Attendance summary: Amara O&#39;Neil &amp; Sons</title>" in html
    assert '<span class="big">70.0%</span> persistent absence<br>' in html
    assert (
        "20 possible sessions. Present: 14 · Approved educational activity: 0 · Authorised absence: 4 · "
        "Unauthorised absence: 2."
    ) in html
    assert "Suspensions: 1 (2 sessions); permanent exclusions: 0." in html
    assert "Attendance 01/09/2024 to 13/09/2024" in html  # from the academic year's start
    assert "<li>persistent absence: attendance 70.0%</li>" in html
    assert "<td>13/09/2024</td><td>Contacted carer</td>" in html
    assert "printed 16/09/2024" in html and CFG.authority_name in html


@pytest.mark.parametrize(
    "value, text",
    [
        (None, ""),
        (date(2026, 2, 12), "12/02/2026"),
        (datetime(2026, 2, 12, 8, 0), "12/02/2026"),
        (70.04, "70.0"),
        (True, "yes"),
        (False, "no"),
        (3, "3"),
        ("N", "N"),
    ],
)
def test_cells_read_as_people_write_them(value, text):
    assert cell(value) == text


def test_the_summary_uses_the_page_s_words_and_prints_on_a4():
    html = summary(first_name="Amara")
    assert "<td>DB: Persistent disruptive behaviour</td>" in html and "<td>Suspension</td>" in html
    assert "<td>893 Somewhere</td>" in html and "<td>Children looked after (CLA)</td>" in html
    assert "<th>Local authority</th>" in html and "<th>Reasons</th>" in html and "la_name" not in html
    assert "None" not in html and "00:00" not in html
    assert "@page { size: A4 portrait;" in html and "@media print" in html
    assert html.count('<th scope="row">w/c ') == 2  # the register's latest weeks: 02/09 and 09/09/2024
