"""Suspensions and permanent exclusions: one definition of every figure about them, for the Suspensions page,
the Overview's cards, the triage signal, the child's page and `report suspensions` alike.

Pure polars over the suspensions frame (`frames.SUSPENSIONS_SCHEMA`), the per-child figures and, for the
sixth-day rule, the day rows. Sources: DfE, "Suspension and permanent exclusion from maintained schools"
guidance (the 45-school-day limit, provision from the sixth day) and the exclusions statistics' rates.
"""

from __future__ import annotations

from datetime import date

import polars as pl

SUSPENSION, PERMANENT_EXCLUSION = "suspension", "permanent_exclusion"
# Census categories the figures count: lunchtime exclusions are not collected (DfE school census).
COUNTED = (SUSPENSION, PERMANENT_EXCLUSION)
REASON_COLUMNS = ("reason", "reason_2", "reason_3")  # up to three reasons per event since 2020
KEY = ("upn", "urn", "start_date", "category")  # the suspensions feed's natural key (store/schema.py)
LIMIT_SCHOOL_DAYS = 45  # DfE: at most 45 school days of suspension in an academic year, across schools
SESSIONS_PER_DAY = 2  # a session is half a day; a part day counts as a session
PROVISION_DAY = 6  # DfE: suitable full-time provision from the sixth school day of a suspension
NO_PROVISION = "E"  # register code: suspended or excluded, no alternative provision
REPEAT_MIN = 2  # "repeat suspensions": two or more in the window

# `report suspensions`' columns, in order (issue 16).
REPORT_COLUMNS = [
    "group",
    "children",
    "suspensions",
    "children_suspended",
    "suspension_sessions",
    "permanent_exclusions",
    "suspension_rate",
    "one_or_more_rate",
    "permanent_exclusion_rate",
]
GROUPINGS = {"cohort": "cohort", "school": "school_urn", "locality": "locality", "team": "team"}
NO_GROUP = {
    "school": "No school known",
    "locality": "No locality recorded",
    "team": "No team allocated",
}


def counted(suspensions: pl.DataFrame, start: date, as_of: date) -> pl.DataFrame:
    """The suspensions and permanent exclusions that count in a window: starting from `start` to `as_of`."""
    return suspensions.filter(pl.col("category").is_in(COUNTED) & pl.col("start_date").is_between(start, as_of))


def per_upn(suspensions: pl.DataFrame, start: date, as_of: date) -> pl.LazyFrame:
    """Per UPN: suspensions, their sessions and permanent exclusions starting in the window (metrics.per_child)."""
    suspension = pl.col("category") == SUSPENSION
    return (
        counted(suspensions, start, as_of)
        .lazy()
        .group_by("upn")
        .agg(
            suspension.sum().cast(pl.Int64).alias("suspensions"),
            pl.col("sessions").filter(suspension).sum().cast(pl.Int64).alias("suspension_sessions"),
            (pl.col("category") == PERMANENT_EXCLUSION).sum().cast(pl.Int64).alias("permanent_exclusions"),
        )
    )


def _per_100(numerator: pl.Expr, children: pl.Expr) -> pl.Expr:
    """A count per 100 children, null (never NaN) for a group of none."""
    return pl.when(children > 0).then(numerator * 100.0 / children)


def rate_columns() -> list[pl.Expr]:
    """The DfE's three rates from a group's counts (columns `children`, `suspensions`, `children_suspended`,
    `permanent_exclusions`)."""
    children = pl.col("children")
    # DfE: suspension rate = suspensions / children x 100; one-or-more rate = children with at least one
    # suspension / children x 100; permanent exclusion rate = permanent exclusions / children x 100.
    return [
        _per_100(pl.col("suspensions"), children).alias("suspension_rate"),
        _per_100(pl.col("children_suspended"), children).alias("one_or_more_rate"),
        _per_100(pl.col("permanent_exclusions"), children).alias("permanent_exclusion_rate"),
    ]


def _sums() -> list[pl.Expr]:
    """A group's counts from per-child rows (`metrics.per_child`)."""
    return [
        pl.len().cast(pl.Int64).alias("children"),
        pl.col("suspensions").sum().cast(pl.Int64),
        (pl.col("suspensions") > 0).sum().cast(pl.Int64).alias("children_suspended"),
        pl.col("suspension_sessions").sum().cast(pl.Int64),
        pl.col("permanent_exclusions").sum().cast(pl.Int64),
    ]


