"""The per-child-week summary: a child's marks in one week as one row, kept by the store as it loads.

A window's figures read the summary: weeks wholly inside the window as they are, and the weeks it cuts
worked out again from the row's day-by-day fields, so no window reads day rows (a year is 1.2M summary
rows at 30,000 children instead of 5.6M day rows; see the README's Speed section).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import polars as pl

from vsdash import sessions
from vsdash.config import Config
from vsdash.frames import Frames, Schema
from vsdash.sessions import COUNTED_CATEGORIES, SESSION_COLUMNS, counters, has_code, packed_sessions, sent_not_dual

PART_TIME_CODE = "C2"  # DfE: authorised absence, part-time timetable

COUNTS = list(SESSION_COLUMNS.values())
# Per category, its sessions on each day of the week: 3 bits a day, Monday lowest (0-7 sessions a day).
BY_DAY = {c: c.replace("_sessions", "_by_day") for c in COUNTS}
_DAY_BITS = 3
_DAY_MAX = (1 << _DAY_BITS) - 1

WEEKS_SCHEMA: Schema = {
    "upn": pl.String,
    "week_start": pl.Date,  # Monday
    **{c: pl.Int32 for c in COUNTS},  # sessions of each category in the week
    **{c: pl.Int32 for c in BY_DAY.values()},
    "days": pl.Int32,  # bit d set: a code on Monday + d days (the calendar, the last mark)
    "attending_days": pl.Int32,  # bit d set: a code that is not D that day
    "part_time_days": pl.Int32,  # bit d set: a part-time timetable code (C2) that day
    "school_date": pl.Date,  # latest day attending a school (a code that is not D) ...
    "school_urn": pl.Int64,  # ... and that school (the larger URN on a tie)
    "schools": pl.Int32,  # schools attended in the week (more than one: a move or a dual place)
    "last_attended": pl.Date,  # latest day not wholly absent, with a possible session
    "absent_days_after": pl.Int32,  # wholly absent days after it in the week (all of them if none)
    "last_not_unauthorised": pl.Date,  # the same for unauthorised absence
    "unauthorised_days_after": pl.Int32,
}
# What a week before the window keeps: only where the child was and when they were last marked.
_HISTORY = ("upn", "week_start", "days", "attending_days", "school_date", "school_urn", "schools")
_COUNTED_ONLY = [c for c, t in WEEKS_SCHEMA.items() if c not in _HISTORY and t != pl.Date]
_WEEKDAY_BIT = {day: 1 << (day - 1) for day in range(1, 8)}  # polars numbers Monday 1


def monday(day: date) -> date:
    """Monday of the ISO week containing the day."""
    return day - timedelta(days=day.weekday())


# ---- from day rows to summary rows ---------------------------------------------------------------


def summarise(
    days: pl.DataFrame | pl.LazyFrame, cfg: Config, start: date | None = None, as_of: date | None = None
) -> pl.DataFrame:
    """One summary row per UPN and week of the day rows given; with a window, the rows it leaves of the
    weeks it cuts (see `cut`)."""
    if as_of is not None:
        days = days.lazy().filter(pl.col("date") <= as_of)
    return cut(_packed(days, cfg), start or date.min, as_of or date.max)


def _packed(days: pl.DataFrame | pl.LazyFrame, cfg: Config) -> pl.DataFrame:
    """Per UPN and week, the day-by-day fields: sessions of each category each day, and day bits."""
    weekday = pl.col("date").dt.weekday()
    bit = weekday.replace_strict(_WEEKDAY_BIT, return_dtype=pl.Int32)
    place = (pl.lit(1 << _DAY_BITS, dtype=pl.Int64).pow(weekday - 1)).cast(pl.Int64)
    parts = counters("_packed")
    attending = sent_not_dual("am") | sent_not_dual("pm")
    per_row = (
        days.lazy()
        .with_columns(packed_sessions(cfg))
        .select(
            "upn",
            pl.col("date").dt.truncate("1w").alias("week_start"),
            *((parts[c] * place).alias(BY_DAY[SESSION_COLUMNS[c]]) for c in COUNTED_CATEGORIES),
            _day=pl.when(has_code()).then(bit).otherwise(0),
            _attending=pl.when(attending).then(bit).otherwise(0),
            _part_time=pl.when((pl.col("am") == PART_TIME_CODE) | (pl.col("pm") == PART_TIME_CODE))
            .then(bit)
            .otherwise(0),
            # Domain: the current school is the latest mark that is not D; latest date, then larger URN, in one integer.
            _school=pl.when(attending).then(school_key("date", "urn")),
            _school_urn=pl.when(attending).then(pl.col("urn")),
        )
    )
    return (
        per_row.group_by("upn", "week_start")
        .agg(
            # Sums stay exact while a day holds at most 7 sessions of a category (two schools' codes at most 4).
            pl.col(list(BY_DAY.values())).sum(),
            pl.col("_day").bitwise_or().alias("days"),
            pl.col("_attending").bitwise_or().alias("attending_days"),
            pl.col("_part_time").bitwise_or().alias("part_time_days"),
            pl.col("_school").max(),
            pl.col("_school_urn").drop_nulls().n_unique().alias("schools"),
        )
        .with_columns(**_school_of(pl.col("_school")))
        .drop("_school")
        .collect()
    )


# The per-day fields of a summary row (`_packed`'s columns): from them `cut` works out every other column.
_PER_DAY = ("upn", "week_start", *BY_DAY.values(), "days", "attending_days", "part_time_days", "schools")


def school_key(date_column: str, urn_column: str) -> pl.Expr:
    """An attending day and its school as one integer: the larger is the later day, then the larger URN."""
    return pl.col(date_column).cast(pl.Int64) * (1 << 32) + pl.col(urn_column)


def _school_of(key: pl.Expr) -> dict[str, pl.Expr]:
    """`school_key` back into the day and the school."""
    return {"school_date": (key // (1 << 32)).cast(pl.Int32).cast(pl.Date), "school_urn": key % (1 << 32)}


def with_new_days(stored: pl.DataFrame, days: pl.DataFrame, cfg: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The summary rows of the child-weeks some new day rows fall in (none of them replacing a stored row),
    from those weeks' stored summary rows and the new rows alone, so a day's feed reads no stored day row.

    A summary row's per-day fields are sums, bits and a latest school over its day rows, so the rows of
    two sets of days add up to the row of both; only the count of schools does not, unless each side has
    at most one school. Gives back the rows worked out, and the (upn, week_start) it could not work out
    (two schools in the stored week or in the new days): those need the week's day rows (`summarise`).
    """
    new = _packed(days, cfg)
    old = stored.select(*_PER_DAY, "school_date", "school_urn")
    both = new.join(old, on=["upn", "week_start"], how="left", suffix="_old")
    old_schools, new_schools = pl.col("schools_old").fill_null(0), pl.col("schools")
    exact = (old_schools <= 1) & (new_schools <= 1)
    same = ((old_schools == 1) & (new_schools == 1) & (pl.col("school_urn") == pl.col("school_urn_old"))).fill_null(
        False
    )
    latest = pl.max_horizontal(school_key("school_date", "school_urn"), school_key("school_date_old", "school_urn_old"))
    added = both.filter(exact).select(
        "upn",
        "week_start",
        *((pl.col(c) + pl.col(f"{c}_old").fill_null(0)).alias(c) for c in BY_DAY.values()),
        *((pl.col(c) | pl.col(f"{c}_old").fill_null(0)).alias(c) for c in ("days", "attending_days", "part_time_days")),
        schools=(old_schools + new_schools - same.cast(pl.Int32)).cast(pl.UInt32),
        **_school_of(latest),
    )
    return cut(added, date.min, date.max), both.filter(~exact).select("upn", "week_start")


