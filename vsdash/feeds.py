"""Feed files: read CSV or XLSX, recognise the kind, validate every row, keep the rejects with reasons."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from vsdash.config import Config, FeedRules
from vsdash.frames import MAX_LENGTH
from vsdash.geo import bng_to_latlon
from vsdash.identifiers import LA_PATTERN, URN_PATTERN, upn_problem

csv.field_size_limit(sys.maxsize)  # cells are capped by the configuration, per row

KINDS = ("attendance", "children", "suspensions", "schools")

# Accepted header spellings per column, after normalising (lower case, no spaces or underscores).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "attendance": {
        "upn": ("upn",),
        "urn": ("urn", "schoolurn"),
        "date": ("date", "attendancedate", "sessiondate"),
        "am": ("am", "amcode", "ammark"),
        "pm": ("pm", "pmcode", "pmmark"),
        "la_child_id": ("lachildid", "childid"),
    },
    "children": {
        "la_child_id": ("lachildid", "childid"),
        "upn": ("upn",),
        "first_name": ("firstname", "forename"),
        "last_name": ("lastname", "surname"),
        "dob": ("dob", "dateofbirth"),
        "gender": ("gender", "sex"),
        "cohort": ("cohort",),
        "start_date": ("startdate",),
        "end_date": ("enddate",),
        "social_worker": ("socialworker",),
        "team": ("team", "socialcareteam"),
        "locality": ("locality",),
        "ehcp": ("ehcp",),
        "responsible_la": ("responsiblela",),
        "year_group": ("yeargroup", "ncyeargroup", "ncyear"),
    },
    "suspensions": {
        "upn": ("upn",),
        "urn": ("urn", "schoolurn"),
        "start_date": ("startdate",),
        "end_date": ("enddate",),
        "sessions": ("sessions",),
        "category": ("category",),
        "reason": ("reason", "reason1"),
        "reason_2": ("reason2",),
        "reason_3": ("reason3",),
    },
    "schools": {
        "urn": ("urn",),
        "name": ("establishmentname", "name", "schoolname"),
        "la_code": ("la(code)", "lacode"),
        "la_name": ("la(name)", "laname"),
        "phase": ("phaseofeducation(name)", "phaseofeducation", "phase"),
        "postcode": ("postcode",),
        "easting": ("easting",),
        "northing": ("northing",),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
        "locality": ("locality",),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "attendance": ("upn", "urn", "date", "am", "pm"),
    "children": ("la_child_id", "cohort", "start_date"),
    "suspensions": ("upn", "urn", "start_date", "category"),
    "schools": ("urn", "name", "la_code"),
}

HEADER_HELP = {
    "attendance": "UPN, URN, Date, AM, PM",
    "children": "LA Child ID, Cohort, Start Date (plus UPN, names, DOB, Social Worker, Team, ...)",
    "suspensions": "UPN, URN, Start Date, Category (plus Sessions, Reason, End Date)",
    "schools": "URN, EstablishmentName, LA (code) (a GIAS extract)",
}

# A required column as a header writes it, for the message that names a missing one.
HEADINGS = {
    "upn": "UPN",
    "urn": "URN",
    "date": "Date",
    "am": "AM",
    "pm": "PM",
    "la_child_id": "LA Child ID",
    "cohort": "Cohort",
    "start_date": "Start Date",
    "category": "Category",
    "name": "EstablishmentName",
    "la_code": "LA (code)",
}
# How a message names a file of each kind.
KIND_WORDS = {
    "attendance": "an attendance file",
    "children": "a children list",
    "suspensions": "a suspensions file",
    "schools": "a schools (GIAS) file",
}

TRUE_WORDS = {"Y", "YES", "TRUE", "1"}
FALSE_WORDS = {"N", "NO", "FALSE", "0"}


class FeedError(Exception):
    """A file that cannot be loaded at all; the message is one line a data manager can act on."""


@dataclass
class RawFeed:
    """A file's cells as text, with the line each row came from and its original text."""

    file: str
    sha256: str
    header: list[str]
    frame: pl.DataFrame  # one String column per header cell, plus _line
    short_rows: pl.DataFrame  # rows whose number of fields does not match the header
    quote: Callable[[list[int]], dict[int, str]]  # the original text of some lines (for rejected rows)


@dataclass
class ParsedFeed:
    """A validated file: rows ready for the store, keyed by table, and the rejected rows."""

    file: str
    kind: str
    sha256: str
    rows_read: int
    tables: dict[str, pl.DataFrame]
    rejects: pl.DataFrame  # line, column, reason, raw, outcome


REJECT_SCHEMA = {"line": pl.Int64, "column": pl.String, "reason": pl.String, "raw": pl.String, "outcome": pl.String}


def normalise_header(name: str) -> str:
    """Header names match ignoring case, spaces and underscores (feed rule)."""
    return re.sub(r"[\s_]+", "", name).lower()


def file_sha256(data: bytes) -> str:
    """The content fingerprint that makes a repeated file a no-op."""
    return hashlib.sha256(data).hexdigest()


