"""Attendance figures for a window: per child, per group and per week, one definition of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from vsdash import cohorts as cohorts_mod
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.frames import Frames
from vsdash.sessions import COUNTER_BITS, SESSION_COLUMNS, counters, session_totals, unpack_sessions

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
    rows: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per known child (or per member of `cohort`) with the window's sessions, flags and school.

    Corrected marks are replaced in the store (a later file wins), so each child, school and day
    counts once with its latest codes. Pass `rows` (`window_rows` for the same window) to reuse them.
    """
    members = cohorts_mod.membership(
        frames.episodes, window.as_of, cfg, start=window.start, any_time_in_window=any_time_in_window
    )
    children = frames.children.join(cohorts_mod.cohorts_by_child(members), on="la_child_id", how="left")
    if cohort is not None:
        ids = members.filter(pl.col("cohort") == cohort).select("la_child_id")
        children = children.join(ids, on="la_child_id", how="semi")
    rows = rows if rows is not None else window_rows(frames, window, cfg)
    weeks = rows.lazy()
    if cohort is not None:  # a small cohort: drop other children's rows before the sums
        weeks = weeks.join(children.lazy().select("upn"), on="upn", how="semi")
    attendance = _attendance_by_upn(weeks)
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


def window_rows(frames: Frames, window: Window, cfg: Config) -> pl.DataFrame:
    """The week summary as the window sees it (see `weeks.for_window`): the rows every figure of it sums."""
    return weeks_mod.for_window(frames, cfg, window.start, window.as_of)


