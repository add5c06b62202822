"""The inbox folder and the upload preview: load once settled, move, reject with a reason, never half a file."""

from __future__ import annotations

import gzip
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from vsdash import cli, ingest
from vsdash import inbox as inbox_module
from vsdash.access import AccessDenied, DataAccess
from vsdash.auth import User
from vsdash.identifiers import with_check_letter
from vsdash.inbox import Inbox, Settling, is_temporary, preview_file
from vsdash.ingest import ingest_file
from vsdash.store import Store

UPNS = [with_check_letter(f"8931234250{n:02d}") for n in range(1, 40)]
HEADER = "UPN,URN,Date,AM,PM\n"


def rows(n: int, day: str = "2025-09-08", start: int = 0) -> str:
    """n attendance rows for different pupils on one day."""
    return "".join(f"{UPNS[start + i]},123456,{day},/,\\\n" for i in range(n))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


@pytest.fixture
def inbox(store, cfg, tmp_path) -> Inbox:
    return Inbox(tmp_path / "inbox", store, cfg, settle=0.2, report=lambda line: None)


@pytest.mark.parametrize(
    "name, temporary",
    [
        ("attendance.csv", False),
        ("attendance.csv.part", True),
        ("attendance.tmp", True),
        (".~lock.children.csv#", True),
        ("~$children.xlsx", True),
        (".hidden.csv", True),
        ("children.xlsx", False),
    ],
)
def test_temporary_names(name, temporary):
    assert is_temporary(name) is temporary


def test_a_file_is_ready_only_once_unchanged_for_the_settle_time(tmp_path):
    now = [0.0]
    settling = Settling(settle=2.0, clock=lambda: now[0])
    path = tmp_path / "attendance.csv"
    path.write_text(HEADER)
    settling.add(path)
    assert settling.ready() == []  # first look starts the clock
    now[0] = 1.5
    with path.open("a") as f:
        f.write(rows(1))  # still being written
    assert settling.ready() == []
    now[0] = 3.0
    assert settling.ready() == []  # changed 1.5 s ago
    now[0] = 3.6
    assert settling.ready() == [path] and len(settling) == 0


def test_loads_moves_and_rejects_with_a_reason(inbox, store):
    folder = inbox.folder
    (folder / "attendance_1.csv").write_text(HEADER + rows(3))
    (folder / "broken.csv").write_text("this,is,not\na,feed,file\n")
    (folder / "notes.txt").write_text("hello")
    (folder / "attendance_2.csv.part").write_text(HEADER + rows(2))  # still being copied
    results = inbox.run_once()
    assert {r.file: r.status for r in results} == {
        "attendance_1.csv": "loaded",
        "broken.csv": "failed",
        "notes.txt": "failed",
    }
    assert names(folder) == ["attendance_2.csv.part"]  # temp names stay, untouched
    assert names(folder / "processed") == ["attendance_1.csv"]
    assert names(folder / "failed") == ["broken.csv", "broken.csv.reason.txt", "notes.txt", "notes.txt.reason.txt"]
    assert "no recognisable header" in (folder / "failed" / "broken.csv.reason.txt").read_text()
    assert "not a feed file" in (folder / "failed" / "notes.txt.reason.txt").read_text()
    assert store.table_counts()["attendance"] == 3
    # The load is on the audit log in the watcher's name; the failures are on the load log and in failed/.
    assert store.audit_frame().select("user_name", "event", "detail").rows() == [
        ("inbox watcher", "file loaded", "inbox attendance_1.csv: attendance: loaded 3, replaced 0, rejected 0")
    ]


def test_a_file_dropped_twice_is_skipped_and_still_moved(inbox, store):
    text = HEADER + rows(3)
    (inbox.folder / "attendance.csv").write_text(text)
    assert [r.status for r in inbox.run_once()] == ["loaded"]
    (inbox.folder / "attendance.csv").write_text(text)
    results = inbox.run_once()
    assert [r.summary() for r in results] == ["attendance.csv: skipped (already loaded)"]
    assert names(inbox.folder / "processed") == ["attendance (2).csv", "attendance.csv"]
    assert store.load_log_frame().height == 1


