"""What the Suspensions and exclusions page (and `report moves`) shows, computed without Streamlit: the figures
of `vsdash.suspensions` and the moves of `vsdash.moves` for the filters' selection, in people's words."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from vsdash import glossary, triage, views
from vsdash import moves as moves_mod
from vsdash import suspensions as susp
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.metrics import Window
from vsdash.views import Figures

NOTIFIED_WORDS = {True: "Notified", False: "Not notified"}
# The page's name for the DfE suspension rate: "suspension_rate" is the Overview's "Suspended %" (one or more).
PER_100 = "suspensions_per_100"
BY = ("cohort", "school", "locality", "team")

MOVES_COLUMNS = [
    "move_date",
    "child",
    "la_child_id",
    "upn",
    "from_urn",
    "from_school",
    "from_la",
    "from_out_of_area",
    "to_urn",
    "to_school",
    "to_la",
    "to_out_of_area",
    "move_back",
    "suspended_before",
    "suspended_on",
    "social_worker",
    "team",
]


def reason_text(cfg: Config) -> pl.Expr:
    """An event's reasons in words, "DB: Persistent disruptive behaviour; PA: ...", each reason once."""
    meanings = {code: glossary.reason_words(code, cfg) for code in cfg.suspension_reasons}
    named = [pl.col(c).replace_strict(meanings, default=pl.col(c), return_dtype=pl.String) for c in susp.REASON_COLUMNS]
    return pl.concat_list(named).list.drop_nulls().list.unique(maintain_order=True).list.join("; ")


def category_words() -> pl.Expr:
    """The event's category in words."""
    return pl.col("category").replace_strict(
        glossary.CATEGORY_NAMES, default=pl.col("category"), return_dtype=pl.String
    )


def _people(rows: pl.DataFrame, children: pl.DataFrame, frames_children: pl.DataFrame) -> pl.DataFrame:
    """Rows keyed by UPN with the child's name, LA child ID, social worker and team (selected children only)."""
    who = children.select("upn", "la_child_id", "social_worker", "team", "locality").drop_nulls("upn")
    names = frames_children.select(
        "la_child_id",
        child=pl.concat_str(pl.col("first_name"), pl.col("last_name"), separator=" ", ignore_nulls=True),
    )
    return (
        rows.join(who, on="upn")
        .join(names, on="la_child_id", how="left")
        .with_columns(
            child=pl.col("child").fill_null(pl.col("la_child_id")),
            social_worker=pl.col("social_worker").fill_null("none allocated"),
            team=pl.col("team").fill_null("No team allocated"),
        )
    )


def _school_names(schools: pl.DataFrame, column: str = "urn", name: str = "school") -> pl.DataFrame:
    """URN -> school name, for a join (a URN the schools list lacks says so)."""
    return schools.select(pl.col("urn").alias(column), pl.col("name").alias(name)).unique(column)


def _named_school(
    frame: pl.DataFrame, schools: pl.DataFrame, column: str = "urn", name: str = "school"
) -> pl.DataFrame:
    """The frame with the school's name beside its URN, "URN 123456" when it is not on the list."""
    return frame.join(_school_names(schools, column, name), on=column, how="left").with_columns(
        pl.col(name).fill_null(pl.format("URN {}", pl.col(column)))
    )


# ---- moves: every child's, once per data version ----------------------------------------------------------

_MOVES: weakref.WeakKeyDictionary[Figures, pl.DataFrame] = weakref.WeakKeyDictionary()
_MOVES_LOCK = threading.Lock()


def all_moves(figures: Figures) -> pl.DataFrame:
    """Every child's school moves with the suspension before each, worked out once per data version (from the
    day rows of the children who attended more than one school, which the data-quality page reads too)."""
    with _MOVES_LOCK:
        if figures in _MOVES:
            return _MOVES[figures]
    found = moves_mod.suspended_before(moves_mod.school_moves(figures.several_schools_days), figures.frames.suspensions)
    with _MOVES_LOCK:
        _MOVES[figures] = found
    return found


