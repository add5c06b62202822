"""Read a large SQLite selection as Arrow in a process of its own.

The fast reader (ADBC) carries its own copy of SQLite. Two copies of SQLite in one process break each
other's file locks (SQLite's documentation warns of exactly this), so the dashboard, whose SQLAlchemy
connections use Python's sqlite3, runs the fast read here and receives an Arrow file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import polars as pl

# UPNs start with a check letter spread evenly over the alphabet: two halves for two cores.
UPN_SPLITS = (None, "M", None)


def read(path: str, query: str) -> pl.DataFrame:
    """Run `query` (no parameters; it may not have a WHERE clause) on the SQLite file in a child process."""
    with tempfile.TemporaryDirectory(prefix="vsdash-read-") as folder:
        out = Path(folder) / "rows.arrow"
        done = subprocess.run(
            [sys.executable, "-m", "vsdash.store.sqlite_reader", path, str(out), query], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"reading {path} failed: {done.stderr.strip().splitlines()[-1:]}")
        return pl.read_ipc(out)


def _read_here(path: str, query: str) -> pl.DataFrame:
    """The read itself: one ADBC connection per UPN range, in parallel threads."""
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    def part(bounds: tuple[str | None, str | None]) -> pl.DataFrame:
        low, high = bounds
        where = " AND ".join(w for w in (f"upn >= '{low}'" if low else "", f"upn < '{high}'" if high else "") if w)
        with adbc_sqlite.connect(path) as conn:
            with conn.cursor() as cursor:  # wait while another connection opens the WAL
                cursor.execute("PRAGMA busy_timeout = 10000")
            return pl.read_database(query + (f" WHERE {where}" if where else ""), conn)

    ranges = list(pairwise(UPN_SPLITS))
    with ThreadPoolExecutor(len(ranges)) as pool:
        return pl.concat(list(pool.map(part, ranges)), how="vertical_relaxed")


if __name__ == "__main__":
    database, target, sql = sys.argv[1:4]
    _read_here(database, sql).write_ipc(target, compression="uncompressed")