def test_a_file_still_being_written_is_not_loaded_until_stable(inbox, store):
    inbox.settle = 1.0  # a writer pausing 0.1 s between rows is never mistaken for done
    path = inbox.folder / "attendance.csv"
    path.write_text(HEADER + rows(1))

    def keep_writing() -> None:  # a slow copy: a row every 0.1 s for 1 s
        for i in range(1, 11):
            time.sleep(0.1)
            with path.open("a") as f:
                f.write(rows(1, start=i))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    results = inbox.run_once()
    writer.join()
    assert [r.counts.rows_loaded for r in results] == [11]  # the whole file, loaded once
    assert store.table_counts()["attendance"] == 11


def test_watch_loads_a_file_renamed_into_the_inbox(inbox, store):
    stop = threading.Event()
    watcher = threading.Thread(target=inbox.watch, kwargs={"stop": stop})
    watcher.start()
    try:
        time.sleep(0.3)
        part = inbox.folder / "attendance.csv.part"
        part.write_text(HEADER + rows(4))
        part.rename(inbox.folder / "attendance.csv")  # how copy tools finish a file
        deadline = time.time() + 20
        while not (inbox.folder / "processed" / "attendance.csv").exists() and time.time() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert (inbox.folder / "processed" / "attendance.csv").exists()
    assert store.table_counts()["attendance"] == 4


def test_watch_once_on_the_command_line(tmp_path, capsys):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "attendance.csv").write_text(HEADER + rows(2))
    (folder / "bad.csv").write_text("nothing,useful\n1,2\n")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    code = cli.main(["watch", str(folder), "--once", "--settle", "0.1", "--db", db])
    out, err = capsys.readouterr()
    assert code == 1  # one file could not be read at all
    assert "attendance.csv: attendance: loaded 2, replaced 0, rejected 0" in out
    assert "1/2 attendance.csv" in err and "2/2 bad.csv" in err  # progress, in load order
    assert names(folder / "processed") == ["attendance.csv"]


def test_ingest_prints_progress_per_file(tmp_path, capsys):
    for n in range(3):
        (tmp_path / f"attendance_{n}.csv").write_text(HEADER + rows(1, start=n))
    assert cli.main(["ingest", str(tmp_path), "--db", f"sqlite:///{tmp_path / 'p.db'}"]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "/3 " in line] == [f"{n + 1}/3 attendance_{n}.csv" for n in range(3)]


# ---- the upload preview -------------------------------------------------------------------------------


def test_preview_counts_what_would_load_reject_and_replace_without_writing(store, cfg, write):
    ingest_file(store, write("first.csv", HEADER + rows(3)), cfg)
    path = write(
        "second.csv", HEADER + rows(4) + "X123,123456,2025-09-08,/,\\\n" + f"{UPNS[9]},123456,2025-09-08,H9,/\n"
    )
    before = store.load_log_frame().height
    preview = preview_file(store, path, cfg)
    assert (preview.kind, preview.rows_read, preview.rows_to_load, preview.rows_rejected, preview.rows_to_replace) == (
        "attendance",
        6,
        4,
        2,
        3,
    )
    assert sorted(preview.rejects["column"].to_list()) == ["AM", "UPN"]
    assert not preview.already_loaded and not preview.error
    assert store.load_log_frame().height == before and store.table_counts()["attendance"] == 3
    result = ingest_file(store, path, cfg)
    assert (result.counts.rows_loaded, result.counts.rows_replaced, result.counts.rows_rejected) == (4, 3, 2)


def test_preview_of_an_unreadable_or_repeated_file(store, cfg, write):
    assert "no recognisable header" in preview_file(store, write("x.csv", "a,b\n1,2\n"), cfg).error
    path = write("a.csv", HEADER + rows(1))
    ingest_file(store, path, cfg)
    assert preview_file(store, path, cfg).already_loaded


