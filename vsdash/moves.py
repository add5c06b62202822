"""School moves read from the attendance marks: where a child's marks move from one school to another.

Virtual school heads say they lack data on school moves (managed moves, off-site directions, in-year
moves) that can hide a child being moved on; the marks already hold them. The rule, on one child's day rows:

- each day the child attends a school (a code that is not D) that school holds them; consecutive days at
  the same school are one stay;
- the next stay at another school is a **move** when the old school no longer sends marks for the child on
  the last day of the new stay (it let the child go) and the new school sent none on the last day of the old
  stay (it was not already a dual place). Dual registration (`D` at one school while the child attends the
  other) is therefore never a move, whichever school the child attends on which day;
- a move to a school the child attended before is a **move back**.

Pure polars; the dashboard passes every day row once per data version, a child's page that child's rows.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from vsdash import sessions
from vsdash import suspensions as suspensions_mod

WEEKS_BEFORE = 4  # a move within 4 weeks of a suspension may be a managed move or off-rolling

MOVES_SCHEMA = {
    "upn": pl.String,
    "move_date": pl.Date,
    "from_urn": pl.Int64,
    "to_urn": pl.Int64,
    "last_day_before": pl.Date,
    "move_back": pl.Boolean,
}


def stays(marks: pl.DataFrame) -> pl.DataFrame:
    """Per UPN, each run of consecutive attended days at one school: the school, the first and last day."""
    attending = sessions.sent_not_dual("am") | sessions.sent_not_dual("pm")
    daily = (
        marks.filter(attending)
        .group_by("upn", "date")
        .agg(pl.col("urn").max())  # two schools attended on one day: the larger URN, as the week summary does
        .sort("upn", "date")
    )
    changed = (pl.col("urn") != pl.col("urn").shift(1).over("upn")).fill_null(True)
    return (
        daily.with_columns(_stay=changed.cast(pl.Int64).cum_sum().over("upn"))
        .group_by("upn", "_stay")
        .agg(pl.col("urn").first(), pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
        .sort("upn", "_stay")
    )


def school_moves(marks: pl.DataFrame) -> pl.DataFrame:
    """Every move in the day rows given (see the module's rule), oldest first: the first day at the new school,
    the schools from and to, the last day at the old school, and whether it is a move back."""
    runs = stays(marks)
    pairs = runs.with_columns(
        to_urn=pl.col("urn").shift(-1).over("upn"),
        move_date=pl.col("first").shift(-1).over("upn"),
        to_last=pl.col("last").shift(-1).over("upn"),
        _seen=pl.col("urn").implode().over("upn", mapping_strategy="join"),
    ).filter(pl.col("to_urn").is_not_null())
    on_roll = marks.select("upn", "urn", "date").unique()
    old_still_sending = on_roll.rename({"date": "to_last"})
    new_already_sending = on_roll.rename({"urn": "to_urn", "date": "last"})
    moves = (
        pairs.join(old_still_sending, on=["upn", "urn", "to_last"], how="anti")
        .join(new_already_sending, on=["upn", "to_urn", "last"], how="anti")
        .with_columns(
            # A move back: the new school is one of the stays up to this one (`_stay` counts them from 1).
            move_back=pl.col("_seen").list.head(pl.col("_stay")).list.contains(pl.col("to_urn"))
        )
    )
    return (
        moves.select(
            "upn",
            "move_date",
            pl.col("urn").alias("from_urn"),
            "to_urn",
            pl.col("last").alias("last_day_before"),
            "move_back",
        )
        .cast(MOVES_SCHEMA)  # type: ignore[arg-type]  # polars' stubs refuse a Mapping[str, ...] schema
        .sort("upn", "move_date")
    )


def suspended_before(moves: pl.DataFrame, suspensions: pl.DataFrame, weeks: int = WEEKS_BEFORE) -> pl.DataFrame:
    """The moves with whether the child was suspended or excluded (any school) in the `weeks` weeks before the
    move, and the latest such start date."""
    events = suspensions.filter(pl.col("category").is_in(suspensions_mod.COUNTED)).select(
        "upn", pl.col("start_date").alias("suspended_on")
    )
    span = timedelta(weeks=weeks)
    within = (
        moves.select("upn", "move_date")
        .unique()
        .join(events, on="upn")
        .filter((pl.col("suspended_on") < pl.col("move_date")) & (pl.col("suspended_on") >= pl.col("move_date") - span))
        .group_by("upn", "move_date")
        .agg(pl.col("suspended_on").max())
    )
    return moves.join(within, on=["upn", "move_date"], how="left").with_columns(
        suspended_before=pl.col("suspended_on").is_not_null()
    )


def in_window(moves: pl.DataFrame, start: date, as_of: date) -> pl.DataFrame:
    """The moves whose first day at the new school falls in the window."""
    return moves.filter(pl.col("move_date").is_between(start, as_of))


def by_school(moves: pl.DataFrame) -> pl.DataFrame:
    """Per school: moves out of it, moves into it, and the moves out within the weeks after a suspension."""
    out = moves.group_by(pl.col("from_urn").alias("urn")).agg(
        pl.len().cast(pl.Int64).alias("moves_out"),
        pl.col("suspended_before").sum().cast(pl.Int64).alias("moves_out_after_suspension"),
    )
    into = moves.group_by(pl.col("to_urn").alias("urn")).agg(pl.len().cast(pl.Int64).alias("moves_in"))
    return (
        out.join(into, on="urn", how="full", coalesce=True)
        .with_columns(pl.col("moves_out", "moves_in", "moves_out_after_suspension").fill_null(0))
        .sort(["moves_out", "moves_in", "urn"], descending=[True, True, False])
    )