# ---- reading ---------------------------------------------------------------------------------


def read_raw(path: Path, rules: FeedRules | None = None) -> RawFeed:
    """Read a CSV (UTF-8, UTF-16 or Latin-1, optionally gzipped) or XLSX file into text cells; lines that cannot
    be read (bad bytes, broken quoting, an overlong cell) are set aside as rejected rows, not the whole file."""
    rules = rules or FeedRules()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot open the file: {exc.strerror}") from None
    sha = file_sha256(data)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, rules.max_uncompressed_mb)
    if data[:4] == b"PK\x03\x04":
        rows, unsaved = _xlsx_rows(data)
        return _to_raw_feed(path.name, sha, rows, unsaved, pad=True)
    text, bad_lines = _decode(data)
    if "\x00" in text[:4096]:
        raise FeedError("this is not a CSV or XLSX file (it contains binary data)")
    unreadable = [
        _reject(
            line,
            f"line {line} holds bytes that are not UTF-8 text; save the file as UTF-8 "
            "(CSV UTF-8 in Excel) and send it again",
        )
        for line in bad_lines
    ]
    if '"' not in text and "," in text.split("\n", 1)[0] and not _too_long(text, rules.max_field_chars):
        return _plain_csv_feed(path.name, sha, text, unreadable)
    rows, broken = _csv_rows(text, rules.max_field_chars)
    return _to_raw_feed(path.name, sha, rows, unreadable + broken)


def _gunzip(data: bytes, cap_mb: int) -> bytes:
    """Unpack a gzip file in pieces, refusing one that unpacks to more than the cap (a 'gzip bomb')."""
    cap = cap_mb * 1024 * 1024
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while block := stream.read(1024 * 1024):
                out.write(block)
                if out.tell() > cap:
                    raise FeedError(f"the gzip file unpacks to more than {cap_mb:,} MB; split it into smaller files")
    except (OSError, EOFError) as exc:
        raise FeedError(f"the gzip file is damaged or incomplete: {exc}") from None
    return out.getvalue()


def _reject(line: int, reason: str, raw: str | None = None) -> dict:
    """One rejected row, in the shape the store keeps."""
    return {"line": line, "column": None, "reason": reason, "raw": raw, "outcome": "rejected"}


