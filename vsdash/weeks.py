"""The per-child-week summary: a child's marks in one week as one row, kept by the store as it loads.

A window's figures read the summary for the weeks wholly inside it and work out again, from day rows,
only the weeks the window cuts: a year is 1.2M summary rows at 30,000 children instead of 5.6M day rows
(see the README's Speed section).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from vsdash.config import Config
from vsdash.frames import Frames
from vsdash.sessions import COUNTED_CATEGORIES, SESSION_COLUMNS, counters, has_code, packed_sessions, sent_not_dual

PART_TIME_CODE = "C2"  # DfE: authorised absence, part-time timetable

COUNTS = list(SESSION_COLUMNS.values())
WEEKS_SCHEMA: dict[str, pl.DataType] = {
    "upn": pl.String,
    "week_start": pl.Date,                 # Monday
    **{c: pl.Int32 for c in COUNTS},       # sessions of each category
    "days": pl.Int32,                      # bit d set: a code on Monday + d days (the calendar, the last mark)
    "school_date": pl.Date,                # latest day attending a school (a code that is not D) ...
    "school_urn": pl.Int64,                # ... and that school (the larger URN on a tie)
    "last_attended": pl.Date,              # latest day not wholly absent, with a possible session
    "absent_days_after": pl.Int32,         # wholly absent days after it in the week (all of them if none)
    "last_not_unauthorised": pl.Date,      # the same for unauthorised absence
    "unauthorised_days_after": pl.Int32,
    "part_time": pl.Boolean,               # a part-time timetable code (C2) in the week
}
# What a week before the window keeps: only where the child was and when they were last marked.
_HISTORY = ("upn", "week_start", "days", "school_date", "school_urn")
_WEEKDAY_BIT = {day: 1 << (day - 1) for day in range(1, 8)}  # polars numbers Monday 1
_LONG_AGO = date(1, 1, 1)


def monday(day: date) -> date:
    """Monday of the ISO week containing the day."""
    return day - timedelta(days=day.weekday())


def summarise(days: pl.DataFrame | pl.LazyFrame, cfg: Config, start: date | None = None,
              as_of: date | None = None) -> pl.DataFrame:
    """One summary row per UPN and week of the day rows given.

    With a window, sessions, absence runs and the part-time timetable count only days from `start`, and
    nothing after `as_of` counts at all: the rows of a week the window cuts.
    """
    rows = days.lazy()
    if as_of is not None:
        rows = rows.filter(pl.col("date") <= as_of)
    inside = pl.col("date") >= start if start is not None else pl.lit(True)
    parts = counters("_packed")
    possible = sum(parts.values())
    absence = parts["authorised"] + parts["unauthorised"]
    # Domain: a day counts as absent when all its possible sessions are absences; days with no possible
    # session (X, Y1-Y7, #, D ...) neither break nor extend a run of absence.
    counted = possible > 0
    per_row = rows.with_columns(pl.when(inside).then(packed_sessions(cfg)).otherwise(0).alias("_packed")).select(
        "upn", "date",
        pl.col("date").dt.truncate("1w").alias("week_start"),
        *(parts[c].alias(SESSION_COLUMNS[c]) for c in COUNTED_CATEGORIES),
        _day=pl.when(has_code()).then(pl.col("date").dt.weekday().replace_strict(_WEEKDAY_BIT, return_dtype=pl.Int32))
        .otherwise(0),
        # Domain: the current school is the latest mark that is not D; latest date, then larger URN, in one integer.
        _school=pl.when(sent_not_dual("am") | sent_not_dual("pm"))
        .then(pl.col("date").cast(pl.Int64) * (1 << 32) + pl.col("urn")),
        _attended_on=pl.when(counted & (absence < possible)).then(pl.col("date")),
        _absent=counted & (absence == possible),
        _not_unauthorised_on=pl.when(counted & (parts["unauthorised"] < possible)).then(pl.col("date")),
        _unauthorised=counted & (parts["unauthorised"] == possible),
        part_time=inside & ((pl.col("am") == PART_TIME_CODE) | (pl.col("pm") == PART_TIME_CODE)),
    )
    out = (
        per_row.group_by("upn", "week_start")
        .agg(
            pl.col(COUNTS).sum(),
            pl.col("_day").bitwise_or().alias("days"),
            pl.col("_school").max(),
            pl.col("_attended_on").max().alias("last_attended"),
            _days_after("_absent", "_attended_on").alias("absent_days_after"),
            pl.col("_not_unauthorised_on").max().alias("last_not_unauthorised"),
            _days_after("_unauthorised", "_not_unauthorised_on").alias("unauthorised_days_after"),
            pl.col("part_time").any(),
        )
        .with_columns(
            school_date=(pl.col("_school") // (1 << 32)).cast(pl.Int32).cast(pl.Date),
            school_urn=pl.col("_school") % (1 << 32),
        )
        .select(list(WEEKS_SCHEMA))
        .collect()
    )
    return out.cast(WEEKS_SCHEMA)


def _days_after(flag: str, broken_on: str) -> pl.Expr:
    """Distinct flagged days after the week's last day that broke the run (all of them when none did)."""
    last = pl.col(broken_on).max().fill_null(pl.lit(_LONG_AGO))
    return pl.col("date").filter(pl.col(flag) & (pl.col("date") > last)).n_unique().cast(pl.Int32)


