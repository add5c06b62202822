"""Files into the store, on SQLite and PostgreSQL: idempotence, corrections, rejects, atomicity."""

import shutil
import sqlite3
import threading
from contextlib import closing
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import event

from vsdash.ingest import ingest_file, ingest_folder
from vsdash.store import Store, loading
from vsdash.store.checkpoint import Checkpoints

A = "B801200005001"
B = "Q801200005002"

DAY1 = f"""
UPN,URN,Date,AM,PM
{A},123456,2025-09-02,/,\\
{B},123456,2025-09-02,N,N
{A},123456,2025-09-03,/,\\
{B},123456,2025-09-03,I,I
"""

# A corrected re-send: B's 2 September was illness after all; one bad row; one new day.
CORRECTION = f"""
UPN,URN,Date,AM,PM
{B},123456,2025-09-02,I,I
{A},123456,2025-09-02,/,\\
{B},123456,2025-09-04,/,\\
BAD,123456,2025-09-04,/,\\
"""


def marks(store: Store) -> list[tuple]:
    return store.marks(date(2025, 9, 1), date(2025, 9, 30)).select("upn", "date", "am", "pm").sort("upn", "date").rows()


def test_load_then_same_file_again_changes_nothing(store, write, cfg):
    path = write("attendance_2025-09-02.csv", DAY1)
    first = ingest_file(store, path, cfg)
    assert (first.status, first.counts.rows_loaded, first.counts.rows_replaced, first.counts.rows_rejected) == (
        "loaded",
        4,
        0,
        0,
    )
    before = (marks(store), store.load_log_frame().height)
    again = ingest_file(store, path, cfg)
    assert again.status == "skipped" and again.summary().endswith("skipped (already loaded)")
    assert (marks(store), store.load_log_frame().height) == before


def test_a_corrected_file_replaces_what_it_corrects(store, write, cfg):
    ingest_file(store, write("day1.csv", DAY1), cfg)
    result = ingest_file(store, write("day1_corrected.csv", CORRECTION), cfg)
    # 3 good rows: 2 keys existed (B and A on 2 Sept) -> replaced 2; the BAD row is rejected
    assert (
        result.counts.rows_read,
        result.counts.rows_loaded,
        result.counts.rows_replaced,
        result.counts.rows_rejected,
    ) == (4, 3, 2, 1)
    assert result.summary() == "day1_corrected.csv: attendance: loaded 3, replaced 2, rejected 1"
    assert marks(store) == [
        (A, date(2025, 9, 2), "/", "\\"),
        (A, date(2025, 9, 3), "/", "\\"),
        (B, date(2025, 9, 2), "I", "I"),
        (B, date(2025, 9, 3), "I", "I"),
        (B, date(2025, 9, 4), "/", "\\"),
    ]
    log = store.load_log_frame().sort("id")
    assert log.select("file", "rows_read", "rows_loaded", "rows_replaced", "rows_rejected").rows() == [
        ("day1.csv", 4, 4, 0, 0),
        ("day1_corrected.csv", 4, 3, 2, 1),
    ]
    rejected = store.rejected_frame("day1_corrected.csv")
    assert rejected.select("line", "column").rows() == [(5, "UPN")]
    assert rejected["raw"][0] == "BAD,123456,2025-09-04,/,\\"


def test_unreadable_file_loads_nothing_and_is_logged(store, write, cfg):
    result = ingest_file(store, write("notes.csv", "Dear data team,\nplease find attached\n"), cfg)
    assert result.status == "failed" and "no recognisable header" in result.message
    assert store.table_counts()["attendance"] == 0
    log = store.load_log_frame()
    assert log.select("file", "status").rows() == [("notes.csv", "failed")]
    assert store.data_version() == 0  # a failure is not a new data version


def test_a_file_is_never_half_committed(store, write, cfg, monkeypatch):
    path = write(
        "children.csv",
        f"""
LA Child ID,UPN,Cohort,Start Date,Social Worker,Team,Locality
C1,{A},CP,2025-09-01,Jo,North 1,North
""",
    )
    original = loading._upsert
    calls = []

    def failing(conn, target, frame, latest, stored=None):
        calls.append(target.table.name)
        if len(calls) == 3:  # children and allocations written, then the episodes fail
            raise RuntimeError("disk full")
        return original(conn, target, frame, latest, stored)

    monkeypatch.setattr(loading, "_upsert", failing)
    failed = ingest_file(store, path, cfg)
    assert failed.status == "failed" and "disk full" in failed.message
    counts = store.table_counts()
    assert counts["children"] == counts["allocations"] == counts["cohort_episodes"] == 0
    assert store.load_log_frame()["status"].to_list() == ["failed"]  # the failure is logged; nothing else was kept
    monkeypatch.setattr(loading, "_upsert", original)
    assert ingest_file(store, path, cfg).status == "loaded"  # not mistaken for "already loaded"