def _decode(data: bytes) -> tuple[str, list[int]]:
    """The text and the lines whose bytes cannot be read. UTF-8 (with or without BOM) and UTF-16 (with BOM)
    first; a file that is UTF-8 but for a few lines keeps its UTF-8 names and loses only those lines; a
    file with no UTF-8 at all is Windows-1252 or Latin-1, as GIAS extracts come."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise FeedError("the file says it is UTF-16 but is not; save it again as CSV UTF-8") from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    decoded, bad, utf8_elsewhere = [], [], False
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            decoded.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            utf8_elsewhere = utf8_elsewhere or not raw.isascii()
        except UnicodeDecodeError:
            decoded.append("")
            bad.append(number)
    if utf8_elsewhere:
        return "\n".join(decoded), bad  # real UTF-8 text elsewhere: only the bad lines are lost
    return (data.decode("cp1252") if _is_cp1252(data) else data.decode("latin-1")), []


def _too_long(text: str, limit: int) -> bool:
    """True when some line is longer than a cell may be (so the careful reader judges it)."""
    return any(len(line) > limit for line in text.splitlines())


def _is_cp1252(data: bytes) -> bool:
    """Windows-1252 is a superset of Latin-1 for the characters people type; check it decodes."""
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _header(cells: list[str]) -> list[str]:
    """Header names trimmed; empty cells after the last name (a trailing comma) are not columns."""
    header = [h.strip() for h in cells]
    while header and not header[-1]:
        header.pop()
    return header


def _plain_csv_feed(name: str, sha: str, text: str, unreadable: list[dict]) -> RawFeed:
    """A comma-separated file with no quoting: one row per line, split in polars (a day's 30,000 rows in
    milliseconds); anything quoted goes through the csv module instead."""
    lines = pl.DataFrame({"text": text.splitlines()}).with_row_index("_line", offset=1)
    lines = lines.with_columns(pl.col("_line").cast(pl.Int64), pl.col("text").str.strip_chars_end("\r"))
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    if lines.is_empty():
        raise FeedError("the file is empty")
    header = _header(lines["text"][0].split(","))
    width = len(header)
    body = lines.slice(1).with_columns(
        # Trailing empty fields beyond the header are harmless (a trailing comma); anything else is a bad row.
        _fields=pl.col("text").str.count_matches(",") + 1,
        _used=pl.col("text").str.replace(r",+$", "").str.count_matches(",") + 1,
    )
    fits = (pl.col("_fields") == width) | ((pl.col("_fields") > width) & (pl.col("_used") <= width))
    short = (
        body.filter(~fits)
        .select(
            "_line",
            pl.lit(None, dtype=pl.String).alias("column"),
            pl.format("the row has {} fields but the header has {}", pl.col("_fields"), pl.lit(width)).alias("reason"),
            pl.col("text").alias("raw"),
            pl.lit("rejected").alias("outcome"),
        )
        .rename({"_line": "line"})
    )
    short = pl.concat([short, pl.DataFrame(unreadable, schema=REJECT_SCHEMA)])
    good = body.filter(fits)
    names = header if len(set(header)) == width else [f"c{i}" for i in range(width)]
    frame = good.select(pl.col("text").str.split(",").list.to_struct(names).struct.unnest(), "_line")
    source = good.select("_line", "text")
    return RawFeed(
        name, sha, header, frame, short, lambda wanted: dict(source.filter(pl.col("_line").is_in(wanted)).iter_rows())
    )


MAX_RECORD_LINES = 20  # a quoted cell may hold line breaks, but no real feed's cell runs to 20 lines


def _csv_rows(text: str, max_chars: int) -> tuple[list[tuple[int, list[str]]], list[dict]]:
    """Rows of a CSV with the line each starts on, and the lines that cannot be read as a row.

    Strict parsing, one record at a time: a record with a stray or unclosed quote, or a cell longer than
    `max_chars`, loses that line only and reading resumes at the next line, so one bad cell can never
    swallow the rest of the file (Python's default reader silently does).
    """
    delimiter = _delimiter(text)
    lines = text.splitlines(keepends=True)
    rows: list[tuple[int, list[str]]] = []
    rejects: list[dict] = []
    width: int | None = None
    i = 0
    while i < len(lines):
        start, chunk = i, lines[i]
        i += 1
        if not chunk.strip():
            continue
        while chunk.count('"') % 2 and i < len(lines) and i - start < MAX_RECORD_LINES and len(chunk) <= max_chars:
            chunk += lines[i]
            i += 1
        cells, problem = _one_record(chunk, delimiter, max_chars)
        if problem is None and i - start > 1 and width is not None and len(cells) != width:
            problem = "a quote in this line is not closed, so the row runs into the next lines"
        if problem is not None:
            rejects.append(_reject(start + 1, problem, lines[start].rstrip("\r\n")[:1000]))
            i = start + 1  # judge the following lines on their own
            continue
        if width is None:
            width = len(_header(cells))
        rows.append((start + 1, cells))
    return rows, rejects


def _one_record(chunk: str, delimiter: str, max_chars: int) -> tuple[list[str], str | None]:
    """One record's cells, or why it cannot be read."""
    if '"' in chunk and chunk.count('"') % 2:
        return [], 'a quote (") in this line is not closed; remove it or close it'
    try:
        records = list(csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return [], f"the line cannot be read as CSV ({exc}); check its quotes"
    if len(records) != 1:
        return [], "the line cannot be read as one CSV row; check its quotes"
    cells = records[0]
    if any(len(cell) > max_chars for cell in cells):
        return [], f"a cell is longer than {max_chars:,} characters; no feed column holds that much"
    return cells, None


def _delimiter(text: str) -> str:
    """Comma, or the separator a spreadsheet set to another locale wrote."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _xlsx_cell(value: object) -> str:
    """An Excel cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes) -> tuple[list[tuple[int, list[str]]], list[dict]]:
    """The rows of the worksheet that holds a feed, from its header row on, with spreadsheet row numbers (a
    cover sheet or title rows above the header are passed over), and the rows holding a formula whose value
    was never saved: openpyxl reads those as empty, so they are rejected rather than loaded blank."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise FeedError(f"the XLSX file cannot be opened: {exc}") from None
    try:
        for index, sheet in enumerate(workbook.worksheets):
            rows = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_xlsx_cell(v) for v in values]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    rows.append((number, cells))
            start = next((i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]) if _is_header(cells)), None)
            if start is not None:
                unsaved = _unsaved_formulas(data, index, {n: c for n, c in rows[start + 1 :]}, rows[start][0])
                return (
                    [(n, c) for n, c in rows[start:] if n not in unsaved],
                    [
                        _reject(
                            n,
                            "a cell holds a formula with no saved value; open the file in Excel, save it and "
                            "send it again",
                            _join(c),
                        )
                        for n, c in rows[start + 1 :]
                        if n in unsaved
                    ],
                )
    finally:
        workbook.close()
    raise FeedError(
        "no sheet of this workbook has a recognisable header row; "
        f"expected {'; '.join(f'{k}: {HEADER_HELP[k]}' for k in KINDS)}"
    )


def _unsaved_formulas(data: bytes, sheet_index: int, values: dict[int, list[str]], header_row: int) -> set[int]:
    """Row numbers below the header where a cell is a formula and the value read for it is empty."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        found = set()
        sheet = workbook.worksheets[sheet_index]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number <= header_row:
                continue
            read = values.get(number, [])
            for i, cell in enumerate(cells):
                if isinstance(cell, str) and cell.startswith("=") and (i >= len(read) or read[i] == ""):
                    found.add(number)
                    break
        return found
    finally:
        workbook.close()


HEADER_SEARCH_ROWS = 20  # title rows a spreadsheet may carry above its header


def _is_header(cells: list[str]) -> bool:
    """A row that names every required column of some feed kind."""
    header = _header(cells)
    return any(all(c in map_columns(header, k) for c in REQUIRED[k]) for k in KINDS)


def _to_raw_feed(
    name: str, sha: str, rows: list[tuple[int, list[str]]], unreadable: list[dict], pad: bool = False
) -> RawFeed:
    """Split header and body; rows with the wrong number of fields are set aside, not guessed at. A
    spreadsheet leaves blank trailing cells out of a row (`pad`): those rows are filled out, not lost."""
    if not rows:
        raise FeedError("the file is empty")
    header = _header(rows[0][1])
    width = len(header)
    good_lines, good_cells, short = [], [], list(unreadable)
    for line, cells in rows[1:]:
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        if pad and len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        if len(cells) != width:
            short.append(_reject(line, f"the row has {len(cells)} fields but the header has {width}", _join(cells)))
            continue
        good_lines.append(line)
        good_cells.append(cells)
    columns = {f"c{i}": [r[i] for r in good_cells] for i in range(width)}
    frame = pl.DataFrame(
        {**columns, "_line": good_lines},
        schema={**{f"c{i}": pl.String for i in range(width)}, "_line": pl.Int64},
    )
    frame = (
        frame.rename({f"c{i}": h for i, h in enumerate(header)}, strict=False) if len(set(header)) == width else frame
    )
    by_line = dict(zip(good_lines, good_cells, strict=True))
    return RawFeed(
        name,
        sha,
        header,
        frame,
        pl.DataFrame(short, schema=REJECT_SCHEMA),
        lambda wanted: {line: _join(by_line[line]) for line in wanted if line in by_line},
    )


def _join(cells: list[str]) -> str:
    """The row as CSV text, to keep beside its rejection."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


# ---- recognising ---------------------------------------------------------------------------


def map_columns(header: list[str], kind: str) -> dict[str, str]:
    """Canonical column -> header cell, for the columns of `kind` that the header has."""
    normalised = {normalise_header(h): h for h in header}
    found = {}
    for column, spellings in COLUMNS[kind].items():
        for spelling in spellings:
            if spelling in normalised:
                found[column] = normalised[spelling]
                break
    return found


def _missing_columns(header: list[str]) -> None:
    """A header with most of one kind's required columns is that kind's file with a column missing: name it."""
    missing = {k: [c for c in REQUIRED[k] if c not in map_columns(header, k)] for k in KINDS}
    near = {k: m for k, m in missing.items() if len(m) < len(REQUIRED[k]) - 1}  # at least two of its columns
    if not near:
        return
    fewest = min(len(m) for m in near.values())
    best = [k for k, m in near.items() if len(m) == fewest]
    if len(best) == 1:
        kind, absent = best[0], [HEADINGS[c] for c in near[best[0]]]
        columns = f"the {absent[0]} column is" if len(absent) == 1 else f"the {', '.join(absent)} columns are"
        raise FeedError(
            f"this looks like {KIND_WORDS[kind]}, but {columns} missing (found {', '.join(header[:8])}); "
            f"it needs {HEADER_HELP[kind]}"
        )


def detect_kind(header: list[str]) -> str:
    """Which feed a header belongs to; a clear error when none or several fit."""
    fits = [k for k in KINDS if all(c in map_columns(header, k) for c in REQUIRED[k])]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        _missing_columns(header)
        expected = "; ".join(f"{k}: {HEADER_HELP[k]}" for k in KINDS)
        raise FeedError(f"no recognisable header (found {', '.join(header[:8])}); expected {expected}")
    raise FeedError(f"the header fits several feed kinds ({', '.join(fits)}); name one with --kind")


def parse(path: Path, cfg: Config, kind: str | None = None, today: date | None = None) -> ParsedFeed:
    """Read and validate one feed file; raises FeedError only when nothing in it can be used. `today` is the
    date plausibility is judged against (a mark cannot be dated after it)."""
    raw = read_raw(path, cfg.feeds)
    if len(set(raw.header)) != len(raw.header):
        dupes = sorted({h for h in raw.header if raw.header.count(h) > 1})
        raise FeedError(f"the header repeats column(s) {', '.join(dupes)}")
    if kind is None:
        kind = detect_kind(raw.header)
    elif kind not in KINDS:
        raise FeedError(f"unknown feed kind {kind!r}; use one of {', '.join(KINDS)}")
    mapping = map_columns(raw.header, kind)
    missing = [c for c in REQUIRED[kind] if c not in mapping]
    if missing:
        raise FeedError(f"the {kind} header lacks column(s) {', '.join(missing)}; expected {HEADER_HELP[kind]}")
    cells = raw.frame.select(
        *[pl.col(h).str.strip_chars().alias(c) for c, h in mapping.items()],
        *[pl.lit(None, dtype=pl.String).alias(c) for c in COLUMNS[kind] if c not in mapping],
        "_line",
    ).with_columns(pl.all().exclude("_line").replace("", None))
    too_long = _apply_checks(cells, [_length_check(c, LABELS.get(c, c)) for c in mapping if c in MAX_LENGTH])
    tables, rejects = VALIDATORS[kind](_split(cells, too_long), Rules(cfg, today or date.today()))
    rejects = pl.concat([too_long, rejects])
    # Name the column as the file's own header does, so the data manager recognises it.
    quoted = raw.quote(rejects["line"].unique().to_list())
    rejects = rejects.with_columns(
        pl.col("column").replace(mapping),
        raw=pl.col("line").replace_strict(quoted, default=None, return_dtype=pl.String),
    )
    rejects = pl.concat([raw.short_rows, rejects]).sort("line", "column", nulls_last=False)
    return ParsedFeed(raw.file, kind, raw.sha256, raw.frame.height + raw.short_rows.height, tables, rejects)


# ---- validating ----------------------------------------------------------------------------
# Each check is (column, expression giving the reason text, or null when the cell is fine).

Check = tuple[str, pl.Expr]

# Column names as a data manager reads them in a reason.
LABELS = {
    "la_child_id": "LA Child ID",
    "upn": "UPN",
    "urn": "URN",
    "am": "AM",
    "pm": "PM",
    "cohort": "Cohort",
    "first_name": "First Name",
    "last_name": "Last Name",
    "social_worker": "Social Worker",
    "team": "Team",
    "locality": "Locality",
    "year_group": "Year Group",
    "gender": "Gender",
    "la_code": "LA (code)",
    "la_name": "LA (name)",
    "name": "EstablishmentName",
    "phase": "PhaseOfEducation",
    "postcode": "Postcode",
    "responsible_la": "Responsible LA",
    "category": "Category",
    "reason": "Reason",
    "reason_2": "Reason 2",
    "reason_3": "Reason 3",
    "ehcp": "EHCP",
}

OLDEST_DOB_YEARS = 25  # a child on a virtual school's list is under 25 (care leavers' support ends at 25)


@dataclass(frozen=True)
class Rules:
    """What the validators judge a row against: the configuration and the day it is."""

    cfg: Config
    today: date

    @property
    def earliest(self) -> date:
        """The first day of the academic year `earliest_academic_years` before this one."""
        start = self.cfg.year_start(self.today)
        return start.replace(year=start.year - self.cfg.feeds.earliest_academic_years)


def _length_check(column: str, label: str) -> Check:
    """Reject a value longer than the store keeps (the store's columns are built from the same table)."""
    limit = MAX_LENGTH[column]
    return column, pl.when(pl.col(column).str.len_chars() > limit).then(
        pl.format(
            "{} has {} characters; at most {} are kept", pl.lit(label), pl.col(column).str.len_chars(), pl.lit(limit)
        )
    )


# Dates are YYYY-MM-DD or DD/MM/YYYY (feed rule), with a four-digit year: '17/09/25' is not the year 25.
DATE_SHAPE = r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})$"


