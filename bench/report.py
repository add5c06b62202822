"""The results as a table on screen and as a JSON file, with the machine and commit they were measured on."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy

from bench.measure import FAILED, Row
from vsdash.config import PROJECT_ROOT

HEAD = ("section", "measure", "value", "unit", "floor", "x floor", "pandas", "DuckDB", "target", "status")
COUNT_UNITS = ("rows/s", "MiB", "MB")


def number(x: float | None, unit: str = "s") -> str:
    """A figure as the table prints it: counts whole, seconds to the millisecond."""
    if x is None:
        return "-"
    return f"{x:,.0f}" if unit in COUNT_UNITS or abs(x) >= 1000 else f"{x:.3f}"


def table_cells(r: Row) -> tuple[str, ...]:
    """One row's cells, in the order of HEAD."""
    ratio = "-" if r.ratio is None else f"{r.ratio:.1f}"
    target = r.target.describe(r.unit) if r.target else ""
    return (
        r.section,
        r.measure,
        number(r.value, r.unit),
        r.unit,
        number(r.floor),
        ratio,
        number(r.pandas),
        number(r.duckdb),
        target,
        r.status or (r.error[:40] if r.error else ""),
    )


def format_table(rows: list[Row]) -> str:
    """The results as a fixed-width table (names left-aligned, figures right-aligned)."""
    body = [table_cells(r) for r in rows]
    widths = [max(len(x) for x in column) for column in zip(HEAD, *body, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if 2 <= i <= 7 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    return "\n".join([line(HEAD), line(tuple("-" * w for w in widths)), *map(line, body)])


def write_json(path: Path, facts: dict[str, Any], params: dict[str, Any], rows: list[Row]) -> None:
    """The machine facts, the parameters and every row, for the next run to compare against."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": facts,
        "parameters": params,
        "rows": [r.as_dict() for r in rows],
        "misses": [r.measure for r in rows if r.status in FAILED],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def read_json(path: Path) -> tuple[dict[str, Any], dict[str, Any], list[Row]]:
    """A results file `write_json` wrote: machine facts, parameters and rows."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return document["machine"], document["parameters"], [Row.from_dict(r) for r in document["rows"]]


# ---- what was measured on what -------------------------------------------------------------------


def machine_facts(db_url: str) -> dict[str, Any]:
    """What the figures were measured on, so a later run can be compared fairly."""
    pages = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "ram_gib": round(pages / 1024**3, 1),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "streamlit": metadata.version("streamlit"),  # the version only: Streamlit is imported by the page phase
        "sqlite": sqlite3.sqlite_version,
        "database": db_url.split("://", 1)[0],
        "database_server": server_version(db_url),
        **code_version(),
    }


def git(*args: str) -> str:
    """The output of a read-only git command in the project folder ('' outside a checkout)."""
    done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return done.stdout


def code_version() -> dict[str, Any]:
    """The commit measured and the files changed on top of it, so figures match code."""
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or None,
        "uncommitted": changed_files(git("status", "--porcelain")),
    }


def changed_files(porcelain: str) -> list[str]:
    """The paths in `git status --porcelain` output (two status letters, a space, the path; a rename's new path)."""
    return [line[3:].split(" -> ")[-1] for line in porcelain.splitlines() if line.strip()]


def server_version(url: str) -> str:
    """The database server's version string."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar()
            return str(conn.exec_driver_sql("select version()").scalar())
    finally:
        engine.dispose()