def moves_table(
    moves: pl.DataFrame, children: pl.DataFrame, frames_children: pl.DataFrame, schools: pl.DataFrame, cfg: Config
) -> pl.DataFrame:
    """Moves of the children given in people's words: who, from and to which school (its LA, and whether it is
    out of area for the child), a move back, a suspension in the weeks before, newest first."""
    las = schools.select("urn", "la_code", "la_name").unique("urn")
    la_names = dict(schools.select("la_code", "la_name").drop_nulls().unique("la_code").iter_rows())
    responsible = children.select("upn", "responsible_la").drop_nulls("upn")

    def school_side(frame: pl.DataFrame, side: str) -> pl.DataFrame:
        urn = f"{side}_urn"
        named = _named_school(frame, schools, urn, f"{side}_school")
        return named.join(
            las.select(pl.col("urn").alias(urn), pl.col("la_code").alias(f"_{side}_la")), on=urn, how="left"
        ).with_columns(
            pl.col(f"_{side}_la")
            .map_elements(lambda c: views.la_words(c, la_names, cfg), return_dtype=pl.String, skip_nulls=False)
            .alias(f"{side}_la"),
            # Domain: out of area when the school's LA is not the child's responsible LA.
            (pl.col(f"_{side}_la") != pl.col("responsible_la").fill_null(pl.lit(cfg.la_code)))
            .fill_null(False)
            .alias(f"{side}_out_of_area"),
        )

    rows = _people(moves, children, frames_children).join(responsible, on="upn", how="left")
    rows = school_side(school_side(rows, "from"), "to")
    # Text, so a move with no suspension before it shows an empty cell, never "None".
    rows = rows.with_columns(suspended_on=triage.uk_date(pl.col("suspended_on")).fill_null(""))
    return rows.sort(["move_date", "child"], descending=[True, False]).select(MOVES_COLUMNS)


def moves_by_school(moves: pl.DataFrame, schools: pl.DataFrame) -> pl.DataFrame:
    """Moves in and out of each school, named."""
    counted = moves_mod.by_school(moves)
    return _named_school(counted, schools).select(
        "school", "urn", "moves_out", "moves_in", "moves_out_after_suspension"
    )


def moves_in_window(figures: Figures, filters: Filters, scope: pl.Expr | None = None) -> pl.DataFrame:
    """The selected children's moves in the filters' window (`report moves` and the page), in people's words."""
    window = figures.of(filters).window
    children = views.selected_children(figures, filters)
    children = children if scope is None else children.filter(scope)
    moves = moves_mod.in_window(all_moves(figures), window.start, window.as_of)
    moves = moves.join(children.select("upn").drop_nulls(), on="upn", how="semi")
    return moves_table(moves, children, figures.frames.children, figures.frames.schools, figures.cfg)


def child_moves(figures: Figures, la_child_id: str) -> pl.DataFrame:
    """One child's school moves (all their marks), in people's words, for the child's page."""
    one = figures.child_frames(la_child_id)
    if one is None or one.marks is None:
        return pl.DataFrame(schema={c: pl.String for c in MOVES_COLUMNS}).clear()
    found = moves_mod.suspended_before(moves_mod.school_moves(one.marks), one.suspensions)
    table = moves_table(found, one.children, one.children, one.schools, figures.cfg)
    return table.drop("child", "la_child_id", "upn", "social_worker", "team")


# ---- the page ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuspensionsPage:
    """Everything on the Suspensions and exclusions page."""

    window: Window
    children: int  # children in the selection
    totals: dict[str, Any]  # the selection's `All` row of `suspensions.by_group`
    national: dict[str, float]  # the all-pupil rates (one_or_more_rate, permanent_exclusion_rate), when configured
    national_label: str | None  # "All pupils nationally 2023/24"
    national_source: str | None
    groups: dict[str, pl.DataFrame]  # cohort, school, locality, team -> the rates table (`PER_100` for the rate)
    reasons: pl.DataFrame  # reason code and words, events, children
    timeline: pl.DataFrame  # per week: suspensions, permanent exclusions, sessions
    repeats: pl.DataFrame  # children with 2+ suspensions in the window
    year_start: date
    nearing_limit: pl.DataFrame  # children with `suspension_days_warning`+ days suspended this academic year
    without_provision: pl.DataFrame  # suspensions of more than 5 days with E on day 6 or later
    monday_since: date  # the first of the last school days the Monday check covers
    monday: pl.DataFrame  # suspensions in the last school days, with who to tell and whether they were told
    moves: pl.DataFrame
    moves_by_school: pl.DataFrame


def group_table(per_child: pl.DataFrame, by: str, school_names: dict[int, str], cfg: Config) -> pl.DataFrame:
    """One grouping's rates as the page shows them (the report's columns, the DfE suspension rate renamed)."""
    return susp.by_group(per_child, by, school_names, cfg.cohorts).rename({"suspension_rate": PER_100})


