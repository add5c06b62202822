"""A child's register as a calendar: one row per school week, Monday to Friday AM and PM, each cell its code.

The calendar is data (weeks of cells with their words), built here without Streamlit or HTML, so its layout is
tested directly; `report.register_html` draws it as a table for the page and the printable summary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal, cast

import polars as pl

from vsdash import metrics, sessions
from vsdash.config import Config
from vsdash.glossary import CATEGORY_WORDS
from vsdash.metrics import Window
from vsdash.sessions import COUNTED_CATEGORIES

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SESSIONS = ("AM", "PM")
# What a cell can be: a code's category (configuration), or a session with no code to show.
Kind = Literal[
    "present",
    "approved_activity",
    "authorised",
    "unauthorised",
    "not_possible",
    "no_mark",  # a school day with no mark received for this session
    "holiday",  # a weekday that is not a school day in the authority's calendar
    "closed",  # a configured authority-wide closure day (feeds.closure_dates)
    "outside",  # before the window starts or after the latest school day
]
# Cells that are not a school session of the child's: printed as words on white, never in a category's colour.
NOT_SESSIONS = ("holiday", "closed", "outside")
KIND_WORDS = {
    **CATEGORY_WORDS,
    "no_mark": "No mark received",
    "holiday": "Holiday: not a school day",
    "closed": "Closed: closure day",
    "outside": "Outside the window",
}
CELL_TEXT = {"no_mark": "", "holiday": "holiday", "closed": "closed", "outside": ""}


@dataclass(frozen=True)
class Cell:
    """One session of the calendar: what it is, what it prints and what its hover text says."""

    day: date
    session: str
    kind: Kind
    text: str
    hover: str


@dataclass(frozen=True)
class Week:
    """One row: the week's ten sessions (Monday AM to Friday PM) and its attendance."""

    monday: date
    cells: tuple[Cell, ...]
    possible_sessions: int
    attendance_pct: float | None

    @property
    def label(self) -> str:
        """The row's heading, as registers are headed: "w/c 19/01/2026"."""
        return f"w/c {self.monday:%d/%m/%Y}"

    @property
    def days(self) -> list[tuple[Cell, Cell]]:
        """The week as five (AM, PM) pairs, Monday first."""
        return [(self.cells[2 * i], self.cells[2 * i + 1]) for i in range(len(WEEKDAYS))]

    @property
    def school_week(self) -> bool:
        """Whether the week has any school day in the window (else the row is one "no school days" cell)."""
        return any(c.kind not in NOT_SESSIONS for c in self.cells)

    @property
    def has_marks(self) -> bool:
        """Whether any session of the week has a code (a week of school days without one is "no data")."""
        return any(c.kind not in (*NOT_SESSIONS, "no_mark") for c in self.cells)

    @property
    def summary(self) -> str:
        """The row's last cell: attendance % to one decimal, or why there is none (0% is a figure, not "no data")."""
        if not self.school_week:
            return "no school days"
        if not self.has_marks:
            return "no data"
        if self.attendance_pct is None:
            return "no possible sessions"
        return f"{self.attendance_pct:.1f}%"


@dataclass(frozen=True)
class Register:
    """The calendar of one window: its weeks, oldest first, and the legend in words."""

    title: str
    weeks: tuple[Week, ...]
    legend: tuple[tuple[Kind, str], ...]

    def last(self, n: int) -> Register:
        """The latest `n` school weeks only (the printed summary's), with a title saying so."""
        kept = [w for w in self.weeks if w.school_week][-n:]
        first = kept[0].monday if kept else None
        weeks = tuple(w for w in self.weeks if first and w.monday >= first)
        return replace(self, title=f"The last {len(kept)} school weeks", weeks=weeks)


def _hover(day: date, session: str, kind: Kind, code: str | None, cfg: Config) -> str:
    """The cell's text on hover, in UK dates: "Mon 19/01/2026 AM: N, Reason not yet established"."""
    when = f"{day:%a %d/%m/%Y}"
    if kind in ("holiday", "closed"):
        return f"{when}: {KIND_WORDS[kind].lower()}"
    if kind == "outside":
        return f"{when}: outside the window"
    if code is None:
        return f"{when} {session}: no mark received"
    return f"{when} {session}: {code}, {cfg.code_meaning.get(code, KIND_WORDS[kind])}"


def _cell(day: date, session: str, kind: Kind, code: str | None, cfg: Config) -> Cell:
    """A cell printing its code, or the words for a session that has none."""
    return Cell(
        day, session, kind, code if code is not None else CELL_TEXT.get(kind, ""), _hover(day, session, kind, code, cfg)
    )


def legend_words(cfg: Config) -> tuple[tuple[Kind, str], ...]:
    """The legend: each colour's meaning with its codes, then the cells that carry no colour."""
    coded: list[tuple[Kind, str]] = [
        (cast(Kind, k), f"{KIND_WORDS[k]} ({' '.join(cfg.codes_in(k))})") for k in (*COUNTED_CATEGORIES, "not_possible")
    ]
    return (
        *coded,
        ("no_mark", "No mark received (outlined, empty)"),
        ("holiday", "Holiday or closure: not a school day"),
    )


def week_figures(codes: pl.DataFrame) -> dict[date, tuple[int, float | None]]:
    """Per week (its Monday): possible sessions and attendance %, from the calendar's codes (DfE arithmetic)."""
    parts = {c: (pl.col("category") == c).sum() for c in COUNTED_CATEGORIES}
    weekly = codes.group_by(pl.col("date").dt.truncate("1w").alias("week_start")).agg(
        sessions.possible(parts).alias("possible"), sessions.attended(parts).alias("attended")
    )
    weekly = weekly.with_columns(pct=metrics.attendance_pct(pl.col("attended"), pl.col("possible")))
    return {w: (p, pct) for w, p, pct in weekly.select("week_start", "possible", "pct").iter_rows()}


def build(codes: pl.DataFrame, window: Window, cfg: Config) -> Register:
    """The calendar of the window from the child's session codes (`metrics.session_codes`: every school day's
    AM and PM with its code and category). A weekday missing from them is not a school day."""
    title = f"Every session, {window.start:%d/%m/%Y} to {window.as_of:%d/%m/%Y}"
    legend = legend_words(cfg)
    if codes.is_empty():
        return Register(title, (), legend)
    marked = {(d, s): (c, k) for d, s, c, k in codes.select("date", "session", "code", "category").iter_rows()}
    school_days = {d for d, _ in marked}
    last = min(window.as_of, max(school_days))  # days after the latest school day have not happened in the data
    closures = set(cfg.feeds.closure_dates)
    figures = week_figures(codes)
    weeks = []
    monday = window.start - timedelta(days=window.start.weekday())
    while monday <= last:
        cells = []
        for offset in range(len(WEEKDAYS)):
            day = monday + timedelta(days=offset)
            for session in SESSIONS:
                if day < window.start or day > last:
                    cells.append(_cell(day, session, "outside", None, cfg))
                elif day not in school_days:
                    cells.append(_cell(day, session, "closed" if day in closures else "holiday", None, cfg))
                else:
                    code, category = marked.get((day, session), (None, None))
                    # A code the configuration does not know counts nowhere, as a session that is not possible.
                    kind = cast(Kind, "no_mark" if code is None else category or "not_possible")
                    cells.append(_cell(day, session, kind, code, cfg))
        possible, pct = figures.get(monday, (0, None))
        weeks.append(Week(monday, tuple(cells), possible, pct))
        monday += timedelta(days=7)
    return Register(title, tuple(weeks), legend)
