"""Attendance figures for a window: per child, per group and per week, one definition of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from vsdash import cohorts as cohorts_mod
from vsdash.config import Config
from vsdash.frames import Frames

# The four categories that are possible sessions, in the order their counters are packed below.
COUNTED_CATEGORIES = ("present", "approved_activity", "authorised", "unauthorised")
SESSION_COLUMNS = {
    "present": "present_sessions",
    "approved_activity": "aea_sessions",
    "authorised": "authorised_sessions",
    "unauthorised": "unauthorised_sessions",
}
_COUNTER_BITS = 16  # 65,535 sessions per category per group: far beyond any window

# Columns of the per-child frame a figure can be grouped by ("cohort" explodes `cohorts`).
GROUPABLE = (
    "cohort", "school_urn", "school_la", "locality", "team", "social_worker",
    "year_group", "ehcp", "out_of_area", "responsible_la",
)

PER_CHILD_SCHEMA: dict[str, pl.DataType] = {
    "la_child_id": pl.String,
    "upn": pl.String,
    "possible_sessions": pl.Int64,
    "present_sessions": pl.Int64,
    "aea_sessions": pl.Int64,
    "authorised_sessions": pl.Int64,
    "unauthorised_sessions": pl.Int64,
    "absence_sessions": pl.Int64,
    "attendance_pct": pl.Float64,
    "persistent_absence": pl.Boolean,
    "severe_absence": pl.Boolean,
    "has_data": pl.Boolean,
    "school_urn": pl.Int64,
    "school_la": pl.String,
    "out_of_area": pl.Boolean,
    "suspensions": pl.Int64,
    "suspension_sessions": pl.Int64,
    "permanent_exclusions": pl.Int64,
    "last_mark_date": pl.Date,
    "social_worker": pl.String,
    "team": pl.String,
    "locality": pl.String,
    "year_group": pl.String,
    "ehcp": pl.Boolean,
    "responsible_la": pl.String,
    "cohorts": pl.List(pl.String),
}


@dataclass(frozen=True)
class Window:
    """The dates a figure covers: marks from `start` to `as_of`, both included."""

    start: date
    as_of: date

    def __post_init__(self) -> None:
        for name in ("start", "as_of"):
            value = getattr(self, name)
            if not isinstance(value, date) or hasattr(value, "hour"):
                raise TypeError(f"window {name} must be a date, found {value!r}")
        if self.start > self.as_of:
            raise ValueError(f"window starts {self.start} after its as-at date {self.as_of}")

    def contains(self, column: str = "date") -> pl.Expr:
        """A filter keeping dates inside the window."""
        return pl.col(column).is_between(self.start, self.as_of)


def window_for(cfg: Config, as_of: date, start: date | None = None) -> Window:
    """The window ending `as_of`, from the start of its academic year unless told otherwise."""
    return Window(start=start or cfg.year_start(as_of), as_of=as_of)


# --- sessions -------------------------------------------------------------------------------------

def _session_weights(cfg: Config) -> dict[str, int]:
    """Code -> one counter bit for its category; codes that are not possible sessions weigh nothing."""
    weights = {code: 0 for code in cfg.code_category}
    for slot, category in enumerate(COUNTED_CATEGORIES):
        for code in cfg.codes_in(category):
            weights[code] = 1 << (_COUNTER_BITS * slot)
    return weights


def packed_sessions(cfg: Config) -> pl.Expr:
    """A row's AM and PM sessions as four category counters packed in one integer, so one sum counts all four.

    Codes go through an Enum (cheap) and a lookup by position, which keeps 5.7M rows interactive
    (see shared performance notes); unknown and null codes count nowhere.
    """
    weights = _session_weights(cfg)
    codes = pl.Enum(list(weights))
    lookup = pl.Series("weight", list(weights.values()), dtype=pl.UInt64)

    def weight(session: str) -> pl.Expr:
        position = pl.col(session).cast(codes, strict=False).to_physical()
        return pl.lit(lookup).gather(position).fill_null(0)

    return (weight("am") + weight("pm")).alias("_packed")


def _counters(packed: str) -> dict[str, pl.Expr]:
    """Category -> its counter read back out of a packed (summed) column."""
    return {
        category: (pl.col(packed) // (1 << (_COUNTER_BITS * slot)) % (1 << _COUNTER_BITS)).cast(pl.Int64)
        for slot, category in enumerate(COUNTED_CATEGORIES)
    }


def unpack_sessions(packed: str = "_packed") -> list[pl.Expr]:
    """The session columns from a (summed) packed counter: possible, each category, absence."""
    parts = _counters(packed)
    # DfE: possible = present + approved educational activity + authorised + unauthorised.
    possible = sum(parts.values()).alias("possible_sessions")
    absence = (parts["authorised"] + parts["unauthorised"]).alias("absence_sessions")
    return [possible, *(parts[c].alias(SESSION_COLUMNS[c]) for c in COUNTED_CATEGORIES), absence]


def has_code() -> pl.Expr:
    """A mark row carries at least one code (a row with both sessions unsent is no mark)."""
    return pl.col("am").is_not_null() | pl.col("pm").is_not_null()


def attendance_pct(attended: pl.Expr, possible: pl.Expr) -> pl.Expr:
    """Attendance % = attended / possible x 100, null (never NaN) when nothing was possible."""
    return pl.when(possible > 0).then(attended * 100.0 / possible).otherwise(None)


def _reaches(numerator: pl.Expr, denominator: pl.Expr, pct: int) -> pl.Expr:
    """numerator is at least pct% of denominator, in integers so 10% of 20 is exactly 2."""
    return (denominator > 0) & (numerator * 100 >= denominator * pct)


def _flags(cfg: Config) -> list[pl.Expr]:
    """Attendance %, persistent and severe absence from the session columns."""
    possible, absence = pl.col("possible_sessions"), pl.col("absence_sessions")
    attended = pl.col("present_sessions") + pl.col("aea_sessions")
    return [
        # DfE: attendance % = (present + approved educational activity) / possible sessions.
        attendance_pct(attended, possible).alias("attendance_pct"),
        # DfE: persistent absence = missed 10% or more of possible sessions (90.0% exactly is PA).
        _reaches(absence, possible, cfg.thresholds.persistent_absence_pct).alias("persistent_absence"),
        # DfE: severe absence = missed 50% or more of possible sessions.
        _reaches(absence, possible, cfg.thresholds.severe_absence_pct).alias("severe_absence"),
        (possible > 0).alias("has_data"),
    ]


# --- per child ------------------------------------------------------------------------------------

def per_child(
    frames: Frames,
    window: Window,
    cfg: Config,
    cohort: str | None = None,
    any_time_in_window: bool = False,
) -> pl.DataFrame:
    """One row per known child (or per member of `cohort`) with the window's sessions, flags and school.

    Corrected marks are replaced in the store (a later file wins), so each child, school and day
    appears here once with its latest codes.
    """
    members = cohorts_mod.membership(
        frames.episodes, window.as_of, cfg, start=window.start, any_time_in_window=any_time_in_window
    )
    children = frames.children.join(cohorts_mod.cohorts_by_child(members), on="la_child_id", how="left")
    if cohort is not None:
        ids = members.filter(pl.col("cohort") == cohort).select("la_child_id")
        children = children.join(ids, on="la_child_id", how="semi")
    marks = frames.marks.lazy()
    if cohort is not None:  # a small cohort: drop other children's rows before the heavy work
        marks = marks.join(children.lazy().select("upn"), on="upn", how="semi")
    attendance = _attendance_by_upn(marks, window, cfg)
    suspensions = _suspensions_by_upn(frames.suspensions, window)
    counts = ["possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions",
              "suspensions", "suspension_sessions", "permanent_exclusions"]
    out = (
        children.lazy()
        .join(attendance, on="upn", how="left")
        .join(suspensions, on="upn", how="left")
        .join(_school_las(frames.schools), left_on="school_urn", right_on="urn", how="left")
        .with_columns(pl.col(counts).fill_null(0), pl.col("cohorts").fill_null([]))
        .with_columns(_flags(cfg))
        .with_columns(out_of_area=_out_of_area(cfg))
        .select(list(PER_CHILD_SCHEMA))
        .collect()
    )
    return out.cast(PER_CHILD_SCHEMA)


def _attendance_by_upn(marks: pl.LazyFrame, window: Window, cfg: Config) -> pl.LazyFrame:
    """Sessions in the window, last mark and current school for every UPN with marks up to as_of."""
    # Domain: the current school is the latest mark that is not D (dual registered elsewhere).
    attending = _sent_not_dual("am") | _sent_not_dual("pm")
    # Latest date first, then the larger URN on a tie, in one integer so one max finds both.
    school_key = pl.when(attending).then(pl.col("date").cast(pl.Int64) * (1 << 32) + pl.col("urn"))
    summed = (
        marks.filter(pl.col("date") <= window.as_of)
        .select(
            "upn",
            pl.when(window.contains()).then(packed_sessions(cfg)).otherwise(0).alias("_packed"),
            pl.when(has_code()).then(pl.col("date")).alias("last_mark_date"),
            school_key.alias("_school_key"),
        )
        .group_by("upn")
        .agg(pl.col("_packed").sum(), pl.col("last_mark_date", "_school_key").max())
    )
    return summed.select(
        "upn",
        *unpack_sessions(),
        "last_mark_date",
        school_urn=(pl.col("_school_key") % (1 << 32)).cast(pl.Int64),
    )


def _sent_not_dual(session: str) -> pl.Expr:
    """The session has a code, and it is not D (attending the other school of a dual registration)."""
    return pl.col(session).is_not_null() & (pl.col(session) != "D")


def _suspensions_by_upn(suspensions: pl.DataFrame, window: Window) -> pl.LazyFrame:
    """Suspensions and permanent exclusions starting in the window, per UPN (lunchtime ones are not counted)."""
    suspension = pl.col("category") == "suspension"
    return (
        suspensions.lazy()
        .filter(window.contains("start_date"))
        .group_by("upn")
        .agg(
            suspension.sum().cast(pl.Int64).alias("suspensions"),
            pl.col("sessions").filter(suspension).sum().cast(pl.Int64).alias("suspension_sessions"),
            (pl.col("category") == "permanent_exclusion").sum().cast(pl.Int64).alias("permanent_exclusions"),
        )
    )


def _school_las(schools: pl.DataFrame) -> pl.LazyFrame:
    """URN -> LA code of the school, once per URN."""
    return schools.lazy().select("urn", school_la="la_code").unique("urn", keep="first")


def _out_of_area(cfg: Config) -> pl.Expr:
    """Domain: the current school's LA differs from the child's responsible LA (the authority by default).

    No current school (no mark yet) is not out of area; a school missing from the schools list is unknown (null).
    """
    responsible = pl.col("responsible_la").fill_null(pl.lit(cfg.la_code))
    return (
        pl.when(pl.col("school_urn").is_null()).then(False)
        .when(pl.col("school_la").is_not_null()).then(pl.col("school_la") != responsible)
    )


# --- aggregates -----------------------------------------------------------------------------------

def _grouped_rows(per_child_df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The per-child rows to group, one per cohort held when grouping by cohort."""
    unknown = [b for b in by if b not in GROUPABLE and b not in per_child_df.columns]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {', '.join(GROUPABLE)}")
    if "cohort" in by and "cohort" not in per_child_df.columns:
        # A child counts once in each cohort held; children with no cohort drop out of a cohort table.
        return per_child_df.explode("cohorts").rename({"cohorts": "cohort"}).filter(pl.col("cohort").is_not_null())
    return per_child_df


