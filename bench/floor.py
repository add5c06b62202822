"""The floor: the shortest polars code for each page's figures, over a parquet copy of the marks.

What the arithmetic costs, the reference every measured figure is set beside: deliberately not vsdash's
route (no week summary, no cache, no Streamlit) but day rows with the codes as an Enum ordered by
category, so a session's category is an integer range test (see the shared performance notes). It
states no rule of its own: the code categories come from the configuration in `vsdash.sessions`' order,
the thresholds from `cfg.thresholds`, cohorts from `vsdash.cohorts`, windows from `vsdash.views`, the
signals' tests from `vsdash.triage`. `tests/test_bench.py` checks that its figures are the product's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from vsdash import cohorts, metrics, triage, views
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.frames import Frames
from vsdash.metrics import Window
from vsdash.sessions import COUNTED_CATEGORIES, has_code, sent_not_dual
from vsdash.weeks import PART_TIME_CODE

# The product's one definition of each rule, used as it is (never restated here).
reaches = metrics.reaches  # "at least pct% of", in integers: persistent and severe absence
last_month_filters = views.last_month_filters  # the same selection a month earlier (the overview's cards)
drifted = triage.drifted  # attendance fell by the drift points, in integers
not_seen = triage.not_seen_for  # in a cohort, and no mark for the last N school days
school_days_after = triage.school_days_after  # school days since a date
last_days_start = triage.last_days_start  # the first of the last N school days
recent_suspensions = triage.recent_suspensions  # suspensions and permanent exclusions lately
new_episodes = triage.new_episodes  # cohorts joined lately

# Sessions as spans of sessions.COUNTED_CATEGORIES (present, approved activity, authorised, unauthorised).
POSSIBLE = (COUNTED_CATEGORIES[0], COUNTED_CATEGORIES[-1])  # DfE: every counted category is a possible session
ATTENDED = ("present", "approved_activity")  # DfE: attended = present + approved educational activity
UNAUTHORISED = ("unauthorised", "unauthorised")
SESSIONS = ("am", "pm")
# What the floor keeps of the children: the filters' columns and the names the triage list shows.
CHILD_COLUMNS = (
    "la_child_id",
    "upn",
    "first_name",
    "last_name",
    "team",
    "locality",
    "social_worker",
    "year_group",
    "ehcp",
)


# ---- the floor's copy of the data ----------------------------------------------------------------


def code_order(cfg: Config, seen: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The Enum's codes: the counted ones category by category, then the rest and any unknown code seen."""
    counted = [c for category in COUNTED_CATEGORIES for c in cfg.codes_in(category)]
    return list(dict.fromkeys([*counted, *cfg.code_category, *seen]))


def category_ends(cfg: Config) -> tuple[int, ...]:
    """For each of COUNTED_CATEGORIES, the Enum position after its last code."""
    sizes = [len(cfg.codes_in(category)) for category in COUNTED_CATEGORIES]
    return tuple(sum(sizes[: i + 1]) for i in range(len(sizes)))


def write_floor_parquet(frames: Frames, cfg: Config, folder: Path) -> None:
    """Write the floor's copy once: day rows sorted by child and date, codes as the category-ordered Enum."""
    # Only the listed children's marks: the dashboard's figures count no one else.
    marks = frames.days()
    seen = pl.concat([marks["am"], marks["pm"]]).drop_nulls().unique().sort().to_list()
    listed = frames.children.select("upn").drop_nulls().unique()
    folder.mkdir(parents=True, exist_ok=True)
    (
        marks.join(listed, on="upn", how="semi")
        .with_columns(pl.col(SESSIONS).cast(pl.Enum(code_order(cfg, seen))))
        .sort("upn", "date")
        .write_parquet(folder / "marks.parquet")
    )
    frames.children.select(CHILD_COLUMNS).write_parquet(folder / "children.parquet")
    frames.episodes.write_parquet(folder / "episodes.parquet")
    frames.suspensions.write_parquet(folder / "suspensions.parquet")


@dataclass(frozen=True)
class FloorData:
    """What the floor reads, with the configuration whose rules it applies."""

    cfg: Config
    ends: tuple[int, ...]  # see category_ends
    marks: pl.DataFrame
    children: pl.DataFrame
    episodes: pl.DataFrame
    suspensions: pl.DataFrame
    calendar: pl.Series  # every date with a code: the authority's school days

    def school_days(self, window: Window) -> pl.Series:
        """The authority's school days in the window."""
        return self.calendar.filter(self.calendar.is_between(window.start, window.as_of))

    def sessions(self, categories: tuple[str, str]) -> pl.Expr:
        """A day row's sessions (0-2) with a code in the categories from the first to the last named."""
        first, last = (COUNTED_CATEGORIES.index(c) for c in categories)
        low, high = (self.ends[first - 1] if first else 0), self.ends[last]

        def one(session: str) -> pl.Expr:
            position = pl.col(session).to_physical()
            inside = position < high if low == 0 else position.is_between(low, high - 1)
            return inside.fill_null(False).cast(pl.UInt8)

        return one("am") + one("pm")