def rates(per_child: pl.DataFrame) -> dict[str, float | None]:
    """A selection's three rates (the Overview's cards and `metrics.exclusion_rates`)."""
    row = per_child.select(_sums()).with_columns(rate_columns()).row(0, named=True)
    return {k: row[k] for k in ("suspension_rate", "one_or_more_rate", "permanent_exclusion_rate")}


def by_group(
    per_child: pl.DataFrame,
    by: str | None = None,
    school_names: dict[int, str] | None = None,
    cohort_names: dict[str, str] | None = None,
) -> pl.DataFrame:
    """The report's table: an `All` row for every child given, then one row per cohort, school, locality or
    team (a child counts once in each cohort they hold), with the counts behind each rate; schools and
    cohorts by the names people know them by."""
    every = per_child.select(_sums()).with_columns(group=pl.lit("All"))
    if by is None:
        return every.with_columns(rate_columns()).select(REPORT_COLUMNS)
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose from {', '.join(GROUPINGS)}")
    column = GROUPINGS[by]
    rows = per_child
    if by == "cohort":  # as in `metrics.aggregate`: a child with no cohort is in no cohort's row
        rows = per_child.explode("cohorts").rename({"cohorts": "cohort"}).filter(pl.col("cohort").is_not_null())
    if by == "school":
        named = {urn: f"{name} ({urn})" for urn, name in (school_names or {}).items()}
        label = pl.col(column).replace_strict(
            named, default=pl.format("URN {}", pl.col(column)), return_dtype=pl.String
        )
    elif by == "cohort":
        label = pl.col(column).replace_strict(cohort_names or {}, default=pl.col(column), return_dtype=pl.String)
    else:
        label = pl.col(column).cast(pl.String)
    groups = (
        rows.with_columns(group=label.fill_null(pl.lit(NO_GROUP.get(by)))).group_by("group").agg(_sums()).sort("group")
    )
    return pl.concat([every.select(groups.columns), groups]).with_columns(rate_columns()).select(REPORT_COLUMNS)


def reasons(events: pl.DataFrame) -> pl.DataFrame:
    """Per reason code: the events giving it (each reason counted once per event, whichever of the three
    columns holds it) and the children behind them, most frequent first."""
    long = (
        events.select(*KEY, *REASON_COLUMNS)
        .unpivot(index=list(KEY), on=list(REASON_COLUMNS), value_name="_reason")
        .drop_nulls("_reason")
        .unique([*KEY, "_reason"])
    )
    return (
        long.group_by(pl.col("_reason").alias("reason"))
        .agg(pl.len().cast(pl.Int64).alias("events"), pl.col("upn").n_unique().cast(pl.Int64).alias("children"))
        .sort(["events", "reason"], descending=[True, False])
    )


def repeats(events: pl.DataFrame, at_least: int = REPEAT_MIN) -> pl.DataFrame:
    """Children (by UPN) with `at_least` suspensions in the events given: how many, their sessions in total,
    the first and the latest."""
    return (
        events.filter(pl.col("category") == SUSPENSION)
        .group_by("upn")
        .agg(
            pl.len().cast(pl.Int64).alias("suspensions"),
            pl.col("sessions").sum().cast(pl.Int64).alias("suspension_sessions"),
            pl.col("start_date").min().alias("first_suspension"),
            pl.col("start_date").max().alias("last_suspension"),
        )
        .filter(pl.col("suspensions") >= at_least)
        .sort(["suspensions", "suspension_sessions", "upn"], descending=[True, True, False])
    )


def year_days(suspensions: pl.DataFrame, year_start: date, as_of: date) -> pl.DataFrame:
    """Per UPN, the school days of suspension in the academic year to `as_of`, across every school, and the
    days left before the 45-day limit."""
    days = pl.col("suspension_sessions") / SESSIONS_PER_DAY
    return (
        suspensions.filter((pl.col("category") == SUSPENSION) & pl.col("start_date").is_between(year_start, as_of))
        .group_by("upn")
        .agg(
            pl.len().cast(pl.Int64).alias("suspensions"),
            pl.col("sessions").sum().cast(pl.Int64).alias("suspension_sessions"),
            pl.col("urn").n_unique().cast(pl.Int64).alias("schools_suspending"),
        )
        .with_columns(suspension_days=days, days_left=LIMIT_SCHOOL_DAYS - days)
    )


