"""What one measurement is: a figure beside its floor and target, its verdict, and how it is timed."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Targets:
    """Issue 17's targets for one size of authority (benchmark figures, not timed tests)."""

    cold_page: float  # s, empty cache to drawn
    filter_change: float  # s, a rerun or another selection in the same window, every page
    new_window: float  # s, the as-at date or the start moved, every page
    day_feed: float  # s, one day's attendance for every child
    backfill: float  # s, the full year
    memory_mb: float  # MiB, the peak of one dashboard process


LOCAL = Targets(cold_page=3.0, filter_change=0.3, new_window=0.3, day_feed=1.0, backfill=40.0, memory_mb=1024.0)
REGIONAL = Targets(cold_page=10.0, filter_change=0.5, new_window=1.0, day_feed=5.0, backfill=600.0, memory_mb=2048.0)
SEARCH_MAX_S = 0.1  # issue 17: finding a child among 300,000 well under a tenth of a second
REGIONAL_FROM = 100_000  # children: a regional partnership (300,000 on PostgreSQL) rather than one authority
WINDOW_FILTERS = ("start", "as_of")  # the filter changes that move the window


def targets_for(children: int) -> Targets:
    """The targets for an authority of this many children: one large authority, or a regional partnership."""
    return REGIONAL if children >= REGIONAL_FROM else LOCAL


def change_target(targets: Targets, filter_name: str) -> Target:
    """A filter change's target: a new window's when it moves the window, else a filter change's."""
    return Target(targets.new_window if filter_name in WINDOW_FILTERS else targets.filter_change)


# What a run reports when a figure did not meet its target, or could not be measured.
FAILED = ("MISS", "ERROR")


@dataclass(frozen=True)
class Target:
    """A limit a figure must stay under, and optionally a multiple of its floor."""

    limit: float
    max_ratio: float | None = None

    def describe(self, unit: str) -> str:
        """The target as the table prints it."""
        text = f"<= {self.limit:g} {unit}"
        return text + (f", <= {self.max_ratio:g}x floor" if self.max_ratio else "")


@dataclass
class Row:
    """One line of the results table: a measured figure, its floor and target, and whether it met it."""

    section: str
    measure: str
    value: float | None
    unit: str = "s"
    floor: float | None = None
    target: Target | None = None
    runs: list[float] = field(default_factory=list)
    note: str = ""
    error: str = ""
    # The peers' seconds for the same kind of step, measured in the same run (bench/peers.py).
    pandas: float | None = None
    duckdb: float | None = None

    @property
    def ratio(self) -> float | None:
        """How many times the floor this figure is (None without a floor)."""
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def status(self) -> str:
        """PASS or MISS against the target (reaching it exactly passes), ERROR, or blank when untargeted."""
        # A ratio target without a floor judges the limit alone.
        if self.error:
            return "ERROR"
        if self.target is None or self.value is None:
            return ""
        ok = self.value <= self.target.limit
        if self.target.max_ratio and self.ratio is not None:
            ok = ok and self.ratio <= self.target.max_ratio
        return "PASS" if ok else "MISS"

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the JSON file: the target in words and as numbers, the ratio and verdict."""
        out = asdict(self)
        out["target"] = self.target.describe(self.unit) if self.target else None
        out["limit"] = self.target.limit if self.target else None
        out["max_ratio"] = self.target.max_ratio if self.target else None
        out["ratio"] = self.ratio
        out["status"] = self.status
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        """The row `as_dict` wrote (derived fields are worked out again, not read)."""
        target = Target(data["limit"], data["max_ratio"]) if data.get("limit") is not None else None
        return cls(
            data["section"],
            data["measure"],
            data["value"],
            data["unit"],
            data["floor"],
            target,
            list(data["runs"]),
            data["note"],
            data["error"],
            data.get("pandas"),
            data.get("duckdb"),
        )


class Results:
    """The rows measured so far, in the order they were measured."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, row: Row) -> Row:
        """Keep a row and say it on stderr, so a long run shows progress."""
        self.rows.append(row)
        value = "-" if row.value is None else f"{row.value:.3f} {row.unit}"
        print(f"  {row.section}: {row.measure}: {value} {row.status} {row.error}", file=sys.stderr, flush=True)
        return row

    def failed(self, section: str, measure: str, exc: BaseException, unit: str = "s") -> Row:
        """Keep an ERROR row for a measurement that raised, so the other measurements still run."""
        return self.add(Row(section, measure, None, unit, error=f"{type(exc).__name__}: {exc}"))


# ---- time ----------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, and what it returned."""
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def runs_of(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds of `repeat` calls (the caller takes the median)."""
    return [timed(fn)[0] for _ in range(repeat)]


# ---- memory --------------------------------------------------------------------------------------


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux 4.0+), so each phase reports its own peak."""
    try:
        Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The peak resident set since the last reset (VmHWM), else the process's ru_maxrss."""
    try:
        for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return process_peak_mb()


def process_peak_mb() -> float:
    """ru_maxrss of the whole process in MiB (kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def phase_memory(results: Results, phase: str, target: Target | None = None) -> Iterator[None]:
    """Record the peak RSS reached during one phase of the benchmark."""
    per_phase = reset_peak_rss()
    yield
    note = "VmHWM since the phase began" if per_phase else "ru_maxrss so far (no per-phase reset here)"
    results.add(Row("memory", f"peak RSS during {phase}", round(peak_rss_mb(), 1), "MiB", target=target, note=note))
