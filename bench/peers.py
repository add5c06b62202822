"""The peers: what a team would build instead of vsdash, measured on the same store in the same run.

- **pandas + read_sql**: every mark read from the store with `pandas.read_sql` (the usual first dashboard),
  then per-child possible and attended sessions and both flags with pandas, and the headline for the
  selection. Each filter change works over the marks held in memory again.
- **DuckDB** over the floor's parquet copy of the same marks: one SQL GROUP BY per figure set.

Both compute the core of every page (per-child sums and both flags for the window, and the headline of a
selection), not the whole page: they are the lower end of what a peer costs. The selection's UPNs are
given (which children a cohort holds is vsdash's knowledge, not the peers' arithmetic). The rules come
from the configuration (`sessions` categories, `thresholds`), as the floor's; `tests/test_bench.py` checks
that their per-child figures are the floor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import create_engine, text

from vsdash.config import Config
from vsdash.metrics import Window
from vsdash.sessions import COUNTED_CATEGORIES

# What each step of a peer is called in the results, in the order measured.
PEERS = ("pandas", "DuckDB")
STEPS = {
    "cold": "first figure (every mark read)",
    "rerun": "rerun, same selection",
    "filter": "filter change (cohort CP)",
    "window": "new window (as-at moved)",
}
ATTENDED_CATEGORIES = ("present", "approved_activity")  # DfE: attended = present + approved educational activity


@dataclass(frozen=True)
class Codes:
    """The codes that count as possible and as attended sessions."""

    possible: tuple[str, ...]
    attended: tuple[str, ...]

    @classmethod
    def of(cls, cfg: Config) -> Codes:
        """From the configuration: every counted category is possible; present and approved activity attend."""
        return cls(
            tuple(c for category in COUNTED_CATEGORIES for c in cfg.codes_in(category)),
            tuple(c for category in ATTENDED_CATEGORIES for c in cfg.codes_in(category)),
        )


def headline(per_child: pl.DataFrame) -> dict[str, Any]:
    """The headline from per-child figures (upn, possible, attended, persistent_absence, severe_absence)."""
    with_data = per_child.filter(pl.col("possible") > 0)
    n = with_data.height
    possible = int(with_data["possible"].sum())
    return {
        "children_with_data": n,
        "attendance_pct": 100.0 * int(with_data["attended"].sum()) / possible if possible else None,
        "persistent_absence_rate": 100.0 * int(with_data["persistent_absence"].sum()) / n if n else None,
        "severe_absence_rate": 100.0 * int(with_data["severe_absence"].sum()) / n if n else None,
    }


# ---- pandas + read_sql ---------------------------------------------------------------------------

MARKS_QUERY = "SELECT a.upn, a.date, a.am, a.pm FROM attendance a WHERE a.upn IN (SELECT upn FROM children)"


def pandas_marks(url: str) -> Any:
    """Every listed child's marks as a pandas frame, as `pd.read_sql` gives it (dates parsed): the figures
    count only the children on the social-care list."""
    import pandas as pd

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return pd.read_sql(text(MARKS_QUERY), connection, parse_dates=["date"])
    finally:
        engine.dispose()


def pandas_per_child(marks: Any, cfg: Config, window: Window, upns: list[str] | None = None) -> pl.DataFrame:
    """Per-child sessions and flags with pandas (returned as polars only so the check can compare)."""
    import pandas as pd

    codes, th = Codes.of(cfg), cfg.thresholds
    rows = marks[(marks["date"] >= pd.Timestamp(window.start)) & (marks["date"] <= pd.Timestamp(window.as_of))]
    if upns is not None:
        rows = rows[rows["upn"].isin(upns)]
    sessions = pd.DataFrame(
        {
            "upn": rows["upn"],
            "possible": rows["am"].isin(codes.possible).astype("int64") + rows["pm"].isin(codes.possible),
            "attended": rows["am"].isin(codes.attended).astype("int64") + rows["pm"].isin(codes.attended),
        }
    )
    sums = sessions.groupby("upn", as_index=False)[["possible", "attended"]].sum()
    absence = sums["possible"] - sums["attended"]
    # DfE: persistent absence = missed 10% or more of possible sessions, in integers (as metrics.reaches).
    sums["persistent_absence"] = (sums["possible"] > 0) & (
        absence * 100 >= sums["possible"] * th.persistent_absence_pct
    )
    sums["severe_absence"] = (sums["possible"] > 0) & (absence * 100 >= sums["possible"] * th.severe_absence_pct)
    return pl.from_pandas(sums)


def pandas_cold(url: str, cfg: Config, window: Window) -> dict[str, Any]:
    """A pandas dashboard's first figure: read every mark, then the headline of every child."""
    return headline(pandas_per_child(pandas_marks(url), cfg, window))