def _attendance_by_upn(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Sessions in the window, last mark and current school for every UPN with marks up to as_of."""
    school_key = pl.col("school_date").cast(pl.Int64) * (1 << 32) + pl.col("school_urn")
    summed = rows.group_by("upn").agg(
        pl.col(list(SESSION_COLUMNS.values())).sum().cast(pl.Int64),
        weeks_mod.last_mark_date().max().alias("last_mark_date"),
        school_key.max().alias("_school_key"),
    )
    return summed.select(
        "upn",
        *session_totals(),
        *SESSION_COLUMNS.values(),
        "last_mark_date",
        # Domain: the current school is the latest mark that is not D (dual registered elsewhere).
        school_urn=(pl.col("_school_key") % (1 << 32)).cast(pl.Int64),
    )


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

def school_days(frames: Frames, window: Window, cfg: Config) -> pl.Series:
    """The authority's school days: dates in the window on which any child has any mark, sorted."""
    days = weeks_mod.calendar(weeks_mod.of(frames, cfg))
    return days.filter(days.is_between(window.start, window.as_of))


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
    rows: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per school week and group: that week's sessions and %, and the PA rate from window start to week end.

    Pass `per_child_df` (from `per_child` for the same window and cohort) and `rows` (`window_rows`) to
    skip recomputing them.
    """
    rows = rows if rows is not None else window_rows(frames, window, cfg)
    children = per_child_df if per_child_df is not None else per_child(frames, window, cfg, cohort=cohort, rows=rows)
    weeks = child_weeks(rows, school_days(frames, window, cfg), window, cfg, children)
    return trend_from_child_weeks(weeks, children, by)


def child_weeks(rows: pl.DataFrame, days: pl.Series, window: Window, cfg: Config,
                children: pl.DataFrame) -> pl.DataFrame:
    """Per child (UPN) and school week of the window: that week's sessions, and whether the child has data
    and is persistently absent from the window start to the week's end.

    The expensive half of a weekly trend: compute it once per window for every child (from `window_rows`
    and the window's `school_days`), then any selection of children is a cheap `trend_from_child_weeks`.
    """
    upns = children.filter(pl.col("upn").is_not_null())["upn"].unique().sort()
    weeks = school_weeks(days)
    width = len(weeks)
    sessions = list(SESSION_COLUMNS.values())
    # Every child x every school week of the window as one flat grid (child-major), so a running total
    # per child is one cumulative sum, and weeks without marks still carry the PA status to date.
    cells = (
        rows.lazy()
        .filter(pl.col("in_window"))
        .join(upns.to_frame().with_row_index("_child").lazy(), on="upn")  # also drops children outside the selection
        .join(weeks.to_frame().with_row_index("_week").lazy(), on="week_start")
        .select(_cell=pl.col("_child").cast(pl.Int64) * width + pl.col("_week"), _packed=_pack(sessions))
        .collect()
    )
    grid = pl.zeros(len(upns) * width, dtype=pl.Int64, eager=True).scatter(cells["_cell"], cells["_packed"])
    return (
        pl.DataFrame({"_packed": grid}).with_row_index("_cell")
        .with_columns(_total=pl.col("_packed").cum_sum())
        .with_columns(_to_date=pl.col("_total") - (pl.col("_total") - pl.col("_packed")).gather(pl.col("_cell") // width * width))
        .select(
            pl.lit(upns).gather(pl.col("_cell") // width).alias("upn"),
            pl.lit(weeks).gather(pl.col("_cell") % width).alias("week_start"),
            *unpack_sessions(), *_pa_to_date(cfg),
        )
        # A week's sessions fit 32 bits: half the memory of a cached window (sums widen to 64 bits).
        .with_columns(pl.col(["possible_sessions", *sessions, "absence_sessions"]).cast(pl.Int32))
    )


def _pack(columns: list[str]) -> pl.Expr:
    """Four session counts in one integer, so a running sum over weeks is one cumulative sum."""
    return sum(pl.col(c).cast(pl.Int64) * (1 << (COUNTER_BITS * slot)) for slot, c in enumerate(columns))


def trend_from_child_weeks(weeks: pl.DataFrame, children: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The weekly trend of a selection of children, grouped by `by`, from their child-week rows."""
    return trend_from_sums(week_sums(weeks, children, by), by)


_COHORT_SET = "_cohort_set"


def week_sums(weeks: pl.DataFrame, children: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Child-week rows of the selected children summed per week and group, the cohorts a child holds
    kept as one set: the large join and sum happen once, whatever cohorts are then shown."""
    unknown = [b for b in by if b not in GROUPABLE and b not in children.columns]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {', '.join(GROUPABLE)}")
    groups = [b for b in by if b != "cohort"]
    attributes = children.filter(pl.col("upn").is_not_null()).select(
        "upn", *groups, pl.col("cohorts").list.sort().list.join("|").alias(_COHORT_SET),
    )
    keys = ["week_start", *groups, _COHORT_SET]
    sessions = ["possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions"]
    return (
        weeks.lazy()
        .join(attributes.lazy(), on="upn")
        .group_by(keys)
        .agg(
            *(pl.col(c).sum().cast(pl.Int64) for c in sessions),
            pl.col("_with_data").sum().cast(pl.Int64).alias("children_with_data"),
            pl.col("_pa").sum().cast(pl.Int64).alias("persistent_absence_children"),
        )
        .collect()
    )


def trend_from_sums(sums: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The weekly trend grouped by `by` from `week_sums`: each cohort set's sums count once in every cohort
    in it (a child with no cohort drops out of a cohort trend, as in `aggregate`)."""
    keys = ["week_start", *by]
    rows = sums
    if "cohort" in by:
        rows = (rows.with_columns(cohort=pl.col(_COHORT_SET).str.split("|")).explode("cohort")
                .filter(pl.col("cohort") != ""))
    counts = ["possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions", "children_with_data",
              "persistent_absence_children"]
    out = rows.group_by(keys).agg(pl.col(counts).sum()).sort(keys, nulls_last=True)
    if out.is_empty():
        out = out.cast({"week_start": pl.Date})
    return out.with_columns(
        attendance_pct(pl.col("present_sessions") + pl.col("aea_sessions"), pl.col("possible_sessions"))
        .alias("attendance_pct"),
        _rate("persistent_absence_children", "children_with_data").alias("persistent_absence_rate"),
    )


def _pa_to_date(cfg: Config) -> list[pl.Expr]:
    """Whether a child has data and is persistently absent over the window so far (cumulative counters)."""
    parts = counters("_to_date")
    possible = sum(parts.values())
    absence = parts["authorised"] + parts["unauthorised"]
    return [
        (possible > 0).alias("_with_data"),
        # DfE: 10% or more of possible sessions, counted from the window start to the end of the week.
        _reaches(absence, possible, cfg.thresholds.persistent_absence_pct).alias("_pa"),
    ]
