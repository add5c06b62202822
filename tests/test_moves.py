"""School moves read from hand-made marks: a move, dual registration (D) that is not one, a return that is a
move back, the suspension before a move, counts by school, the child's page and `report moves`."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from vsdash import moves
from vsdash.access import AccessDenied, DataAccess
from vsdash.auth import User
from vsdash.cli import main
from vsdash.filters import Filters
from vsdash.frames import MARKS_SCHEMA, SUSPENSIONS_SCHEMA, Frames, conform
from vsdash.identifiers import with_check_letter
from vsdash.store import Store
from vsdash.suspension_views import all_moves, child_moves
from vsdash.views import Figures

A, B, C = 100001, 100002, 100003
DAYS = [d for d in (date(2025, 9, 1) + timedelta(days=i) for i in range(40)) if d.weekday() < 5]  # 30 school days


def day_rows(upn: str, plan: list[dict[int, str]]) -> list[dict]:
    """One school day per item: {URN: code} for every school sending a mark that day (both sessions alike)."""
    return [
        {"upn": upn, "urn": urn, "date": day, "am": code, "pm": code}
        for day, schools in zip(DAYS, plan, strict=False)
        for urn, code in schools.items()
    ]


def found(*plans: tuple[str, list[dict[int, str]]]) -> list[tuple]:
    """The moves in the marks, as (upn, date, from, to, move back)."""
    marks = conform([r for upn, plan in plans for r in day_rows(upn, plan)], MARKS_SCHEMA)
    out = moves.school_moves(marks)
    return [(r["upn"], r["move_date"], r["from_urn"], r["to_urn"], r["move_back"]) for r in out.iter_rows(named=True)]


def test_a_child_whose_marks_move_to_another_school_has_moved():
    plan = [{A: "/"}] * 10 + [{B: "/"}] * 10
    assert found(("U1", plan)) == [("U1", DAYS[10], A, B, False)]


def test_absence_and_non_attendance_codes_still_hold_a_child_at_the_school():
    plan = [{A: "/"}] * 5 + [{A: "N"}] * 5 + [{B: "I"}] * 5  # absent at A, then ill at B: still a move on day 10
    assert found(("U1", plan)) == [("U1", DAYS[10], A, B, False)]


def test_dual_registration_is_not_a_move():
    # Attends B on Wednesdays while A marks D, and for a fortnight of alternative provision; A keeps them on roll.
    weekly = [{A: "/"}, {A: "/"}, {A: "D", B: "/"}, {A: "/"}, {A: "/"}] * 2
    provision = [{A: "D", B: "/"}] * 10
    assert found(("U1", weekly + provision + [{A: "/"}] * 5)) == []
    # ... and B marking D on the days the child is at A changes nothing.
    both = [{A: "/", B: "D"}, {A: "D", B: "/"}] * 8
    assert found(("U2", both)) == []


def test_a_move_with_d_at_the_old_school_for_a_while_is_a_move_once_the_old_school_stops():
    plan = [{A: "/"}] * 10 + [{A: "D", B: "/"}] * 5 + [{B: "/"}] * 5
    assert found(("U1", plan)) == [("U1", DAYS[10], A, B, False)]
    # Still D at the old school on the latest day: dual registration so far, not yet a move.
    assert found(("U2", [{A: "/"}] * 10 + [{A: "D", B: "/"}] * 5)) == []


def test_a_return_to_the_first_school_is_a_move_back():
    plan = [{A: "/"}] * 8 + [{B: "/"}] * 8 + [{A: "/"}] * 8
    assert found(("U1", plan)) == [("U1", DAYS[8], A, B, False), ("U1", DAYS[16], B, A, True)]
    onward = [{A: "/"}] * 8 + [{B: "/"}] * 8 + [{C: "/"}] * 8
    assert [m[-1] for m in found(("U2", onward))] == [False, False]


def test_days_with_only_d_or_no_code_do_not_move_anyone():
    plan = [{A: "/"}] * 5 + [{A: "D"}] * 5 + [{A: "/"}] * 5
    assert found(("U1", plan)) == []


PLANS = {
    "U1": [{A: "/"}] * 8 + [{B: "/"}] * 8 + [{A: "/"}] * 8,  # two moves, across weeks
    "U2": [{A: "/"}] * 2 + [{B: "/"}] * 8,  # a move within the first week
    "U3": [{A: "/", B: "D"}, {A: "D", B: "/"}] * 8,  # dual registration: two schools attended, no move
    "U4": [{A: "/"}] * 5 + [{A: "D", C: "D"}] * 5,  # D only elsewhere: one school attended
    "U5": [{C: "/"}] * 20,  # one school
    "U6": [{A: "/", B: "/"}] * 2 + [{A: "/"}] * 8,  # marked present at two schools (a clash)
}


def test_only_children_attending_two_schools_are_read_for_moves_and_clashes(cfg):
    marks = conform([r for upn, plan in PLANS.items() for r in day_rows(upn, plan)], MARKS_SCHEMA)
    figures = Figures(Frames.build(marks=marks), cfg)
    assert figures.several_schools_days["upn"].unique().sort().to_list() == ["U1", "U2", "U3", "U6"]
    assert moves.school_moves(figures.several_schools_days).equals(moves.school_moves(marks))
    assert all_moves(figures).height == 3  # U1's two and U2's


SUSPENDED = conform(
    [
        {"upn": "U1", "urn": A, "start_date": DAYS[5], "sessions": 2, "category": "suspension"},  # 5 school days before
        {"upn": "U2", "urn": A, "start_date": DAYS[0], "sessions": 2, "category": "lunchtime"},  # not counted
        {"upn": "U3", "urn": A, "start_date": date(2025, 8, 1), "sessions": 2, "category": "suspension"},  # long before
    ],
    SUSPENSIONS_SCHEMA,
)


def test_whether_the_child_was_suspended_in_the_4_weeks_before():
    plan = [{A: "/"}] * 10 + [{B: "/"}] * 10
    marks = conform([r for u in ("U1", "U2", "U3") for r in day_rows(u, plan)], MARKS_SCHEMA)
    out = moves.suspended_before(moves.school_moves(marks), SUSPENDED).sort("upn")
    assert out.select("upn", "suspended_before", "suspended_on").rows() == [
        ("U1", True, DAYS[5]),
        ("U2", False, None),
        ("U3", False, None),
    ]
    counted = moves.by_school(out)
    assert counted.rows() == [(A, 3, 1, 0), (B, 0, 0, 3)]  # urn, out, after a suspension, in
    assert counted.columns == ["urn", "moves_out", "moves_out_after_suspension", "moves_in"]
    assert moves.in_window(out, DAYS[11], DAYS[-1]).is_empty() and moves.in_window(out, DAYS[10], DAYS[10]).height == 3


def test_the_child_s_page_lists_their_moves_in_words(cfg):
    upn = with_check_letter("801200005001")
    plan = [{A: "/"}] * 8 + [{B: "/"}] * 8 + [{A: "/"}] * 8
    frames = Frames.build(
        marks=day_rows(upn, plan),
        children=[{"la_child_id": "C1", "upn": upn, "responsible_la": "801"}],
        episodes=[{"la_child_id": "C1", "cohort": "CLA", "start_date": "2025-01-01"}],
        schools=[
            {"urn": A, "name": "Hill School", "la_code": "801", "la_name": "Bristol"},
            {"urn": B, "name": "Vale School", "la_code": "886", "la_name": "Kent"},
        ],
    )
    table = child_moves(Figures(frames, cfg), "C1")
    assert table.select("move_date", "from_school", "to_school", "to_la", "to_out_of_area", "move_back").rows() == [
        (DAYS[16], "Vale School", "Hill School", "801 Bristol", False, True),
        (DAYS[8], "Hill School", "Vale School", "886 Kent", True, False),
    ]
    assert table["suspended_on"].to_list() == ["", ""]  # text, never None


def test_the_moves_report(capsys, write, tmp_path):
    upn = with_check_letter("801200005001")
    marks = "UPN,URN,Date,AM,PM\n" + "".join(
        f"{upn},{urn},{day},/,\\\n" for day, urn in zip(DAYS[:10], [A] * 5 + [B] * 5, strict=True)
    )
    write("feeds/attendance.csv", marks)
    write(
        "feeds/children.csv",
        f"LA Child ID,UPN,Cohort,Start Date,Team\nC1,{upn},CIN,2025-01-01,North\n",
    )
    write("feeds/suspensions.csv", f"UPN,URN,Start Date,Sessions,Category\n{upn},{A},{DAYS[3]},2,suspension\n")
    db = f"sqlite:///{tmp_path / 'moves.db'}"
    assert main(["ingest", str(tmp_path / "feeds"), "--db", db]) == 0
    out = tmp_path / "moves.csv"
    assert main(["report", "moves", "--as-of", DAYS[9].isoformat(), "--out", str(out), "--db", db]) == 0
    assert "wrote 1 moves" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["la_child_id"], r["move_date"], r["from_urn"], r["to_urn"]) for r in rows] == [
        ("C1", DAYS[5].isoformat(), str(A), str(B))
    ]
    assert (rows[0]["suspended_before"], rows[0]["suspended_on"]) == ("true", f"{DAYS[3]:%d/%m/%Y}")
    assert "child" not in rows[0]  # identifiers, as the per-child export: no names
    # A window before the move lists none.
    assert main(["report", "moves", "--as-of", DAYS[4].isoformat(), "--out", str(out), "--db", db]) == 0
    assert list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))) == []


def test_the_door_gives_moves_only_to_child_level_roles(cfg):
    store = Store("sqlite://")
    door = DataAccess(store, cfg, User("fay", "forum"))
    with pytest.raises(AccessDenied):
        door.moves(Filters(as_of=DAYS[9]))
    with pytest.raises(AccessDenied):
        door.child_moves("C1", Filters(as_of=DAYS[9]))
    store.dispose()
