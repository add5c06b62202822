"""Triage: which children need a call today, and why, in words a virtual-school officer would use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from vsdash import metrics, sessions
from vsdash import suspensions as suspensions_mod
from vsdash import weeks as weeks_mod
from vsdash.config import Config, Thresholds
from vsdash.metrics import Window, WindowFigures
from vsdash.weeks import PART_TIME_CODE

PART_TIME_SCHOOL_WEEKS = 4  # a part-time timetable is worth a call if used in the last 4 school weeks

# Signals, most urgent first: `urgency` is the position of the most urgent signal a child has.
SIGNALS = (
    "severe_absence",
    "consecutive_unauthorised",
    "not_seen",
    "drift",
    "recent_suspension",
    "part_time_timetable",
    "persistent_absence",
    "new_to_cohort",
)


def signals(figures: WindowFigures) -> pl.DataFrame:
    """One row per child of a window's figures: a bool per signal, the reasons in plain words, and an
    urgency rank (1 = most urgent).

    For one child's page, pass the figures of that child's frames worked out with the authority's
    calendar, so "school days since the last mark" counts the authority's school days.
    """
    frames, window, cfg, days = figures.frames, figures.window, figures.cfg, figures.school_days
    weeks = weeks_mod.school_weeks(days)
    th = cfg.thresholds
    rows = (
        figures.children.join(_runs_and_drift(figures.rows, cfg, weeks), on="upn", how="left")
        .join(
            recent_suspensions(
                frames.suspensions, window, last_days_start(days, window, th.recent_suspension_school_days)
            ),
            on="upn",
            how="left",
        )
        .join(
            new_episodes(frames.episodes, window, last_days_start(days, window, th.new_to_cohort_school_days)),
            on="la_child_id",
            how="left",
        )
        .with_columns(
            pl.col("consecutive_absence_days", "consecutive_unauthorised_days").fill_null(0),
            pl.col("part_time_timetable").fill_null(False),
            days_since_last_mark=school_days_after(days, pl.col("last_mark_date")),
        )
        .with_columns(
            consecutive_unauthorised=pl.col("consecutive_unauthorised_days") >= th.consecutive_unauthorised_days,
            not_seen=not_seen_for(th.not_seen_school_days),
            no_attendance=no_attendance_received(),
            drift=drifted(th.drift_points),
            recent_suspension=pl.col("_suspension_date").is_not_null(),
            new_to_cohort=pl.col("_new_cohort").is_not_null(),
        )
    )
    urgency = pl.min_horizontal(pl.when(pl.col(s)).then(rank) for rank, s in enumerate(SIGNALS, start=1))
    return (
        rows.with_columns(
            reasons=pl.concat_list(_reasons(th)).list.drop_nulls(),
            signal_count=pl.sum_horizontal(pl.col(SIGNALS).cast(pl.Int64)),
            urgency=urgency.cast(pl.Int64),
        )
        .select(
            "la_child_id",
            "upn",
            "cohorts",
            "school_urn",
            "attendance_pct",
            *SIGNALS,
            "no_attendance",
            "urgency",
            "signal_count",
            "reasons",
            "consecutive_absence_days",
            "consecutive_unauthorised_days",
            "days_since_last_mark",
            "last_mark_date",
            "social_worker",
            "team",
            "locality",
            *[c for c in metrics.PER_CHILD_SCHEMA if c not in TRIAGE_OWN_COLUMNS],
        )
        .sort(["urgency", "signal_count", "la_child_id"], descending=[False, True, False], nulls_last=True)
    )


# Per-child columns named explicitly above; the rest follow, so filters and pages find every attribute.
TRIAGE_OWN_COLUMNS = {
    "la_child_id",
    "upn",
    "cohorts",
    "school_urn",
    "attendance_pct",
    "persistent_absence",
    "severe_absence",
    "last_mark_date",
    "social_worker",
    "team",
    "locality",
}


def last_days_start(days: pl.Series, window: Window, n: int) -> date:
    """First of the last `n` school days (the window start when there are fewer)."""
    return days[-n] if 0 < n <= len(days) else window.start


def school_days_after(days: pl.Series, last: pl.Expr) -> pl.Expr:
    """School days strictly after a date (null when there is no date): how long a child has gone unseen."""
    return pl.when(last.is_not_null()).then(
        pl.lit(len(days), dtype=pl.Int64) - pl.lit(days).search_sorted(last, side="right").cast(pl.Int64)
    )


def _runs_and_drift(rows: pl.DataFrame, cfg: Config, weeks: pl.Series) -> pl.DataFrame:
    """Per UPN: the current runs of absent days, attendance in the two drift spans, and any C2 lately,
    from the window's week rows (`WindowFigures.rows`).

    Worked out over the recent weeks the spans cover; only the children whose runs those weeks do not
    break (absent throughout, or not marked lately) are followed back through the window's earlier weeks."""
    n = cfg.thresholds.drift_weeks
    recent_from = weeks[-n] if 0 < n <= len(weeks) else None
    prior_from = weeks[max(len(weeks) - 2 * n, 0)] if len(weeks) > n else None
    part_time_from = weeks[-min(PART_TIME_SCHOOL_WEEKS, len(weeks))] if len(weeks) else None
    monday = pl.col("week_start")
    parts = sessions.columns()
    attended, possible = sessions.attended(parts), sessions.possible(parts)

    def span(first: date | None, last: date | None, value: pl.Expr) -> pl.Expr:
        """A row's sessions when its week is in a span (worked out per row: sums in a group stay plain)."""
        if first is None:
            return pl.lit(0, dtype=pl.Int64)
        inside = (monday >= first) & ((monday < last) if last is not None else pl.lit(True))
        return pl.when(inside).then(value).otherwise(0).cast(pl.Int64)

    # Each run: the days after the child's last day that broke it, in that day's week and every later week.
    run_columns = (
        ("consecutive_absence_days", "absent_days_after", "last_attended"),
        ("consecutive_unauthorised_days", "unauthorised_days_after", "last_not_unauthorised"),
    )
    run_names = [name for name, _, _ in run_columns]

    def with_run_starts(weeks_rows: pl.LazyFrame) -> pl.LazyFrame:
        """Each row with the Monday of its child's last break of each run (or of any week, when none)."""
        starts = weeks_rows.group_by("upn").agg(
            pl.col(broken_on).max().dt.truncate("1w").fill_null(date(1, 1, 1)).alias(f"_{name}_from")
            for name, _, broken_on in run_columns
        )
        return weeks_rows.join(starts, on="upn").with_columns(
            pl.when(monday >= pl.col(f"_{name}_from")).then(pl.col(days_after)).otherwise(0).cast(pl.Int64).alias(name)
            for name, days_after, _ in run_columns
        )

    in_window = rows.lazy().filter(pl.col("in_window"))
    starts = [d for d in (prior_from, part_time_from) if d is not None]
    recent = in_window.filter(monday >= min(starts)) if starts else in_window
    lately = (
        with_run_starts(recent)
        .with_columns(
            _recent_attended=span(recent_from, None, attended),
            _recent_possible=span(recent_from, None, possible),
            _prior_attended=span(prior_from, recent_from, attended),
            _prior_possible=span(prior_from, recent_from, possible),
            part_time_timetable=(pl.col("part_time_days") > 0) & (monday >= part_time_from)
            if part_time_from
            else pl.lit(False),
        )
        .group_by("upn")
        .agg(
            pl.col(run_names).sum(),
            *(pl.col(f"_{s}_{v}").sum() for s in ("recent", "prior") for v in ("attended", "possible")),
            pl.col("part_time_timetable").any(),
            _broken=pl.col("last_attended").is_not_null().any() & pl.col("last_not_unauthorised").is_not_null().any(),
        )
        .collect()
    )
    if not starts:
        return lately.drop("_broken")
    broken = lately.filter(pl.col("_broken"))
    earlier = in_window.join(broken.lazy().select("upn"), on="upn", how="anti")
    longer = with_run_starts(earlier).group_by("upn").agg(pl.col(run_names).sum()).collect()
    every_run = pl.concat([broken.select("upn", *run_names), longer])  # every child with a row in the window
    return every_run.join(lately.drop("_broken", *run_names), on="upn", how="left")