def _event_rows(events: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Events with their category and reasons in words."""
    return events.with_columns(category_words().alias("type"), reason_text(cfg).alias("reasons"))


def monday_check(events: pl.DataFrame, notices: pl.DataFrame, children: pl.DataFrame, figures: Figures) -> pl.DataFrame:
    """The recent suspensions with each child's social worker and team and whether the social worker was told
    (who set it, when): the Monday check."""
    frames, cfg = figures.frames, figures.cfg
    told = notices.select(
        *susp.KEY, "notified", pl.col("set_by").alias("notified_by"), pl.col("set_at").alias("notified_at")
    )
    rows = _named_school(_event_rows(events, cfg), frames.schools).join(told, on=list(susp.KEY), how="left")
    return (
        _people(rows, children, frames.children)
        .with_columns(
            pl.col("notified").fill_null(False),
            pl.col("notified_by").fill_null(""),
            pl.col("reasons").fill_null("none given"),
        )
        .with_columns(
            notified_text=pl.col("notified").replace_strict(NOTIFIED_WORDS, return_dtype=pl.String),
            notified_on=pl.col("notified_at")
            .dt.convert_time_zone(glossary.UK_TIME_ZONE)
            .dt.strftime("%d/%m/%Y %H:%M")
            .fill_null(""),
            set_text=pl.when(pl.col("notified_by") != "")
            .then(
                pl.col("notified_by")
                + ", "
                + pl.col("notified_at").dt.convert_time_zone(glossary.UK_TIME_ZONE).dt.strftime("%d/%m/%Y %H:%M")
            )
            .otherwise(pl.lit("")),
            sessions_text=pl.col("sessions").cast(pl.String).fill_null("not given"),
            end_text=triage.uk_date(pl.col("end_date")).fill_null("not given"),
        )
        .sort(["start_date", "child"], descending=[True, False])
    )


def national_rates(cfg: Config) -> tuple[dict[str, float], str | None]:
    """The latest configured all-pupil rates by the page's names, and the year's label."""
    years = cfg.benchmarks.all_pupils
    if not years:
        return {}, None
    year = max(years)
    row = years[year]
    return {
        "one_or_more_rate": row.one_or_more_suspension,
        "permanent_exclusion_rate": row.permanent_exclusion,
    }, f"All pupils nationally {year}"


def suspensions_page(
    figures: Figures, filters: Filters, notices: pl.DataFrame, scope: pl.Expr | None = None
) -> SuspensionsPage:
    """The page for the filters: the rates of every selected child; the lists (named children) of the viewer's
    own children (`scope`) only."""
    cfg, frames = figures.cfg, figures.frames
    figured = figures.of(filters)
    window = figured.window
    children = views.selected_children(figures, filters)
    mine = children if scope is None else children.filter(scope)
    upns = children.select("upn").drop_nulls()
    events = susp.counted(frames.suspensions, window.start, window.as_of).join(upns, on="upn", how="semi")
    my_events = events.join(mine.select("upn").drop_nulls(), on="upn", how="semi")
    schools = dict(frames.schools.select("urn", "name").iter_rows())
    groups = {by: group_table(children, by, schools, cfg) for by in BY}
    national, label = national_rates(cfg)
    reasons = susp.reasons(events).with_columns(
        reason_words=pl.col("reason").map_elements(lambda c: glossary.reason_words(c, cfg), return_dtype=pl.String)
    )
    year_start = cfg.year_start(window.as_of)
    year = susp.year_days(frames.suspensions, year_start, window.as_of)
    nearing = _people(susp.nearing_limit(year, cfg.thresholds.suspension_days_warning), mine, frames.children)
    long = my_events.filter(pl.col("sessions") > (susp.PROVISION_DAY - 1) * susp.SESSIONS_PER_DAY)
    marks = frames.days(window.start, window.as_of, upns=long["upn"].unique().sort()) if not long.is_empty() else None
    unprovided = (
        susp.without_provision(long, marks, figures.calendar, window.as_of)
        if marks is not None
        else long.clear().with_columns(sixth_day=pl.lit(None, pl.Date), e_sessions=pl.lit(0, pl.Int64))
    )
    since = triage.last_days_start(figured.school_days, window, cfg.thresholds.recent_suspension_school_days)
    recent = susp.recent(my_events, since, window.as_of)
    window_moves = moves_mod.in_window(all_moves(figures), window.start, window.as_of)
    my_moves = window_moves.join(mine.select("upn").drop_nulls(), on="upn", how="semi")
    every_move = window_moves.join(upns, on="upn", how="semi")
    return SuspensionsPage(
        window=window,
        children=children.height,
        totals=groups["cohort"].row(0, named=True),
        national=national,
        national_label=label,
        national_source=cfg.benchmarks.all_pupils_source or cfg.benchmarks.source if national else None,
        groups=groups,
        reasons=reasons,
        timeline=susp.timeline(events),
        repeats=_people(susp.repeats(my_events), mine, frames.children),
        year_start=year_start,
        nearing_limit=nearing,
        without_provision=_people(_named_school(_event_rows(unprovided, cfg), frames.schools), mine, frames.children),
        monday_since=since,
        monday=monday_check(recent, notices, mine, figures),
        moves=moves_table(my_moves, mine, frames.children, frames.schools, cfg),
        moves_by_school=moves_by_school(every_move, frames.schools),
    )