def _rate(numerator: str, denominator: str) -> pl.Expr:
    """numerator / denominator x 100, null rather than NaN when the denominator is 0."""
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) * 100.0 / pl.col(denominator))


def aggregate(per_child_df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Figures for groups of children from their summed sessions (never an average of percentages)."""
    rows = _grouped_rows(per_child_df, list(by))
    sessions = ["possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions"]
    sums = [
        pl.len().cast(pl.Int64).alias("children"),
        pl.col("has_data").sum().cast(pl.Int64).alias("children_with_data"),
        *(pl.col(c).sum().cast(pl.Int64) for c in sessions),
        pl.col("persistent_absence").sum().cast(pl.Int64).alias("persistent_absence_children"),
        pl.col("severe_absence").sum().cast(pl.Int64).alias("severe_absence_children"),
        (pl.col("suspensions") > 0).sum().cast(pl.Int64).alias("suspended_children"),
        pl.col("suspensions").sum().cast(pl.Int64),
        pl.col("suspension_sessions").sum().cast(pl.Int64),
        pl.col("permanent_exclusions").sum().cast(pl.Int64),
        pl.col("out_of_area").fill_null(False).sum().cast(pl.Int64).alias("out_of_area_children"),
    ]
    summed = rows.group_by(by).agg(sums).sort(by, nulls_last=True) if by else rows.select(sums)
    return summed.with_columns(
        # DfE: a group's attendance % comes from its summed sessions.
        attendance_pct(pl.col("present_sessions") + pl.col("aea_sessions"), pl.col("possible_sessions"))
        .alias("attendance_pct"),
        # DfE: PA rate = PA children / children with at least one possible session.
        _rate("persistent_absence_children", "children_with_data").alias("persistent_absence_rate"),
        _rate("severe_absence_children", "children_with_data").alias("severe_absence_rate"),
        # DfE: one-or-more suspension rate = children with a suspension / children.
        _rate("suspended_children", "children").alias("suspension_rate"),
    )


# --- the authority's calendar --------------------------------------------------------------------

def school_days(marks: pl.DataFrame, window: Window) -> pl.Series:
    """The authority's school days: dates in the window on which any child has any mark, sorted."""
    return (
        marks.lazy()
        .filter(window.contains() & has_code())
        .select(pl.col("date").unique().sort())
        .collect()
        .to_series()
    )


def week_start(column: str = "date") -> pl.Expr:
    """Monday of the ISO week containing the date."""
    return pl.col(column).dt.truncate("1w")


def school_weeks(days: pl.Series) -> pl.Series:
    """Mondays of the ISO weeks that contain school days (half-term weeks drop out), sorted."""
    return days.to_frame("date").select(week_start().unique().sort()).to_series().alias("week_start")


# --- weekly trend ---------------------------------------------------------------------------------

def weekly_trend(
    frames: Frames,
    window: Window,
    cfg: Config,
    by: list[str],
    cohort: str | None = None,
    per_child_df: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per school week and group: that week's sessions and %, and the PA rate from window start to week end.

    Pass `per_child_df` (from `per_child` for the same window and cohort) to skip recomputing it.
    """
    children = per_child_df if per_child_df is not None else per_child(frames, window, cfg, cohort=cohort)
    return trend_from_child_weeks(child_weeks(frames, window, cfg, children), children, by)


def child_weeks(frames: Frames, window: Window, cfg: Config, children: pl.DataFrame) -> pl.DataFrame:
    """Per child (UPN) and school week: that week's sessions, and whether the child has data and is
    persistently absent from the window start to the week's end.

    The expensive half of a weekly trend: compute it once per window for every child, then any
    selection of children is a cheap `trend_from_child_weeks`.
    """
    index = children.filter(pl.col("upn").is_not_null()).select(pl.col("upn").unique()).with_row_index("_child")
    weeks = school_weeks(school_days(frames.marks, window))
    first_monday = window.start - timedelta(days=window.start.weekday())
    span = (window.as_of - first_monday).days // 7 + 1  # weeks in the window: the key's stride
    by_child_week = (
        frames.marks.lazy()
        .filter(window.contains())
        .join(index.lazy(), on="upn")  # also drops children outside the selection
        .select(
            _key=pl.col("_child").cast(pl.Int64) * span + (pl.col("date") - first_monday).dt.total_days() // 7,
            _packed=packed_sessions(cfg),
        )
        .group_by("_key")
        .agg(pl.col("_packed").sum())
        .collect()  # used twice below: worked out once
        .lazy()
    )
    # Every child with marks in every school week, so the PA status to date exists in weeks without marks.
    week_numbers = pl.DataFrame({"_week": ((weeks - first_monday).dt.total_days() // 7).cast(pl.Int64)})
    return (
        by_child_week.select(_child=pl.col("_key") // span).unique()
        .join(week_numbers.lazy(), how="cross")
        .with_columns(_key=pl.col("_child") * span + pl.col("_week"))
        .join(by_child_week, on="_key", how="left")
        .sort("_key")
        .with_columns(pl.col("_packed").fill_null(0))
        .with_columns(_to_date=pl.col("_packed").cum_sum().over("_child"))
        .join(index.lazy().select(pl.col("_child").cast(pl.Int64), "upn"), on="_child")
        .select(
            "upn",
            (pl.lit(first_monday) + pl.duration(weeks=pl.col("_week"))).alias("week_start"),
            *unpack_sessions(), *_pa_to_date(cfg),
        )
        # A week's sessions fit 32 bits: half the memory of a cached window (sums widen to 64 bits).
        .with_columns(pl.col(["possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions"]).cast(pl.Int32))
        .collect()
    )


def trend_from_child_weeks(weeks: pl.DataFrame, children: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The weekly trend of a selection of children, grouped by `by`, from their child-week rows."""
    attributes = _grouped_rows(children.filter(pl.col("upn").is_not_null()), list(by))
    keys = ["week_start", *by]
    sessions = ["possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions"]
    out = (
        weeks.lazy()
        .join(attributes.lazy().select("upn", *by), on="upn")
        .group_by(keys)
        .agg(
            *(pl.col(c).sum().cast(pl.Int64) for c in sessions),
            pl.col("_with_data").sum().cast(pl.Int64).alias("children_with_data"),
            pl.col("_pa").sum().cast(pl.Int64).alias("persistent_absence_children"),
        )
        .sort(keys, nulls_last=True)
        .collect()
    )
    if out.is_empty():
        out = out.cast({"week_start": pl.Date})
    return out.with_columns(
        attendance_pct(pl.col("present_sessions") + pl.col("aea_sessions"), pl.col("possible_sessions"))
        .alias("attendance_pct"),
        _rate("persistent_absence_children", "children_with_data").alias("persistent_absence_rate"),
    )


def _pa_to_date(cfg: Config) -> list[pl.Expr]:
    """Whether a child has data and is persistently absent over the window so far (cumulative counters)."""
    counters = _counters("_to_date")
    possible = sum(counters.values())
    absence = counters["authorised"] + counters["unauthorised"]
    return [
        (possible > 0).alias("_with_data"),
        # DfE: 10% or more of possible sessions, counted from the window start to the end of the week.
        _reaches(absence, possible, cfg.thresholds.persistent_absence_pct).alias("_pa"),
    ]
