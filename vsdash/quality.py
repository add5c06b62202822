"""Data quality: which schools are sending, how well the social-care list matches the attendance, and the
exceptions report a data manager sends back to social care for correction.

Pure functions over frames the store reads (the attendance as sent, per UPN, carries the LA Child ID some
schools send beside the UPN: the metrics' frames do not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import polars as pl

from vsdash import export, identity, metrics
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.feeds import normalise_header
from vsdash.frames import Frames, as_date

if TYPE_CHECKING:
    from vsdash.views import Figures

# ---- freshness by school ------------------------------------------------------------------------

SENDING, SILENT, NEVER_SENT = "sending", "silent", "never sent"


def school_freshness(
    frames: Frames,
    sending: pl.DataFrame,
    cfg: Config,
    per_child: Callable[[metrics.Window], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """One row per school: last mark received, school days silent by the authority calendar, and status.

    `sending` is what each school sent (`Store.school_sending`); `per_child` gives a window's per-child
    figures when they are kept (the dashboard's, `views.Figures`), else they are worked out here. The
    calendar is the dates on which any school sent any mark (as metrics.school_days); a school silent for
    `thresholds.silent_school_days` of them or more is flagged. The children list names no expected school,
    so "never sent" means a listed school with no marks at all.
    """
    calendar = weeks_mod.calendar(weeks_mod.of(frames, cfg))
    last_day = as_date(calendar[-1]) if len(calendar) else None
    days = calendar.to_frame("day")
    silent_days = (
        sending.join(days, how="cross")
        .filter(pl.col("day") > pl.col("last_mark"))
        .group_by("urn")
        .agg(school_days_silent=pl.len())
    )
    listed = _listed_children_by_school(frames, cfg, last_day, per_child)
    schools = frames.schools.select("urn", "name", "la_code", "la_name", "phase", "locality")
    out = (
        schools.join(sending, on="urn", how="full", coalesce=True)
        .join(silent_days, on="urn", how="left")
        .join(listed, on="urn", how="left")
        .with_columns(
            pl.when(pl.col("last_mark").is_not_null())
            .then(pl.col("school_days_silent").fill_null(0))
            .cast(pl.Int64)
            .alias("school_days_silent"),
            pl.col("days_sent", "pupils", "listed_children").fill_null(0).cast(pl.Int64),
            (pl.col("la_code") != cfg.la_code).alias("out_of_area"),
        )
    )
    threshold = cfg.thresholds.silent_school_days
    status = (
        pl.when(pl.col("last_mark").is_null())
        .then(pl.lit(NEVER_SENT))
        .when(pl.col("school_days_silent") >= threshold)
        .then(pl.lit(SILENT))
        .otherwise(pl.lit(SENDING))
    )
    order = pl.col("status").replace_strict({NEVER_SENT: 0, SILENT: 1, SENDING: 2}, return_dtype=pl.Int64)
    return (
        out.with_columns(status.alias("status"))
        .sort(order, pl.col("school_days_silent"), "urn", descending=[False, True, False])
        .select(
            "urn",
            "name",
            "status",
            "last_mark",
            "school_days_silent",
            "first_mark",
            "days_sent",
            "pupils",
            "listed_children",
            "la_code",
            "la_name",
            "out_of_area",
            "phase",
            "locality",
        )
    )


def _listed_children_by_school(
    frames: Frames, cfg: Config, last_day: date | None, per_child: Callable[[metrics.Window], pl.DataFrame] | None
) -> pl.DataFrame:
    """Listed children per current school (their latest mark that is not D), as the metrics define it."""
    if last_day is None:
        return pl.DataFrame(schema={"urn": pl.Int64, "listed_children": pl.UInt32})
    window = metrics.window_for(cfg, last_day)
    children = per_child(window) if per_child is not None else metrics.per_child(frames, window, cfg)
    return (
        children.filter(pl.col("school_urn").is_not_null())
        .group_by(pl.col("school_urn").alias("urn"))
        .agg(listed_children=pl.len())
    )


# ---- matching the list to the attendance -----------------------------------------------------------

MATCHED_UPN, CONFIRMED, SUGGESTED, NO_DATA = (
    "matched by UPN",
    "confirmed match",
    "suggested match",
    "no attendance found",
)
BY_CHILD_ID, BY_NAME_DOB = "LA Child ID sent with the attendance", "name and date of birth"


@dataclass(frozen=True)
class Matching:
    """How the social-care list meets the attendance: one row per listed child, the suggestions, the unknowns."""

    children: pl.DataFrame  # la_child_id, upn, names, dob, status, attendance_upn, schools, rows, last_date
    suggestions: pl.DataFrame  # a listed child and an attendance UPN a person should confirm
    unknown_pupils: pl.DataFrame  # attendance UPNs that are no listed child's

    def counts(self) -> dict[str, int]:
        """Children per status, and the unknown pupils."""
        by_status = dict(self.children.group_by("status").len().iter_rows())
        out = {s: int(by_status.get(s, 0)) for s in (MATCHED_UPN, CONFIRMED, SUGGESTED, NO_DATA)}
        return {"listed": self.children.height, **out, "unknown_pupils": self.unknown_pupils.height}

    def match_rate(self) -> float | None:
        """Listed children whose attendance is found (by UPN or a confirmed match), as a percentage."""
        n = self.counts()
        return 100 * (n[MATCHED_UPN] + n[CONFIRMED]) / n["listed"] if n["listed"] else None


def _per_upn(sent: pl.DataFrame) -> pl.DataFrame:
    """What each attendance UPN brought: schools, rows and dates, and any LA Child IDs carried."""
    return (
        sent.group_by("upn")
        .agg(
            schools=pl.col("urn").unique().sort(),
            rows=pl.col("rows").sum(),
            first_date=pl.col("first_date").min(),
            last_date=pl.col("last_date").max(),
            carried_ids=pl.col("la_child_id").drop_nulls().unique().sort(),
        )
        .with_columns(pl.col("schools").cast(pl.List(pl.String)).list.join(", "))
    )


def match_children(children: pl.DataFrame, sent: pl.DataFrame, aliases: pl.DataFrame) -> Matching:
    """Match by UPN, then by a confirmed alias, then suggest by LA Child ID (and by name + DOB when sent).

    Suggestions are for a person to confirm: an LA Child ID typed into a school system can be wrong too.
    """
    per_upn = _per_upn(sent)
    listed_upns = children["upn"].drop_nulls().implode()
    confirmed = aliases.select("alias_upn", "la_child_id")
    outside = per_upn.filter(~pl.col("upn").is_in(listed_upns) & ~pl.col("upn").is_in(confirmed["alias_upn"].implode()))
    people = children.select("la_child_id", pl.col("upn").alias("list_upn"), "first_name", "last_name", "dob")
    by_id = (
        outside.explode("carried_ids")
        .rename({"carried_ids": "la_child_id"})
        .join(people, on="la_child_id", how="inner")
        .with_columns(rule=pl.lit(BY_CHILD_ID))
    )
    suggestions = pl.concat([by_id, _by_name_dob(outside, sent, people, by_id)], how="diagonal_relaxed")
    suggestions = suggestions.select(
        "la_child_id",
        "first_name",
        "last_name",
        "dob",
        "list_upn",
        pl.col("upn").alias("attendance_upn"),
        "rule",
        "schools",
        "rows",
        "first_date",
        "last_date",
    ).sort("last_name", "first_name", "la_child_id")
    unknown = (
        outside.join(suggestions.select(pl.col("attendance_upn").alias("upn")), on="upn", how="anti")
        .select(
            "upn",
            "schools",
            "rows",
            "first_date",
            "last_date",
            pl.col("carried_ids").list.join(", ").replace("", None).alias("la_child_id_sent"),
        )
        .sort("upn")
    )
    return Matching(_child_status(children, per_upn, confirmed, suggestions), suggestions, unknown)


def _by_name_dob(outside: pl.DataFrame, sent: pl.DataFrame, people: pl.DataFrame, by_id: pl.DataFrame) -> pl.DataFrame:
    """Suggestions by first name, last name and date of birth, when the attendance carries them (few feeds do)."""
    if not {"first_name", "last_name", "dob"} <= set(sent.columns):
        return pl.DataFrame()
    key: list[pl.Expr | str] = [
        pl.col("first_name").str.to_lowercase().alias("_first"),
        pl.col("last_name").str.to_lowercase().alias("_last"),
        "dob",
    ]
    sent_people = sent.select("upn", *key).drop_nulls().unique()
    left = outside.join(by_id.select("upn"), on="upn", how="anti").join(sent_people, on="upn")
    return (
        left.join(people.with_columns(key[:2]), on=["_first", "_last", "dob"])
        .drop("_first", "_last")
        .with_columns(rule=pl.lit(BY_NAME_DOB))
    )


def _child_status(
    children: pl.DataFrame, per_upn: pl.DataFrame, confirmed: pl.DataFrame, suggestions: pl.DataFrame
) -> pl.DataFrame:
    """Each listed child's status, and the attendance UPN it rests on."""
    found = per_upn.select("upn", "schools", "rows", "last_date")
    direct = children.join(found, on="upn", how="inner").with_columns(
        attendance_upn=pl.col("upn"), status=pl.lit(MATCHED_UPN)
    )
    rest = children.join(direct.select("la_child_id"), on="la_child_id", how="anti")
    aliased = (
        rest.join(confirmed, on="la_child_id")
        .join(found, left_on="alias_upn", right_on="upn")
        .rename({"alias_upn": "attendance_upn"})
        .unique("la_child_id", keep="first")
        .with_columns(status=pl.lit(CONFIRMED))
    )
    rest = rest.join(aliased.select("la_child_id"), on="la_child_id", how="anti")
    suggested = (
        rest.join(suggestions.select("la_child_id", "attendance_upn", "schools", "rows", "last_date"), on="la_child_id")
        .unique("la_child_id", keep="first")
        .with_columns(status=pl.lit(SUGGESTED))
    )
    rest = rest.join(suggested.select("la_child_id"), on="la_child_id", how="anti").with_columns(status=pl.lit(NO_DATA))
    columns = [
        "la_child_id",
        "upn",
        "first_name",
        "last_name",
        "dob",
        "status",
        "attendance_upn",
        "schools",
        "rows",
        "last_date",
    ]
    return pl.concat([direct, aliased, suggested, rest], how="diagonal_relaxed").select(columns).sort("la_child_id")


# ---- rejected rows in plain words ---------------------------------------------------------------------

# First matching pattern names the problem; the full reason stays beside it.
PROBLEMS: list[tuple[str, str]] = [
    (rf"^{identity.CONFLICT}", "Identity conflict"),
    (r"^UPN .*(characters|check letter|is not a letter)", "UPN format error"),
    (r"is not an attendance code", "Unknown attendance code"),
    (r"is not a date", "Date not understood"),
    (r"is empty", "Required value missing"),
    (r"appears again", "Repeated row (the later one was kept)"),
    (r"fields but the header has", "Wrong number of fields"),
    (r"is not a 6-digit school reference number", "School URN malformed"),
    (r"is not a 3-digit LA number", "LA number malformed"),
    (r"is not one of|is not a reason code|is not suspension", "Value not in the configured list"),
    (r"is before Start Date", "Dates out of order"),
    (r"is after|is before|two-digit year|not a school day|closure day", "Date not plausible"),
    (r"not UTF-8|quote|cannot be read as|longer than", "Row could not be read"),
    (r"characters; at most", "Value too long"),
]


def problem_kind(reason: pl.Expr) -> pl.Expr:
    """A short name for a rejection reason, so rows can be filtered and counted by kind of problem."""
    out = pl.lit("Other")
    for pattern, label in reversed(PROBLEMS):
        out = pl.when(reason.str.contains(pattern)).then(pl.lit(label)).otherwise(out)
    return out


def explain_rejects(rejected: pl.DataFrame, load_log: pl.DataFrame) -> pl.DataFrame:
    """Rejected rows with the feed kind and the kind of problem, for filtering and the exceptions report."""
    if rejected.is_empty():
        return pl.DataFrame(
            schema={
                "file": pl.String,
                "kind": pl.String,
                "line": pl.Int64,
                "column": pl.String,
                "problem": pl.String,
                "reason": pl.String,
                "outcome": pl.String,
                "raw": pl.String,
            }
        )
    kinds = load_log.select(pl.col("id").cast(pl.Int64).alias("load_id"), "kind")
    return (
        rejected.with_columns(pl.col("load_id").cast(pl.Int64))
        .join(kinds, on="load_id", how="left")
        .with_columns(problem_kind(pl.col("reason")).alias("problem"))
        .select("file", "kind", "line", "column", "problem", "reason", "outcome", "raw")
    )


def upn_format_errors(explained: pl.DataFrame) -> pl.DataFrame:
    """One row per malformed UPN as sent: which feed, how many rows, which files, an example row."""
    upn_rows = explained.filter(pl.col("column").map_elements(normalise_header, return_dtype=pl.String) == "upn")
    upn_rows = upn_rows.filter(pl.col("problem") == "UPN format error")
    return (
        upn_rows.with_columns(pl.col("reason").str.extract(r"UPN '([^']*)'").alias("upn_as_sent"))
        .group_by("upn_as_sent", "kind")
        .agg(
            problem=pl.col("reason").first(),
            rows=pl.len(),
            outcome=pl.col("outcome").first(),
            first_file=pl.col("file").min(),
            last_file=pl.col("file").max(),
            example_row=pl.col("raw").first(),
        )
        .sort("kind", "upn_as_sent")
    )


# ---- school disagreements -----------------------------------------------------------------------------


def school_disagreements(marks: pl.DataFrame) -> pl.DataFrame:
    """Pupils marked at two schools on the same day without a D (dual registration) at either: one is wrong."""
    attending = (pl.col("am").is_not_null() & (pl.col("am") != "D")) | (
        pl.col("pm").is_not_null() & (pl.col("pm") != "D")
    )
    # Most pupils are only ever marked at one school, and nearly every pupil-day has one row: look only at
    # pupils with several schools, and list schools only on their days with several rows (at 30,000 children
    # 0.2 s and 0.1 GB, where listing every day's schools took 3-5 s and grouping every pupil-day 0.5 GB).
    rows = marks.lazy().filter(attending).select("upn", "date", "urn")
    several_schools = rows.group_by("upn").agg(pl.col("urn").n_unique()).filter(pl.col("urn") > 1).select("upn")
    clashes = (
        rows.join(several_schools, on="upn", how="semi")
        .filter(pl.len().over("upn", "date") > 1)
        .group_by("upn", "date")
        .agg(pl.col("urn").unique().sort().alias("schools"))
        .filter(pl.col("schools").list.len() > 1)
        .collect()
    )
    return (
        clashes.with_columns(pl.col("schools").cast(pl.List(pl.String)).list.join(", "))
        .group_by("upn", "schools")
        .agg(days=pl.len(), first_date=pl.col("date").min(), last_date=pl.col("date").max())
        .sort("upn")
    )


# ---- the exceptions report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One exception type: a sheet of the workbook, with a line saying what it is and what to do."""

    name: str
    title: str
    frame: pl.DataFrame


def exceptions_report(
    matching: Matching, explained_rejects: pl.DataFrame, disagreements: pl.DataFrame, confirmed: pl.DataFrame
) -> list[Section]:
    """The sections a data manager sends back to social care, one per kind of disagreement."""
    no_data = matching.children.filter(pl.col("status") == NO_DATA).select(
        "la_child_id",
        "upn",
        "first_name",
        "last_name",
        "dob",
        pl.when(pl.col("upn").is_null())
        .then(pl.lit("no UPN on the social-care record"))
        .otherwise(pl.lit("no school has sent attendance for this UPN"))
        .alias("why"),
    )
    return [
        Section(
            "Suggested matches",
            "Listed children whose attendance arrives under another UPN (found by the "
            "LA Child ID the school sent): please check the UPN on the social-care record.",
            matching.suggestions,
        ),
        Section(
            "No attendance found",
            "Listed children for whom no attendance has been found: please check the UPN and the school.",
            no_data,
        ),
        Section(
            "Unknown pupils",
            "Attendance received for UPNs that no child on the social-care list has: are "
            "these children missing from the list, or is a UPN wrong?",
            matching.unknown_pupils,
        ),
        Section(
            "UPN format errors",
            "UPNs that are not valid (wrong length or check letter), as sent in the feeds.",
            upn_format_errors(explained_rejects),
        ),
        Section(
            "Identity conflicts",
            "Children whose UPN, name or date of birth changed between lists, or who "
            "share a UPN with another child: please check which record is right.",
            explained_rejects.filter(pl.col("outcome") == identity.FLAGGED).select(
                "file", "line", "column", "reason", "raw"
            ),
        ),
        Section(
            "School disagreements",
            "Pupils marked at two schools on the same day with no dual registration (D).",
            disagreements,
        ),
        Section(
            "Confirmed matches",
            "UPNs confirmed by the virtual school as the same child: please update the "
            "social-care record to the school's UPN.",
            confirmed.select("alias_upn", "upn", "la_child_id", "confirmed_by", "confirmed_at"),
        ),
    ]


def report_about(cfg: Config, as_at: date | None, section: Section | None = None) -> list[str]:
    """The header lines: whose report, what it is, and the date the data runs to."""
    lines = [
        f"{cfg.authority_name}: exceptions report for social care",
        f"data as at {as_at:%d/%m/%Y}" if as_at else "no attendance loaded yet",
    ]
    return lines + ([f"{section.name}: {section.title}"] if section else [])


def report_xlsx(sections: list[Section], cfg: Config, as_at: date | None) -> bytes:
    """The workbook: one sheet per exception type, each headed by what it is and the as-at date."""
    return export.xlsx_sheets_bytes([(s.name, s.frame, report_about(cfg, as_at, s)) for s in sections])


def report_csv(sections: list[Section], cfg: Config, as_at: date | None) -> bytes:
    """The same report as one CSV, a headed section per exception type."""
    return b"\n".join(export.csv_bytes(s.frame, report_about(cfg, as_at, s)) for s in sections)


# ---- kept per data version ------------------------------------------------------------------------------

T = TypeVar("T")


class Sources(Protocol):
    """The store's reads the checks start from (the attendance as sent, the list and rejects as stored)."""

    def children_frame(self) -> pl.DataFrame: ...
    def sent_identities(self) -> pl.DataFrame: ...
    def aliases_frame(self) -> pl.DataFrame: ...
    def rejected_frame(self) -> pl.DataFrame: ...
    def load_log_frame(self) -> pl.DataFrame: ...
    def school_sending(self) -> pl.DataFrame: ...
    def loaded_counts(self) -> dict[str, int]: ...


class DataQuality:
    """One data version's data-quality figures, each worked out on first use and then kept.

    Freshness, matching, school disagreements and rejects change only with a load or a confirmed match (both
    make a new version), yet the page redraws them on every click: kept here, shared by every session.
    """

    def __init__(self, figures: Callable[[], Figures], sources: Sources, cfg: Config) -> None:
        self._figures = figures  # the version's figures (the out-of-area page's too), made on first use
        self._sources = sources
        self._cfg = cfg
        self._kept: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _once(self, name: str, work: Callable[[], T]) -> T:
        """A figure worked out by the first session to ask; another asking meanwhile waits for it rather than
        doing the work twice (and one asking for another figure does not wait)."""
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._kept:
                self._kept[name] = work()
            return self._kept[name]

    def freshness(self) -> pl.DataFrame:
        """`school_freshness` of this version."""

        def work() -> pl.DataFrame:
            figures = self._figures()  # the year so far's per-child figures: the landing page's, kept
            return school_freshness(
                figures.frames, self._sources.school_sending(), self._cfg, lambda window: figures.at(window).children
            )

        return self._once("freshness", work)

    def matching(self) -> Matching:
        """`match_children` of this version's list, attendance as sent and confirmed matches."""
        s = self._sources
        return self._once("matching", lambda: match_children(s.children_frame(), s.sent_identities(), self.confirmed()))

    def confirmed(self) -> pl.DataFrame:
        """This version's confirmed matches (a confirmation or withdrawal makes a new version)."""
        return self._once("confirmed", self._sources.aliases_frame)

    def loaded_counts(self) -> dict[str, int]:
        """How much is loaded (`Store.loaded_counts`), once per version rather than on every redraw."""
        return self._once("loaded counts", self._sources.loaded_counts)

    def rejected(self) -> pl.DataFrame:
        """`explain_rejects` of this version's rejected rows (only a successful load writes them)."""
        s = self._sources
        return self._once("rejected", lambda: explain_rejects(s.rejected_frame(), s.load_log_frame()))

    def disagreements(self) -> pl.DataFrame:
        """`school_disagreements` of this version's day rows (only a child attending two schools can have one)."""
        return self._once("disagreements", lambda: school_disagreements(self._figures().several_schools_days))

    def report(self) -> list[Section]:
        """`exceptions_report` of this version: its sections are what the page draws and the downloads hold."""
        return self._once(
            "report",
            lambda: exceptions_report(self.matching(), self.rejected(), self.disagreements(), self.confirmed()),
        )
