"""What the schools sent, kept by each load (vsdash/store/sent.py), on SQLite and PostgreSQL: worked by hand."""

from datetime import date

import polars as pl
import pytest

from vsdash.identifiers import with_check_letter
from vsdash.ingest import ingest_file
from vsdash.store import Store, loading, weekly
from vsdash.store.schema import attendance_sent, school_days, store_meta
from vsdash.store.sent import sent_change

A = "B801200005001"
B = "Q801200005002"
X = with_check_letter("801200005003")
S1, S2 = 123456, 654321


def d(day: int) -> date:
    return date(2025, 9, day)


FIRST = f"""UPN,URN,Date,AM,PM,LA Child ID
{A},{S1},2025-09-02,/,\\,C1
{A},{S1},2025-09-03,/,\\,C1
{A},{S2},2025-09-04,/,\\,C1
{B},{S1},2025-09-02,N,N,
{B},{S1},2025-09-03,I,I,
"""

# A's 2 September sent again under another LA Child ID; B's 3 September corrected, still without one; a new day.
SECOND = f"""UPN,URN,Date,AM,PM,LA Child ID
{A},{S1},2025-09-02,/,\\,C9
{B},{S1},2025-09-03,/,\\,
{B},{S1},2025-09-05,/,\\,C2
"""

SENT_AFTER_FIRST = [
    (A, "C1", S1, 2, d(2), d(3)),
    (A, "C1", S2, 1, d(4), d(4)),
    (B, None, S1, 2, d(2), d(3)),
]
SENT_AFTER_SECOND = [
    (A, "C1", S1, 1, d(3), d(3)),  # A's 2 September left C1 ...
    (A, "C1", S2, 1, d(4), d(4)),
    (A, "C9", S1, 1, d(2), d(2)),  # ... for C9
    (B, "C2", S1, 1, d(5), d(5)),
    (B, None, S1, 2, d(2), d(3)),  # a correction under the same (no) ID changes nothing here
]
# urn, first and last day, days sent, pupils (UPNs as sent)
SENDING_AFTER_FIRST = [(S1, d(2), d(3), 2, 2), (S2, d(4), d(4), 1, 1)]
SENDING_AFTER_SECOND = [(S1, d(2), d(5), 3, 2), (S2, d(4), d(4), 1, 1)]


def sent(store: Store) -> list[tuple]:
    return store.sent_identities().sort("upn", "la_child_id", "urn", nulls_last=True).rows()


def sending(store: Store) -> list[tuple]:
    return store.school_sending().sort("urn").rows()


def load(store, write, cfg, name: str, text: str) -> None:
    assert ingest_file(store, write(name, text), cfg).status == "loaded"


@pytest.mark.parametrize("few", [2_000, 0], ids=["by UPN", "whole table"])
def test_each_load_keeps_the_identities_and_days_sent(store, write, cfg, monkeypatch, few):
    monkeypatch.setattr(loading, "FEW_CHILDREN", few)  # 0: the day's-feed path, reading everything kept
    monkeypatch.setattr(weekly, "FEW_CHILDREN", few)
    load(store, write, cfg, "attendance_2025-09-04.csv", FIRST)
    assert (sent(store), sending(store)) == (SENT_AFTER_FIRST, SENDING_AFTER_FIRST)
    load(store, write, cfg, "attendance_2025-09-05.csv", SECOND)
    assert (sent(store), sending(store)) == (SENT_AFTER_SECOND, SENDING_AFTER_SECOND)
    load(store, write, cfg, "attendance_2025-09-05-again.csv", SECOND + f"{A},{S1},2025-09-03,/,\\,C1\n")
    assert (sent(store), sending(store)) == (SENT_AFTER_SECOND, SENDING_AFTER_SECOND)  # sent again: no change


def test_a_store_from_before_them_makes_them_from_its_marks(store, write, cfg):
    load(store, write, cfg, "attendance_2025-09-04.csv", FIRST)
    with store.engine.begin() as conn:  # as a store made before these tables would be
        for table in (attendance_sent, school_days):
            table.drop(conn)
        conn.execute(store_meta.delete().where(store_meta.c.key == "sent"))
    reopened = Store(store.url)
    try:
        assert (sent(reopened), sending(reopened)) == (SENT_AFTER_FIRST, SENDING_AFTER_FIRST)
    finally:
        reopened.dispose()


def test_a_replaced_row_moves_between_groups_only_when_its_child_id_changes():
    kept = pl.DataFrame(
        {"upn": [A, A], "urn": [S1, S1], "la_child_id": ["C1", ""], "rows": [3, 1]}
        | {"first_date": [d(1), d(8)], "last_date": [d(3), d(8)]}
    )
    batch = pl.DataFrame({"upn": [A, A], "urn": [S1, S1], "date": [d(3), d(9)], "la_child_id": ["C1", None]})
    replaced = batch.filter(pl.col("date") == d(3))  # the 3rd again under C1; the 9th new, under no ID
    change = sent_change(kept, batch, replaced)
    assert change.count_again == []
    assert change.rows.sort("la_child_id").rows() == [(A, S1, "", 2, d(8), d(9)), (A, S1, "C1", 3, d(1), d(3))]
    moved = sent_change(kept, batch, replaced.with_columns(la_child_id=pl.lit("C7")))
    assert moved.count_again == [A] and moved.rows.is_empty()


CHILDREN = """LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date,End Date,Social Worker,Team,Locality
900001,{x},Jo,Bloggs,2008-01-01,CIN,2010-01-01,2012-01-01,Sam Lee,North,North
900002,{a},Ann,Smith,2008-01-01,CIN,2024-01-01,,Sam Lee,North,North
"""


def test_retention_takes_the_removed_childs_rows_and_a_day_only_they_were_marked(store, write, cfg):
    load(store, write, cfg, "children.csv", CHILDREN.format(x=X, a=A))
    load(store, write, cfg, "attendance_2025-09-04.csv", f"{FIRST}{X},{S2},2025-09-05,/,\\,900001\n")
    assert sending(store) == [SENDING_AFTER_FIRST[0], (S2, d(4), d(5), 2, 2)]
    store.remove_before(date(2019, 1, 1))
    assert (sent(store), sending(store)) == (SENT_AFTER_FIRST, SENDING_AFTER_FIRST)