def test_children_list_reload_updates_episodes_and_allocation(store, write, cfg):
    ingest_file(
        store,
        write(
            "children_1.csv",
            f"""
LA Child ID,UPN,First Name,Cohort,Start Date,End Date,Social Worker,Team,Locality
C1,{A},Amy,CP,2025-09-01,,Jo,North 1,North
C2,{B},Ben,CLA,2024-01-01,,Sam,South 1,South
""",
        ),
        cfg,
    )
    result = ingest_file(
        store,
        write(
            "children_2.csv",
            f"""
LA Child ID,UPN,First Name,Cohort,Start Date,End Date,Social Worker,Team,Locality
C1,{A},Amy,CP,2025-09-01,2025-10-15,Jo,North 1,North
C1,{A},Amy,CIN,2025-10-16,,Kim,North 2,North
""",
        ),
        cfg,
    )
    assert (result.counts.rows_loaded, result.counts.rows_replaced) == (2, 1)
    frames = store.frames(cfg, date(2025, 9, 1), date(2025, 10, 31))
    episodes = frames.episodes.sort("la_child_id", "start_date")
    assert episodes.select("la_child_id", "cohort", "end_date").rows() == [
        ("C1", "CP", date(2025, 10, 15)),
        ("C1", "CIN", None),
        ("C2", "CLA", None),
    ]
    kids = frames.children.sort("la_child_id")
    assert kids.select("la_child_id", "social_worker", "team", "responsible_la").rows() == [
        ("C1", "Kim", "North 2", "893"),
        ("C2", "Sam", "South 1", "893"),
    ]


def test_every_feed_kind_reads_back_with_the_metrics_schema(store, write, cfg):
    write(
        "feeds/schools.csv",
        """
URN,EstablishmentName,LA (code),LA (name),PhaseOfEducation (name),Postcode,Easting,Northing,Locality
123456,Castle Primary,893,Shropshire,Primary,SY1 2AA,349300,312900,North
""",
    )
    write(
        "feeds/children.csv",
        f"""
LA Child ID,UPN,First Name,Last Name,DOB,Gender,Cohort,Start Date,End Date,Social Worker,Team,Locality,EHCP,Responsible LA
C1,{A},Amy,Smith,2014-03-01,F,CP,2025-09-01,,Jo,North 1,North,Y,
""",
    )
    write("feeds/attendance_2025-09-02.csv", DAY1)
    path = write(
        "feeds/suspensions.csv",
        f"""
UPN,URN,Start Date,Sessions,Category,Reason
{A},123456,2025-09-03,2,FIXD,DB
""",
    )
    results = ingest_folder(store, path.parent, cfg)
    assert [r.kind for r in results] == ["schools", "children", "attendance", "suspensions"]
    frames = store.frames(cfg, date(2025, 9, 1), date(2025, 9, 2))
    assert frames.marks.height == 2  # the window bounds the marks
    assert frames.marks.schema == pl.Schema(
        {"upn": pl.String, "urn": pl.Int64, "date": pl.Date, "am": pl.String, "pm": pl.String}
    )
    assert frames.children.row(0, named=True)["ehcp"] is True
    assert frames.schools.row(0, named=True)["latitude"] == pytest.approx(52.707, abs=0.005)
    assert frames.suspensions.select("category", "sessions").rows() == [("suspension", 2)]
    assert store.data_version() == store.load_log_frame()["id"].max()