def drifted(points: int) -> pl.Expr:
    """Attendance in the recent span at least `points` below the span before, both with possible sessions.

    Compared in integers (prior% - recent% >= points, cross-multiplied) so 95% -> 85% is exactly 10 points.
    """
    ra, rp = pl.col("_recent_attended"), pl.col("_recent_possible")
    pa, pp = pl.col("_prior_attended"), pl.col("_prior_possible")
    fell = (pa * rp - ra * pp) * 100 >= points * pp * rp
    return ((rp > 0) & (pp > 0) & fell).fill_null(False)


def not_seen_for(school_days: int) -> pl.Expr:
    """In a cohort now, marked before, and no mark for the last `school_days` school days.

    A child with no mark ever is not a call for the officer but a matching question for the data manager
    (`no_attendance_received`, the data-quality page's exceptions report)."""
    in_cohort = pl.col("cohorts").list.len() > 0
    return in_cohort & (pl.col("days_since_last_mark") >= school_days).fill_null(False)


def no_attendance_received() -> pl.Expr:
    """In a cohort now, and no attendance mark ever matched to the child."""
    return (pl.col("cohorts").list.len() > 0) & pl.col("last_mark_date").is_null()


def recent_suspensions(suspensions: pl.DataFrame, window: Window, since: date) -> pl.DataFrame:
    """Per UPN: the latest suspension or permanent exclusion starting in the recent school days."""
    return (
        suspensions_mod.recent(suspensions, since, window.as_of)
        .sort("start_date")
        .group_by("upn")
        .agg(
            pl.col("start_date").last().alias("_suspension_date"),
            pl.col("category").last().alias("_suspension_category"),
            pl.len().cast(pl.Int64).alias("recent_suspensions"),
        )
    )


