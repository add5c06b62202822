"""The command line, run as a user runs it (a subprocess) and in-process for speed."""

import csv
import errno
import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from vsdash.cli import main
from vsdash.config import PROJECT_ROOT
from vsdash.store import Store

A = "B801200005001"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_ingest_loads_rejected_round_trip(capsys, write, db):
    good = write("att.csv", f"UPN,URN,Date,AM,PM\n{A},123456,2025-09-02,/,\\\n{A},123456,2025-09-03,ZZ,/\n")
    code, out, _ = run(capsys, "ingest", str(good), "--db", db)
    assert code == 0
    assert out.strip() == "att.csv: attendance: loaded 1, replaced 0, rejected 1"
    code, out, _ = run(capsys, "ingest", str(good), "--db", db)
    assert (code, out.strip()) == (0, "att.csv: skipped (already loaded)")

    code, out, _ = run(capsys, "loads", "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "file",
        "kind",
        "sha256",
        "status",
        "message",
        "rows_read",
        "rows_loaded",
        "rows_replaced",
        "rows_rejected",
        "started_at",
        "finished_at",
    ]
    assert (rows[0]["file"], rows[0]["rows_loaded"], rows[0]["rows_rejected"]) == ("att.csv", "1", "1")

    code, out, _ = run(capsys, "rejected", "--file", "att.csv", "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["file"], r["line"], r["column"]) for r in rows] == [("att.csv", "3", "AM")]
    assert rows[0]["reason"] == "AM code 'ZZ' is not an attendance code in the configuration"
    assert rows[0]["raw"] == f"{A},123456,2025-09-03,ZZ,/"


def test_unreadable_file_exits_non_zero_but_loads_the_others(capsys, write, db):
    good = write("att.csv", f"UPN,URN,Date,AM,PM\n{A},123456,2025-09-02,/,\\\n")
    bad = write("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00")
    code, out, _ = run(capsys, "ingest", str(bad), str(good), "--db", db)
    assert code == 1
    assert out.splitlines() == [
        "photo.csv: failed: this is not a CSV or XLSX file (it contains binary data)",
        "att.csv: attendance: loaded 1, replaced 0, rejected 0",
    ]


def test_missing_file_and_forced_kind(capsys, write, db, tmp_path):
    code, out, _ = run(capsys, "ingest", str(tmp_path / "nope.csv"), "--db", db)
    assert code == 1 and "nope.csv: failed: cannot open the file" in out
    path = write("odd.csv", f"UPN,URN,Date,AM\n{A},123456,2025-09-02,/\n")
    code, out, _ = run(capsys, "ingest", str(path), "--kind", "attendance", "--db", db)
    assert code == 1 and "lacks column(s) pm" in out


def test_bad_config_is_one_clear_line(capsys, tmp_path, db):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("authority: {name: X, la_code: '12'}\n")
    code, _, err = run(capsys, "init", "--db", db, "--config", str(cfg))
    assert code == 2 and "authority.la_code: expected the 3-digit" in err


def test_python_dash_m_vsdash_runs(tmp_path):
    db = f"sqlite:///{tmp_path / 'sub.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "vsdash", "init", "--db", db],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "schema ready" in done.stdout


FEEDS = {
    "schools.csv": """
URN,EstablishmentName,LA (code),LA (name),PhaseOfEducation (name),Easting,Northing
100001,Castle Primary,893,Shropshire,Primary,349300,312900
100002,Border High,666,Powys,Secondary,318000,271000
""",
    "children.csv": f"""
LA Child ID,UPN,Cohort,Start Date,End Date,Social Worker,Team,Locality
C1,{A},CP,2025-09-01,,Jo,North 1,North
C2,Q801200005002,CLA,2024-01-01,,Sam,South 1,South
C3,,CIN,2025-01-01,2025-08-01,Sam,South 1,South
""",
    # C1: 10 possible sessions over 5 days, 1 absence (I) -> 90.0% -> persistent absence exactly;
    # the D at the old school on day 5 is not a possible session.
    # C2: moves to a Powys school: 4 sessions, 2 unauthorised -> 50.0% -> severe; out of area.
    "attendance.csv": f"""
UPN,URN,Date,AM,PM
{A},100001,2025-09-01,/,\\
{A},100001,2025-09-02,/,\\
{A},100001,2025-09-03,I,\\
{A},100001,2025-09-04,/,\\
{A},100001,2025-09-05,L,\\
Q801200005002,100001,2025-09-01,/,N
Q801200005002,100001,2025-09-02,D,D
Q801200005002,100002,2025-09-02,O,\\
""",
    "suspensions.csv": f"""
UPN,URN,Start Date,Sessions,Category,Reason
{A},100001,2025-08-01,4,FIXD,DB
{A},100001,2025-09-04,1,FIXD,VA
""",
}


METRICS_HEADER = [
    "upn",
    "la_child_id",
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
    "attendance_pct",
    "persistent_absence",
    "severe_absence",
    "suspensions",
    "suspension_sessions",
    "permanent_exclusions",
    "school_urn",
    "out_of_area",
]


def test_metrics_command_on_hand_made_feeds(capsys, write, db, tmp_path):
    for name, text in FEEDS.items():
        write(f"feeds/{name}", text)
    assert run(capsys, "ingest", str(tmp_path / "feeds"), "--db", db)[0] == 0
    code, out, _ = run(capsys, "metrics", "--as-of", "2025-09-05", "--db", db)
    assert code == 0
    rows = {r["la_child_id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert list(next(iter(rows.values()))) == METRICS_HEADER
    c1, c2, c3 = rows["C1"], rows["C2"], rows["C3"]
    assert (c1["possible_sessions"], c1["present_sessions"], c1["authorised_sessions"]) == ("10", "9", "1")
    assert (c1["attendance_pct"], c1["persistent_absence"], c1["severe_absence"]) == ("90.0", "true", "false")
    # the August suspension is before the window (1 September)
    assert (c1["suspensions"], c1["suspension_sessions"], c1["school_urn"], c1["out_of_area"]) == (
        "1",
        "1",
        "100001",
        "false",
    )
    assert (c2["possible_sessions"], c2["unauthorised_sessions"], c2["attendance_pct"]) == ("4", "2", "50.0")
    assert (c2["severe_absence"], c2["school_urn"], c2["out_of_area"]) == ("true", "100002", "true")
    assert (c3["possible_sessions"], c3["attendance_pct"], c3["persistent_absence"]) == ("0", "", "false")

    code, out, _ = run(capsys, "metrics", "--as-of", "2025-09-05", "--cohort", "CLA", "--db", db)
    assert [r["la_child_id"] for r in csv.DictReader(io.StringIO(out))] == ["C2"]
    code, out, _ = run(capsys, "metrics", "--as-of", "2025-09-05", "--cohort", "CIN", "--db", db)
    assert code == 0 and list(csv.DictReader(io.StringIO(out))) == []  # C3's plan ended in August

    xlsx = tmp_path / "cp.xlsx"
    code, out, _ = run(
        capsys,
        "metrics",
        "--as-of",
        "2025-09-05",
        "--from",
        "2025-09-02",
        "--cohort",
        "CP",
        "--out",
        str(xlsx),
        "--db",
        db,
    )
    assert code == 0 and "wrote 1 children" in out
    import openpyxl

    values = list(openpyxl.load_workbook(xlsx).active.values)
    assert "from 2025-09-02 to 2025-09-05" in values[1][0]
    header = values[3]
    c1_xlsx = dict(zip(header, values[4], strict=True))
    # from 2 September: 8 possible sessions, 1 absent -> 87.5%
    assert (c1_xlsx["possible_sessions"], c1_xlsx["attendance_pct"]) == (8, 87.5)


def test_metrics_command_rejects_bad_arguments(capsys, db):
    assert run(capsys, "metrics", "--as-of", "2025-09-05", "--cohort", "XX", "--db", db)[0] == 2
    assert run(capsys, "metrics", "--as-of", "2025-09-05", "--from", "2025-10-01", "--db", db)[0] == 2


# ---- no traceback ever reaches the user -------------------------------------------------------------


def run_vsdash(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m vsdash ...` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "vsdash", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
    )


def one_line(text: str) -> str:
    """The only line of a command's standard error (and never a traceback)."""
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def locked(tmp_path: Path):
    """lock(schema): an SQLite database (with vsdash's tables or none) that another program is writing to,
    its write lock held; returns a URL that waits only 0.2 s for the lock."""
    holders = []

    def lock(schema: bool) -> str:
        path = tmp_path / "locked.db"
        if schema:
            Store(f"sqlite:///{path}").dispose()
        holder = sqlite3.connect(path, isolation_level=None)
        holders.append(holder)
        holder.execute("CREATE TABLE other_program (x)")
        holder.execute("BEGIN IMMEDIATE")
        return f"sqlite:///{path}?timeout=0.2"

    yield lock
    for holder in holders:
        holder.close()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (
            ["init", "--db", "postgresql+psycopg://vsdash@127.0.0.1:9/vsdash"],
            1,
            "vsdash init stopped: the database server cannot be reached; check that it is running and that --db (or "
            "database.url) names the right host and port (details in ",
        ),
        (
            ["init", "--db", "sqlite:////etc/hostname/x.db"],
            1,
            "vsdash init stopped: /etc/hostname already exists as a file where a folder is needed; check the path (details in ",
        ),
        (["init", "--db", "nonsense://x"], 2, "vsdash init stopped: the database URL is not one vsdash can use"),
        (
            ["metrics", "--as-of", "2025-09-05", "--out", "x.txt"],
            2,
            "--out x.txt: name a .csv or .xlsx file, or an existing folder",
        ),
        (
            ["metrics", "--as-of", "2025-09-05", "--out", "/no/such/dir/x.csv"],
            2,
            "--out /no/such/dir/x.csv: the folder /no/such/dir does not exist; create it first or choose another",
        ),
        (["metrics", "--as-of", "2025-09-05", "--cohort", "XX"], 2, "unknown cohort 'XX'; use one of"),
    ],
)
def test_a_failure_is_one_line_on_stderr_as_a_user_sees_it(args, code, message, tmp_path):
    db = [] if "--db" in args else ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    done = run_vsdash(*args, *db)
    assert done.returncode == code
    assert one_line(done.stderr).startswith(message)


def test_a_locked_database_is_one_line_and_exit_1(locked):
    done = run_vsdash("init", "--db", locked(schema=False))
    assert done.returncode == 1
    assert one_line(done.stderr).startswith(
        "vsdash init stopped: the database is busy: another program (a load, the inbox watcher or a database tool) "
        "is writing to it; wait for it to finish, then try again (details in "
    )


def test_ingest_into_a_locked_database_fails_the_file_and_exits_1(write, locked):
    good = write("att.csv", f"UPN,URN,Date,AM,PM\n{A},123456,2025-09-02,/,\\\n")
    done = run_vsdash("ingest", str(good), "--db", locked(schema=True))
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert done.stdout.startswith("att.csv: failed: the database is busy")
    assert one_line(done.stderr) == "1/1 att.csv"  # the progress line alone


def test_a_read_only_database_fails_the_load_in_one_line(write, tmp_path):
    assert main(["init", "--db", f"sqlite:///{tmp_path / 'ro.db'}"]) == 0
    good = write("att.csv", f"UPN,URN,Date,AM,PM\n{A},123456,2025-09-02,/,\\\n")
    done = run_vsdash("ingest", str(good), "--db", f"sqlite:///file:{tmp_path / 'ro.db'}?mode=ro&uri=true")
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert done.stdout.strip() == (
        "att.csv: failed: the database is read-only; give vsdash write access to the "
        "database file and its folder, or point --db (or database.url) at one it can write"
    )


def test_an_unreadable_input_file_is_its_own_failure(capsys, write, db, monkeypatch):
    good = write("att.csv", f"UPN,URN,Date,AM,PM\n{A},123456,2025-09-02,/,\\\n")
    secret = write("secret.csv", "UPN,URN,Date,AM,PM\n")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, out, err = run(capsys, "ingest", str(secret), str(good), "--db", db)
    assert code == 1 and "Traceback" not in out + err
    assert out.splitlines() == [
        f"secret.csv: failed: cannot open the file: permission denied for {secret}; ask for access to it, or choose "
        "another file or folder",
        "att.csv: attendance: loaded 1, replaced 0, rejected 0",
    ]


@pytest.mark.parametrize(
    "number, words",
    [
        (errno.ENOSPC, "the disk is full (writing "),
        (errno.EROFS, " is on a read-only disk; choose a folder that can be written"),
    ],
)
def test_a_full_or_read_only_disk_is_one_line_and_no_half_file(capsys, db, tmp_path, monkeypatch, number, words):
    def refuse(self, data):
        raise OSError(number, os.strerror(number), str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    code, out, err = run(capsys, "metrics", "--as-of", "2025-09-05", "--out", str(tmp_path / "m.csv"), "--db", db)
    assert code == 1 and out == ""
    line = one_line(err)
    assert line.startswith("vsdash metrics stopped: ") and words in line
    assert not list(tmp_path.glob("m.csv*"))


def test_something_unexpected_is_one_line_with_the_log_and_ctrl_c_is_quiet(capsys, db, monkeypatch):
    from vsdash import cli

    def boom(args):
        raise KeyError("la_child_id")

    monkeypatch.setattr(cli, "cmd_loads", boom)
    code, _, err = run(capsys, "loads", "--db", db)
    assert code == 1
    assert re.fullmatch(
        r"vsdash loads stopped: an unexpected problem \(KeyError: 'la_child_id'\); the details are in "
        r"the vsdash log: please send it to your support contact \(details in .+\)",
        one_line(err),
    )

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_loads", interrupted)
    assert run(capsys, "loads", "--db", db) == (130, "", "")


def test_metrics_out_to_a_folder_names_the_file_by_the_selection(capsys, write, db, tmp_path):
    for name, text in FEEDS.items():
        write(f"feeds/{name}", text)
    assert run(capsys, "ingest", str(tmp_path / "feeds"), "--db", db)[0] == 0
    code, out, _ = run(capsys, "metrics", "--as-of", "2025-09-05", "--cohort", "CP", "--out", str(tmp_path), "--db", db)
    path = tmp_path / "attendance_per_child_CP_from-2025-09-01_as-at-2025-09-05.csv"
    assert code == 0 and out.strip() == f"wrote 1 children to {path}"
    assert path.read_text().splitlines()[0] == ",".join(METRICS_HEADER)  # the header is line 1


def test_loads_and_rejected_neutralise_formula_text(capsys, write, db):
    evil = write("=cmd.csv", "UPN,URN,Date,AM,PM\n=1+1,123456,2025-09-02,/,\\\n")
    assert run(capsys, "ingest", str(evil), "--db", db)[0] == 0
    _, out, _ = run(capsys, "rejected", "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["file"] == "'=cmd.csv" and rows[0]["raw"] == "'=1+1,123456,2025-09-02,/,\\"
    _, out, _ = run(capsys, "loads", "--db", db)
    assert next(csv.DictReader(io.StringIO(out)))["file"] == "'=cmd.csv"