def parse_date(column: str) -> pl.Expr:
    """Dates as YYYY-MM-DD or DD/MM/YYYY (feed rule); anything else is null."""
    text = pl.col(column)
    day = pl.coalesce(text.str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%d/%m/%Y", strict=False))
    return pl.when(text.str.contains(DATE_SHAPE)).then(day)


def _required(column: str, label: str) -> Check:
    """Reject a row whose required cell is empty."""
    return column, pl.when(pl.col(column).is_null()).then(pl.lit(f"{label} is empty"))


def _date_check(column: str, label: str) -> Check:
    """Reject a cell that is not a date in either accepted form; a two-digit year is named as such."""
    two_digit_year = pl.col(column).str.contains(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}$")
    return column, (
        pl.when(pl.col(column).is_not_null() & two_digit_year)
        .then(
            pl.format(
                "{} '{}' has a two-digit year; write the year in full (DD/MM/YYYY)", pl.lit(label), pl.col(column)
            )
        )
        .when(pl.col(column).is_not_null() & parse_date(column).is_null())
        .then(pl.format("{} '{}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)", pl.lit(label), pl.col(column)))
    )


def _between_check(column: str, label: str, first: date, last: date, why: str) -> Check:
    """Reject a date that cannot be true: after `last` or before `first` (`why` says what the bounds are)."""
    day = parse_date(column)
    return column, (
        pl.when(day > last)
        .then(
            pl.format(
                "{} {} is after {}; {}",
                pl.lit(label),
                day.dt.strftime("%d/%m/%Y"),
                pl.lit(f"{last:%d/%m/%Y}"),
                pl.lit(why),
            )
        )
        .when(day < first)
        .then(
            pl.format(
                "{} {} is before {}; {}",
                pl.lit(label),
                day.dt.strftime("%d/%m/%Y"),
                pl.lit(f"{first:%d/%m/%Y}"),
                pl.lit(why),
            )
        )
    )


def _school_day_check(rules: Rules) -> Check:
    """Reject a mark on a weekend, or on a configured closure day with a code that counts as a session."""
    day = parse_date("date")
    possible = set(rules.cfg.code_category) - set(rules.cfg.codes_in("not_possible"))
    counts = pl.col("am").is_in(sorted(possible)) | pl.col("pm").is_in(sorted(possible))
    closures = [d.isoformat() for d in rules.cfg.feeds.closure_dates]
    return "date", (
        pl.when(day.dt.weekday() >= 6)
        .then(pl.format("Date {} is a {}, not a school day", day.dt.strftime("%d/%m/%Y"), day.dt.strftime("%A")))
        .when(day.dt.strftime("%Y-%m-%d").is_in(closures) & counts)
        .then(
            pl.format(
                "Date {} is a closure day in the configuration, but the row records a session",
                day.dt.strftime("%d/%m/%Y"),
            )
        )
    )


def _pattern_check(column: str, pattern: str, message: str) -> Check:
    """Reject a cell that does not have the expected shape; `message` may hold {} for the value."""
    return column, pl.when(pl.col(column).is_not_null() & ~pl.col(column).str.contains(f"^(?:{pattern})$")).then(
        pl.format(message, pl.col(column))
    )


_UPNS_CHECKED: set[str] = set()  # every UPN checked in this process: the same pupils recur daily
_UPN_PROBLEMS: dict[str, str] = {}  # the invalid ones, with why


def _upn_check(frame: pl.DataFrame, column: str = "upn") -> Check:
    """UPN format and check letter, worked out once per distinct UPN per process."""
    values = frame[column].drop_nulls().unique()
    new = values.filter(~values.is_in(pl.Series(list(_UPNS_CHECKED), dtype=pl.String).implode())).to_list()
    for value in new:
        if problem := upn_problem(value):
            _UPN_PROBLEMS[value] = problem
    _UPNS_CHECKED.update(new)
    problems = {
        v: _UPN_PROBLEMS[v]
        for v in values.filter(values.is_in(pl.Series(list(_UPN_PROBLEMS), dtype=pl.String).implode())).to_list()
    }
    return column, pl.col(column).replace_strict(problems, default=None, return_dtype=pl.String)


def _urn_check() -> Check:
    """A school's URN: six ASCII digits (GIAS)."""
    return _pattern_check("urn", URN_PATTERN, "URN '{}' is not a 6-digit school reference number")


# NC year groups as social care writes them: nursery (N1, N2), reception (R) and years 0 to 14.
YEAR_GROUP = r"R|N1|N2|[0-9]|1[0-4]"


def _year_group() -> pl.Expr:
    """'Year 7', 'Y7' and 'Reception' in the form the filter lists: '7', 'R'."""
    text = pl.col("year_group").str.to_uppercase().str.replace(r"^(?:YEAR|YR|Y)\s*", "")
    return pl.when(text == "RECEPTION").then(pl.lit("R")).otherwise(text).alias("year_group")


def _in_set_check(column: str, allowed: set[str], label: str, hint: str) -> Check:
    """Reject a value that the configuration does not list."""
    return column, pl.when(pl.col(column).is_not_null() & ~pl.col(column).is_in(sorted(allowed))).then(
        pl.format("{} '{}' {}", pl.lit(label), pl.col(column), pl.lit(hint))
    )


def _apply_checks(frame: pl.DataFrame, checks: list[Check], outcome: str = "rejected") -> pl.DataFrame:
    """Evaluate the checks; one reject row per failed check, with its line and column (the text comes later)."""
    if frame.is_empty() or not checks:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    reasons = frame.select("_line", *[expr.alias(f"_check{i}") for i, (_, expr) in enumerate(checks)])
    parts = []
    for i, (column, _) in enumerate(checks):
        failed = reasons.filter(pl.col(f"_check{i}").is_not_null())
        if failed.height:
            parts.append(
                failed.select(
                    pl.col("_line").alias("line"),
                    pl.lit(column).alias("column"),
                    pl.col(f"_check{i}").alias("reason"),
                    pl.lit(None, dtype=pl.String).alias("raw"),
                    pl.lit(outcome).alias("outcome"),
                )
            )
    return pl.concat(parts) if parts else pl.DataFrame(schema=REJECT_SCHEMA)


def _split(frame: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    """The rows that no check rejected."""
    bad = rejects.filter(pl.col("outcome") == "rejected")["line"].unique()
    return frame.filter(~pl.col("_line").is_in(bad.implode()))


def _keep_last(frame: pl.DataFrame, key: list[str], what: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Within one file a repeated key keeps its last row; the earlier rows are rejected, naming it."""
    last = pl.col("_line").max().over(key)
    earlier = frame.with_columns(last.alias("_last")).filter(pl.col("_line") != pl.col("_last"))
    rejects = earlier.select(
        pl.col("_line").alias("line"),
        pl.lit(None, dtype=pl.String).alias("column"),
        pl.format("the same {} appears again at line {}; the later row was kept", pl.lit(what), pl.col("_last")).alias(
            "reason"
        ),
        pl.lit(None, dtype=pl.String).alias("raw"),
        pl.lit("rejected").alias("outcome"),
    )
    return frame.filter(pl.col("_line") == last), rejects


def _codes_upper(*columns: str) -> list[pl.Expr]:
    """Codes compare in upper case (a lower-case 'l' is Late)."""
    return [pl.col(c).str.to_uppercase() for c in columns]


def validate_attendance(cells: pl.DataFrame, rules: Rules) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Attendance: one row per child, school and day with AM and PM codes, on a school day that can be true."""
    cfg = rules.cfg
    cells = cells.with_columns(*_codes_upper("upn", "am", "pm"))
    codes = set(cfg.code_category)
    hint = "is not an attendance code in the configuration"
    checks = [
        _required("upn", "UPN"),
        _upn_check(cells),
        _required("urn", "URN"),
        _urn_check(),
        _required("date", "Date"),
        _date_check("date", "Date"),
        _between_check(
            "date",
            "Date",
            rules.earliest,
            rules.today,
            f"attendance is taken from {cfg.feeds.earliest_academic_years} academic years ago up to today",
        ),
        _school_day_check(rules),
        _in_set_check("am", codes, "AM code", hint),
        _in_set_check("pm", codes, "PM code", hint),
        ("am", pl.when(pl.col("am").is_null() & pl.col("pm").is_null()).then(pl.lit("both AM and PM are empty"))),
    ]
    rejects = _apply_checks(cells, checks)
    good = _split(cells, rejects).with_columns(pl.col("urn").cast(pl.Int64), parse_date("date").alias("date"))
    good, repeats = _keep_last(good, ["upn", "date", "urn"], "child, school and date")
    rows = good.select("upn", "date", "urn", "am", "pm", "la_child_id")
    return {"attendance": rows}, pl.concat([rejects, repeats])


def _bool_value(column: str) -> pl.Expr:
    """Yes/No style cells as booleans (null when not one of the accepted words)."""
    upper = pl.col(column).str.to_uppercase()
    return pl.when(upper.is_in(sorted(TRUE_WORDS))).then(True).when(upper.is_in(sorted(FALSE_WORDS))).then(False)


def validate_children(cells: pl.DataFrame, rules: Rules) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Social-care list: one row per cohort episode; the child and allocation come from the latest episode."""
    cfg = rules.cfg
    cells = cells.with_columns(*_codes_upper("upn", "cohort"), _year_group())
    checks = [
        _required("la_child_id", "LA Child ID"),
        _required("cohort", "Cohort"),
        _in_set_check("cohort", set(cfg.cohorts), "Cohort", f"is not one of {', '.join(cfg.cohorts)}"),
        _required("start_date", "Start Date"),
        _date_check("start_date", "Start Date"),
        _date_check("end_date", "End Date"),
        (
            "end_date",
            pl.when(parse_date("end_date") < parse_date("start_date")).then(
                pl.format("End Date {} is before Start Date {}", pl.col("end_date"), pl.col("start_date"))
            ),
        ),
    ]
    rejects = _apply_checks(cells, checks)
    # A bad UPN, date of birth, EHCP or LA number loses the value, not the child: the row still loads.
    soft = [
        _upn_check(cells),
        _date_check("dob", "DOB"),
        _between_check(
            "dob",
            "DOB",
            rules.today.replace(year=rules.today.year - OLDEST_DOB_YEARS),
            rules.today,
            f"a child on the list is born in the last {OLDEST_DOB_YEARS} years",
        ),
        _pattern_check("year_group", YEAR_GROUP, "Year Group '{}' is not R, N1, N2 or a year from 0 to 14"),
        (
            "ehcp",
            pl.when(pl.col("ehcp").is_not_null() & _bool_value("ehcp").is_null()).then(
                pl.format("EHCP '{}' is not Yes/No", pl.col("ehcp"))
            ),
        ),
        _pattern_check("responsible_la", LA_PATTERN, "Responsible LA '{}' is not a 3-digit LA number"),
    ]
    dropped = _apply_checks(_split(cells, rejects), soft, outcome="value dropped")
    good = _split(cells, rejects)
    for column in dropped["column"].unique().to_list():
        bad_lines = dropped.filter(pl.col("column") == column)["line"].implode()
        good = good.with_columns(
            pl.when(pl.col("_line").is_in(bad_lines)).then(None).otherwise(pl.col(column)).alias(column)
        )
    good = good.with_columns(
        parse_date("start_date").alias("start_date"),
        parse_date("end_date").alias("end_date"),
        parse_date("dob").alias("dob"),
        _bool_value("ehcp").alias("ehcp"),
        pl.col("responsible_la").fill_null(cfg.la_code),
    )
    good, repeats = _keep_last(good, ["la_child_id", "cohort", "start_date"], "child, cohort and start date")
    latest = good.sort("start_date", "_line").unique("la_child_id", keep="last", maintain_order=True)
    tables = {
        "children": latest.select(
            "la_child_id",
            "upn",
            "first_name",
            "last_name",
            "dob",
            "gender",
            "ehcp",
            "responsible_la",
            "year_group",
            "_line",
        ),  # the line: for identity conflicts
        "allocations": latest.select("la_child_id", "social_worker", "team", "locality"),
        "cohort_episodes": good.select("la_child_id", "cohort", "start_date", "end_date"),
    }
    return tables, pl.concat([rejects, dropped, repeats])


def validate_suspensions(cells: pl.DataFrame, rules: Rules) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Suspensions and permanent exclusions; sessions may be empty only for a permanent exclusion."""
    cfg = rules.cfg
    cells = cells.with_columns(*_codes_upper("upn", "category", "reason", "reason_2", "reason_3"))
    category = pl.col("category").replace_strict(cfg.suspension_category, default=None, return_dtype=pl.String)
    reasons = set(cfg.suspension_reasons)
    checks = [
        _required("upn", "UPN"),
        _upn_check(cells),
        _required("urn", "URN"),
        _urn_check(),
        _required("start_date", "Start Date"),
        _date_check("start_date", "Start Date"),
        _date_check("end_date", "End Date"),
        _between_check(
            "start_date",
            "Start Date",
            rules.earliest,
            rules.today + timedelta(days=cfg.feeds.suspension_future_days),
            f"a suspension is recorded at most {cfg.feeds.suspension_future_days} days ahead",
        ),
        (
            "end_date",
            pl.when(parse_date("end_date") < parse_date("start_date")).then(
                pl.format("End Date {} is before Start Date {}", pl.col("end_date"), pl.col("start_date"))
            ),
        ),
        _required("category", "Category"),
        (
            "category",
            pl.when(pl.col("category").is_not_null() & category.is_null()).then(
                pl.format("Category '{}' is not suspension or permanent_exclusion (or FIXD / PERM)", pl.col("category"))
            ),
        ),
        _pattern_check("sessions", r"[0-9]{1,3}", "Sessions '{}' is not a whole number of half-day sessions"),
        (
            "sessions",
            pl.when(pl.col("sessions").is_null() & (category == "suspension")).then(
                pl.lit("Sessions is empty; a suspension needs its number of sessions")
            ),
        ),
        (
            "sessions",
            pl.when(
                pl.col("sessions").str.contains(r"^[0-9]+$") & (pl.col("sessions").cast(pl.Int64, strict=False) == 0)
            ).then(pl.lit("Sessions is 0; a suspension lasts at least one session")),
        ),
        *[
            _in_set_check(c, reasons, "Reason", "is not a reason code in the configuration")
            for c in ("reason", "reason_2", "reason_3")
        ],
    ]
    rejects = _apply_checks(cells, checks)
    good = _split(cells, rejects).with_columns(
        pl.col("urn").cast(pl.Int64),
        category.alias("category"),
        pl.col("sessions").cast(pl.Int64),
        parse_date("start_date").alias("start_date"),
        parse_date("end_date").alias("end_date"),
    )
    good, repeats = _keep_last(good, ["upn", "urn", "start_date", "category"], "child, school, start date and category")
    rows = good.select("upn", "urn", "start_date", "category", "end_date", "sessions", "reason", "reason_2", "reason_3")
    return {"suspensions": rows}, pl.concat([rejects, repeats])


def validate_schools(cells: pl.DataFrame, rules: Rules) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """A GIAS-shaped extract; Easting/Northing become latitude/longitude when those are not given."""
    number = r"-?[0-9]+(?:\.[0-9]+)?"
    checks = [
        _required("urn", "URN"),
        _urn_check(),
        _required("name", "EstablishmentName"),
        _required("la_code", "LA (code)"),
        _pattern_check("la_code", LA_PATTERN, "LA (code) '{}' is not a 3-digit LA number"),
    ]
    rejects = _apply_checks(cells, checks)
    soft = [
        _pattern_check(c, number, f"{c.title()} '{{}}' is not a number")
        for c in ("easting", "northing", "latitude", "longitude")
    ]
    good = _split(cells, rejects)
    dropped = _apply_checks(good, soft, outcome="value dropped")
    good = good.with_columns(
        pl.col("urn").cast(pl.Int64),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in ("easting", "northing", "latitude", "longitude")],
    )
    good, repeats = _keep_last(good, ["urn"], "URN")
    lat, lon = bng_to_latlon(good["easting"], good["northing"])
    good = good.with_columns(
        pl.coalesce(pl.col("latitude"), lat).alias("latitude"),
        pl.coalesce(pl.col("longitude"), lon).alias("longitude"),
    )
    rows = good.select(
        "urn",
        "name",
        "la_code",
        "la_name",
        "phase",
        "postcode",
        "easting",
        "northing",
        "latitude",
        "longitude",
        "locality",
    )
    return {"schools": rows}, pl.concat([rejects, dropped, repeats])


VALIDATORS: dict[str, Callable[[pl.DataFrame, Rules], tuple[dict[str, pl.DataFrame], pl.DataFrame]]] = {
    "attendance": validate_attendance,
    "children": validate_children,
    "suspensions": validate_suspensions,
    "schools": validate_schools,
}
