"""Cohort membership as at a date, from dated episodes: who the virtual school counts, and when."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from vsdash.config import Config
from vsdash.frames import Schema

# Cohorts a child holds through social-care episodes; EVER6 looks back over these.
SOCIAL_CARE_COHORTS = ("CIN", "CP", "CLA")
# Children with a social worker: a CIN or CP plan now.
SOCIAL_WORKER_COHORTS = ("CIN", "CP")

MEMBERSHIP_SCHEMA: Schema = {"la_child_id": pl.String, "cohort": pl.String}


def membership(
    episodes: pl.DataFrame,
    as_of: date,
    cfg: Config,
    start: date | None = None,
    any_time_in_window: bool = False,
) -> pl.DataFrame:
    """Who is in which cohort as at `as_of` (or at any time in [start, as_of]), derived cohorts included."""
    first = as_of
    if any_time_in_window:
        if start is None:
            raise ValueError("any_time_in_window needs the window start")
        first = start
    held = _overlapping(episodes, first, as_of).filter(~pl.col("cohort").is_in(["EVER6"]))
    social_worker = held.filter(pl.col("cohort").is_in(SOCIAL_WORKER_COHORTS)).with_columns(cohort=pl.lit("CWSW"))
    if any_time_in_window:
        ever6 = _ever6_any_time(episodes, first, as_of, cfg.thresholds.ever6_years)
    else:
        ever6 = _ever6_at(episodes, as_of, cfg.thresholds.ever6_years)
    members = pl.concat([held.select(list(MEMBERSHIP_SCHEMA)), social_worker.select(list(MEMBERSHIP_SCHEMA)), ever6])
    return members.unique().sort("la_child_id", "cohort")


def cohorts_by_child(members: pl.DataFrame) -> pl.DataFrame:
    """One row per child with the sorted list of cohorts held, for grouping and display, from `membership`
    (unique and sorted by child and cohort, so each child's rows are already the list, in order)."""
    return members.group_by("la_child_id").agg(pl.col("cohort").alias("cohorts"))


def history(episodes: pl.DataFrame, la_child_id: str, cfg: Config | None = None) -> pl.DataFrame:
    """A child's dated cohort episodes, oldest first, so a page can show how membership changed."""
    rows = episodes.filter(pl.col("la_child_id") == la_child_id).sort("start_date", "cohort", nulls_last=False)
    rows = rows.with_columns(open=pl.col("end_date").is_null())
    if cfg is not None:
        rows = rows.with_columns(label=pl.col("cohort").replace_strict(cfg.cohorts, default=pl.col("cohort")))
    return rows


def _overlapping(episodes: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """Episodes covering at least one day of [first, last]; a null start counts as always begun."""
    begun = pl.col("start_date").is_null() | (pl.col("start_date") <= last)
    not_ended = pl.col("end_date").is_null() | (pl.col("end_date") >= first)
    return episodes.filter(begun & not_ended & pl.col("la_child_id").is_not_null())


def _ever6_at(episodes: pl.DataFrame, day: date, years: int) -> pl.DataFrame:
    """EVER6 as at one day: no CIN, CP or CLA episode now, but one ended within `years` years."""
    in_social_care = _overlapping(episodes, day, day).filter(pl.col("cohort").is_in(SOCIAL_CARE_COHORTS))
    # Domain: a CIN/CP plan or a CLA episode ending within the last 6 years (DfE Ever 6 definition).
    ended = episodes.filter(
        pl.col("cohort").is_in(SOCIAL_CARE_COHORTS)
        & (pl.col("end_date") < day)
        & (pl.col("end_date") >= years_before(day, years))
    )
    explicit = _overlapping(episodes, day, day).filter(pl.col("cohort") == "EVER6")
    candidates = pl.concat([ended.select("la_child_id"), explicit.select("la_child_id")])
    return (
        candidates.join(in_social_care.select("la_child_id"), on="la_child_id", how="anti")
        .unique()
        .with_columns(cohort=pl.lit("EVER6"))
        .select(list(MEMBERSHIP_SCHEMA))
    )


def _ever6_any_time(episodes: pl.DataFrame, first: date, last: date, years: int) -> pl.DataFrame:
    """EVER6 on at least one day of [first, last]: at either end, or on the day after a plan ended in between."""
    social_care = episodes.filter(pl.col("cohort").is_in(SOCIAL_CARE_COHORTS))
    # A child becomes EVER6 the day after their last covering episode ends, unless another starts at once.
    day_after = social_care.filter((pl.col("end_date") >= first) & (pl.col("end_date") < last)).select(
        "la_child_id", day=pl.col("end_date") + timedelta(days=1)
    )
    covered = day_after.join(social_care, on="la_child_id").filter(
        (pl.col("start_date").is_null() | (pl.col("start_date") <= pl.col("day")))
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("day")))
    )
    became = day_after.join(covered.select("la_child_id", "day"), on=["la_child_id", "day"], how="anti")
    # An explicit EVER6 episode overlapping the window also counts.
    explicit = _overlapping(episodes, first, last).filter(pl.col("cohort") == "EVER6")
    ids = pl.concat(
        [
            _ever6_at(episodes, first, years).select("la_child_id"),
            _ever6_at(episodes, last, years).select("la_child_id"),
            became.select("la_child_id"),
            explicit.select("la_child_id"),
        ]
    )
    return ids.unique().with_columns(cohort=pl.lit("EVER6")).select(list(MEMBERSHIP_SCHEMA))


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` years earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