def _added(terms: Iterable[pl.Expr]) -> pl.Expr:
    """Expressions added up with Python's sum (0 + the first + ...): an expression, as every caller adds
    at least one."""
    return cast(pl.Expr, sum(terms))


def _day_mask(first: date, last: date) -> pl.Expr:
    """Per row, the bits of its week's days that fall between two dates."""
    return _added(
        pl.when((pl.col("week_start") + pl.duration(days=d)).is_between(first, last)).then(1 << d).otherwise(0)
        for d in range(7)
    ).cast(pl.Int32)


def cut(rows: pl.DataFrame, start: date, as_of: date) -> pl.DataFrame:
    """The summary columns from the day-by-day fields, counting only days between `start` and `as_of`
    (the last mark and school: only days up to `as_of`): the rows a window leaves of the weeks it cuts.

    Only the school cannot always be worked out from the row: when the week's last attending day is after
    `as_of` and the child attended two schools that week, the day rows decide (see `_redo`).
    """
    days = range(7)
    # Each step names its columns, so the next refers to them instead of repeating their expressions.
    on_day = [
        {
            c: pl.when((pl.col("_inside") // (1 << d)) % 2 == 1)
            .then((pl.col(BY_DAY[c]) // (1 << (_DAY_BITS * d))) % (1 << _DAY_BITS))
            .otherwise(0)
            .alias(f"_{c}{d}")
            for c in COUNTS
        }
        for d in days
    ]
    day = [sessions.columns(f"_{{}}{d}") for d in days]  # per day, category -> that day's column
    totals = [
        expr
        for d in days
        for expr in (sessions.possible(day[d]).alias(f"_possible{d}"), sessions.absence(day[d]).alias(f"_absence{d}"))
    ]

    def possible(d: int) -> pl.Expr:
        return pl.col(f"_possible{d}") > 0

    # Domain: a day counts as absent when all its possible sessions are absences; days with no possible
    # session (X, Y1-Y7, #, D ...) neither break nor extend a run of absence.
    absence = [pl.col(f"_absence{d}") for d in days]
    unauthorised = [day[d]["unauthorised"] for d in days]
    total = [pl.col(f"_possible{d}") for d in days]
    attending = pl.col("attending_days") & pl.col("_upto")
    return (
        rows.lazy()
        .with_columns(_inside=_day_mask(start, as_of), _upto=_day_mask(date.min, as_of))
        .with_columns(*(e for d in days for e in on_day[d].values()))
        .with_columns(totals)
        .with_columns(
            *(_added(pl.col(f"_{c}{d}") for d in days).cast(pl.Int32).alias(c) for c in COUNTS),
            *_last_and_after(
                [possible(d) & (absence[d] < total[d]) for d in days],
                [possible(d) & (absence[d] == total[d]) for d in days],
                "last_attended",
                "absent_days_after",
            ),
            *_last_and_after(
                [possible(d) & (unauthorised[d] < total[d]) for d in days],
                [possible(d) & (unauthorised[d] == total[d]) for d in days],
                "last_not_unauthorised",
                "unauthorised_days_after",
            ),
            days=pl.col("days") & pl.col("_upto"),
            attending_days=attending,
            part_time_days=pl.col("part_time_days") & pl.col("_inside"),
            # The school as at `as_of`: its day moves back when the week's last attending day is later.
            school_date=pl.when(pl.col("school_date") <= as_of)
            .then(pl.col("school_date"))
            .otherwise(_last_day(attending)),
            school_urn=pl.when(attending > 0).then(pl.col("school_urn")),
        )
        .select(list(WEEKS_SCHEMA))
        .collect()
        # polars' stubs take a mapping keyed by str | selector | dtype, and a Mapping's key type is invariant,
        # so they refuse this Mapping[str, ...] schema that polars itself accepts.
        .cast(WEEKS_SCHEMA)  # type: ignore[arg-type]
    )


def _last_and_after(breaks: list[pl.Expr], flagged: list[pl.Expr], last: str, after: str) -> list[pl.Expr]:
    """The latest day that broke a run, and the flagged days after it (all of them when none broke it)."""
    last_day = pl.max_horizontal(pl.when(breaks[d]).then(d) for d in range(7))
    after_days = _added((flagged[d] & (last_day.is_null() | (last_day < d))).cast(pl.Int32) for d in range(7))
    return [(pl.col("week_start") + pl.duration(days=last_day)).alias(last), after_days.alias(after)]


def _last_day(bits: pl.Expr) -> pl.Expr:
    """The date of the highest day bit (null when none)."""
    return pl.when(bits > 0).then(
        pl.col("week_start") + pl.duration(days=31 - bits.bitwise_leading_zeros().cast(pl.Int64))
    )


# ---- the summary as a window sees it ---------------------------------------------------------------


def of(frames: Frames, cfg: Config) -> pl.DataFrame:
    """The frames' summary (the store's, or worked out from the marks held in memory), sorted by week so a
    window's weeks are a slice of it."""
    summary = frames.weeks if frames.weeks is not None else summarise(frames.days(), cfg)
    return summary if summary["week_start"].flags["SORTED_ASC"] else summary.sort("week_start")


def several_schools(summary: pl.DataFrame) -> pl.Series:
    """The UPNs that attended more than one school (two in one week, or weeks at different schools): the only
    children who can have a school move or be marked at two schools on one day."""
    return (
        summary.lazy()
        .filter(pl.col("school_urn").is_not_null())
        .group_by("upn")
        .agg(pl.col("school_urn").n_unique().alias("_urns"), pl.col("schools").max())
        .filter((pl.col("_urns") > 1) | (pl.col("schools") > 1))
        .select(pl.col("upn").sort())
        .collect()
        .to_series()
    )


def calendar(summary: pl.DataFrame) -> pl.Series:
    """Every date on which any child has any mark, sorted: the authority's school days before any window."""
    bits = pl.DataFrame(
        {"_offset": range(7), "_bit": [1 << d for d in range(7)]}, schema={"_offset": pl.Int32, "_bit": pl.Int32}
    )
    return (
        summary.lazy()
        .group_by("week_start")
        .agg(pl.col("days").bitwise_or())
        .join(bits.lazy(), how="cross")
        .filter((pl.col("days") & pl.col("_bit")) != 0)
        .select((pl.col("week_start") + pl.duration(days=pl.col("_offset"))).alias("date"))
        .sort("date")
        .collect()
        .to_series()
    )


def school_days(days: pl.Series, start: date, as_of: date) -> pl.Series:
    """The school days from `start` to `as_of`, out of a sorted calendar (see `calendar`)."""
    return days.filter(days.is_between(start, as_of))


def school_weeks(days: pl.Series) -> pl.Series:
    """Mondays of the ISO weeks that contain school days (half-term weeks drop out), sorted."""
    return (
        days.to_frame("date").select(pl.col("date").dt.truncate("1w").unique().sort()).to_series().alias("week_start")
    )


def last_mark_date() -> pl.Expr:
    """The latest day of a summary row with a code (null when none): its highest day bit."""
    return _last_day(pl.col("days"))


def cut_weeks(days: pl.Series, start: date, as_of: date) -> list[date]:
    """The weeks a window cuts: its first week when school days fall before `start`, its last when they
    fall after `as_of`. Only these are worked out again."""
    first, last = monday(start), monday(as_of)
    cut = set()
    if days.is_between(first, start - timedelta(days=1)).any():
        cut.add(first)
    if days.is_between(as_of + timedelta(days=1), last + timedelta(days=6)).any():
        cut.add(last)
    return sorted(cut)


@dataclass(frozen=True)
class WindowWeeks:
    """How a window meets the summary: the weeks it holds whole, from `first` to `last` (Mondays; none when
    `first` is the later), and the rows of the weeks it cuts, worked out again (`cut`; None when none)."""

    first: date
    last: date
    redone: pl.DataFrame | None


def window_weeks(
    frames: Frames, cfg: Config, start: date, as_of: date, summary: pl.DataFrame, days: pl.Series
) -> WindowWeeks:
    """The weeks a window holds whole and the rows of those it cuts (`cut_weeks`), from the frames' summary
    (`of`) and the authority's calendar (`calendar`)."""
    redo = cut_weeks(days, start, as_of)
    first, last = monday(start), monday(as_of)
    week = timedelta(weeks=1)
    redone = _redo(pl.concat([_weeks(summary, w, w) for w in redo]), frames, cfg, start, as_of) if redo else None
    return WindowWeeks(first + week if first in redo else first, last - week if last in redo else last, redone)


def for_window(
    frames: Frames,
    cfg: Config,
    start: date,
    as_of: date,
    summary: pl.DataFrame | None = None,
    days: pl.Series | None = None,
    parts: WindowWeeks | None = None,
) -> pl.DataFrame:
    """The summary as a window sees it, with `in_window` on each row (those rows first).

    Weeks wholly inside the window are taken as kept; earlier weeks keep only the school and the last
    mark (figures count from the window start, the current school does not); later weeks drop out; the
    weeks the window cuts are worked out again (`cut`). Pass `parts` (`window_weeks`) to reuse them.
    """
    summary = of(frames, cfg) if summary is None else summary
    days = calendar(summary) if days is None else days
    parts = window_weeks(frames, cfg, start, as_of, summary, days) if parts is None else parts
    inside = _weeks(summary, parts.first, parts.last)
    before = (
        _weeks(summary, date.min, monday(start) - timedelta(weeks=1))
        .select(_HISTORY)
        .with_columns(
            *(pl.lit(0, dtype=WEEKS_SCHEMA[c]).alias(c) for c in _COUNTED_ONLY),
            last_attended=pl.lit(None, dtype=pl.Date),
            last_not_unauthorised=pl.lit(None, dtype=pl.Date),
        )
    )
    return pl.concat(
        [
            part.select(list(WEEKS_SCHEMA)).with_columns(in_window=pl.lit(flag))
            for part, flag in ((inside, True), (parts.redone, True), (before, False))
            if part is not None
        ],
    )


def _weeks(summary: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """The rows of the weeks starting from `first` to `last`: a slice of a summary sorted by week (see `of`)."""
    column = summary["week_start"]
    if column.flags["SORTED_ASC"]:
        low, high = column.search_sorted(first, "left"), column.search_sorted(last, "right")
        return summary.slice(low, max(high - low, 0))
    return summary.filter(column.is_between(first, last))


def _redo(rows: pl.DataFrame, frames: Frames, cfg: Config, start: date, as_of: date) -> pl.DataFrame:
    """The weeks a window cuts, from their rows; where a child attended two schools that week and the
    later days are cut off, from that child's day rows (a handful, when a window ends mid-move)."""
    unsure = rows.filter((pl.col("schools") > 1) & (pl.col("school_date") > as_of)).select("upn", "week_start")
    redone = cut(rows, start, as_of)
    if unsure.is_empty():
        return redone
    days = pl.concat([frames.days(week, week + timedelta(days=6), upn) for upn, week in unsure.iter_rows()])
    return pl.concat([redone.join(unsure, on=["upn", "week_start"], how="anti"), summarise(days, cfg, start, as_of)])
