"""Confirmed matches: stored once, applied to every later load and to the metrics, never to the raw feed."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from vsdash import aliases, metrics
from vsdash.access import AccessDenied, DataAccess
from vsdash.auth import User
from vsdash.config import load_config
from vsdash.frames import Frames
from vsdash.identifiers import with_check_letter
from vsdash.ingest import ingest_file

LIST_UPN = with_check_letter("893123425001")  # what social care holds
SCHOOL_UPN = with_check_letter("893123425010")  # what the school sends for the same child
OTHER_UPN = with_check_letter("893123425020")

CHILDREN = f"""
LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date
C1,{LIST_UPN},Ava,Price,2014-03-02,CLA,2025-01-01
C2,,Ben,Jones,2013-05-06,CIN,2025-01-01
"""


def attendance(upn: str, days: list[str], child_id: str = "") -> str:
    """An attendance file for one pupil, present all day."""
    return "UPN,URN,Date,AM,PM,LA Child ID\n" + "".join(f"{upn},123456,{d},/,\\,{child_id}\n" for d in days)


def sessions(store, cfg, la_child_id: str) -> int:
    """The child's possible sessions as the metrics count them, read through the store like every page: the
    same from every day row held and from the week summary with day rows read on demand."""
    window = metrics.window_for(cfg, date(2025, 9, 30))
    found = {
        held: metrics.per_child(store.frames(cfg, held=held), window, cfg).filter(pl.col("la_child_id") == la_child_id)[
            "possible_sessions"
        ][0]
        for held in (True, False)
    }
    assert found[True] == found[False]
    return found[True]


def test_an_alias_applies_to_later_loads_and_to_the_metrics(store, cfg, write):
    assert ingest_file(store, write("children.csv", CHILDREN), cfg).status == "loaded"
    ingest_file(store, write("a1.csv", attendance(SCHOOL_UPN, ["2025-09-08", "2025-09-09"], "C1")), cfg)
    assert sessions(store, cfg, "C1") == 0  # under another UPN: not found

    store.save_alias(**aliases.confirmation(SCHOOL_UPN, "C1", "D. Manager", upn=LIST_UPN))
    assert sessions(store, cfg, "C1") == 4

    ingest_file(store, write("a2.csv", attendance(SCHOOL_UPN, ["2025-09-10"])), cfg)  # a later load
    assert sessions(store, cfg, "C1") == 6
    # The feed stays as sent: the raw rows keep the school's UPN.
    assert set(store.marks()["upn"].to_list()) == {SCHOOL_UPN}
    assert set(store.frames(cfg).marks["upn"].to_list()) == {LIST_UPN}
    assert store.aliases_frame().select("alias_upn", "upn", "la_child_id", "confirmed_by").rows() == [
        (SCHOOL_UPN, LIST_UPN, "C1", "D. Manager")
    ]


def test_a_child_without_a_upn_takes_the_confirmed_one(store, cfg, write):
    ingest_file(store, write("children.csv", CHILDREN), cfg)
    ingest_file(store, write("a1.csv", attendance(OTHER_UPN, ["2025-09-08"], "C2")), cfg)
    assert sessions(store, cfg, "C2") == 0
    store.save_alias(**aliases.confirmation(OTHER_UPN, "C2", "D. Manager"))
    assert sessions(store, cfg, "C2") == 2
    store.withdraw_alias(OTHER_UPN)
    assert sessions(store, cfg, "C2") == 0


def test_a_list_corrected_to_the_schools_upn_needs_no_reconfirmation():
    children = [{"la_child_id": "C1", "upn": SCHOOL_UPN}]  # social care fixed the record
    marks = [{"upn": SCHOOL_UPN, "urn": 123456, "date": date(2025, 9, 8), "am": "/", "pm": "\\"}]
    confirmed = pl.DataFrame({"alias_upn": [SCHOOL_UPN], "upn": [LIST_UPN], "la_child_id": ["C1"]})
    out = aliases.with_aliases(Frames.build(children=children, marks=marks), confirmed, load_config())
    assert out.marks["upn"].to_list() == [SCHOOL_UPN]


def test_where_both_upns_were_sent_for_a_day_the_listed_upn_wins():
    marks = [
        {"upn": LIST_UPN, "urn": 123456, "date": date(2025, 9, 8), "am": "/", "pm": "\\"},
        {"upn": SCHOOL_UPN, "urn": 123456, "date": date(2025, 9, 8), "am": "N", "pm": "N"},
        {"upn": SCHOOL_UPN, "urn": 123456, "date": date(2025, 9, 9), "am": "I", "pm": "I"},
    ]
    frames = Frames.build(
        children=[{"la_child_id": "C1", "upn": LIST_UPN}],
        marks=marks,
        suspensions=[
            {"upn": SCHOOL_UPN, "urn": 123456, "start_date": date(2025, 9, 9), "sessions": 2, "category": "suspension"}
        ],
    )
    confirmed = pl.DataFrame({"alias_upn": [SCHOOL_UPN], "upn": [LIST_UPN], "la_child_id": ["C1"]})
    out = aliases.with_aliases(frames, confirmed, load_config())
    assert out.marks.select("upn", "date", "am").rows() == [
        (LIST_UPN, date(2025, 9, 8), "/"),
        (LIST_UPN, date(2025, 9, 9), "I"),
    ]
    assert out.suspensions["upn"].to_list() == [LIST_UPN]


@pytest.mark.parametrize(
    "alias, who, child, message",
    [
        ("B80120000500", "D. Manager", "C1", "13"),  # too short
        ("8931234250011", "D. Manager", "C1", "not a letter"),
        (SCHOOL_UPN, " ", "C1", "who confirmed"),
        (SCHOOL_UPN, "D. Manager", "", "LA Child ID"),
    ],
)
def test_a_confirmation_is_refused_when_incomplete(alias, who, child, message):
    with pytest.raises(ValueError, match=message):
        aliases.confirmation(alias, child, who)


def test_only_the_admin_confirms_and_only_listed_children(store, cfg, write):
    ingest_file(store, write("children.csv", CHILDREN), cfg)
    for role in ("forum", "officer", "manager"):
        with pytest.raises(AccessDenied):
            DataAccess(store, cfg, User("A. Someone", role)).confirm_match(SCHOOL_UPN, "C1")
    admin = DataAccess(store, cfg, User("A. Admin", "admin"))
    with pytest.raises(ValueError, match="no child"):
        admin.confirm_match(SCHOOL_UPN, "C9")
    admin.confirm_match(SCHOOL_UPN, "C1")
    assert store.aliases_frame()["upn"].to_list() == [LIST_UPN]
    assert store.aliases_frame()["confirmed_by"].to_list() == ["A. Admin"]  # the signed-in name, not typed
    entry = store.audit_frame().row(0, named=True)
    assert (entry["event"], entry["user_name"], entry["la_child_id"]) == ("match confirmed", "A. Admin", "C1")