def test_a_batch_of_files_lands_as_if_loaded_one_by_one(store, write, cfg):
    from vsdash.feeds import parse

    feeds = [parse(write("day1.csv", DAY1), cfg), parse(write("day1_corrected.csv", CORRECTION), cfg)]
    counts = store.load_feeds(feeds, cfg)
    # the correction replaces 2 rows sent by the earlier file of the same batch, as it would loaded later
    assert [(c.rows_loaded, c.rows_replaced, c.rows_rejected) for c in counts] == [(4, 0, 0), (3, 2, 1)]
    assert marks(store) == [
        (A, date(2025, 9, 2), "/", "\\"),
        (A, date(2025, 9, 3), "/", "\\"),
        (B, date(2025, 9, 2), "I", "I"),
        (B, date(2025, 9, 3), "I", "I"),
        (B, date(2025, 9, 4), "/", "\\"),
    ]
    log = store.load_log_frame().sort("id")
    assert log.select("file", "rows_loaded", "rows_replaced").rows() == [
        ("day1.csv", 4, 0),
        ("day1_corrected.csv", 3, 2),
    ]
    assert store.rejected_frame("day1_corrected.csv")["line"].to_list() == [5]


def test_many_files_batch_but_report_one_by_one_in_order(store, write, cfg):
    from vsdash.ingest import ingest_files

    day1 = write("in/a_day1.csv", DAY1)
    same = write("in/b_day1_again.csv", DAY1)  # the same bytes under another name
    bad = write("in/c_notes.csv", "Dear data team\n")
    fix = write("in/d_day1_corrected.csv", CORRECTION)
    seen = []
    results = list(
        ingest_files(store, [day1, same, bad, fix], cfg, progress=lambda n, total, name: seen.append((n, total, name)))
    )
    assert [(r.file, r.status) for r in results] == [
        ("a_day1.csv", "loaded"),
        ("b_day1_again.csv", "skipped"),
        ("c_notes.csv", "failed"),
        ("d_day1_corrected.csv", "loaded"),
    ]
    assert (results[3].counts.rows_loaded, results[3].counts.rows_replaced) == (3, 2)
    assert seen[-1] == (4, 4, "d_day1_corrected.csv")
    assert marks(store)[2] == (B, date(2025, 9, 2), "I", "I")


def test_a_full_batch_takes_the_rest_of_its_school_week(write, cfg, monkeypatch):
    from vsdash import ingest
    from vsdash.feeds import parse

    def day(d: str) -> object:
        return parse(
            write(f"attendance_{d}.csv", f"UPN,URN,Date,AM,PM\n{A},123456,{d},/,\\\n{B},123456,{d},/,\\\n"), cfg
        )

    monkeypatch.setattr(ingest, "BATCH_ROWS", 2)
    monday, tuesday, wednesday, next_monday = (day(d) for d in ("2025-09-08", "2025-09-09", "2025-09-10", "2025-09-15"))
    assert not ingest._starts_batch([monday], tuesday)  # 4 rows: over 2, but the same week
    assert ingest._starts_batch([monday, tuesday], wednesday)  # 6 rows: over twice the batch
    assert ingest._starts_batch([monday], next_monday)  # a new week once full


def marks_in_the_file_itself(path: Path, tmp_path: Path) -> int:
    """The marks a copy of the database file holds without its WAL: what a checkpoint has copied into it."""
    copy = tmp_path / "file-only" / path.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    with closing(sqlite3.connect(copy)) as conn:
        return conn.execute("SELECT count(*) FROM attendance").fetchone()[0]


def test_a_load_commits_before_the_checkpoint_a_thread_then_runs(tmp_path, write, cfg, monkeypatch):
    """SQLite: a load's commit does not also copy its pages from the WAL into the database file (0.6 s of a
    day's feed at 30,000 children); a thread started after the commit does, and the next load waits for it."""
    path = tmp_path / "vsdash.db"
    store = Store(f"sqlite:///{path}")
    # Any commit would checkpoint (10,000 pages in use: a day's feed passes it, this test's rows would not).
    event.listen(store.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA wal_autocheckpoint=1"))
    store.engine.dispose()
    release, original = threading.Event(), Checkpoints._checkpoint_now
    monkeypatch.setattr(Checkpoints, "_checkpoint_now", lambda self: release.wait(30) and original(self))
    ingest_file(store, write("attendance_2025-09-02.csv", DAY1), cfg)
    assert len(marks(store)) == 4  # every reader's from the commit
    assert marks_in_the_file_itself(path, tmp_path) == 0  # still only in the WAL
    release.set()
    store.wait_for_checkpoint()
    assert marks_in_the_file_itself(path, tmp_path) == 4
    with store.engine.connect() as conn:  # the pooled connection goes back with the threshold it had
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1
    store.dispose()
