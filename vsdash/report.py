"""The printable one-page summary of a child's attendance, for a child-protection conference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vsdash.charts import CATEGORY_COLOURS
from vsdash.config import Config
from vsdash.glossary import CATEGORY_WORDS, column_label, terms
from vsdash.register import NOT_SESSIONS, WEEKDAYS, Register
from vsdash.sessions import COUNTED_CATEGORIES, SESSION_COLUMNS
from vsdash.views import ChildPage, action_rows

TEMPLATE = "child_summary.html.j2"
REGISTER_TEMPLATE = "register.html.j2"
SUMMARY_WEEKS = 6  # the printed summary's calendar: the latest school weeks that fit on the A4 sheet


@dataclass(frozen=True)
class Table:
    """A small table for the summary: its heading, column headings and rows of values."""

    title: str
    headings: list[str]
    rows: list[tuple]


def _table(title: str, frame: pl.DataFrame) -> Table:
    """A frame of people's words under its columns' headings (the same as the page's, `glossary.COLUMNS`)."""
    return Table(title, [column_label(c) for c in frame.columns], frame.rows())


def cell(value: object) -> str:
    """Dates as DD/MM/YYYY (a time of day is not printed), numbers with one decimal, yes/no, empties blank."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
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
    """A self-contained HTML page that prints on one A4 sheet, in the page's words (`views.ChildTables`)."""
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
    shown = page.tables
    tables = [
        _table("Cohorts", shown.cohorts),
        _table("Schools", shown.schools.drop("dual_registered_days")),
        _table("Suspensions and exclusions", shown.suspensions.drop("end_date")),
        _table("Actions recorded", action_rows(actions).head(8)),
    ]
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            who=page.identity,
            fig=fig,
            window=page.window,
            flags=flags,
            counts=counts,
            reasons=page.signals.reasons,
            tables=tables,
            responsible_la=shown.responsible_la,
            **_register_context(page.register.last(SUMMARY_WEEKS)),
            authority=cfg.authority_name,
            printed=printed,
        )
    )


def _register_context(register: Register) -> dict:
    """What the calendar's template needs besides the weeks: the colours (Okabe-Ito, as the charts') and day names."""
    return {
        "register": register,
        "colours": {k: CATEGORY_COLOURS[k] for k in COUNTED_CATEGORIES},
        "weekdays": WEEKDAYS,
        "not_sessions": NOT_SESSIONS,
    }


def register_html(register: Register) -> str:
    """The calendar as an HTML table with real text (read by screen readers, printed as seen), for the page."""
    return environment().get_template(REGISTER_TEMPLATE).render(**_register_context(register))


def print_opener_html(summary: str, label: str = "Open the summary to print") -> str:
    """A button that opens the summary in a new tab (a Blob URL, so nothing is downloaded) and prints it there.

    Streamlit's component frames are sandboxed with allow-popups and allow-popups-to-escape-sandbox, so the
    tab opens from the click, a user's gesture that popup blockers let through.
    """
    # json.dumps makes a JavaScript string; every "<" is escaped so the summary cannot close this script.
    payload = json.dumps(summary).replace("<", "\\u003c")
    return environment().get_template("print_opener.html.j2").render(payload=Markup(payload), label=label)
