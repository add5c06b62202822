"""Pseudonymised mode on small hand-made frames: tokens, initials, and every figure unchanged under them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from helpers import weekdays

from vsdash import metrics, views
from vsdash import weeks as weeks_mod
from vsdash.config import load_config
from vsdash.filters import Filters
from vsdash.frames import Frames
from vsdash.identifiers import upn_problem
from vsdash.privacy import Pseudonymiser, initial, pseudonymise, pseudonymise_frame

CFG = load_config()
KEY = "a-test-key-of-32-characters-long"
AS_OF = date(2024, 10, 4)
WINDOW = metrics.window_for(CFG, AS_OF)

U1, U2, U3 = "B801200005001", "A123456789012", "H999999999999"
CHILDREN = [
    {
        "la_child_id": "LA0001",
        "upn": U1,
        "first_name": "Jo",
        "last_name": "Bloggs",
        "dob": date(2012, 5, 17),
        "responsible_la": "893",
        "social_worker": "Samira Patel",
        "team": "North",
        "locality": "Town",
        "year_group": "7",
    },
    {
        "la_child_id": "LA0002",
        "upn": U2,
        "first_name": "Łucja",
        "last_name": "Smith-Jones",
        "dob": date(2013, 1, 31),
        "responsible_la": "893",
        "social_worker": "Dev Okafor",
        "team": "South",
        "locality": "Vale",
        "year_group": "6",
    },
    {
        "la_child_id": "LA0003",
        "upn": None,
        "first_name": "Amir",
        "last_name": "Khan",
        "dob": date(2011, 11, 2),
        "responsible_la": "893",
        "social_worker": "Samira Patel",
        "team": "North",
        "locality": "Town",
        "year_group": "8",
    },
]
EPISODES = [
    {"la_child_id": "LA0001", "cohort": "CLA", "start_date": date(2023, 1, 1), "end_date": None},
    {"la_child_id": "LA0002", "cohort": "CP", "start_date": date(2024, 1, 1), "end_date": None},
    {"la_child_id": "LA0003", "cohort": "CIN", "start_date": date(2020, 1, 1), "end_date": date(2022, 3, 1)},
]
SCHOOLS = [
    {"urn": 100001, "name": "Hill School", "la_code": "893"},
    {"urn": 100002, "name": "Dale School", "la_code": "894"},
]


def _marks() -> list[dict]:
    """U1 at school with some unauthorised absence, U2 mostly absent out of area, U3 (unlisted) present."""
    rows = []
    for i, day in enumerate(weekdays(25)):
        rows.append({"upn": U1, "urn": 100001, "date": day, "am": "N" if i % 4 == 0 else "/", "pm": "/"})
        rows.append({"upn": U2, "urn": 100002, "date": day, "am": "O" if i % 3 else "/", "pm": "O"})
        rows.append({"upn": U3, "urn": 100001, "date": day, "am": "/", "pm": "\\"})
    return rows


SUSPENSIONS = [
    {
        "upn": U1,
        "urn": 100001,
        "start_date": date(2024, 9, 10),
        "end_date": date(2024, 9, 11),
        "sessions": 4,
        "category": "suspension",
        "reason": "PP",
    }
]


def real_frames() -> Frames:
    """The hand-made authority with every day row held."""
    return Frames.build(marks=_marks(), children=CHILDREN, episodes=EPISODES, schools=SCHOOLS, suspensions=SUSPENSIONS)


def dashboard_frames() -> tuple[Frames, list[tuple[date | None, date | None, tuple[str, ...] | None]]]:
    """The same data as the dashboard holds it: the week summary, day rows read on demand (calls recorded)."""
    held = real_frames()
    calls: list[tuple[date | None, date | None, tuple[str, ...] | None]] = []

    def reader(first: date | None, last: date | None, upns: tuple[str, ...] | None) -> pl.DataFrame:
        calls.append((first, last, upns))
        return held.days(first, last, upns=upns)

    assert held.marks is not None
    return replace(held, marks=None, weeks=weeks_mod.summarise(held.marks, CFG), day_reader=reader), calls


# ---- tokens and initials -------------------------------------------------------------------------------


def test_tokens_are_deterministic_keyed_and_per_kind():
    p = Pseudonymiser(KEY)
    token = p.token(U1, "upn")
    assert token == Pseudonymiser(KEY).token(U1, "upn")
    assert token != Pseudonymiser(KEY + "x").token(U1, "upn")
    assert token != p.token(U2, "upn")
    assert p.token("LA0001", "upn") != p.token("LA0001", "la_child_id")
    assert p.token(None, "upn") is None and p.token(None, "la_child_id") is None
    assert Pseudonymiser(KEY.encode()).token(U1, "upn") == token


def test_a_token_cannot_pass_for_a_upn_or_an_la_child_id():
    p = Pseudonymiser(KEY)
    upn_token, child_token = p.token(U1, "upn"), p.token("LA0001", "la_child_id")
    assert upn_token is not None and child_token is not None
    assert upn_problem(U1) is None and upn_problem(upn_token) is not None
    assert re.fullmatch(r"PU-[0-9A-F]{16}", upn_token) and re.fullmatch(r"PC-[0-9A-F]{16}", child_token)


@pytest.mark.parametrize("key", ["", " " * 20, "short-key", b"fifteen-bytes!!"])
def test_an_empty_or_short_key_is_refused(key):
    with pytest.raises(ValueError, match="at least 16 characters"):
        Pseudonymiser(key)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown identifier kind"):
        Pseudonymiser(KEY).token(U1, "nhs_number")


@pytest.mark.parametrize(
    "first, last, expected",
    [
        ("Jo", "Bloggs", "J. B."),
        ("  jo  ", " bloggs ", "J. B."),
        ("Mary-Jane", "Smith-Jones", "M.-J. S.-J."),
        ("Anna Maria", "de la Cruz", "A. D."),
        ("Łucja", "Ørsted", "Ł. Ø."),
        ("E\u0301milie", "O'Brien", "É. O."),  # a decomposed accent stays with its letter
        ("'Aisha", "ßmith", "A. ß."),  # leading punctuation passed over; ß has no one-letter capital
        ("Jo", None, "J."),
        (None, "Bloggs", "B."),
        (None, None, ""),
        ("", "   ", ""),
        ("-", "?", ""),
    ],
)
def test_initials(first, last, expected):
    assert Pseudonymiser(KEY).initials(first, last) == expected


def test_initial_of_one_name():
    assert initial("Jo") == "J." and initial(None) is None and initial(" ") is None


# ---- the frames ------------------------------------------------------------------------------------------


def test_children_become_tokens_initials_and_a_month_of_birth():
    p = Pseudonymiser(KEY)
    real = real_frames()
    out = pseudonymise(real, p).children
    assert out.schema == real.children.schema
    row = out.filter(pl.col("la_child_id") == p.token("LA0002", "la_child_id")).row(0, named=True)
    assert row["upn"] == p.token(U2, "upn")
    assert (row["first_name"], row["last_name"], row["social_worker"]) == ("Ł.", "S.-J.", "D. O.")
    assert row["dob"] == date(2013, 1, 1)
    assert (row["team"], row["locality"], row["year_group"], row["responsible_la"]) == ("South", "Vale", "6", "893")
    assert out.filter(pl.col("first_name") == "A.")["upn"].to_list() == [None]  # no UPN held: none invented


def test_no_real_identifier_or_name_is_left_anywhere():
    real = real_frames()
    dashboard, _ = dashboard_frames()
    secrets = {
        U1,
        U2,
        U3,
        "LA0001",
        "LA0002",
        "LA0003",
        "Jo",
        "Bloggs",
        "Łucja",
        "Smith",
        "Jones",
        "Amir",
        "Khan",
        "Samira",
        "Patel",
        "Dev",
        "Okafor",
    }
    p = Pseudonymiser(KEY)
    held, lazy = pseudonymise(real, p), pseudonymise(dashboard, p)
    tables = {
        "marks": held.marks,
        "children": held.children,
        "episodes": held.episodes,
        "suspensions": held.suspensions,
        "weeks": lazy.weeks,
        "days": lazy.days(),
        "days of one": lazy.days(upn=p.token(U1, "upn")),
    }
    for name, frame in tables.items():
        assert frame is not None and not frame.is_empty(), name
        for column in frame.select(pl.col(pl.String)).columns:
            for value in frame[column].drop_nulls().unique():
                leaked = [s for s in secrets if s in value]
                assert not leaked, f"{name}.{column} holds {leaked}"
    dobs = held.children["dob"].drop_nulls()
    assert (dobs.dt.day() == 1).all()


def test_per_child_figures_are_the_real_ones_under_tokens():
    p = Pseudonymiser(KEY)
    real = real_frames()
    expected = pseudonymise_frame(metrics.per_child(real, WINDOW, CFG), p).sort("la_child_id")
    got = metrics.per_child(pseudonymise(real, p), WINDOW, CFG).sort("la_child_id")
    assert got.height == 3
    assert got["possible_sessions"].sum() > 0 and got["suspensions"].sum() == 1  # the joins found the marks
    assert got.to_dicts() == expected.to_dicts()


def test_the_dashboards_views_are_the_real_ones_under_tokens():
    p = Pseudonymiser(KEY)
    dashboard, _ = dashboard_frames()
    real, pseudo = views.Figures(dashboard, CFG), views.Figures(pseudonymise(dashboard, p), CFG)
    real_window, pseudo_window = real.at(WINDOW), pseudo.at(WINDOW)
    assert (
        pseudo_window.children.sort("la_child_id").to_dicts()
        == pseudonymise_frame(real_window.children, p).sort("la_child_id").to_dicts()
    )
    assert (
        pseudo_window.weeks.frame().sort("upn", "week_start").to_dicts()
        == pseudonymise_frame(real_window.weeks.frame(), p).sort("upn", "week_start").to_dicts()
    )
    filters = Filters(as_of=AS_OF)
    real_cards = [(c.key, c.value, c.last_month) for c in views.overview(real, filters).cards]
    assert [(c.key, c.value, c.last_month) for c in views.overview(pseudo, filters).cards] == real_cards


def test_the_child_page_reads_the_real_day_rows_through_a_token():
    p = Pseudonymiser(KEY)
    dashboard, calls = dashboard_frames()
    pseudo = pseudonymise(dashboard, p)
    token = p.token(U1, "upn")
    rows = pseudo.days(date(2024, 9, 2), date(2024, 9, 6), token)
    assert calls[-1] == (date(2024, 9, 2), date(2024, 9, 6), (U1,))  # the real UPN was read
    assert rows.height == 5 and rows["upn"].unique().to_list() == [token]
    real_rows = dashboard.days(date(2024, 9, 2), date(2024, 9, 6), U1)
    assert rows.drop("upn").to_dicts() == real_rows.drop("upn").to_dicts()
    calls.clear()
    assert pseudo.days(upn=U1).is_empty() and calls == []  # a real UPN typed in reads nothing
    page = views.child_page(views.Figures(pseudo, CFG), p.token("LA0001", "la_child_id") or "", Filters(as_of=AS_OF))
    assert page is not None and page.identity.name == "J. B."


def test_one_table_leaving_another_way():
    p = Pseudonymiser(KEY)
    actions = pl.DataFrame(
        {
            "id": [1, 2],
            "la_child_id": ["LA0001", None],
            "note": ["rang Jo's carer", None],
            "child": ["Jo Bloggs", "Cher"],
            "list_upn": [U1, U2],
            "attendance_upn": [U3, None],
            "count": [3, 4],
        }
    )
    out = pseudonymise_frame(actions, p)
    assert out.schema == actions.schema
    assert out.to_dicts() == [
        {
            "id": 1,
            "la_child_id": p.token("LA0001", "la_child_id"),
            "note": None,
            "child": "J. B.",
            "list_upn": p.token(U1, "upn"),
            "attendance_upn": p.token(U3, "upn"),
            "count": 3,
        },
        {
            "id": 2,
            "la_child_id": None,
            "note": None,
            "child": "C.",
            "list_upn": p.token(U2, "upn"),
            "attendance_upn": None,
            "count": 4,
        },
    ]


def test_an_empty_frame_passes_through():
    p = Pseudonymiser(KEY)
    empty = Frames.build()
    out = pseudonymise(empty, p)
    assert out.children.is_empty() and out.children.schema == empty.children.schema


def test_tokens_are_worked_out_once_per_distinct_value(monkeypatch):
    p = Pseudonymiser(KEY)
    many = pl.DataFrame({"upn": [U1, U2] * 50_000})
    import hmac as hmac_mod

    calls = []
    real_new = hmac_mod.new
    monkeypatch.setattr(hmac_mod, "new", lambda *a, **k: calls.append(1) or real_new(*a, **k))
    out = pseudonymise_frame(many, p)
    assert len(calls) == 2 and out["upn"].n_unique() == 2


def test_a_token_leads_back_to_its_value_only_through_the_pseudonymiser_that_made_it():
    maker = Pseudonymiser("a key of at least sixteen characters")
    token = maker.token("C1001", "la_child_id")
    assert maker.original(token, "la_child_id") == "C1001"
    assert maker.original(token, "upn") is None  # kinds never mix
    assert Pseudonymiser("a key of at least sixteen characters").original(token, "la_child_id") is None
