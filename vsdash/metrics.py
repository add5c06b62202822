"""Attendance figures for a window: per child, per group and per week, one definition of each."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import polars as pl

from vsdash import cohorts as cohorts_mod
from vsdash import running, sessions
from vsdash import suspensions as suspensions_mod
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.frames import Frames, Schema
from vsdash.sessions import SESSION_COLUMNS, SESSION_COUNTS

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# Columns of the per-child frame a figure can be grouped by ("cohort" explodes `cohorts`).
GROUPABLE = (
    "cohort",
    "school_urn",
    "school_la",
    "locality",
    "team",
    "social_worker",
    "year_group",
    "ehcp",
    "out_of_area",
    "responsible_la",
)

PER_CHILD_SCHEMA: Schema = {
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


def _attendance() -> pl.Expr:
    """Attendance % from the session columns of a child, a group or a week."""
    # DfE: attendance % = (present + approved educational activity) / possible sessions.
    return attendance_pct(sessions.attended(sessions.columns()), pl.col("possible_sessions")).alias("attendance_pct")


def reaches(numerator: pl.Expr, denominator: pl.Expr, pct: int) -> pl.Expr:
    """numerator is at least pct% of denominator, in integers so 10% of 20 is exactly 2."""
    return (denominator > 0) & (numerator * 100 >= denominator * pct)


def persistent_absence(absence: pl.Expr, possible: pl.Expr, cfg: Config) -> pl.Expr:
    """Persistently absent over the sessions given."""
    # DfE: persistent absence = missed 10% or more of possible sessions (90.0% exactly is PA).
    return reaches(absence, possible, cfg.thresholds.persistent_absence_pct)


def severe_absence(absence: pl.Expr, possible: pl.Expr, cfg: Config) -> pl.Expr:
    """Severely absent over the sessions given."""
    # DfE: severe absence = missed 50% or more of possible sessions.
    return reaches(absence, possible, cfg.thresholds.severe_absence_pct)


def _flags(cfg: Config) -> list[pl.Expr]:
    """Attendance %, persistent and severe absence from the session columns."""
    possible, absence = pl.col("possible_sessions"), pl.col("absence_sessions")
    return [
        _attendance(),
        persistent_absence(absence, possible, cfg).alias("persistent_absence"),
        severe_absence(absence, possible, cfg).alias("severe_absence"),
        (possible > 0).alias("has_data"),
    ]


# --- per child ------------------------------------------------------------------------------------


def per_child(
    frames: Frames,
    window: Window,
    cfg: Config,
    cohort: str | None = None,
    any_time_in_window: bool = False,
    attendance: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per known child (or per member of `cohort`) with the window's sessions, flags and school.

    Corrected marks are replaced in the store (a later file wins), so each child, school and day
    counts once with its latest codes. Pass `attendance` (`running.Totals.window` of the same window) to
    reuse it.
    """
    members = cohorts_mod.membership(
        frames.episodes, window.as_of, cfg, start=window.start, any_time_in_window=any_time_in_window
    )
    children = frames.children.join(cohorts_mod.cohorts_by_child(members), on="la_child_id", how="left")
    if cohort is not None:
        ids = members.filter(pl.col("cohort") == cohort).select("la_child_id")
        children = children.join(ids, on="la_child_id", how="semi")
    if attendance is None:
        summary = weeks_mod.of(frames, cfg)
        parts = weeks_mod.window_weeks(frames, cfg, window.start, window.as_of, summary, weeks_mod.calendar(summary))
        attendance = running.Totals.of(summary).window(parts)
    suspensions = _suspensions_by_upn(frames.suspensions, window)
    counts = [*SESSION_COUNTS, "suspensions", "suspension_sessions", "permanent_exclusions"]
    out = (
        children.lazy()
        .join(attendance.lazy(), on="upn", how="left")
        .join(suspensions, on="upn", how="left")
        .join(_school_las(frames.schools), left_on="school_urn", right_on="urn", how="left")
        .with_columns(pl.col(counts).fill_null(0), pl.col("cohorts").fill_null([]))
        .with_columns(_flags(cfg))
        .with_columns(out_of_area=_out_of_area(cfg))
        .select(list(PER_CHILD_SCHEMA))
        .collect()
    )
    # polars' stubs take a mapping keyed by str | selector | dtype, and a Mapping's key type is invariant,
    # so they refuse this Mapping[str, ...] schema that polars itself accepts.
    return out.cast(PER_CHILD_SCHEMA)  # type: ignore[arg-type]