def nearing_limit(days: pl.DataFrame, warning_days: int) -> pl.DataFrame:
    """The children of `year_days` with at least `warning_days` school days of suspension this academic
    year (the limit itself included, and beyond it: a breach), most days first."""
    return days.filter(pl.col("suspension_days") >= warning_days).sort(
        ["suspension_days", "upn"], descending=[True, False]
    )


def school_days_of(events: pl.DataFrame, school_days: pl.Series) -> pl.DataFrame:
    """Each event's school days, numbered from 1: from its start, as many as its sessions cover (a part day
    counts as a day), never past its end date when the feed gives one."""
    days = pl.DataFrame({"date": school_days}).lazy()
    length = (pl.col("sessions") + SESSIONS_PER_DAY - 1) // SESSIONS_PER_DAY
    return (
        events.lazy()
        .with_row_index("_event")
        .join(days, how="cross")
        .filter(
            (pl.col("date") >= pl.col("start_date"))
            & (pl.col("end_date").is_null() | (pl.col("date") <= pl.col("end_date")))
        )
        .sort("_event", "date")
        .with_columns(day_number=(pl.col("date").cum_count().over("_event")).cast(pl.Int64))
        .filter(pl.col("day_number") <= length)
        .collect()
    )


def without_provision(events: pl.DataFrame, marks: pl.DataFrame, school_days: pl.Series, as_of: date) -> pl.DataFrame:
    """Suspensions of more than five school days with no alternative provision from the sixth day: a session
    coded E on day 6 or later, up to `as_of`, at any school (once provision is arranged the register says so,
    e.g. K or B). One row per such suspension, with its sixth day and the E sessions from then."""
    long = events.filter(
        (pl.col("category") == SUSPENSION) & (pl.col("sessions") > (PROVISION_DAY - 1) * SESSIONS_PER_DAY)
    )
    later = school_days_of(long, school_days).filter(
        (pl.col("day_number") >= PROVISION_DAY) & (pl.col("date") <= as_of)
    )
    coded_e = (
        marks.filter(pl.col("date") <= as_of)
        .select("upn", "date", e_sessions=_is_e("am") + _is_e("pm"))
        .group_by("upn", "date")
        .agg(pl.col("e_sessions").sum())
    )
    found = (
        later.join(coded_e, on=["upn", "date"], how="left")
        .group_by(*KEY)
        .agg(
            pl.col("date").min().alias("sixth_day"),
            pl.col("e_sessions").fill_null(0).sum().cast(pl.Int64),
        )
        .filter(pl.col("e_sessions") > 0)
    )
    return long.join(found, on=list(KEY)).sort("start_date", "upn")


def _is_e(session: str) -> pl.Expr:
    """1 when the session is coded E (suspended, no alternative provision), else 0."""
    return (pl.col(session) == NO_PROVISION).fill_null(False).cast(pl.Int64)


def recent(events: pl.DataFrame, since: date, as_of: date) -> pl.DataFrame:
    """Suspensions and exclusions starting from `since` to `as_of` (the last school days: the triage signal
    and the Monday check), newest first."""
    return counted(events, since, as_of).sort(["start_date", "upn"], descending=[True, False])


def timeline(events: pl.DataFrame) -> pl.DataFrame:
    """Per school week (Monday): suspensions, permanent exclusions and suspension sessions starting in it."""
    suspension = pl.col("category") == SUSPENSION
    return (
        events.filter(pl.col("category").is_in(COUNTED))
        .group_by(pl.col("start_date").dt.truncate("1w").alias("week_start"))
        .agg(
            suspension.sum().cast(pl.Int64).alias("suspensions"),
            (pl.col("category") == PERMANENT_EXCLUSION).sum().cast(pl.Int64).alias("permanent_exclusions"),
            pl.col("sessions").filter(suspension).sum().cast(pl.Int64).alias("suspension_sessions"),
        )
        .sort("week_start")
    )
