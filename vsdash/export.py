"""Exports: a table as CSV or XLSX that a spreadsheet opens safely, named by the selection and as-at date.

A CSV is a plain RFC 4180 table (the header is line 1), so Excel, Power Query, pandas and polars read it as
it is; what the rows are (the selection, the window) travels in the file name. An XLSX keeps the description
rows above its table on the same sheet: one sheet reads like the screen it came from, the table is still an
Excel table (Power Query imports it by name, whatever is above it), and the exceptions report's sheets are
headed the same way.

OWASP "CSV injection": a text cell starting with = + - @ tab or CR is a formula to a spreadsheet, so every
such cell gets a leading apostrophe, and the XLSX writer never turns a string into a formula or a link.
Numbers (a negative one too) stay numbers.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import polars as pl

from vsdash.filters import AREA_WORDS, Filters

FORMULA_START = r"^[=+\-@\t\r]"
# xlsxwriter's defaults turn "=..." into a formula and "http://..." into a link: strings stay strings here.
XLSX_OPTIONS = {
    "in_memory": True,
    "remove_timezone": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
SUFFIXES = (".csv", ".xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value: str) -> str:
    """A text that a spreadsheet shows as text: a leading apostrophe when it would start a formula."""
    return "'" + value if re.match(FORMULA_START, value) else value


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become text ("CP; CIN") so every format can hold them; formula-like text gets its apostrophe."""
    frame = frame.with_columns(pl.col(c).list.join("; ") for c, t in frame.schema.items() if isinstance(t, pl.List))
    frame = frame.with_columns(
        pl.col(c).cast(pl.String) for c, t in frame.schema.items() if isinstance(t, (pl.Categorical, pl.Enum))
    )
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items()
        if t == pl.String
    )


def csv_text(frame: pl.DataFrame) -> str:
    """The table as RFC 4180 CSV text: the header on line 1, CRLF line ends, quotes only where needed."""
    return _plain(frame).write_csv(line_terminator="\r\n")


def csv_bytes(frame: pl.DataFrame, about: list[str] | None = None) -> bytes:
    """The table as CSV (UTF-8). `about` lines (`# ...` above the header) are only for a file of several
    headed sections, the exceptions report; a single table carries its selection in its file name."""
    head = "".join(f"# {line}\r\n" for line in about or [])
    return (head + csv_text(frame)).encode("utf-8")


def xlsx_bytes(frame: pl.DataFrame, about: list[str] | None = None, sheet: str = "vsdash") -> bytes:
    """An XLSX workbook: the description rows, a blank row, then the table."""
    return xlsx_sheets_bytes([(sheet, frame, about or [])])


def xlsx_sheets_bytes(sheets: list[tuple[str, pl.DataFrame, list[str]]]) -> bytes:
    """An XLSX workbook with one sheet per (name, table, description rows), e.g. the exceptions report."""
    buffer = io.BytesIO()
    import xlsxwriter

    # Excel has no time zones: timestamps (stored in UTC) are written as their UTC clock time.
    with xlsxwriter.Workbook(buffer, XLSX_OPTIONS) as workbook:
        bold = workbook.add_format({"bold": True})
        for sheet, frame, about in sheets:
            worksheet = workbook.add_worksheet(sheet_name(sheet))
            for row, line in enumerate(about):
                worksheet.write_string(row, 0, safe_text(line), bold if row == 0 else None)
            _plain(frame).write_excel(
                workbook=workbook,
                worksheet=worksheet,
                position=(len(about) + (1 if about else 0), 0),
                autofit=True,
                table_style="Table Style Light 9",
            )
    return buffer.getvalue()


def sheet_name(name: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "vsdash"


def write_table(frame: pl.DataFrame, path: Path, about: list[str] | None = None) -> None:
    """Write a table to .csv or .xlsx by its suffix (the command line's --out); a failed write leaves no half file."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"--out must end in .csv or .xlsx, not {path.name!r}")
    write_whole(path, xlsx_bytes(frame, about) if path.suffix.lower() == ".xlsx" else csv_bytes(frame))


def write_whole(path: Path, data: bytes) -> None:
    """Write a file so that a failed write leaves no half file (a `.part` beside it, renamed when complete)."""
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


# ---- file names -------------------------------------------------------------------------------------


def _slug(text: object) -> str:
    """Letters, digits, dots and dashes only: a piece of a file name every system accepts."""
    return re.sub(r"[^\w.-]+", "-", str(text), flags=re.UNICODE).strip("-._")


def selection_parts(filters: Filters) -> list[str]:
    """The selection in short words for a file name: cohort, school, area, team..., window start, as-at date."""
    parts = [filters.cohort] if filters.cohort else []
    parts += [f"school-{filters.school_urn}"] if filters.school_urn is not None else []
    parts += [AREA_WORDS[filters.area].removesuffix(" schools")] if filters.area in AREA_WORDS else []
    named = {"school_la": "la", "locality": "locality", "team": "team", "social_worker": "worker", "year_group": "year"}
    parts += [
        f"{word}-{getattr(filters, field)}" for field, word in named.items() if getattr(filters, field) is not None
    ]
    parts += [] if filters.ehcp is None else ["ehcp" if filters.ehcp else "no-ehcp"]
    parts += [f"from-{filters.start:%Y-%m-%d}"] if filters.start else []
    return [*parts, f"as-at-{filters.as_of:%Y-%m-%d}"]


def file_name(name: str, parts: list[str], suffix: str) -> str:
    """`name_part_part.suffix`, safe for every file system and short enough for all of them."""
    stem = "_".join(s for s in (_slug(p) for p in [name, *parts]) if s)
    return (stem[:150] or "vsdash") + suffix
