"""Read a large SQLite selection as Arrow in a process of its own.

The fast reader (ADBC) carries its own copy of SQLite. Two copies of SQLite in one process break each
other's file locks (SQLite's documentation warns of exactly this), so the dashboard, whose SQLAlchemy
connections use Python's sqlite3, runs the fast read here and receives an Arrow file.

The child process is what a cold page waits for, so it starts light (ADBC's driver manager hands polars
the Arrow stream directly, without importing pyarrow: 0.35 s instead of 0.9 s to start) and sends the
frame already in the schema's types (dates as dates, not text: half the bytes to write and read back).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import polars as pl

from vsdash.frames import Schema, conform

PROJECT = str(Path(__file__).resolve().parents[2])  # the folder holding the vsdash package
# UPNs start with a check letter spread evenly over the alphabet: two halves for two cores.
UPN_SPLITS = (None, "M", None)


def read(path: str, query: str, schema: Schema) -> pl.DataFrame:
    """Run `query` (no parameters; it may not have a WHERE clause) on the SQLite file in a child process,
    as a frame of `schema` (`frames.conform`)."""
    with tempfile.TemporaryDirectory(prefix="vsdash-read-") as folder:
        out, types = Path(folder) / "rows.arrow", Path(folder) / "schema.arrow"
        pl.DataFrame(schema=schema).write_ipc(types)
        done = subprocess.run(
            # The file itself, not `-m vsdash.store.sqlite_reader`: the store package would import SQLAlchemy
            # and the rest of the store first (0.5 s). -P: only the project root is on the path.
            [sys.executable, "-P", __file__, path, str(out), query, str(types)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [PROJECT, os.environ.get("PYTHONPATH")]))},
        )
        if done.returncode != 0:
            raise RuntimeError(f"reading {path} failed: {done.stderr.strip().splitlines()[-1:]}")
        return pl.read_ipc(out)


def _read_here(path: str, query: str, schema: Schema) -> pl.DataFrame:
    """The read itself: one ADBC connection per UPN range, in parallel threads."""
    import adbc_driver_manager
    import adbc_driver_sqlite

    def part(bounds: tuple[str | None, str | None]) -> pl.DataFrame:
        low, high = bounds
        where = " AND ".join(w for w in (f"upn >= '{low}'" if low else "", f"upn < '{high}'" if high else "") if w)
        with adbc_driver_sqlite.connect(path) as db, adbc_driver_manager.AdbcConnection(db) as conn:
            with adbc_driver_manager.AdbcStatement(conn) as pragma:  # wait while another connection opens the WAL
                pragma.set_sql_query("PRAGMA busy_timeout = 10000")
                pragma.execute_update()
            with adbc_driver_manager.AdbcStatement(conn) as statement:
                statement.set_sql_query(query + (f" WHERE {where}" if where else ""))
                stream, _ = statement.execute_query()
                return pl.DataFrame(stream)  # the Arrow C stream interface: no copy through pyarrow

    ranges = list(pairwise(UPN_SPLITS))
    with ThreadPoolExecutor(len(ranges)) as pool:
        parts = list(pool.map(part, ranges))
    return conform(pl.concat(parts, how="vertical_relaxed"), schema).rechunk()


if __name__ == "__main__":
    database, target, sql, types = sys.argv[1:5]
    _read_here(database, sql, pl.read_ipc_schema(types)).write_ipc(target, compression="uncompressed")
