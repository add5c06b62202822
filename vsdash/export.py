"""Exports: a table as CSV or XLSX, with the selection and as-at date written in the file."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become text ("CP; CIN") so every format can hold them."""
    return frame.with_columns(pl.col(c).list.join("; ") for c, t in frame.schema.items() if isinstance(t, pl.List))


def csv_bytes(frame: pl.DataFrame, about: list[str] | None = None) -> bytes:
    """CSV with `# ` lines on top saying what the rows are (filters, as-at date, source)."""
    head = "".join(f"# {line}\n" for line in about or [])
    return (head + _plain(frame).write_csv()).encode("utf-8")


def xlsx_bytes(frame: pl.DataFrame, about: list[str] | None = None, sheet: str = "vsdash") -> bytes:
    """An XLSX workbook: the description rows, a blank row, then the table."""
    return xlsx_sheets_bytes([(sheet, frame, about or [])])


def xlsx_sheets_bytes(sheets: list[tuple[str, pl.DataFrame, list[str]]]) -> bytes:
    """An XLSX workbook with one sheet per (name, table, description rows), e.g. the exceptions report."""
    buffer = io.BytesIO()
    import xlsxwriter

    # Excel has no time zones: timestamps (stored in UTC) are written as their UTC clock time.
    with xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True}) as workbook:
        bold = workbook.add_format({"bold": True})
        for sheet, frame, about in sheets:
            worksheet = workbook.add_worksheet(sheet[:31])
            for row, line in enumerate(about):
                worksheet.write_string(row, 0, line, bold if row == 0 else None)
            _plain(frame).write_excel(workbook=workbook, worksheet=worksheet, position=(len(about) + (1 if about else 0), 0),
                                      autofit=True, table_style="Table Style Light 9")
    return buffer.getvalue()


def write_table(frame: pl.DataFrame, path: Path, about: list[str] | None = None) -> None:
    """Write a table to .csv or .xlsx by its suffix (the command line's --out)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(xlsx_bytes(frame, about))
    elif path.suffix.lower() == ".csv":
        path.write_bytes(csv_bytes(frame, about))
    else:
        raise ValueError(f"--out must end in .csv or .xlsx, not {path.name!r}")