def test_only_the_admin_may_upload(store, cfg):
    data = (HEADER + rows(1)).encode()
    for role in ("officer", "manager", "forum"):
        with pytest.raises(AccessDenied):
            DataAccess(store, cfg, User("someone", role)).preview_upload("a.csv", data)
        with pytest.raises(AccessDenied):
            DataAccess(store, cfg, User("someone", role)).load_upload("a.csv", data)
    admin = DataAccess(store, cfg, User("A. Admin", "admin"))
    assert admin.preview_upload("a.csv", data).rows_to_load == 1
    assert admin.load_upload("a.csv", data).summary() == "a.csv: attendance: loaded 1, replaced 0, rejected 0"


# ---- bad input never costs a good file ---------------------------------------------------------------


def parse_failing_for(monkeypatch, name: str, exc: Exception) -> None:
    """vsdash.ingest.parse raises `exc` for one file name (as a strict cast did on non-ASCII digits)."""
    real = ingest.parse

    def parse(path, cfg, kind=None):
        if Path(path).name == name:
            raise exc
        return real(path, cfg, kind)

    monkeypatch.setattr(ingest, "parse", parse)


def test_a_file_whose_parse_raises_fails_alone_and_its_batch_still_loads(store, cfg, write, monkeypatch):
    paths = [write(f"attendance_{n}.csv", HEADER + rows(2, start=2 * n)) for n in range(3)]
    parse_failing_for(monkeypatch, "attendance_1.csv", ValueError("could not convert '١٢٣٤٥٦' to int"))
    results = list(ingest.ingest_files(store, paths, cfg))
    assert [r.status for r in results] == ["loaded", "failed", "loaded"]
    assert results[1].message.startswith("an unexpected problem (ValueError: could not convert")
    assert store.table_counts()["attendance"] == 4
    log = store.load_log_frame().sort("id")
    assert log.select("file", "status").rows() == [
        ("attendance_0.csv", "loaded"),
        ("attendance_1.csv", "failed"),
        ("attendance_2.csv", "loaded"),
    ]
    assert log["message"][1] == results[1].message


def test_a_batch_whose_write_fails_fails_its_files_and_the_next_batch_loads(store, cfg, write, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH_ROWS", 1)  # each 3-row file is a batch of its own
    paths = [write(f"attendance_{n}.csv", HEADER + rows(3, start=3 * n)) for n in range(2)]
    real, calls = store.load_feeds, []

    def load_feeds(feeds, cfg):
        calls.append([f.file for f in feeds])
        if len(calls) == 1:
            raise RuntimeError("the connection dropped mid-write")
        return real(feeds, cfg)

    monkeypatch.setattr(store, "load_feeds", load_feeds)
    results = list(ingest.ingest_files(store, paths, cfg))
    assert calls == [["attendance_0.csv"], ["attendance_1.csv"]]
    assert [r.status for r in results] == ["failed", "loaded"]
    assert results[0].message.startswith("an unexpected problem (RuntimeError: the connection dropped mid-write)")
    assert store.table_counts()["attendance"] == 3
    assert store.load_log_frame().sort("id").select("file", "status").rows() == [
        ("attendance_0.csv", "failed"),
        ("attendance_1.csv", "loaded"),
    ]


# ---- the watcher keeps going --------------------------------------------------------------------------


def wait_for(condition, seconds: float = 20) -> bool:
    """Poll until `condition()` holds or the time is up."""
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.05)
    return condition()


