"""The meeting pack as files: self-contained HTML (charts as inline SVG, so their text prints and searches),
PDF of the same pages, and XLSX with a cover sheet and one sheet per table.

Charts are drawn by plotly.js inside a headless Chromium (the browser the pack prints with), so the SVG is
plotly's own rendering and no chart library is needed offline; the plotly.js bundled with the plotly package
is loaded from disk, and the page is closed to the network while it draws.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import plotly
import polars as pl
from jinja2 import Environment
from markupsafe import Markup

from vsdash import export, report
from vsdash.pack import Pack

TEMPLATE = "pack.html.j2"
SUFFIXES = (".html", ".pdf", ".xlsx")
CHART_SIZE = (640, 520)  # px: two charts side by side across an A4 landscape page
# Playwright's wait for a local page; a chart draws in well under a second.
TIMEOUT_MS = 60_000


class PackError(RuntimeError):
    """The pack could not be made: one sentence saying what to do."""


def figure(value: object) -> str:
    """A table cell: whole numbers with thousands separators, rates to one decimal (two when under 1, as the
    DfE's per-100 rates), text as it is (forum mode's c, z, x), empties blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}" if 0 < abs(value) < 1 else f"{value:,.1f}"
    if hasattr(value, "strftime"):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _css(value: str) -> str:
    """Text inside a CSS string (the page's header and footer): quotes and backslashes escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The reports' template environment (every value escaped), with the pack's ways of writing figures."""
    env = report.environment()
    env.filters["figure"] = figure
    env.filters["css"] = _css
    return env


def selection_line(pack: Pack) -> str:
    """The header's words for what the pack covers."""
    return f"Selection: {pack.selection}" + (" · forum pack" if pack.forum else "")


def html(pack: Pack, charts: list[list[str]]) -> str:
    """The pack as one HTML page: a section per printed page; `charts` are each section's SVGs."""
    drawn = [[Markup(svg) for svg in section] for section in charts]  # plotly's own SVG, made from our figures
    return _environment().get_template(TEMPLATE).render(pack=pack, charts=drawn, selection_line=selection_line(pack))


@contextmanager
def _page(browser: str) -> Iterator:
    """A page of a headless Chromium with no network: a pack must never reach another host."""
    if not Path(browser).is_file() or not os.access(browser, os.X_OK):
        raise PackError(
            f"The meeting pack needs Chromium at {browser}: install it (apt-get install chromium) or set "
            "pack.browser in the configuration to where it is."
        )
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            try:
                context = chromium.new_context(offline=True)
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
                yield page
            finally:
                chromium.close()
    except Error as error:
        raise PackError(f"Chromium could not draw the pack ({str(error).splitlines()[0]}): try again.") from error


def _plotly_js() -> str:
    """The plotly.js that ships inside the plotly package (same version as the page's charts)."""
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


DRAW = """async ([figures, width, height]) => {
  const out = [];
  for (const figure of figures) {
    const url = await Plotly.toImage(figure, {format: "svg", width, height});
    out.push(decodeURIComponent(url.slice(url.indexOf(",") + 1)));
  }
  return out;
}"""


def _draw(page, pack: Pack) -> list[list[str]]:
    """Every section's charts as SVG text, drawn by plotly.js in the page."""
    page.set_content("<!doctype html><html><head><script>" + _plotly_js() + "</script></head><body></body></html>")
    figures = [[json.loads(fig.to_json()) for fig in section.charts] for section in pack.sections]
    flat = [fig for section in figures for fig in section]
    svgs: list[str] = page.evaluate(DRAW, [flat, *CHART_SIZE]) if flat else []
    out, start = [], 0
    for section in figures:
        out.append(svgs[start : start + len(section)])
        start += len(section)
    return out


def html_bytes(pack: Pack, browser: str) -> bytes:
    """The self-contained HTML pack."""
    with _page(browser) as page:
        return html(pack, _draw(page, pack)).encode("utf-8")


def pdf_bytes(pack: Pack, browser: str) -> bytes:
    """The same pages printed to A4 landscape PDF by the same browser (the page's @page rules: marking,
    authority, as-at date, selection and page numbers on every page)."""
    with _page(browser) as page:
        text = html(pack, _draw(page, pack))
        page.set_content(text)
        page.emulate_media(media="print")
        return page.pdf(prefer_css_page_size=True, print_background=True)


def xlsx_bytes(pack: Pack) -> bytes:
    """A cover sheet (what the pack is, every line of its sections) and one sheet per table."""
    cover = pl.DataFrame(
        {
            "section": [s.title for s in pack.sections for _ in s.lines],
            "text": [line for s in pack.sections for line in s.lines],
        }
    )
    sheets = [("Cover", cover, pack.about())]
    used: set[str] = {"Cover"}
    for section in pack.sections:
        for table in section.tables:
            name = _unique(table.sheet or table.title, used)
            frame = table.frame.rename(dict(zip(table.frame.columns, table.headings(), strict=True)))
            sheets.append((name, frame, [section.title, table.title, *pack.about()[1:4]]))
    return export.xlsx_sheets_bytes(sheets)


def _unique(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters) that no other sheet of the workbook has."""
    base = export.sheet_name(title)
    name, n = base, 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def pack_bytes(pack: Pack, suffix: str, browser: str) -> bytes:
    """The pack in the format its file name asks for."""
    suffix = suffix.lower()
    if suffix == ".html":
        return html_bytes(pack, browser)
    if suffix == ".pdf":
        return pdf_bytes(pack, browser)
    if suffix == ".xlsx":
        return xlsx_bytes(pack)
    raise PackError(f"The pack's file must end in {', '.join(SUFFIXES)}, not {suffix or 'nothing'}.")


def file_name(pack: Pack, suffix: str) -> str:
    """meeting-pack_2026-11-30.pdf (forum-pack_... for a forum pack): named by date, so a schedule keeps each."""
    kind = "forum-pack" if pack.forum else "meeting-pack"
    return f"{kind}_{pack.as_of:%Y-%m-%d}{suffix}"