def _suspensions_by_upn(suspensions: pl.DataFrame, window: Window) -> pl.LazyFrame:
    """Suspensions and permanent exclusions starting in the window, per UPN (`suspensions.per_upn`)."""
    return suspensions_mod.per_upn(suspensions, window.start, window.as_of)


def _school_las(schools: pl.DataFrame) -> pl.LazyFrame:
    """URN -> LA code of the school, once per URN."""
    return schools.lazy().select("urn", school_la="la_code").unique("urn", keep="first")


def _out_of_area(cfg: Config) -> pl.Expr:
    """Domain: the school's LA (`school_la`) differs from the child's responsible LA (the authority by default).

    No school (no mark yet) is not out of area; a school missing from the schools list is unknown (null).
    """
    responsible = pl.col("responsible_la").fill_null(pl.lit(cfg.la_code))
    return (
        pl.when(pl.col("school_urn").is_null())
        .then(False)
        .when(pl.col("school_la").is_not_null())
        .then(pl.col("school_la") != responsible)
    )


@dataclass(frozen=True)
class ChildFigures:
    """One child's figures for a window by name: a row of `per_child` (the same columns, in order)."""

    la_child_id: str
    upn: str | None
    possible_sessions: int
    present_sessions: int
    aea_sessions: int
    authorised_sessions: int
    unauthorised_sessions: int
    absence_sessions: int
    attendance_pct: float | None
    persistent_absence: bool
    severe_absence: bool
    has_data: bool
    school_urn: int | None
    school_la: str | None
    out_of_area: bool | None
    suspensions: int
    suspension_sessions: int
    permanent_exclusions: int
    last_mark_date: date | None
    social_worker: str | None
    team: str | None
    locality: str | None
    year_group: str | None
    ehcp: bool | None
    responsible_la: str | None
    cohorts: list[str]


Row = TypeVar("Row", bound="DataclassInstance")


def child_row(kind: type[Row], frame: pl.DataFrame, la_child_id: str) -> Row:
    """One child's row of a frame as a dataclass of (some of) its columns, for a page to read by name."""
    row = frame.filter(pl.col("la_child_id") == la_child_id).row(0, named=True)
    return kind(**{f.name: row[f.name] for f in fields(kind)})


# --- one window, every child ----------------------------------------------------------------------


class WindowFigures:
    """Every child's figures for one window, worked out once: a selection of children (a filter change)
    then only selects rows of `children`, which keeps the dashboard interactive (see the README's Speed).

    `calendar` is the authority's school days (`weeks.calendar`): pass it when `frames` hold only some
    children (one child's page), so school days and weeks are the authority's. `totals` are the frames'
    running totals (`running.Totals.of` their summary), kept per data version by `views.Figures`.
    """

    def __init__(
        self,
        frames: Frames,
        cfg: Config,
        window: Window,
        calendar: pl.Series | None = None,
        totals: running.Totals | None = None,
    ) -> None:
        summary = weeks_mod.of(frames, cfg)
        calendar = weeks_mod.calendar(summary) if calendar is None else calendar
        self.parts = weeks_mod.window_weeks(frames, cfg, window.start, window.as_of, summary, calendar)
        rows = weeks_mod.for_window(frames, cfg, window.start, window.as_of, summary, calendar, self.parts)
        self.totals = running.Totals.of(summary) if totals is None else totals
        self.frames, self.cfg, self.window = frames, cfg, window
        self.school_days = weeks_mod.school_days(calendar, window.start, window.as_of)
        self.children = per_child(frames, window, cfg, attendance=self.totals.window(self.parts))
        # What triage and the schools table read: the window's own rows come first, so a slice (no copy) holds them.
        self.rows = rows.head(int(rows["in_window"].sum()))

    @cached_property
    def weeks(self) -> running.ChildWeeks:
        """Child-week sessions and persistent absence to date, for weekly trends of any selection."""
        return child_weeks(self, self.children)