def of(frames: Frames, cfg: Config) -> pl.DataFrame:
    """The frames' summary: the store's, or worked out from the marks held in memory."""
    return frames.weeks if frames.weeks is not None else summarise(frames.days(), cfg)


def calendar(summary: pl.DataFrame) -> pl.Series:
    """Every date on which any child has any mark, sorted: the authority's school days before any window."""
    bits = pl.DataFrame({"_offset": range(7), "_bit": [1 << d for d in range(7)]}, schema={"_offset": pl.Int32, "_bit": pl.Int32})
    return (
        summary.lazy().group_by("week_start").agg(pl.col("days").bitwise_or())
        .join(bits.lazy(), how="cross")
        .filter((pl.col("days") & pl.col("_bit")) != 0)
        .select((pl.col("week_start") + pl.duration(days=pl.col("_offset"))).alias("date"))
        .sort("date")
        .collect()
        .to_series()
    )


def last_mark_date() -> pl.Expr:
    """The latest day of a summary row with a code (null when none): its highest day bit."""
    return pl.when(pl.col("days") > 0).then(
        pl.col("week_start") + pl.duration(days=31 - pl.col("days").bitwise_leading_zeros().cast(pl.Int64))
    )


def cut_weeks(days: pl.Series, start: date, as_of: date) -> list[date]:
    """The weeks a window cuts: its first week when school days fall before `start`, its last when they
    fall after `as_of`. Only these need working out again from day rows."""
    first, last = monday(start), monday(as_of)
    cut = set()
    if days.is_between(first, start - timedelta(days=1)).any():
        cut.add(first)
    if days.is_between(as_of + timedelta(days=1), last + timedelta(days=6)).any():
        cut.add(last)
    return sorted(cut)


def for_window(frames: Frames, cfg: Config, start: date, as_of: date, summary: pl.DataFrame | None = None,
               days: pl.Series | None = None) -> pl.DataFrame:
    """The summary as a window sees it, with `in_window` on each row.

    Weeks wholly inside the window are taken as kept; earlier weeks keep only the school and the last
    mark (figures count from the window start, the current school does not); later weeks drop out; the
    weeks the window cuts are worked out again from their day rows.
    """
    summary = of(frames, cfg) if summary is None else summary
    days = calendar(summary) if days is None else days
    cut = cut_weeks(days, start, as_of)
    first, last = monday(start), monday(as_of)
    kept = summary.filter((pl.col("week_start") <= last) & ~pl.col("week_start").is_in(cut))
    inside = kept.filter(pl.col("week_start") >= first).with_columns(in_window=pl.lit(True))
    before = kept.filter(pl.col("week_start") < first).select(_HISTORY)
    redone = [summarise(frames.days(week, week + timedelta(days=6)), cfg, start, as_of) for week in cut]
    return pl.concat(
        [inside, *(r.with_columns(in_window=pl.lit(True)) for r in redone), before.with_columns(in_window=pl.lit(False))],
        how="diagonal",
    ).with_columns(pl.col(COUNTS + ["absent_days_after", "unauthorised_days_after"]).fill_null(0),
                   pl.col("part_time").fill_null(False))
