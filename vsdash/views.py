"""What each page shows, computed without Streamlit: overview, triage list and one child's page."""

from __future__ import annotations

import calendar
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Literal, cast

import polars as pl

from vsdash import child_search, glossary, metrics, running, suppression, triage
from vsdash import cohorts as cohorts_mod
from vsdash import register as register_mod
from vsdash import schools as schools_mod
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.frames import MARKS_SCHEMA, Frames, as_date, conform
from vsdash.metrics import ChildFigures, Window, WindowFigures, child_row
from vsdash.triage import ChildSignals

# The headline cards: the aggregate column (its label is the glossary's), and whether a rise is good news.
# Each card and whether a rise is good news (None: neither; suspensions and exclusions count up through the
# year, so a month later they are higher whatever happened).
HEADLINE = (
    ("children", None),
    ("attendance_pct", True),
    ("persistent_absence_rate", False),
    ("severe_absence_rate", False),
    ("suspensions", None),
    ("permanent_exclusions", None),
    ("out_of_area_children", None),
)


def month_before(day: date) -> date:
    """The same date last month (31 March -> 28 or 29 February)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


CHILDREN_KEPT = 200  # children whose frames the cache keeps (a few hundred rows each)


class TriagedWindow(WindowFigures):
    """One window's figures (see `metrics.WindowFigures`) with every child's triage signals, worked out
    on first use."""

    @cached_property
    def signals(self) -> pl.DataFrame:
        """Triage signals of every child."""
        return triage.signals(self)


class Figures:
    """One data version's frames, and per window every child's figures: computed once, then shared by
    every view (and, through the dashboard's cache, every session) until the next load."""

    def __init__(self, frames: Frames, cfg: Config, windows: int = 4) -> None:
        summary = weeks_mod.of(frames, cfg)  # the summary, worked out once if need be
        self.frames = replace(frames, weeks=summary)
        self.cfg = cfg
        self.calendar = weeks_mod.calendar(summary)
        self._totals: running.Totals | None = None
        self._windows: OrderedDict[Window, TriagedWindow] = OrderedDict()
        self._years: dict[date, TriagedWindow] = {}  # per academic year start: the year so far
        self._children: OrderedDict[str, Frames] = OrderedDict()
        self._size = windows
        self._lock = threading.Lock()

    def at(self, window: Window) -> TriagedWindow:
        """The figures for a window, the least recently used window forgotten beyond the limit; the year so
        far (from the academic year's start to its last school day, the landing page's) is kept apart."""
        if window.as_of == self._year_end(window):
            return self._year_so_far(window)
        with self._lock:
            if window in self._windows:
                self._windows.move_to_end(window)
                return self._windows[window]
        figures = self._window(window)
        with self._lock:
            self._windows[window] = figures
            while len(self._windows) > self._size:
                self._windows.popitem(last=False)
        return figures

    @property
    def totals(self) -> running.Totals:
        """The data version's running totals, worked out for the first window (a page without one never does)."""
        with self._lock:
            if self._totals is None:
                self._totals = running.Totals.of(weeks_mod.of(self.frames, self.cfg))
            return self._totals

    def _window(self, window: Window) -> TriagedWindow:
        """One window's figures from the data version's summary, calendar and running totals."""
        return TriagedWindow(self.frames, self.cfg, window, self.calendar, self.totals)

    def _year_end(self, window: Window) -> date | None:
        """The last school day of the window's academic year so far, when the window starts on the year's
        first day (None for a custom start, or a year with no school day yet)."""
        start = self.cfg.year_start(window.as_of)
        if window.start != start:
            return None
        next_year = date(start.year + 1, start.month, start.day)
        days = self.calendar.filter((self.calendar >= start) & (self.calendar < next_year))
        return as_date(days[-1]) if len(days) else None

    def _year_so_far(self, window: Window) -> TriagedWindow:
        """The year-so-far window of one academic year, kept for the data version."""
        with self._lock:
            kept = self._years.get(window.start)
            if kept is not None and kept.window == window:
                return kept
        figures = self._window(window)
        with self._lock:
            self._years[window.start] = figures
        return figures

    def of(self, filters: Filters) -> TriagedWindow:
        """The figures for the filters' window: from their start, or the academic year's, to the as-at date."""
        return self.at(metrics.window_for(self.cfg, filters.as_of, filters.start))

    def child_frames(self, la_child_id: str) -> Frames | None:
        """One child's frames with their day rows and week summary (the child page's), worked out once per
        data version for recently opened children; None when the child is not listed."""
        with self._lock:
            if la_child_id in self._children:
                self._children.move_to_end(la_child_id)
                return self._children[la_child_id]
        frames = self.frames
        child = frames.children.filter(pl.col("la_child_id") == la_child_id)
        if child.is_empty():
            return None
        upn = child["upn"][0]
        marks = frames.days(upn=upn) if upn else conform(None, MARKS_SCHEMA)
        one = Frames(
            marks=marks,
            children=child,
            episodes=frames.episodes.filter(pl.col("la_child_id") == la_child_id),
            schools=frames.schools,
            suspensions=frames.suspensions.filter(pl.col("upn") == upn) if upn else frames.suspensions.clear(),
            weeks=weeks_mod.of(Frames.build(marks=marks), self.cfg),
        )
        with self._lock:
            self._children[la_child_id] = one
            while len(self._children) > CHILDREN_KEPT:
                self._children.popitem(last=False)
        return one

    @cached_property
    def looked_after_spans(self) -> pl.DataFrame:
        """Every child's unbroken spans of being looked after (`metrics.looked_after_spans`), for the DfE groups
        of any as-at date."""
        return metrics.looked_after_spans(self.frames.episodes)

    @cached_property
    def search_index(self) -> pl.DataFrame:
        """Every listed child's search keys (`child_search.index`), made on the first search of a data version
        so no keystroke reworks 300,000 names."""
        return child_search.index(self.frames.children)

    @cached_property
    def several_schools_days(self) -> pl.DataFrame:
        """The day rows of the children who attended more than one school: all that school moves and two
        schools' clashes read (a few hundred of 30,000 children), so no process holds every day row."""
        return self.frames.days(upns=weeks_mod.several_schools(weeks_mod.of(self.frames, self.cfg)).to_list())


def selected_children(figures: Figures, filters: Filters) -> pl.DataFrame:
    """Per-child figures for the children the filters select (cohort as at the as-at date): the base of every view."""
    return figures.of(filters).children.filter(filters.expression())


def last_month_filters(filters: Filters) -> Filters:
    """The same selection a month earlier; a custom window start is kept when it still fits."""
    earlier = month_before(filters.as_of)
    start = filters.start if filters.start and filters.start <= earlier else None
    return filters.with_changes(as_of=earlier, start=start)


def year_before(filters: Filters) -> Filters:
    """The same selection at the same point last year (the as-at date a year earlier), a custom start a year
    earlier too, so the figure beside "vs last month" answers "are we doing better than this time last year?"."""
    start = cohorts_mod.years_before(filters.start, 1) if filters.start else None
    return filters.with_changes(as_of=cohorts_mod.years_before(filters.as_of, 1), start=start)


@dataclass(frozen=True)
class Comparison:
    """A national figure beside the local figure for the same group on the DfE's definitions."""

    group: str  # the local group, in words ("CIN (not CP or CLA)", "Suspended at least once")
    value: float | str | None  # the local figure for that group, in % (forum mode: `c` when withheld)
    national: float  # in %
    source: str  # "National 2024/25", "All pupils nationally 2023/24"

    def text(self) -> str:
        """One line for a card: "CIN (not CP or CLA): 82.1% · National 2024/25: 82.6%"."""
        return f"{self.group}: {percent_text(self.value)} · {self.source}: {percent_text(self.national, exact=True)}"


def percent_text(value: float | str | None, exact: bool = False) -> str:
    """A percentage as people read it: one decimal, two for a small rate (0.13%) or, `exact`, for a published
    figure given to two (4.04%); words when unknown; forum mode's symbol (c) as it is."""
    if value is None:
        return "no figures"
    if isinstance(value, str):
        return value
    two = (0 < abs(value) < 1) or (exact and round(value, 1) != value)
    return f"{value:.2f}%" if two else f"{value:.1f}%"


@dataclass(frozen=True)
class Card:
    """One headline figure with its change since last month, the same point last year and national figures."""

    key: str
    label: str
    value: float | int | str | None  # forum mode: `c` when withheld
    last_month: float | int | str | None
    rise_is_good: bool | None
    last_year: float | int | str | None = None
    comparisons: tuple[Comparison, ...] = ()
    # Forum mode: the change is `c` (a count's change of 1 to threshold - 1, or one made from a withheld figure).
    change_withheld: bool = False

    @property
    def change(self) -> float | int | None:
        """Now minus a month ago (None when either is unknown or withheld)."""
        if not isinstance(self.value, int | float) or not isinstance(self.last_month, int | float):
            return None
        return self.value - self.last_month

    @property
    def percent(self) -> bool:
        """Whether the figure is a percentage (shown to one decimal place) rather than a count."""
        return self.key.endswith(("_pct", "_rate"))

    def shown(self, value: float | int | str | None) -> str:
        """A value of this card as the card shows it (a dash when unknown, forum mode's `c` as it is)."""
        if value is None:
            return "–"  # noqa: RUF001 (a dash, as a person writes one)
        if isinstance(value, str):
            return value
        return f"{value:.1f}%" if self.percent else f"{value:,}"

    def pill(self) -> Pill | None:
        """The change as the card shows it: rounded as the value is, so "+0.0" never appears coloured; green
        for good news, red for bad, grey for no change or a figure whose rise is neither (a count to date)."""
        if self.change_withheld:
            return Pill(suppression.CONFIDENTIAL, "off", "off")
        change = self.change
        if change is None:
            return None
        shown = round(change, 1) if self.percent else int(change)
        if shown == 0:
            return Pill("no change", "off", "off")
        text = f"{shown:+.1f} pts" if self.percent else f"{shown:+,}"
        if self.rise_is_good is None:
            return Pill(text, "off", "auto")
        return Pill(text, "normal" if self.rise_is_good else "inverse", "auto")


@dataclass(frozen=True)
class Pill:
    """A card's change: its words, Streamlit's colour rule (normal: a rise is green) and whether an arrow shows."""

    text: str
    colour: Literal["normal", "inverse", "off"]
    arrow: Literal["auto", "off"]


# A breakdown's figures, in the order its table shows them (the Overview page and the meeting pack).
BREAKDOWN_FIGURES = [
    "children",
    "children_with_data",
    "attendance_pct",
    "persistent_absence_rate",
    "severe_absence_rate",
    "suspension_rate",
    "suspension_sessions",
    "permanent_exclusions",
]


@dataclass(frozen=True)
class Breakdown:
    """One breakdown of the selection's figures by a column (locality, or team within one locality)."""

    title: str
    column: str
    table: pl.DataFrame
    missing: str  # what a group with no value is called
    # Forum mode: the figures as numbers with every withheld one null (what the chart may draw), and the
    # groups whose bar is therefore left out.
    chart: pl.DataFrame | None = None
    withheld_bars: tuple[str, ...] = ()

    def bars(self) -> pl.DataFrame:
        """What the breakdown's chart draws: the table's figures (only the unsuppressed ones in forum mode)."""
        frame = self.table if self.chart is None else self.chart
        return frame.with_columns(pl.col(self.column).fill_null(self.missing))


@dataclass(frozen=True)
class Overview:
    """Everything on the performance-meeting page."""

    window: Window
    last_month: date
    cards: list[Card]
    national_source: str | None
    national_year: str | None
    weekly: pl.DataFrame
    by_locality: pl.DataFrame
    by_team: pl.DataFrame
    moved_teams: pl.DataFrame
    moved_schools: pl.DataFrame
    children: int = 0
    notes: list[str] = field(default_factory=list)
    last_year: date | None = None
    # Like for like: the selected children's weekly figures by DfE group, the groups' national figures
    # (group, year, attendance_pct, persistent_absence_rate, severe_absence_rate) and the local ones beside them.
    weekly_groups: pl.DataFrame = field(default_factory=pl.DataFrame)
    national: pl.DataFrame = field(default_factory=pl.DataFrame)
    compared: pl.DataFrame = field(default_factory=pl.DataFrame)
    breakdowns: list[Breakdown] = field(default_factory=list)
    all_pupils_source: str | None = None  # "All pupils nationally 2023/24", when configured
    forum: bool = False  # forum mode: small numbers withheld as c (see `forum_overview`)
    threshold: int = suppression.DEFAULT_THRESHOLD
    withheld_points: frozenset[str] = frozenset()  # forum mode: the trends ("weekly", ...) that left points out

    def withheld_note(self, trend: str) -> str:
        """Forum mode's sentence under a trend that left points out ("" when none was)."""
        return withheld_points_note(self.threshold) if trend in self.withheld_points else ""


def withheld_points_note(threshold: int) -> str:
    """The sentence under a forum's trend that left points out (the Overview's, an opened school's)."""
    return (
        f" Points with 1 to {threshold - 1} children with data or persistently absent, and the points "
        "that would give them away, are left out (forum mode)."
    )


# The card figures the DfE publishes for its groups, from a configured row (attendance = 100 - overall absence).
GROUP_FIGURES = {
    "attendance_pct": lambda row: round(100 - row.overall_absence, 1),
    "persistent_absence_rate": lambda row: row.persistent_absence,
    "severe_absence_rate": lambda row: row.severe_absence,
}


def national_figures(cfg: Config, cohort: str | None) -> tuple[dict[str, float], str | None]:
    """The latest national attendance figures for a cohort as card keys, and their year."""
    years = cfg.benchmarks.by_cohort.get(cohort or "", {})
    if not years:
        return {}, None
    year = max(years)  # 2024/25 after 2023/24: the configuration refuses any other way of writing a year
    return {key: figure(years[year]) for key, figure in GROUP_FIGURES.items()}, year


def comparison_groups(cfg: Config, cohort: str | None) -> list[str]:
    """The DfE groups whose national figures compare with a selection: all of them for all children, the
    cohort's own group, both for children with a social worker (CIN or CP now), none for the others."""
    wanted = {None: metrics.DFE_GROUPS, "CWSW": ("CP", "CIN")}.get(cohort, (cohort,))
    return [g for g in metrics.DFE_GROUPS if g in wanted and g in cfg.benchmarks.by_cohort]


def national_table(cfg: Config, groups: list[str]) -> pl.DataFrame:
    """The latest national figures of each group, one row per group, for the charts' lines and the table."""
    rows = []
    for group in groups:
        figures, year = national_figures(cfg, group)
        rows.append({"dfe_group": group, "year": year, **figures})
    schema = {"dfe_group": pl.String, "year": pl.String, **dict.fromkeys(GROUP_FIGURES, pl.Float64)}
    return pl.DataFrame(rows, schema=schema)


def compared_with_england(children: pl.DataFrame, national: pl.DataFrame) -> pl.DataFrame:
    """Each DfE group of the selection beside its national figures: like for like, one row per group."""
    local = metrics.aggregate(children.filter(pl.col("dfe_group").is_not_null()), ["dfe_group"])
    nat = national.select("dfe_group", "year", *(pl.col(k).alias(f"national_{k}") for k in GROUP_FIGURES))
    return nat.join(
        local.select("dfe_group", "children", "children_with_data", *GROUP_FIGURES), on="dfe_group", how="left"
    ).with_columns(pl.col("children", "children_with_data").fill_null(0))


def group_comparisons(compared: pl.DataFrame, key: str) -> tuple[Comparison, ...]:
    """A card's like-for-like lines: each DfE group's local figure beside its national one."""
    labels = glossary.DFE_GROUP_LABELS
    return tuple(
        Comparison(labels[row["dfe_group"]], row[key], row[f"national_{key}"], f"National {row['year']}")
        for row in compared.iter_rows(named=True)
        if key in GROUP_FIGURES
    )


def all_pupil_comparisons(cfg: Config, children: pl.DataFrame) -> tuple[dict[str, tuple[Comparison, ...]], str | None]:
    """The suspension cards' national lines: the all-pupil rates of the latest configured year beside the
    selection's own rates on the same definitions."""
    years = cfg.benchmarks.all_pupils
    if not years:
        return {}, None
    year = max(years)
    row, rates = years[year], metrics.exclusion_rates(children)
    source = f"All pupils nationally {year}"
    described = f"{cfg.benchmarks.all_pupils_source or cfg.benchmarks.source}, {year}"
    return {
        "suspensions": (
            Comparison("Suspended at least once", rates["one_or_more_suspension"], row.one_or_more_suspension, source),
        ),
        "permanent_exclusions": (
            Comparison("Permanent exclusion rate", rates["permanent_exclusion"], row.permanent_exclusion, source),
        ),
    }, described


def breakdowns(children: pl.DataFrame, filters: Filters) -> list[Breakdown]:
    """By locality and by team; with one locality chosen, a locality breakdown is a single bar, so by team
    within it."""
    by_team = metrics.aggregate(children, ["team"])
    if filters.locality is not None:
        return [Breakdown(f"By social-care team in {filters.locality}", "team", by_team, "No team allocated")]
    return [
        Breakdown("By locality", "locality", metrics.aggregate(children, ["locality"]), "No locality recorded"),
        Breakdown("By social-care team", "team", by_team, "No team allocated"),
    ]


def overview(figures: Figures, filters: Filters) -> Overview:
    """Headline cards with last month's and last year's values, weekly trends by cohort and by DfE group
    against England, breakdowns and what moved."""
    cfg, frames = figures.cfg, figures.frames
    before, year_ago = last_month_filters(filters), year_before(filters)
    # Last month's and last year's windows are worked out beside this one (polars releases the GIL): a new
    # as-at date needs all three, and two cores shorten the wait.
    with ThreadPoolExecutor(max_workers=2) as pool:
        earlier = pool.submit(selected_children, figures, before)
        last_year = pool.submit(selected_children, figures, year_ago)
        now_children = metrics.with_dfe_group(
            selected_children(figures, filters), frames.episodes, filters.as_of, figures.looked_after_spans
        )
        window_weeks = figures.of(filters).weeks
        weekly = metrics.cohort_trend(window_weeks, now_children, filters.cohort)
        then_children, year_children = earlier.result(), last_year.result()
    now, then, a_year_ago = (
        metrics.aggregate(children, []).row(0, named=True) for children in (now_children, then_children, year_children)
    )
    # Before the first data a year back there is nothing to compare: no figures, rather than zeros.
    had_school_days = len(figures.of(year_ago).school_days) > 0
    groups = comparison_groups(cfg, filters.cohort)
    national = national_table(cfg, groups)
    compared = compared_with_england(now_children, national)
    in_groups = now_children.filter(pl.col("dfe_group").is_in(groups))
    weekly_groups = metrics.trend_from_sums(metrics.week_sums(window_weeks, in_groups, ["dfe_group"]), ["dfe_group"])
    pupils, pupils_source = all_pupil_comparisons(cfg, now_children)
    # Cards carry a line per group only when there are one or two; all three are in the table below them.
    on_cards = compared if compared.height <= 2 else compared.clear()
    words = glossary.terms(cfg)
    cards = [
        Card(
            key,
            words.of(key).label,
            now[key],
            then[key],
            good,
            last_year=a_year_ago[key] if had_school_days else None,
            comparisons=group_comparisons(on_cards, key) + pupils.get(key, ()),
        )
        for key, good in HEADLINE
    ]
    smallest = cfg.thresholds.what_moved_min_children
    return Overview(
        window=figures.of(filters).window,
        last_month=before.as_of,
        cards=cards,
        national_source=cfg.benchmarks.source if groups or pupils else None,
        national_year=national["year"].max() if groups else None,  # type: ignore[arg-type]
        weekly=weekly,
        by_locality=metrics.aggregate(now_children, ["locality"]),
        by_team=metrics.aggregate(now_children, ["team"]),
        moved_teams=metrics.what_moved(now_children, then_children, "team", smallest),
        moved_schools=with_school_names(
            metrics.what_moved(now_children, then_children, "school_urn", smallest), frames.schools
        ),
        children=now_children.height,
        last_year=year_ago.as_of,
        weekly_groups=weekly_groups,
        national=national,
        compared=compared,
        breakdowns=breakdowns(now_children, filters),
        all_pupils_source=pupils_source,
    )


def chart_table(weekly: pl.DataFrame, group: str, labels: dict[str, str]) -> pl.DataFrame:
    """A weekly trend's figures as a table people read (a chart's text alternative): the week, the group's
    name, and each rate to one decimal."""
    return weekly.sort("week_start", group).select(
        "week_start",
        pl.col(group).replace_strict(labels, default=pl.col(group)).alias(group),
        "children_with_data",
        pl.col("attendance_pct", "persistent_absence_rate").round(1),
    )


def compared_table(compared: pl.DataFrame) -> pl.DataFrame:
    """The like-for-like comparison with England as a table: the group in words, each figure to one decimal."""
    figures = [c for k in GROUP_FIGURES for c in (k, f"national_{k}")]
    return compared.select(
        pl.col("dfe_group").replace_strict(glossary.DFE_GROUP_LABELS, default=pl.col("dfe_group")),
        "children",
        "children_with_data",
        # Forum mode's figures are already text (c, z, x, or rounded): only numbers are rounded here.
        *(pl.col(c).round(1) if compared.schema[c].is_float() else pl.col(c) for c in figures),
    )


def with_school_names(table: pl.DataFrame, schools: pl.DataFrame, column: str = "school_urn") -> pl.DataFrame:
    """Add the school's name and LA beside its URN."""
    names = schools.select(
        pl.col("urn").alias(column), pl.col("name").alias("school"), pl.col("la_name").alias("school_la_name")
    )
    return table.join(names, on=column, how="left")


# ---- the Overview in forum mode -----------------------------------------------------------------

# The Overview's counts and what each rate is built on: the Schools page's rules, so both pages withhold alike.
FORUM_SPEC = suppression.Spec(
    counts=schools_mod.COUNTS,
    derived={k: v for k, v in schools_mod.DERIVED.items() if not k.endswith("_difference")},
    not_applicable_when_zero=dict.fromkeys(
        ("attendance_pct", "persistent_absence_rate", "severe_absence_rate"), "children_with_data"
    )
    | {"suspension_rate": "children"},
)
# A card's all-pupil comparison -> the selection's own figure it puts beside the national one.
ALL_PUPIL_BASIS = {"suspensions": "suspension_rate", "permanent_exclusions": "permanent_exclusions"}
WITHHELD_TEXT = (suppression.CONFIDENTIAL, suppression.NOT_APPLICABLE, suppression.NOT_AVAILABLE)


def _published(frame: pl.DataFrame, withheld: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """A suppressed table as a forum sees it: its keys and the figures the suppression covers, as text
    (session sums, which would give a small group away, do not leave)."""
    kept = frame.select(*keys, *withheld.columns)
    return suppression.as_text(suppression.withheld_as_null(kept, withheld), withheld, FORUM_SPEC)


def _withheld_row(row: dict, threshold: int) -> dict[str, bool]:
    """Which figures of one aggregate row (a card's, last month's) are withheld on their own counts."""
    one = pl.DataFrame([row]).select(*FORUM_SPEC.counts, *(c for c in FORUM_SPEC.derived if c in row))
    mask = suppression.suppress(one, FORUM_SPEC, threshold, total=one).detail_withheld.row(0, named=True)
    return mask | {"out_of_area_children": suppression.is_small(row["out_of_area_children"], threshold)}


def _card_value(value: float | int | str | None, withheld: bool) -> float | int | str | None:
    """A card's figure, or `c` when withheld."""
    return suppression.CONFIDENTIAL if withheld else value


def _forum_card(card: Card, masks: tuple[dict, dict, dict], groups: dict[str, dict], threshold: int) -> Card:
    """One headline card as a forum sees it: this month's and last month's figures withheld by the same rule
    (their own counts, `masks`), and the change `c` whenever either figure it is made of is withheld, or it is a
    count's change of 1 to threshold - 1 (nothing shown then gives a withheld figure back by adding or taking away
    the change); the comparisons withheld where their groups' counts are."""
    now, then, year = (mask.get(card.key, False) for mask in masks)
    comparisons = tuple(
        replace(c, value=suppression.CONFIDENTIAL)
        if groups.get(c.group, {}).get(card.key)
        or (c.group not in groups and masks[0].get(ALL_PUPIL_BASIS.get(card.key, ""), False))
        else c
        for c in card.comparisons
    )
    change = card.change
    small_change = not card.percent and change is not None and suppression.is_small(abs(int(change)), threshold)
    return replace(
        card,
        value=_card_value(card.value, now),
        last_month=_card_value(card.last_month, then),
        last_year=None if card.last_year is None else _card_value(card.last_year, year),
        comparisons=comparisons,
        change_withheld=change is not None and (now or then or small_change),
    )


def _forum_trend(weekly: pl.DataFrame, group: str, threshold: int) -> tuple[pl.DataFrame, bool]:
    """A weekly trend keeping only points whose counts are shown: a point with 1 to threshold - 1 children with
    data or persistently absent is left out, and so is the next smallest point of that week whenever one alone
    is (each week's lines could otherwise be subtracted from one another). Returns whether any was left out."""
    counts = ("children_with_data", "persistent_absence_children")
    values = {(i, c): int(v or 0) for c in counts for i, v in enumerate(weekly[c].to_list())}
    hidden = {cell for cell, value in values.items() if suppression.is_small(value, threshold)}
    weeks = weekly.with_row_index("_row").group_by("week_start").agg("_row")["_row"].to_list()
    hidden = suppression.protect(values, hidden, [[(int(i), c) for i in rows] for c in counts for rows in weeks])
    left_out = sorted({i for i, _ in hidden})
    kept = weekly.with_row_index("_row").filter(~pl.col("_row").is_in(left_out)).drop("_row")
    return kept.select("week_start", group, "children_with_data", "attendance_pct", "persistent_absence_rate"), bool(
        left_out
    )


def _forum_compared(compared: pl.DataFrame, children: pl.DataFrame, threshold: int) -> tuple[pl.DataFrame, dict]:
    """The comparison with England with the selection's own figures suppressed, and each group's mask by its
    label (for the cards' lines)."""
    groups = compared["dfe_group"].to_list()
    local = metrics.aggregate(children.filter(pl.col("dfe_group").is_in(groups)), ["dfe_group"])
    mask = suppression.suppress(local, FORUM_SPEC, threshold).detail_withheld
    text = _published(local, mask, ["dfe_group"]).select("dfe_group", "children", "children_with_data", *GROUP_FIGURES)
    national = compared.select("dfe_group", "year", *(f"national_{k}" for k in GROUP_FIGURES))
    shown = national.join(text, on="dfe_group", how="left").with_columns(
        pl.col("children", "children_with_data").fill_null("0"),
        pl.col(list(GROUP_FIGURES)).fill_null(suppression.NOT_APPLICABLE),
    )
    labels = glossary.DFE_GROUP_LABELS
    by_label = {labels[g]: m for g, m in zip(local["dfe_group"].to_list(), mask.iter_rows(named=True), strict=True)}
    return shown, by_label


def _signed(value: pl.Expr) -> pl.Expr:
    """A change in points as text with its sign, to one decimal ("+2.5", "-0.4")."""
    rounded = value.round(1)
    return pl.when(rounded >= 0).then(pl.lit("+") + rounded.cast(pl.String)).otherwise(rounded.cast(pl.String))


def _forum_moved(
    now: pl.DataFrame, then: pl.DataFrame, by: str, shown_now: pl.DataFrame, smallest: int, threshold: int
) -> pl.DataFrame:
    """What moved as a forum sees it: now's figures exactly as the page's other tables withhold them
    (`shown_now`, text by `by`), a change withheld with either figure it is made of, and a group whose
    attendance change is withheld left off the list altogether (its place in the order would give it away)."""
    moved = metrics.what_moved(now, then, by, smallest, top=10_000)
    earlier = metrics.aggregate(then, [by])
    before = suppression.suppress(earlier, FORUM_SPEC, threshold).detail_withheld
    before = before.select(
        pl.col("attendance_pct").alias("_then_attendance"), pl.col("persistent_absence_rate").alias("_then_pa")
    ).with_columns(earlier[by])
    figures = shown_now.select(by, "children", "attendance_pct", "persistent_absence_rate")
    withheld = pl.col("attendance_pct").is_in(WITHHELD_TEXT) | pl.col("_then_attendance")
    pa_withheld = pl.col("persistent_absence_rate").is_in(WITHHELD_TEXT) | pl.col("_then_pa")
    return (
        moved.select(by, "attendance_change", "persistent_absence_change")
        .join(figures, on=by, how="left")
        .join(before, on=by, how="left")
        .filter(~withheld.fill_null(True))
        .head(5)
        .with_columns(
            attendance_change=_signed(pl.col("attendance_change")),
            persistent_absence_change=pl.when(pa_withheld.fill_null(True))
            .then(pl.lit(suppression.CONFIDENTIAL))
            .otherwise(_signed(pl.col("persistent_absence_change"))),
        )
        .drop("_then_attendance", "_then_pa")
    )


def forum_overview(figures: Figures, filters: Filters) -> Overview:
    """The Overview as a headteachers' forum may see it (issue 15): no child, counts 1 to threshold - 1 as `c`
    on the cards, the breakdowns suppressed with the cards' total (primary and secondary, the Schools page's
    rules), what moved withheld alike, and charts drawn only from the figures shown."""
    cfg, threshold = figures.cfg, figures.cfg.forum.threshold
    result = overview(figures, filters)
    now = metrics.with_dfe_group(
        selected_children(figures, filters), figures.frames.episodes, filters.as_of, figures.looked_after_spans
    )
    then = selected_children(figures, last_month_filters(filters))
    year_ago = selected_children(figures, year_before(filters))
    total = metrics.aggregate(now, [])
    masks, total_mask = suppression.suppress_partitions(
        {b.column: b.table for b in result.breakdowns}, total, FORUM_SPEC, threshold
    )
    card_masks = (
        total_mask.row(0, named=True)
        | {"out_of_area_children": suppression.is_small(total["out_of_area_children"][0], threshold)},
        _withheld_row(metrics.aggregate(then, []).row(0, named=True), threshold),
        _withheld_row(metrics.aggregate(year_ago, []).row(0, named=True), threshold),
    )
    compared, group_masks = _forum_compared(result.compared, now, threshold)
    breakdowns = []
    for part in result.breakdowns:
        mask = masks[part.column]
        chart = suppression.withheld_as_null(part.table.select(part.column, *mask.columns), mask)
        left_out = part.table.filter(mask["persistent_absence_rate"])[part.column].fill_null(part.missing)
        breakdowns.append(
            replace(part, table=_published(part.table, mask, [part.column]), chart=chart, withheld_bars=tuple(left_out))
        )
    teams = next(b.table for b in breakdowns if b.column == "team")
    schools = schools_mod.for_forum(
        schools_mod.schools_table(now.drop("dfe_group"), figures.frames, figures.of(filters).rows, cfg)
    ).schools
    smallest = cfg.thresholds.what_moved_min_children
    weekly, weekly_cut = _forum_trend(result.weekly, "cohort", threshold)
    weekly_groups, groups_cut = (
        _forum_trend(result.weekly_groups, "dfe_group", threshold)
        if not result.weekly_groups.is_empty()
        else (result.weekly_groups, False)
    )
    return replace(
        result,
        cards=[_forum_card(card, card_masks, group_masks, threshold) for card in result.cards],
        weekly=weekly,
        weekly_groups=weekly_groups,
        compared=compared,
        breakdowns=breakdowns,
        by_locality=_published(
            result.by_locality,
            suppression.suppress(result.by_locality, FORUM_SPEC, threshold).detail_withheld,
            ["locality"],
        ),
        by_team=teams,
        moved_teams=_forum_moved(now, then, "team", teams, smallest, threshold),
        moved_schools=with_school_names(
            _forum_moved(now, then, "school_urn", schools, smallest, threshold), figures.frames.schools
        ),
        withheld_points=frozenset(name for name, cut in (("weekly", weekly_cut), ("weekly_groups", groups_cut)) if cut),
        forum=True,
        threshold=threshold,
    )


# ---- one school opened on the Schools page ---------------------------------------------------------


def school_detail(figures: Figures, urn: int, filters: Filters, forum: bool = False) -> schools_mod.SchoolDetail | None:
    """One school opened on the Schools page (issue 15): the Overview's weekly trend by cohort and the
    Schools table's figures, for the selected children on roll there, beside the authority's; in forum mode
    withheld by the Schools table's and the Overview's rules. None when no school has that URN."""
    children = selected_children(figures, filters)
    window = figures.of(filters)
    detail = schools_mod.school_detail(children, window.weeks, figures.frames.schools, urn, filters.cohort, figures.cfg)
    if detail is None or not forum:
        return detail
    table = schools_mod.for_forum(schools_mod.schools_table(children, figures.frames, window.rows, figures.cfg))
    row = table.schools.filter(pl.col("school_urn") == urn)
    threshold = table.threshold
    mine = schools_mod.on_school_roll(children, urn)
    school = _forum_cohort_rows(
        schools_mod.cohort_figures(mine, filters.cohort), row.row(0, named=True) if row.height else {}, threshold
    )
    authority = _forum_cohort_rows(
        schools_mod.cohort_figures(children, filters.cohort), table.authority.row(0, named=True), threshold
    )
    # A line whose count the figures withhold is left out whole: its points would give that count away.
    hidden = school.filter(
        (pl.col("children_with_data") == suppression.CONFIDENTIAL)
        | (pl.col("persistent_absence_children") == suppression.CONFIDENTIAL)
    )["cohort"]
    counts = ("children_with_data", "persistent_absence_children")
    marked = detail.weekly.with_columns(
        pl.when(pl.col("cohort").is_in(hidden.implode())).then(1).otherwise(pl.col(c)).alias(c) for c in counts
    )
    weekly, cut = _forum_trend(marked, "cohort", threshold)
    return replace(
        detail,
        children=school["children"][0],
        weekly=weekly,
        figures=schools_mod.beside(school, authority),
        forum=True,
        threshold=threshold,
        withheld_points=cut,
    )


def _forum_cohort_rows(rows: pl.DataFrame, published: dict, threshold: int) -> pl.DataFrame:
    """One side's figures by cohort (a school's or the authority's; its whole first, then each cohort) as a
    forum sees them, in text: withheld by the rule of one week's trend lines (a small count, and the next
    smallest of the rows whenever one alone is), and wherever the forum's Schools table withholds the same
    count (`published`: that side's row there), so neither table gives away a cell the other withholds."""
    whole = [c for c in FORUM_SPEC.counts if published.get(c) == suppression.CONFIDENTIAL]
    cohorts = [
        cohort
        for cohort in rows["cohort"].to_list()
        if published.get(schools_mod.cohort_column(cohort)) == suppression.CONFIDENTIAL
    ]
    first = pl.int_range(pl.len()) == 0
    # A count the Schools table withholds goes in as a small one: the same rule then withholds and protects it.
    taken = {c: first for c in whole}
    taken["children"] = taken.get("children", pl.lit(False)) | (
        ~first & pl.col("cohort").is_in(pl.Series(cohorts, dtype=pl.String).implode())
    )
    marked = rows.with_columns(pl.when(e).then(1).otherwise(pl.col(c)).alias(c) for c, e in taken.items())
    part = suppression.suppress(marked.slice(1), FORUM_SPEC, threshold, total=marked.head(1))
    return _published(rows, pl.concat([part.total_withheld, part.detail_withheld]), ["cohort"])


# ---- triage --------------------------------------------------------------------------------------


def latest_actions(actions: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per child, the latest action recorded, whatever its follow-up date: an officer must see what was
    done, and a follow-up whose date has come by the as-at date (or passed) is due until marked done."""
    due = (pl.col("follow_up") <= as_of) & pl.col("done_at").is_null()
    return (
        actions.sort(["recorded_at", "id"], descending=True)
        .unique("la_child_id", keep="first")
        .select(
            "la_child_id",
            pl.col("id").alias("action_id"),
            pl.col("action").alias("last_action"),
            pl.col("recorded_at").dt.date().alias("last_action_on"),
            pl.col("follow_up"),
            due.fill_null(False).alias("follow_up_due"),
            pl.col("done_at").is_not_null().alias("follow_up_done"),
            pl.col("recorded_by").alias("action_by"),
        )
    )


# Where a child whose follow-up is due, and who has no signal, comes on the list: after every signal.
FOLLOW_UP_RANK = len(triage.SIGNALS) + 1


def triage_list(
    figures: Figures,
    filters: Filters,
    actions: pl.DataFrame,
    teams: list[str] | None = None,
    schools: list[int] | None = None,
) -> pl.DataFrame:
    """The morning worklist: children with at least one signal or a follow-up due by the as-at date, most
    urgent first (within a priority: more signals first, then lower attendance), with who to call."""
    frames = figures.frames
    children = selected_children(figures, filters)
    if teams:
        children = children.filter(pl.col("team").is_in(teams))
    if schools:
        children = children.filter(pl.col("school_urn").is_in(schools))
    rows = figures.of(filters).signals.join(children.select("la_child_id"), on="la_child_id", how="semi")
    names = frames.children.select("la_child_id", "first_name", "last_name")
    words = glossary.terms(figures.cfg)
    priority = {rank: f"{rank} {words.of(signal).label}" for rank, signal in enumerate(triage.SIGNALS, start=1)}
    priority[FOLLOW_UP_RANK] = f"{FOLLOW_UP_RANK} Follow-up due"
    uk = triage.uk_date
    follow_up = (
        pl.when(pl.col("follow_up_done"))
        .then(uk(pl.col("follow_up")) + " (done)")
        .when(pl.col("follow_up_due"))
        .then(uk(pl.col("follow_up")) + " (due)")
        .otherwise(uk(pl.col("follow_up")))
    )
    return (
        with_school_names(rows, frames.schools)
        .join(names, on="la_child_id", how="left")
        .join(latest_actions(actions, filters.as_of), on="la_child_id", how="left")
        .with_columns(follow_up_due=pl.col("follow_up_due").fill_null(False))
        .filter(pl.col("urgency").is_not_null() | pl.col("follow_up_due"))
        .with_columns(urgency=pl.col("urgency").fill_null(FOLLOW_UP_RANK))
        .with_columns(
            child=pl.concat_str(pl.col("first_name"), pl.col("last_name"), separator=" ", ignore_nulls=True),
            reasons_text=pl.col("reasons").list.join("; "),
            priority=pl.col("urgency").replace_strict(priority, return_dtype=pl.String),
            last_action_text=(
                pl.col("last_action") + " " + uk(pl.col("last_action_on")) + " (" + pl.col("action_by") + ")"
            ).fill_null(""),
            follow_up_text=follow_up.fill_null(""),
            school=pl.col("school").fill_null("no school known"),
            social_worker=pl.col("social_worker").fill_null("none allocated"),
        )
        .sort(["urgency", "signal_count", "attendance_pct"], descending=[False, True, False], nulls_last=True)
    )


def no_attendance_count(figures: Figures, filters: Filters, scope: pl.Expr | None = None) -> int:
    """Children the filters (and a viewer's `scope`) select who are in a cohort and have no attendance ever
    received: the Triage page's pointer to the data-quality page, where matching them is worked."""
    children = selected_children(figures, filters)
    children = (children if scope is None else children.filter(scope)).select("la_child_id")
    signals = figures.of(filters).signals.join(children, on="la_child_id", how="semi")
    return int(signals["no_attendance"].sum())


# ---- one child -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the child is, as the social-care list has them (a row of the children frame, by name)."""

    la_child_id: str
    upn: str | None
    first_name: str | None
    last_name: str | None
    dob: date | None
    gender: str | None
    ehcp: bool | None
    responsible_la: str | None
    year_group: str | None
    social_worker: str | None
    team: str | None
    locality: str | None

    @property
    def name(self) -> str:
        """First and last name, or the LA child ID when the list has neither."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.la_child_id


@dataclass(frozen=True)
class ChildTables:
    """The child's tables in people's words, for the page and the printable summary alike: cohort names beside
    their codes, LA names beside their numbers, suspension reasons with their meanings, no empty "None"."""

    cohorts: pl.DataFrame
    schools: pl.DataFrame
    suspensions: pl.DataFrame
    sessions: pl.DataFrame
    responsible_la: str


def la_words(code: str | None, names: dict[str, str], cfg: Config) -> str:
    """An LA as people know it: its number and name ("893 Marches"), the number alone when no name is known."""
    if not code:
        return "—"
    name = names.get(code) or (cfg.authority_name if code == cfg.la_code else None)
    return f"{code} {name}" if name else code


def cohort_rows(history: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Cohort episodes with the cohort's name beside its code ("Children looked after (CLA)")."""
    named = {code: f"{label} ({code})" for code, label in cfg.cohorts.items()}
    return history.select(
        pl.col("cohort").replace_strict(named, default=pl.col("cohort"), return_dtype=pl.String),
        "start_date",
        pl.col("end_date").alias("episode_end"),
    )


def school_rows(history: pl.DataFrame, schools: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """The schools a child has marks at, with each school's LA as number and name."""
    names = dict(schools.select("la_code", "la_name").drop_nulls("la_code").unique("la_code").iter_rows())
    codes = schools.select("urn", "la_code")
    return (
        history.join(codes, on="urn", how="left")
        .with_columns(
            school=pl.col("school").fill_null(pl.format("URN {}", "urn")),
            local_authority=pl.col("la_code").map_elements(
                lambda code: la_words(code, names, cfg), return_dtype=pl.String, skip_nulls=False
            ),
        )
        .select("school", "urn", "local_authority", "from", "to", "days", "dual_registered_days", "out_of_area")
    )


def suspension_rows(suspensions: pl.DataFrame, schools: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Suspensions and exclusions, newest first, with the category in words, every reason with its meaning
    ("DB: Persistent disruptive behaviour") and the school's name."""
    meanings = {code: glossary.reason_words(code, cfg) for code in cfg.suspension_reasons}
    reason = [
        pl.col(c).replace_strict(meanings, default=pl.col(c), return_dtype=pl.String)
        for c in ("reason", "reason_2", "reason_3")
    ]
    return (
        suspensions.join(schools.select("urn", pl.col("name").alias("school")), on="urn", how="left")
        .sort("start_date", descending=True)
        .select(
            "start_date",
            "end_date",
            pl.col("category").replace_strict(
                glossary.CATEGORY_NAMES, default=pl.col("category"), return_dtype=pl.String
            ),
            "sessions",
            pl.concat_list(reason).list.drop_nulls().list.join("; ").replace("", None).alias("reasons"),
            pl.col("school").fill_null(pl.format("URN {}", "urn")),
        )
    )


def session_rows(codes: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Every session of the calendar as a table (its download): the code with its meaning and category in words."""
    return codes.select(
        "date",
        "session",
        "code",
        pl.col("code").replace_strict(cfg.code_meaning, default=None, return_dtype=pl.String).alias("meaning"),
        pl.col("category")
        .fill_null("no_mark")
        .replace_strict(glossary.CATEGORY_WORDS, default=pl.col("category"), return_dtype=pl.String),
    )


def action_rows(actions: pl.DataFrame) -> pl.DataFrame:
    """Officers' actions as a table: newest first, recorded times in UK local time, no internal IDs."""
    zone = getattr(actions.schema["recorded_at"], "time_zone", None)
    recorded = pl.col("recorded_at") if zone else pl.col("recorded_at").dt.replace_time_zone("UTC")  # stored as UTC
    return actions.sort("recorded_at", descending=True).select(
        recorded.dt.convert_time_zone(glossary.UK_TIME_ZONE),
        "action",
        "note",
        "recorded_by",
        "follow_up",
    )


@dataclass(frozen=True)
class ChildPage:
    """Everything on one child's page (and its printable summary)."""

    identity: Identity
    figures: ChildFigures
    cohort_history: pl.DataFrame
    schools: pl.DataFrame
    sessions: pl.DataFrame
    weekly: pl.DataFrame
    suspensions: pl.DataFrame
    signals: ChildSignals
    window: Window
    tables: ChildTables
    register: register_mod.Register


def child_page(figures: Figures, la_child_id: str, filters: Filters) -> ChildPage | None:
    """One child's attendance on one page; None when the child is not known.

    Worked out for this child alone (only the authority's calendar comes from everyone's marks), so
    opening a child in a new window does not compute the whole authority's figures for it.
    """
    cfg = figures.cfg
    one = figures.child_frames(la_child_id)
    if one is None:
        return None
    window = metrics.window_for(cfg, filters.as_of, filters.start)
    mine = WindowFigures(one, cfg, window, figures.calendar)
    assert one.marks is not None, "a child's frames hold their day rows (see Figures.child_frames)"
    identity = child_row(Identity, one.children, la_child_id)
    history = cohorts_mod.history(one.episodes, la_child_id, cfg)
    schools = metrics.school_history(one.marks, one.schools, identity.responsible_la, cfg)
    codes = metrics.session_codes(one.marks, window, cfg, mine.school_days)
    la_names = dict(one.schools.select("la_code", "la_name").drop_nulls().unique("la_code").iter_rows())
    return ChildPage(
        identity=identity,
        figures=child_row(ChildFigures, mine.children, la_child_id),
        cohort_history=history,
        schools=schools,
        sessions=codes,
        # The child's own weeks with a mark (not the authority's), as the page has always drawn them.
        weekly=metrics.weekly_trend(one, window, cfg, by=[]),
        suspensions=one.suspensions.sort("start_date", descending=True),
        signals=child_row(ChildSignals, triage.signals(mine), la_child_id),
        window=window,
        tables=ChildTables(
            cohorts=cohort_rows(history, cfg),
            schools=school_rows(schools, one.schools, cfg),
            suspensions=suspension_rows(one.suspensions, one.schools, cfg),
            sessions=session_rows(codes, cfg),
            responsible_la=la_words(identity.responsible_la, la_names, cfg),
        ),
        register=register_mod.build(codes, window, cfg),
    )


# ---- filter bar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterOptions:
    """The values each filter can take, from the data loaded."""

    cohorts: list[str]
    schools: dict[int, str]
    school_las: dict[str, str]
    localities: list[str]
    teams: list[str]
    social_workers: list[str]
    year_groups: list[str]
    first_date: date | None
    last_date: date | None
    # Each (locality, team, social worker) the children list holds, so the team and social-worker lists can
    # be narrowed to the locality chosen (a team's children may live in more than one locality).
    staffing: tuple[tuple[str | None, str | None, str | None], ...] = ()

    def teams_in(self, locality: str | None) -> list[str]:
        """The teams with a child in the locality (every team when none is chosen)."""
        if locality is None:
            return self.teams
        return sorted({t for place, t, _ in self.staffing if place == locality and t is not None})

    def social_workers_in(self, locality: str | None, team: str | None) -> list[str]:
        """The social workers with a child in the locality and team (everyone when neither is chosen)."""
        if locality is None and team is None:
            return self.social_workers
        return sorted(
            {w for place, t, w in self.staffing if w is not None and locality in (None, place) and team in (None, t)}
        )


def filter_options(figures: Figures) -> FilterOptions:
    """Options for the filter bar, sorted for people (year groups in school order)."""
    frames, cfg = figures.frames, figures.cfg

    def values(column: str) -> list[str]:
        return sorted(frames.children[column].drop_nulls().unique().to_list())

    schools = frames.schools.sort("name")
    years = frames.children["year_group"].drop_nulls().unique().to_list()
    dates = figures.calendar
    return FilterOptions(
        cohorts=list(cfg.cohorts),
        schools=dict(zip(schools["urn"].to_list(), schools["name"].to_list(), strict=True)),
        school_las=dict(frames.schools.select("la_code", "la_name").unique("la_code").sort("la_name").iter_rows()),
        localities=sorted(set(cfg.localities) | set(values("locality"))),
        teams=values("team"),
        social_workers=values("social_worker"),
        year_groups=sorted(years, key=_year_order),
        # The calendar is a date column, so its least and greatest are dates.
        first_date=cast(date, dates.min()) if len(dates) else None,
        last_date=cast(date, dates.max()) if len(dates) else None,
        staffing=tuple(frames.children.select("locality", "team", "social_worker").unique().iter_rows()),
    )


def _year_order(year: str) -> tuple[int, str]:
    """Nursery and reception before year 1, then by number."""
    text = year.upper().replace("YEAR", "").replace("Y", "").strip()
    special = {"N1": -2, "N2": -1, "N": -1, "R": 0}
    if text in special:
        return special[text], year
    # isdigit() is true for superscripts such as '²', which int() refuses: only ASCII digits count.
    return (int(text), year) if text.isascii() and text.isdigit() else (99, year)
