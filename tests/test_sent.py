"""What the schools sent, kept by each load (vsdash/store/sent.py), on SQLite and PostgreSQL: worked by hand."""

from datetime import date

import polars as pl
import pytest

from vsdash.identifiers import with_check_letter
from vsdash.ingest import ingest_file
from vsdash.store import Store, rows, weekly
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


def marks_loaded(store: Store) -> tuple[int, int]:
    """The marks as the Data quality page counts them (kept by the loads), and counted one by one."""
    return store.loaded_counts()["attendance"], store.table_counts()["attendance"]


def load(store, write, cfg, name: str, text: str) -> None:
    assert ingest_file(store, write(name, text), cfg).status == "loaded"


@pytest.mark.parametrize(
    ("few", "copy"), [(2_000, 50_000), (0, 50_000), (2_000, 0)], ids=["by UPN", "whole weeks", "COPY"]
)
def test_each_load_keeps_the_identities_and_days_sent(store, write, cfg, monkeypatch, few, copy):
    monkeypatch.setattr(weekly, "FEW_CHILDREN", few)  # 0: the day's-feed path, reading the weeks' every row
    monkeypatch.setattr(rows, "COPY_FROM_ROWS", copy)  # 0: PostgreSQL writes through COPY, as a backfill does
    assert marks_loaded(store) == (0, 0)
    load(store, write, cfg, "attendance_2025-09-04.csv", FIRST)
    assert (sent(store), sending(store), marks_loaded(store)) == (SENT_AFTER_FIRST, SENDING_AFTER_FIRST, (5, 5))
    load(store, write, cfg, "attendance_2025-09-05.csv", SECOND)  # two rows replaced, one new
    assert (sent(store), sending(store), marks_loaded(store)) == (SENT_AFTER_SECOND, SENDING_AFTER_SECOND, (6, 6))
    load(store, write, cfg, "attendance_2025-09-05-again.csv", SECOND + f"{A},{S1},2025-09-03,/,\\,C1\n")
    # sent again: no change
    assert (sent(store), sending(store), marks_loaded(store)) == (SENT_AFTER_SECOND, SENDING_AFTER_SECOND, (6, 6))


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


def test_a_batch_adds_only_its_new_rows_and_counts_a_moved_row_again():
    batch = pl.DataFrame(
        {"upn": [A, A, B], "urn": [S1, S1, S1], "date": [d(3), d(9), d(9)]} | {"la_child_id": ["C1", None, "C2"]}
    )
    replaced = batch.filter(pl.col("date") == d(3))  # the 3rd sent again under C1; the 9th new
    change = sent_change(batch, replaced)
    assert change.count_again == []
    # A's 3rd adds nothing to C1's row (nor widens its dates): that group is left out
    assert change.added.sort("upn").rows() == [(A, S1, "", 1, d(9), d(9)), (B, S1, "C2", 1, d(9), d(9))]
    assert sorted(change.days.rows()) == [(S1, d(3)), (S1, d(9))]
    moved = sent_change(batch, replaced.with_columns(la_child_id=pl.lit("C7")))  # the 3rd was C7's
    assert moved.count_again == [A] and moved.added.rows() == [(B, S1, "C2", 1, d(9), d(9))]


CHILDREN = """LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date,End Date,Social Worker,Team,Locality
900001,{x},Jo,Bloggs,2008-01-01,CIN,2010-01-01,2012-01-01,Sam Lee,North,North
900002,{a},Ann,Smith,2008-01-01,CIN,2024-01-01,,Sam Lee,North,North
"""


def test_retention_takes_the_removed_childs_rows_and_a_day_only_they_were_marked(store, write, cfg):
    load(store, write, cfg, "children.csv", CHILDREN.format(x=X, a=A))
    load(store, write, cfg, "attendance_2025-09-04.csv", f"{FIRST}{X},{S2},2025-09-05,/,\\,900001\n")
    assert sending(store) == [SENDING_AFTER_FIRST[0], (S2, d(4), d(5), 2, 2)] and marks_loaded(store) == (6, 6)
    store.remove_before(date(2019, 1, 1))
    assert (sent(store), sending(store), marks_loaded(store)) == (SENT_AFTER_FIRST, SENDING_AFTER_FIRST, (5, 5))