def read_floor(folder: Path, cfg: Config) -> FloorData:
    """Read the floor's parquet files (the floor's share of a cold start)."""
    marks = pl.read_parquet(folder / "marks.parquet")
    calendar = marks.lazy().filter(has_code()).select(pl.col("date").unique().sort()).collect().to_series()
    return FloorData(
        cfg,
        category_ends(cfg),
        marks,
        pl.read_parquet(folder / "children.parquet"),
        pl.read_parquet(folder / "episodes.parquet"),
        pl.read_parquet(folder / "suspensions.parquet"),
        calendar,
    )


# ---- sessions and flags --------------------------------------------------------------------------


def counted(d: FloorData, rows: pl.LazyFrame, **extra: pl.Expr) -> pl.LazyFrame:
    """Day rows with their possible and attended sessions (and any other columns asked for)."""
    return rows.with_columns(possible=d.sessions(POSSIBLE), attended=d.sessions(ATTENDED), **extra)


def window_rows(d: FloorData, window: Window, upns: pl.DataFrame | None, **extra: pl.Expr) -> pl.LazyFrame:
    """The window's day rows of the selected UPNs (None: every listed child), counted."""
    rows = d.marks.lazy().filter(window.contains())
    if upns is not None:
        rows = rows.join(upns.lazy(), on="upn", how="semi")
    return counted(d, rows, **extra)


def flags(cfg: Config, possible: pl.Expr, attended: pl.Expr) -> dict[str, pl.Expr]:
    """Attendance %, persistent and severe absence from session counts (absence: possible, not attended)."""
    absence = possible - attended
    th = cfg.thresholds
    return {
        "attendance_pct": metrics.attendance_pct(attended, possible),
        "persistent_absence": reaches(absence, possible, th.persistent_absence_pct),
        "severe_absence": reaches(absence, possible, th.severe_absence_pct),
    }


def to_date(cfg: Config, over: str | None = None) -> dict[str, pl.Expr]:
    """On rows sorted by week: has data, and is persistently absent, from the window start to the week's end."""
    possible, attended = pl.col("possible").cum_sum(), pl.col("attended").cum_sum()
    if over:
        possible, attended = possible.over(over), attended.over(over)
    return {"with_data": possible > 0, "persistent_absence": flags(cfg, possible, attended)["persistent_absence"]}


def rate(children: pl.Expr, of: pl.Expr) -> pl.Expr:
    """A share of children as a percentage; null when there are none to share."""
    return pl.when(of > 0).then(children * 100.0 / of)


# ---- who the filters select ----------------------------------------------------------------------


def current_school(d: FloorData, as_of: date) -> pl.DataFrame:
    """Per UPN, the school of the latest mark up to the as-at date that is not D (the larger URN on a tie)."""
    attending = sent_not_dual("am") | sent_not_dual("pm")
    return (
        d.marks.lazy()
        .filter((pl.col("date") <= as_of) & attending)
        .group_by("upn")
        .agg(school_urn=pl.col("urn").sort_by("date", "urn").last())
        .collect()
    )


def selection(d: FloorData, filters: Filters, window: Window) -> pl.DataFrame:
    """The children the filters select, with the cohorts each holds as at the as-at date."""
    held = cohorts.cohorts_by_child(cohorts.membership(d.episodes, window.as_of, d.cfg, start=window.start))
    children = d.children.join(held, on="la_child_id", how="left").with_columns(pl.col("cohorts").fill_null([]))
    if filters.cohort:
        children = children.filter(pl.col("cohorts").list.contains(filters.cohort))
    if filters.school_urn is not None:
        children = children.join(current_school(d, window.as_of), on="upn", how="left")
    return children.filter(filters.expression())


def upns_of(d: FloorData, children: pl.DataFrame) -> pl.DataFrame | None:
    """The selected children's UPNs, or None when every listed child is selected (no join needed)."""
    return None if children.height == d.children.height else children.select("upn").drop_nulls().unique()


def per_child(d: FloorData, window: Window, upns: pl.DataFrame | None) -> pl.DataFrame:
    """Per UPN with marks in the window: possible and attended sessions, attendance %, persistent and severe absence."""
    return (
        window_rows(d, window, upns)
        .group_by("upn")
        .agg(pl.col("possible", "attended").sum())
        .with_columns(**flags(d.cfg, pl.col("possible"), pl.col("attended")))
        .collect()
    )