def test_a_file_that_raises_goes_to_failed_and_the_next_file_loads(inbox, store, monkeypatch):
    parse_failing_for(monkeypatch, "attendance_1.csv", ValueError("invalid literal for int() with base 10: '١٢'"))
    (inbox.folder / "attendance_1.csv").write_text(HEADER + rows(2))
    (inbox.folder / "attendance_2.csv").write_text(HEADER + rows(3, start=2))
    results = inbox.run_once()
    assert [r.status for r in results] == ["failed", "loaded"]
    assert names(inbox.folder / "failed") == ["attendance_1.csv", "attendance_1.csv.reason.txt"]
    reason = (inbox.folder / "failed" / "attendance_1.csv.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("an unexpected problem (ValueError: invalid literal") and reason.count("\n") == 1
    assert names(inbox.folder / "processed") == ["attendance_2.csv"]
    assert store.table_counts()["attendance"] == 3


def test_a_locked_database_does_not_stop_the_watcher_and_the_file_loads_once_released(cfg, tmp_path):
    db = tmp_path / "locked.db"
    store = Store(f"sqlite:///{db}?timeout=0.1")  # a short busy wait keeps the test quick
    lines: list[str] = []
    inbox = Inbox(tmp_path / "inbox", store, cfg, settle=0.1, report=lines.append, retry_delays=(0.2,) * 50)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program is writing
    stop = threading.Event()
    watcher = threading.Thread(target=inbox.watch, kwargs={"stop": stop})
    watcher.start()
    try:
        (inbox.folder / "attendance.csv").write_text(HEADER + rows(4))
        assert wait_for(lambda: any("not loaded yet: the database is busy" in line for line in lines))
        assert (inbox.folder / "attendance.csv").exists() and watcher.is_alive()
        holder.execute("ROLLBACK")
        assert wait_for(lambda: (inbox.folder / "processed" / "attendance.csv").exists())
    finally:
        stop.set()
        watcher.join(timeout=10)
        holder.close()
    assert store.table_counts()["attendance"] == 4
    assert store.load_log_frame().select("file", "status").rows() == [("attendance.csv", "loaded")]
    assert "attendance.csv: attendance: loaded 4, replaced 0, rejected 0" in lines
    store.dispose()


def test_a_database_that_stays_locked_fails_the_file_after_its_retries(cfg, tmp_path):
    db = tmp_path / "locked.db"
    store = Store(f"sqlite:///{db}?timeout=0.05")
    inbox = Inbox(tmp_path / "inbox", store, cfg, settle=0.05, report=lambda line: None, retry_delays=(0.05, 0.1))
    (inbox.folder / "attendance.csv").write_text(HEADER + rows(1))
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        results = inbox.run_once()
    finally:
        holder.close()
    assert [r.status for r in results] == ["failed"]
    reason = (inbox.folder / "failed" / "attendance.csv.reason.txt").read_text()
    assert reason.startswith("the database is busy") and "move the file back into the inbox" in reason
    store.dispose()


def test_a_truncated_gzip_is_still_being_written_and_loads_once_complete(inbox, store):
    data = gzip.compress((HEADER + rows(5)).encode())
    path = inbox.folder / "attendance.csv.gz"
    path.write_bytes(data[: len(data) // 2])  # the copy has paused half way
    lines: list[str] = []
    inbox.report, inbox.retry_delays = lines.append, (0.2,) * 50
    runner = threading.Thread(target=lambda: lines.extend(r.summary() for r in inbox.run_once()))
    runner.start()
    assert wait_for(lambda: any("the gzip file ends early" in line for line in lines))
    path.write_bytes(data)  # the copy finishes
    runner.join(timeout=30)
    assert "attendance.csv.gz: attendance: loaded 5, replaced 0, rejected 0" in lines
    assert store.load_log_frame().select("file", "status").rows() == [("attendance.csv.gz", "loaded")]


def test_a_file_held_shut_by_its_writer_is_taken_once_it_opens(inbox, store, monkeypatch):
    path = inbox.folder / "attendance.csv"
    path.write_text(HEADER + rows(2))
    held = [3]  # a Windows writer on a share: the open fails
    real = inbox_module.readable_whole

    def readable_whole(p):
        if held[0]:
            held[0] -= 1
            raise PermissionError(13, "Permission denied", str(p))
        return real(p)

    monkeypatch.setattr(inbox_module, "readable_whole", readable_whole)
    inbox.retry_delays = (0.05,) * 10
    assert [r.status for r in inbox.run_once()] == ["loaded"] and held == [0]
    assert store.table_counts()["attendance"] == 2


def test_a_file_that_grows_while_it_is_read_is_not_whole(tmp_path, monkeypatch):
    path = tmp_path / "attendance.csv"
    path.write_text(HEADER + rows(3))
    assert inbox_module.readable_whole(path)
    real_open = Path.open

    def open_and_grow(self, *args, **kwargs):
        handle = real_open(self, *args, **kwargs)
        with real_open(self, "a") as writer:  # the writer adds a row as we read
            writer.write(rows(1, start=5))
        return handle

    monkeypatch.setattr(Path, "open", open_and_grow)
    assert not inbox_module.readable_whole(path)