# --- aggregates -----------------------------------------------------------------------------------


def _check_groups(children: pl.DataFrame, by: list[str]) -> None:
    """Refuse a grouping the per-child frame cannot give, naming the ones it can."""
    unknown = [b for b in by if b not in GROUPABLE and b not in children.columns]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {', '.join(GROUPABLE)}")


def _grouped_rows(per_child_df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The per-child rows to group, one per cohort held when grouping by cohort."""
    _check_groups(per_child_df, by)
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
    sums = [
        pl.len().cast(pl.Int64).alias("children"),
        pl.col("has_data").sum().cast(pl.Int64).alias("children_with_data"),
        *(pl.col(c).sum().cast(pl.Int64) for c in SESSION_COUNTS),
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
        _attendance(),  # DfE: a group's attendance % comes from its summed sessions
        # DfE: PA rate = PA children / children with at least one possible session.
        _rate("persistent_absence_children", "children_with_data").alias("persistent_absence_rate"),
        _rate("severe_absence_children", "children_with_data").alias("severe_absence_rate"),
        # DfE: one-or-more suspension rate = children with a suspension / children.
        _rate("suspended_children", "children").alias("suspension_rate"),
    )


# --- weekly trend ---------------------------------------------------------------------------------


def weekly_trend(
    frames: Frames,
    window: Window,
    cfg: Config,
    by: list[str],
    cohort: str | None = None,
) -> pl.DataFrame:
    """Per school week and group: that week's sessions and %, and the PA rate from window start to week end.

    The school weeks are the frames' own (one child's page: the weeks that child has marks).
    """
    figures = WindowFigures(frames, cfg, window)
    children = figures.children
    if cohort is not None:
        children = children.filter(pl.col("cohorts").list.contains(cohort))
    return trend_from_sums(week_sums(child_weeks(figures, children), children, by), by)


def child_weeks(figures: WindowFigures, children: pl.DataFrame) -> running.ChildWeeks:
    """Per child (UPN) of `children` and school week of the window: that week's sessions, and whether the
    child has data and is persistently absent from the window start to the week's end.

    The expensive half of a weekly trend: compute it once per window for every child (see `WindowFigures`),
    then any selection of children is a cheap `week_sums` and `trend_from_sums`.
    """
    upns = children.filter(pl.col("upn").is_not_null())["upn"].unique().sort()
    weeks = weeks_mod.school_weeks(figures.school_days)
    packed, to_date = figures.totals.weekly(figures.parts, weeks, upns)
    cells = (
        pl.LazyFrame({"_packed": packed.ravel(), "_to_date": to_date.ravel()})
        .select(
            # A week's sessions fit 32 bits; possible and absence sessions are worked out from the sums.
            *(counter.cast(pl.Int32).alias(SESSION_COLUMNS[c]) for c, counter in sessions.counters("_packed").items()),
            *_pa_to_date(figures.cfg),
        )
        .collect()
    )
    return running.ChildWeeks(upns, weeks, cells)


_COHORT_SET = "_cohort_set"


def week_sums(weeks: running.ChildWeeks, children: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Child-week cells of the selected children summed per week and group, the cohorts a child holds
    kept as one set: the large sum happens once, whatever cohorts are then shown."""
    _check_groups(children, by)
    groups = [b for b in by if b != "cohort"]
    attributes = (
        children.filter(pl.col("upn").is_not_null())
        .select("upn", *groups, pl.col("cohorts").list.sort().list.join("|").alias(_COHORT_SET))
        .join(weeks.upns.to_frame().with_row_index("_row"), on="upn")
    )
    keys = [*groups, _COHORT_SET]
    combos = attributes.select(keys).unique(maintain_order=True).with_row_index("_group")
    attributes = attributes.join(combos, on=keys, nulls_equal=True).sort("_row")
    rows = attributes["_row"].to_numpy().astype(np.int64)
    width, offsets = len(weeks.weeks), np.arange(len(weeks.weeks))
    # Every grid row once, in order (all children selected): the cells are summed where they are.
    whole_grid = len(rows) == len(weeks.upns) and bool((rows == np.arange(len(rows))).all())
    cells = None if whole_grid else (rows[:, None] * width + offsets).ravel()
    group_cells = (attributes["_group"].to_numpy().astype(np.int64)[:, None] * width + offsets).ravel()
    size = combos.height * width

    def summed(column: str) -> np.ndarray:
        values = weeks.cells[column].to_numpy()
        return np.bincount(group_cells, weights=values if cells is None else values[cells], minlength=size).astype(
            np.int64
        )

    index = pl.int_range(size, dtype=pl.Int64, eager=True)
    week, combo = index % max(width, 1), index // max(width, 1)
    return pl.DataFrame(
        {
            "week_start": weeks.weeks.gather(week),
            **{c: combos[c].gather(combo) for c in keys},
            **{c: summed(c) for c in SESSION_COLUMNS.values()},
            "children_with_data": summed("_with_data"),
            "persistent_absence_children": summed("_pa"),
        }
    ).with_columns(sessions.session_totals())


