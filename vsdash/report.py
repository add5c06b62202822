"""The printable one-page summary of a child's attendance, for a child-protection conference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vsdash.config import Config
from vsdash.glossary import CATEGORY_WORDS, terms
from vsdash.sessions import COUNTED_CATEGORIES, SESSION_COLUMNS
from vsdash.views import ChildPage

TEMPLATE = "child_summary.html.j2"


@dataclass(frozen=True)
class Table:
    """A small table for the summary: its heading, column headings and rows of values."""

    title: str
    headings: list[str]
    rows: list[tuple]


def _table(title: str, frame: pl.DataFrame, columns: dict[str, str]) -> Table:
    """The named columns of a frame under their headings."""
    return Table(title, list(columns.values()), frame.select(list(columns)).rows())


def cell(value: object) -> str:
    """Dates as 12 Feb 2026, numbers with one decimal, yes/no, empties blank."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The template environment: every value escaped, so a name or note sent by a school cannot become markup."""
    env = Environment(
        loader=PackageLoader("vsdash", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell
    return env


def child_summary_html(page: ChildPage, cfg: Config, actions: pl.DataFrame, printed: date) -> str:
    """A self-contained HTML page that prints on one A4 sheet."""
    fig, words = page.figures, terms(cfg)
    flags = [
        term.label.lower()
        for held, term in (
            (fig.severe_absence, words.severe_absence),
            (fig.persistent_absence, words.persistent_absence),
        )
        if held
    ]
    counts = [f"{CATEGORY_WORDS[c]}: {getattr(fig, SESSION_COLUMNS[c])}" for c in COUNTED_CATEGORIES]
    tables = [
        _table("Cohorts", page.cohort_history, {"label": "Cohort", "start_date": "From", "end_date": "To"}),
        _table(
            "Schools",
            page.schools,
            {"school": "School", "la_name": "LA", "from": "From", "to": "To", "out_of_area": "Out of area"},
        ),
        _table(
            "Suspensions and exclusions",
            page.suspensions,
            {"start_date": "Start", "category": "Category", "sessions": "Sessions", "reason": "Reason"},
        ),
        _table(
            "Actions recorded",
            actions.head(8),
            {"recorded_at": "When", "action": "Action", "note": "Note", "recorded_by": "By", "follow_up": "Follow up"},
        ),
    ]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            who=page.identity,
            fig=fig,
            window=page.window,
            flags=flags,
            counts=counts,
            reasons=page.signals.reasons,
            tables=tables,
            authority=cfg.authority_name,
            printed=printed,
        )
    )