def new_episodes(episodes: pl.DataFrame, window: Window, since: date) -> pl.DataFrame:
    """Per child: the cohorts whose episodes started in the recent school days, with the latest start."""
    return (
        episodes.filter(pl.col("start_date").is_between(since, window.as_of))
        .group_by("la_child_id")
        .agg(
            pl.col("cohort").unique().sort().str.join(", ").alias("_new_cohort"),
            pl.col("start_date").max().alias("_new_since"),
        )
    )


def uk_date(day: pl.Expr) -> pl.Expr:
    """A date as people in England write it in a sentence: 19/01/2026."""
    return day.dt.strftime("%d/%m/%Y")


def _pct(value: pl.Expr) -> pl.Expr:
    """A percentage as text with one decimal place."""
    return value.round(1).cast(pl.String) + "%"


def _span_pct(attended: str, possible: str) -> pl.Expr:
    """Attendance % of a drift span as text."""
    return _pct(metrics.attendance_pct(pl.col(attended), pl.col(possible)))


def _reasons(th: Thresholds) -> list[pl.Expr]:
    """One sentence per signal held, most urgent first."""
    text = {
        "severe_absence": pl.lit("severe absence: attendance ")
        + _pct(pl.col("attendance_pct")),  # the threshold is the glossary's (a column's help), not repeated per row
        "consecutive_unauthorised": pl.lit("absent without authorisation for ")
        + pl.col("consecutive_unauthorised_days").cast(pl.String)
        + " consecutive school days",
        "not_seen": pl.lit("no mark received for ")
        + pl.col("days_since_last_mark").cast(pl.String)
        + " school days (last "
        + uk_date(pl.col("last_mark_date"))
        + ")",
        "drift": pl.lit("attendance fell from ")
        + _span_pct("_prior_attended", "_prior_possible")
        + " to "
        + _span_pct("_recent_attended", "_recent_possible")
        + pl.lit(f" over the last {th.drift_weeks} school weeks"),
        "recent_suspension": pl.when(pl.col("_suspension_category") == "permanent_exclusion")
        .then(pl.lit("permanently excluded on "))
        .otherwise(pl.lit("suspended on "))
        + uk_date(pl.col("_suspension_date")),
        "part_time_timetable": pl.lit(
            f"on a part-time timetable ({PART_TIME_CODE}) in the last {PART_TIME_SCHOOL_WEEKS} school weeks"
        ),
        "persistent_absence": pl.lit("persistent absence: attendance ") + _pct(pl.col("attendance_pct")),
        "new_to_cohort": pl.lit("new to ") + pl.col("_new_cohort") + " since " + uk_date(pl.col("_new_since")),
    }
    shown = {s: pl.col(s) for s in SIGNALS}
    shown["persistent_absence"] = pl.col("persistent_absence") & ~pl.col("severe_absence")  # severe says it already
    return [pl.when(shown[signal]).then(text[signal]) for signal in SIGNALS]


@dataclass(frozen=True)
class ChildSignals:
    """One child's triage signals by name (a row of `signals`, without the figures it repeats)."""

    severe_absence: bool
    consecutive_unauthorised: bool
    not_seen: bool
    drift: bool
    recent_suspension: bool
    part_time_timetable: bool
    persistent_absence: bool
    new_to_cohort: bool
    no_attendance: bool  # in a cohort and never marked: a matching question, not one of the signals
    urgency: int | None  # the most urgent signal's rank (None: no signal)
    signal_count: int
    reasons: list[str]  # one sentence per signal held, most urgent first
    consecutive_absence_days: int
    consecutive_unauthorised_days: int
    days_since_last_mark: int | None