def trend_from_sums(sums: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The weekly trend grouped by `by` from `week_sums`: each cohort set's sums count once in every cohort
    in it (a child with no cohort drops out of a cohort trend, as in `aggregate`)."""
    keys = ["week_start", *by]
    rows = sums
    if "cohort" in by:
        rows = (
            rows.with_columns(cohort=pl.col(_COHORT_SET).str.split("|"))
            .explode("cohort")
            .filter(pl.col("cohort") != "")
        )
    counts = [*SESSION_COUNTS, "children_with_data", "persistent_absence_children"]
    out = rows.group_by(keys).agg(pl.col(counts).sum()).sort(keys, nulls_last=True)
    if out.is_empty():
        out = out.cast({"week_start": pl.Date})
    return out.with_columns(
        _attendance(),
        _rate("persistent_absence_children", "children_with_data").alias("persistent_absence_rate"),
    )


def _pa_to_date(cfg: Config) -> list[pl.Expr]:
    """Whether a child has data and is persistently absent from the window start to the end of the week
    (cumulative counters)."""
    parts = sessions.counters("_to_date")
    possible = sessions.possible(parts)
    return [
        (possible > 0).alias("_with_data"),
        persistent_absence(sessions.absence(parts), possible, cfg).alias("_pa"),
    ]


def cohort_trend(weeks: running.ChildWeeks, children: pl.DataFrame, cohort: str | None) -> pl.DataFrame:
    """Weekly attendance and persistent-absence rate: all selected children, and each cohort they hold."""
    sums = week_sums(weeks, children, by=["cohort"])
    every = trend_from_sums(sums, by=[]).with_columns(cohort=pl.lit(cohort or "All"))
    if cohort:
        return every
    by_cohort = trend_from_sums(sums, by=["cohort"])
    return pl.concat([every.select(by_cohort.columns), by_cohort])


# --- change since last month ----------------------------------------------------------------------


def what_moved(now: pl.DataFrame, then: pl.DataFrame, by: str, min_children: int = 1, top: int = 5) -> pl.DataFrame:
    """The groups whose attendance changed most between two selections (last month's and today's), with
    the children behind each figure; only groups of at least `min_children` both times (a change in a group
    of one or two is noise, and points at a child)."""
    current = aggregate(now, [by]).filter(pl.col("children") >= min_children)
    current = current.select(by, "children", "attendance_pct", "persistent_absence_rate")
    earlier = (
        aggregate(then, [by])
        .filter(pl.col("children") >= min_children)
        .select(
            by,
            pl.col("attendance_pct").alias("attendance_pct_last_month"),
            pl.col("persistent_absence_rate").alias("persistent_absence_rate_last_month"),
        )
    )
    return (
        current.join(earlier, on=by, how="inner", nulls_equal=False)
        .filter(pl.col(by).is_not_null())
        .with_columns(
            attendance_change=pl.col("attendance_pct") - pl.col("attendance_pct_last_month"),
            persistent_absence_change=pl.col("persistent_absence_rate") - pl.col("persistent_absence_rate_last_month"),
        )
        .filter(pl.col("attendance_change").is_not_null())
        .sort(pl.col("attendance_change").abs(), descending=True)
        .head(top)
    )


# --- one child's schools and sessions -------------------------------------------------------------

SCHOOL_HISTORY_SCHEMA: Schema = {
    "urn": pl.Int64,
    "school": pl.String,
    "la_name": pl.String,
    "from": pl.Date,
    "to": pl.Date,
    "days": pl.UInt32,
    "dual_registered_days": pl.UInt32,
    "out_of_area": pl.Boolean,
}


def school_history(marks: pl.DataFrame, schools: pl.DataFrame, responsible_la: str | None, cfg: Config) -> pl.DataFrame:
    """Each school a child has marks at: first and last date, days there (dual registered ones counted
    apart), and whether it is out of area for the child."""
    if marks.is_empty():
        return pl.DataFrame(schema=SCHOOL_HISTORY_SCHEMA)
    per_school = marks.group_by("urn").agg(
        pl.col("date").min().alias("from"),
        pl.col("date").max().alias("to"),
        pl.len().alias("days"),
        sessions.dual_registered("am", "pm").sum().alias("dual_registered_days"),
    )
    return (
        per_school.join(
            schools.select("urn", pl.col("name").alias("school"), "la_code", "la_name"), on="urn", how="left"
        )
        .with_columns(school_urn="urn", school_la="la_code", responsible_la=pl.lit(responsible_la, dtype=pl.String))
        .with_columns(out_of_area=_out_of_area(cfg))
        .select(list(SCHOOL_HISTORY_SCHEMA))
        .sort("from")
    )


def session_codes(marks: pl.DataFrame, window: Window, cfg: Config, school_days: pl.Series) -> pl.DataFrame:
    """Every session of every school day in the window as (date, session, code, category), for the calendar.

    A school day with no mark for the child shows as such (a silent school is visible); on a day with marks
    at two schools (dual registration), the code that is not D is shown.
    """
    in_window = marks.filter(window.contains())
    long = in_window.unpivot(index=["date", "urn"], on=["am", "pm"], variable_name="session", value_name="code")
    coded = (
        long.with_columns(
            session=pl.col("session").str.to_uppercase(),
            _dual=sessions.dual_registered("code") | pl.col("code").is_null(),
        )
        .sort("date", "session", "_dual")
        .unique(["date", "session"], keep="first")
        .select("date", "session", "code")
    )
    every = pl.DataFrame({"date": school_days}).join(pl.DataFrame({"session": ["AM", "PM"]}), how="cross")
    return (
        pl.concat([every, coded.select("date", "session")])
        .unique()
        .join(coded, on=["date", "session"], how="left")
        .with_columns(category=pl.col("code").replace_strict(cfg.code_category, default=None, return_dtype=pl.String))
        .sort("date", "session")
    )


# --- the DfE's comparison groups ------------------------------------------------------------------

# The DfE's mutually exclusive groups in "Outcomes for children in need, including children looked after",
# in order of precedence: looked after, else on a CP plan (CPPO), else in need (CINO).
DFE_GROUPS = ("CLA", "CP", "CIN")
CLA_COMPARISON_YEARS = 1  # DfE: its looked-after figures count children looked after for 12 months or more


def looked_after_spans(episodes: pl.DataFrame) -> pl.DataFrame:
    """Each child's spans of being looked after without a break (`first` to `last`; an open episode runs
    to date.max): a new episode starting the day after every earlier one has ended, e.g. a change of
    placement, is no break. They change only with the list, so a data version keeps them (`views.Figures`)."""
    cla = (
        episodes.filter((pl.col("cohort") == "CLA") & pl.col("la_child_id").is_not_null())
        .with_columns(pl.col("start_date").fill_null(date.min), pl.col("end_date").fill_null(date.max))
        .sort("la_child_id", "start_date")
    )
    # A chain of episodes breaks where one starts more than a day after every earlier one has ended.
    chains = cla.with_columns(
        _ended=pl.col("end_date").cum_max().shift(1).over("la_child_id"),
    ).with_columns(
        _chain=(pl.col("_ended").is_null() | (pl.col("start_date") > pl.col("_ended").dt.offset_by("1d")))
        .cum_sum()
        .over("la_child_id")
    )
    return chains.group_by("la_child_id", "_chain").agg(
        pl.col("start_date").min().alias("first"), pl.col("end_date").max().alias("last")
    )


def looked_after_continuously(
    episodes: pl.DataFrame, as_of: date, years: int = CLA_COMPARISON_YEARS, spans: pl.DataFrame | None = None
) -> pl.Series:
    """LA child IDs looked after on `as_of` without a break since at least `years` years before it, so the
    looked-after comparison counts the children the DfE's 12-month figure counts. Pass `spans`
    (`looked_after_spans` of the same episodes) to reuse them.

    Episodes starting after `as_of` cannot change the answer: one that joins a span does so only when the
    span already reaches `as_of`."""
    spans = looked_after_spans(episodes) if spans is None else spans
    since = cohorts_mod.years_before(as_of, years)
    return spans.filter((pl.col("first") <= since) & (pl.col("last") >= as_of))["la_child_id"].unique().sort()


def with_dfe_group(
    children: pl.DataFrame, episodes: pl.DataFrame, as_of: date, spans: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each child's DfE comparison group as at `as_of` (`dfe_group`: CLA, CP, CIN or null), from the cohorts
    held then: CLA before CP before CIN, so a child on a CIN and a CP plan counts in CP only, and a looked-after
    child on a CP plan in CLA only; a child looked after for less than 12 months is in no group, because the
    DfE's looked-after figure leaves them out and they are not CP or CIN children on its definitions. Pass
    `spans` (`looked_after_spans`) to reuse them."""
    held = pl.col("cohorts")
    year_or_more = pl.col("la_child_id").is_in(looked_after_continuously(episodes, as_of, spans=spans).implode())
    group = (
        pl.when(held.list.contains("CLA"))
        .then(pl.when(year_or_more).then(pl.lit("CLA")))
        .when(held.list.contains("CP"))
        .then(pl.lit("CP"))
        .when(held.list.contains("CIN"))
        .then(pl.lit("CIN"))
    )
    return children.with_columns(group.cast(pl.String).alias("dfe_group"))


def exclusion_rates(children: pl.DataFrame) -> dict[str, float | None]:
    """The DfE's suspension and permanent exclusion rates of a selection: per 100 children, so a local figure
    stands beside the national all-pupil one (one definition: `suspensions.rates`)."""
    if children.height == 0:
        return {"suspension_rate_per_100": None, "one_or_more_suspension": None, "permanent_exclusion": None}
    rates = suspensions_mod.rates(children)
    return {
        "suspension_rate_per_100": rates["suspension_rate"],
        "one_or_more_suspension": rates["one_or_more_rate"],
        "permanent_exclusion": rates["permanent_exclusion_rate"],
    }
