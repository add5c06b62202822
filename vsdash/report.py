"""The printable one-page summary of a child's attendance, for a child-protection conference."""

from __future__ import annotations

from datetime import date
from html import escape

import polars as pl

from vsdash.config import Config
from vsdash.glossary import CATEGORY_WORDS
from vsdash.views import ChildPage


def _table(frame: pl.DataFrame, columns: dict[str, str]) -> str:
    """A small HTML table of the named columns, with their headings."""
    if frame.is_empty():
        return "<p class='none'>None.</p>"
    head = "".join(f"<th>{escape(label)}</th>" for label in columns.values())
    rows = []
    for row in frame.select(list(columns)).iter_rows():
        rows.append("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _cell(value: object) -> str:
    """Dates as 12 Feb 2026, numbers with one decimal, empties blank."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def child_summary_html(page: ChildPage, cfg: Config, actions: pl.DataFrame, printed: date) -> str:
    """A self-contained HTML page that prints on one A4 sheet."""
    who, fig = page.identity, page.figures
    name = who.name
    pct = "no possible sessions" if fig.attendance_pct is None else f"{fig.attendance_pct:.1f}%"
    flags = [label for key, label in (("severe_absence", "severe absence"), ("persistent_absence", "persistent absence"))
             if getattr(fig, key)]
    counts = " · ".join(f"{CATEGORY_WORDS[c]}: {getattr(fig, k)}" for c, k in (
        ("present", "present_sessions"), ("approved_activity", "aea_sessions"),
        ("authorised", "authorised_sessions"), ("unauthorised", "unauthorised_sessions")))
    reasons = "".join(f"<li>{escape(r)}</li>" for r in page.signals.reasons) or "<li>No signals.</li>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Attendance summary: {escape(name)}</title>
<style>
@page {{ size: A4; margin: 14mm; }}
body {{ font: 11pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: auto; }}
h1 {{ font-size: 16pt; margin: 0 0 2mm; }} h2 {{ font-size: 12pt; margin: 5mm 0 1mm; border-bottom: 1px solid #999; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9.5pt; }} td, th {{ border: 1px solid #bbb; padding: 1mm 2mm; text-align: left; }}
.big {{ font-size: 20pt; font-weight: 700; }} .none {{ color: #555; }} footer {{ margin-top: 6mm; font-size: 8.5pt; color: #444; }}
</style></head><body>
<h1>{escape(name)}: attendance summary</h1>
<p>LA child ID {escape(who.la_child_id)} · UPN {escape(who.upn or 'not known')} · born {_cell(who.dob)}
 · year {escape(who.year_group or '?')} · EHCP {_cell(who.ehcp)}<br>
Social worker {escape(who.social_worker or 'none allocated')} ({escape(who.team or 'no team')})</p>
<h2>Attendance {page.window.start:%d %b %Y} to {page.window.as_of:%d %b %Y}</h2>
<p><span class="big">{pct}</span> {escape(' and '.join(flags))}<br>
{fig.possible_sessions} possible sessions. {escape(counts)}.<br>
Suspensions: {fig.suspensions} ({fig.suspension_sessions} sessions); permanent exclusions: {fig.permanent_exclusions}.</p>
<h2>Why this child is on the list</h2><ul>{reasons}</ul>
<h2>Cohorts</h2>{_table(page.cohort_history, {'label': 'Cohort', 'start_date': 'From', 'end_date': 'To'})}
<h2>Schools</h2>{_table(page.schools, {'school': 'School', 'la_name': 'LA', 'from': 'From', 'to': 'To', 'out_of_area': 'Out of area'})}
<h2>Suspensions and exclusions</h2>{_table(page.suspensions, {'start_date': 'Start', 'category': 'Category', 'sessions': 'Sessions', 'reason': 'Reason'})}
<h2>Actions recorded</h2>{_table(actions.head(8), {'recorded_at': 'When', 'action': 'Action', 'note': 'Note', 'recorded_by': 'By', 'follow_up': 'Follow up'})}
<footer>{escape(cfg.authority_name)} · printed {printed:%d %b %Y} · OFFICIAL-SENSITIVE: contains personal data about a child.
Attendance % = (present + approved educational activity) / possible sessions (DfE).</footer>
</body></html>"""