# ---- DuckDB ----------------------------------------------------------------------------------------


def _in(codes: tuple[str, ...]) -> str:
    """A SQL list of codes (from the configuration: one or two characters each, quotes doubled anyway)."""
    return ", ".join("'" + c.replace("'", "''") + "'" for c in codes)


def _sessions_sql(codes: tuple[str, ...]) -> str:
    """A day row's sessions (0-2) with one of the codes; a session not sent counts 0, not NULL."""
    one = "COALESCE(CAST({} AS VARCHAR) IN (" + _in(codes) + "), FALSE)::INT"
    return one.format("am") + " + " + one.format("pm")


def duckdb_per_child(parquet: Path, cfg: Config, window: Window, upns: list[str] | None = None) -> pl.DataFrame:
    """Per-child sessions and flags with one DuckDB query over the parquet marks."""
    import duckdb

    codes, th = Codes.of(cfg), cfg.thresholds
    possible, attended = _sessions_sql(codes.possible), _sessions_sql(codes.attended)
    selected = "AND upn IN (SELECT upn FROM chosen)" if upns is not None else ""
    query = f"""
        WITH sums AS (
            SELECT upn, SUM({possible})::BIGINT AS possible, SUM({attended})::BIGINT AS attended
            FROM read_parquet(?) WHERE date BETWEEN ? AND ? {selected} GROUP BY upn
        )
        SELECT upn, possible, attended,
            possible > 0 AND (possible - attended) * 100 >= possible * {th.persistent_absence_pct} AS persistent_absence,
            possible > 0 AND (possible - attended) * 100 >= possible * {th.severe_absence_pct} AS severe_absence
        FROM sums
    """
    with duckdb.connect() as connection:
        if upns is not None:
            connection.register("chosen", pl.DataFrame({"upn": upns}).to_arrow())
        return connection.sql(query, params=[str(parquet), window.start, window.as_of]).pl()


def duckdb_headline(parquet: Path, cfg: Config, window: Window, upns: list[str] | None = None) -> dict[str, Any]:
    """The headline of a selection from one DuckDB query (what a DuckDB dashboard runs per rerun)."""
    return headline(duckdb_per_child(parquet, cfg, window, upns))


# ---- measured beside the pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class PeerTimes:
    """A peer's median seconds for each kind of step a page takes."""

    cold: float | None  # from nothing in memory to the first figure (None: not measured at this size)
    rerun: float | None  # the same selection again (a peer has no cache: it works it out again)
    filter: float | None  # another selection in the same window
    window: float | None  # a new window (the as-at date moved)

    def of(self, step: str) -> float | None:
        """The time for a page step: 'cold', a filter's name ('start' and 'as_of' move the window) or 'no filter'."""
        if step == "cold":
            return self.cold
        if step in ("start", "as_of"):
            return self.window
        return self.rerun if step == "no filter" else self.filter


@dataclass(frozen=True)
class Peers:
    """Both peers' times, as the benchmark sets them beside each figure."""

    pandas: PeerTimes
    duckdb: PeerTimes


# pandas holds every mark as Python objects: at a partnership's 57M marks that is more memory than this
# machine has beside the benchmark's own frames, so pandas is measured up to one large authority.
PANDAS_MAX_CHILDREN = 100_000


def measure_names() -> list[str]:
    """Every peer row a run reports, in order."""
    return [f"{peer}: {words}" for peer in PEERS for words in STEPS.values()]