def selected(d: FloorData, filters: Filters) -> tuple[Window, pl.DataFrame, pl.DataFrame]:
    """The filters' window, the children they select, and those children's per-child figures."""
    window = metrics.window_for(d.cfg, filters.as_of, filters.start)
    children = selection(d, filters, window)
    return window, children, per_child(d, window, upns_of(d, children))


# ---- the pages' figures --------------------------------------------------------------------------


def headline(children: pl.DataFrame, figures: pl.DataFrame) -> dict[str, Any]:
    """The headline cards: children selected, attendance %, persistent and severe absence among children with data."""
    with_data = (pl.col("possible") > 0).sum()
    cards = figures.select(
        children_with_data=with_data,
        attendance_pct=metrics.attendance_pct(pl.col("attended").sum(), pl.col("possible").sum()),
        persistent_absence_rate=rate(pl.col("persistent_absence").sum(), with_data),
        severe_absence_rate=rate(pl.col("severe_absence").sum(), with_data),
    ).row(0, named=True)
    return {"children": children.height, **cards}


def weekly(d: FloorData, window: Window, children: pl.DataFrame, cohort: str | None) -> pl.DataFrame:
    """The weekly trend per school week and cohort ('All' or the filter's: every child), as `views.cohort_trend`."""
    weeks = weeks_mod.school_weeks(d.school_days(window)).to_frame()
    upns = children.select("upn").drop_nulls().unique()
    sums = (
        window_rows(d, window, upns_of(d, children))
        .group_by("upn", pl.col("date").dt.truncate("1w").alias("week_start"))
        .agg(pl.col("possible", "attended").sum())
    )
    grid = (
        upns.lazy()
        .join(weeks.lazy(), how="cross")  # every child in every school week, marked or not
        .join(sums, on=["upn", "week_start"], how="left")
        .with_columns(pl.col("possible", "attended").fill_null(0))
        .sort("upn", "week_start")
        .with_columns(**to_date(d.cfg, over="upn"))
    )
    labels = children.select("upn", cohort=pl.lit(cohort or "All"))
    if not cohort:
        labels = pl.concat([labels, children.select("upn", cohort="cohorts").explode("cohort")])
    return (
        grid.join(labels.drop_nulls().lazy(), on="upn")
        .group_by("cohort", "week_start")
        .agg(pl.col("possible", "attended", "with_data", "persistent_absence").sum())
        .with_columns(
            attendance_pct=metrics.attendance_pct(pl.col("attended"), pl.col("possible")),
            persistent_absence_rate=rate(pl.col("persistent_absence"), pl.col("with_data")),
        )
        .sort("cohort", "week_start")
        .collect()
    )


def overview(d: FloorData, filters: Filters) -> dict[str, Any]:
    """The overview: the headline now and a month before, and the weekly trend by cohort."""
    window, children, figures = selected(d, filters)
    _, earlier, earlier_figures = selected(d, last_month_filters(filters))
    return {
        "now": headline(children, figures),
        "then": headline(earlier, earlier_figures),
        "weekly": weekly(d, window, children, filters.cohort),
    }


def drift_spans(weeks: pl.Series, n: int) -> tuple[date | None, date | None]:
    """The first school week of the span before the last `n`, and of the last `n` (None: too few weeks)."""
    recent = weeks[-n] if 0 < n <= len(weeks) else None
    prior = weeks[max(len(weeks) - 2 * n, 0)] if len(weeks) > n else None
    return prior, recent


def span(value: pl.Expr, first: date | None, before: date | None) -> pl.Expr:
    """The sum of a day column over the weeks from `first` to before `before` (0 when there is no span)."""
    if first is None:
        return pl.lit(0, dtype=pl.Int64)
    week = pl.col("week_start")
    return value.filter((week >= first) & (week < before if before is not None else pl.lit(True))).sum()


def signals_by_child(d: FloorData, window: Window, children: pl.DataFrame, days: pl.Series) -> pl.LazyFrame:
    """Per UPN from the window's day rows: sessions, the unauthorised run, the drift spans, part-time lately."""
    weeks = weeks_mod.school_weeks(days)
    prior, recent = drift_spans(weeks, d.cfg.thresholds.drift_weeks)
    part_time_from = weeks[-min(triage.PART_TIME_SCHOOL_WEEKS, len(weeks))] if len(weeks) else None
    possible, attended, unauthorised = pl.col("possible"), pl.col("attended"), pl.col("unauthorised")
    # Domain (as the week summary): a day is unauthorised absence when all its possible sessions are; days
    # with no possible session neither break nor extend the run.
    broke = pl.col("date").filter((possible > 0) & (unauthorised < possible)).max().fill_null(date.min)
    by_day = (
        window_rows(
            d,
            window,
            upns_of(d, children),
            unauthorised=d.sessions(UNAUTHORISED),
            part_time=(pl.col("am") == PART_TIME_CODE) | (pl.col("pm") == PART_TIME_CODE),
        )
        .group_by("upn", "date")
        .agg(pl.col("possible", "attended", "unauthorised").sum(), pl.col("part_time").any())
        .with_columns(week_start=pl.col("date").dt.truncate("1w"))
    )
    return by_day.group_by("upn").agg(
        possible.sum(),
        attended.sum(),
        consecutive_unauthorised_days=((possible > 0) & (unauthorised == possible) & (pl.col("date") > broke)).sum(),
        _recent_attended=span(attended, recent, None),
        _recent_possible=span(possible, recent, None),
        _prior_attended=span(attended, prior, recent),
        _prior_possible=span(possible, prior, recent),
        part_time_timetable=(pl.col("part_time") & (pl.col("week_start") >= part_time_from)).any()
        if part_time_from
        else pl.lit(False),
    )


