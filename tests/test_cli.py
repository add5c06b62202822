"""The command line, run as a user runs it (a subprocess) and in-process for speed."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from vsdash.cli import main
from vsdash.config import PROJECT_ROOT

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
    assert list(rows[0]) == ["file", "kind", "sha256", "status", "message", "rows_read", "rows_loaded",
                             "rows_replaced", "rows_rejected", "started_at", "finished_at"]
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
    assert out.splitlines() == ["photo.csv: failed: this is not a CSV or XLSX file (it contains binary data)",
                                "att.csv: attendance: loaded 1, replaced 0, rejected 0"]


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
    done = subprocess.run([sys.executable, "-m", "vsdash", "init", "--db", db],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "schema ready" in done.stdout