def triage_list(d: FloorData, filters: Filters) -> pl.DataFrame:
    """The triage list: each selected child with at least one of `triage.SIGNALS`, most urgent first."""
    cfg, th = d.cfg, d.cfg.thresholds
    window = metrics.window_for(cfg, filters.as_of, filters.start)
    children = selection(d, filters, window)
    days = d.school_days(window)
    last_mark = (
        d.marks.lazy()
        .filter((pl.col("date") <= window.as_of) & has_code())
        .group_by("upn")
        .agg(last_mark_date=pl.col("date").max())
    )
    suspended = recent_suspensions(
        d.suspensions, window, last_days_start(days, window, th.recent_suspension_school_days)
    )
    joined = new_episodes(d.episodes, window, last_days_start(days, window, th.new_to_cohort_school_days))
    return (
        children.lazy()
        .join(signals_by_child(d, window, children, days), on="upn", how="left")
        .join(last_mark, on="upn", how="left")
        .join(suspended.lazy(), on="upn", how="left")
        .join(joined.lazy(), on="la_child_id", how="left")
        .with_columns(
            pl.col("possible", "attended", "consecutive_unauthorised_days").fill_null(0),
            pl.col("part_time_timetable").fill_null(False),
            days_since_last_mark=school_days_after(days, pl.col("last_mark_date")),
        )
        # Each signal from its inputs, as in `triage.signals` (which has no public function for this step yet).
        .with_columns(
            **flags(cfg, pl.col("possible"), pl.col("attended")),
            consecutive_unauthorised=pl.col("consecutive_unauthorised_days") >= th.consecutive_unauthorised_days,
            not_seen=not_seen(th.not_seen_school_days),
            drift=drifted(th.drift_points),
            recent_suspension=pl.col("_suspension_date").is_not_null(),
            new_to_cohort=pl.col("_new_cohort").is_not_null(),
        )
        .filter(pl.any_horizontal(triage.SIGNALS))
        .sort([*triage.SIGNALS, "attendance_pct"], descending=[True] * len(triage.SIGNALS) + [False], nulls_last=True)
        .collect()
    )


def child_page(d: FloorData, filters: Filters, upn: str) -> dict[str, Any]:
    """One child's page: the window's figures and weeks, every school marked, the authority's school days."""
    window = metrics.window_for(d.cfg, filters.as_of, filters.start)
    mine = d.marks.lazy().filter(pl.col("upn") == upn)
    weeks = (
        counted(d, mine.filter(window.contains() & has_code()))
        .group_by(pl.col("date").dt.truncate("1w").alias("week_start"))
        .agg(pl.col("possible", "attended").sum())
        .sort("week_start")
        .with_columns(**to_date(d.cfg))
        .collect()
    )
    figures = (
        weeks.select(pl.col("possible", "attended").sum())
        .with_columns(**flags(d.cfg, pl.col("possible"), pl.col("attended")))
        .row(0, named=True)
    )
    schools = mine.group_by("urn").agg(first=pl.col("date").min(), last=pl.col("date").max(), days=pl.len())
    return {
        "figures": figures,
        "weekly": weeks,
        "schools": schools.sort("first").collect(),
        "school_days": d.school_days(window),
    }


def call(page: str, d: FloorData, filters: Filters, child_upn: str) -> Callable[[], Any]:
    """The floor of a page for one filter state, as a call to time."""
    if page == "overview":
        return lambda: overview(d, filters)
    if page == "triage":
        return lambda: triage_list(d, filters)
    return lambda: child_page(d, filters, child_upn)


def cold_call(page: str, folder: Path, cfg: Config, filters: Filters, child_upn: str) -> Callable[[], Any]:
    """The floor of a cold page: read the parquet, then compute the first visit."""
    return lambda: call(page, read_floor(folder, cfg), filters, child_upn)()
