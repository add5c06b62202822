"""The monthly meeting pack (issue 18): the Overview's figures, breakdowns, suspensions, moves, out-of-area
children and data quality as pages for a performance meeting or a corporate parenting board, worked out
without Streamlit from the same functions as the pages, so a pack's figure is the page's figure.

A forum pack is made from the forum mode's own tables (`views.forum_overview`, `out_of_area.for_forum`) and
withholds its other counts with vsdash.suppression (domain: disclosure control); it holds no child's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import plotly.graph_objects as go
import polars as pl

from vsdash import charts, glossary, metrics, quality, suppression, views
from vsdash import out_of_area as out_of_area_mod
from vsdash import suspension_views as susp_views
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.glossary import DFE_GROUP_LABELS, column_label, counted, terms

ALL = "All children"
# A section is one A4 landscape page: a longer table shows its first rows, in its own order, and says how many
# more the XLSX has.
PAGE_ROWS = 14
MOVERS = 5  # the largest movers (up or down) listed per breakdown

SUSPENSION_SPEC = suppression.Spec(
    counts=("children", "suspensions", "children_suspended", "suspension_sessions", "permanent_exclusions"),
    derived={
        susp_views.PER_100: ("suspensions", "children"),
        "one_or_more_rate": ("children_suspended", "children"),
        "permanent_exclusion_rate": ("permanent_exclusions", "children"),
    },
    not_applicable_when_zero=dict.fromkeys(
        (susp_views.PER_100, "one_or_more_rate", "permanent_exclusion_rate"), "children"
    ),
)
HEADLINE_COLUMNS = ("figure", "now", "last_month", "change", "last_year", "england")
MOVE_COUNTS = ("moves", "children_moved", "to_out_of_area", "moves_back", "after_suspension")
MOVES_SPEC = suppression.Spec(counts=MOVE_COUNTS)


@dataclass(frozen=True)
class PackTable:
    """A table of a section: its heading and its rows (figures as numbers, or text with `c` in a forum pack)."""

    title: str
    frame: pl.DataFrame
    sheet: str = ""  # the spreadsheet's name for it, when the title is too long for a sheet (31 characters)

    def headings(self) -> list[str]:
        """The column headings people read (the pages' words, `glossary.COLUMNS`)."""
        return [column_label(c) for c in self.frame.columns]

    def page_rows(self) -> pl.DataFrame:
        """The rows that fit on the section's page."""
        return self.frame.head(PAGE_ROWS)

    def left_out(self) -> int:
        """Rows the page leaves to the spreadsheet."""
        return max(self.frame.height - PAGE_ROWS, 0)


@dataclass(frozen=True)
class Tile:
    """A headline figure in large type, as the Overview's cards: its name, value and change since last month."""

    label: str
    value: str
    change: str


@dataclass(frozen=True)
class Section:
    """One page of the pack: a heading, sentences, charts and tables."""

    title: str
    lines: list[str] = field(default_factory=list)
    charts: list[go.Figure] = field(default_factory=list)
    tables: list[PackTable] = field(default_factory=list)
    tiles: list[Tile] = field(default_factory=list)


@dataclass(frozen=True)
class Pack:
    """The whole pack: who it is for and what it covers, then its sections in order."""

    authority: str
    window: metrics.Window
    selection: str
    forum: bool
    threshold: int
    made: datetime
    sections: list[Section]
    marking: str

    @property
    def as_of(self) -> date:
        """The as-at date every figure is for."""
        return self.window.as_of

    def about(self) -> list[str]:
        """What the pack is, in lines for a cover (the spreadsheet's first sheet, the page's header)."""
        mode = f"Forum pack: counts from 1 to {self.threshold - 1} withheld as c" if self.forum else "All figures"
        return [
            f"{self.authority}: monthly meeting pack",
            self.marking,
            f"As at {self.as_of:%d/%m/%Y} (from {self.window.start:%d/%m/%Y})",
            f"Selection: {self.selection}",
            mode,
            f"Made {self.made:%d/%m/%Y %H:%M}",
        ]


def _selection_words(cohorts: list[str], cfg: Config) -> str:
    """The pack's selection in words: every child with a social worker, or the cohorts named."""
    return ", ".join(cfg.cohorts.get(c, c) for c in cohorts) if cohorts else ALL.lower()


def _forum_text(frame: pl.DataFrame, spec: suppression.Spec, threshold: int, total_row: bool) -> pl.DataFrame:
    """A forum table's figures as text with small counts withheld; with a total row first (the `All` row),
    its other rows are checked against it as parts of a sum, so none can be worked out by subtraction."""
    if total_row and frame.height > 1:
        published = suppression.suppress(frame.slice(1), spec, threshold, total=frame.head(1))
        withheld = pl.concat([published.total_withheld, published.detail_withheld])
    else:
        published = suppression.suppress(frame, spec, threshold)
        withheld = published.detail_withheld
    return suppression.as_text(frame, withheld, spec)


def headline_table(result: views.Overview) -> pl.DataFrame:
    """A selection's cards as rows: the figure now, a month ago, the change, a year ago and England."""
    rows = []
    for card in result.cards:
        pill = card.pill()
        rows.append(
            {
                "figure": card.label,
                "now": card.shown(card.value),
                "last_month": card.shown(card.last_month),
                "change": pill.text if pill else "–",  # noqa: RUF001 (a dash, as a person writes one)
                "last_year": card.shown(card.last_year),
                "england": "; ".join(c.text() for c in card.comparisons) or "–",  # noqa: RUF001
            }
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(HEADLINE_COLUMNS, pl.String))


def _tile(card: views.Card) -> Tile:
    """A card as a tile."""
    pill = card.pill()
    return Tile(card.label, card.shown(card.value), pill.text if pill else "")


def _headline(name: str, result: views.Overview, several: bool) -> Section:
    """One selection's headline figures against last month, last year and England (a page per cohort when
    the pack has several, so each fits its page)."""
    lines = [
        f"Change since {result.last_month:%d/%m/%Y} (the same date last month)"
        + (f" and the same point last year ({result.last_year:%d/%m/%Y})." if result.last_year else ".")
    ]
    if result.national_source:
        lines.append(f"National figures: {result.national_source}. The DfE's groups are mutually exclusive.")
    return Section(
        f"Headline figures: {name}" if several else "Headline figures",
        lines,
        tiles=[_tile(card) for card in result.cards if card.percent],
        tables=[PackTable(f"{name}: every headline figure", headline_table(result), sheet=f"Headline, {name}")],
    )


def _compared(overviews: list[tuple[str, views.Overview]]) -> Section | None:
    """Each selection beside England, group by group (none when no national figure compares)."""
    tables = [
        PackTable(f"{name} ({result.national_year})", views.compared_table(result.compared))
        for name, result in overviews
        if not result.compared.is_empty()
    ]
    if not tables:
        return None
    lines = [
        "Like for like: each DfE group's local figure beside the national one for the same group (CIN not CP "
        "or CLA, CP not CLA). The national figures cover a whole academic year."
    ]
    return Section("Compared with England", lines, tables=tables)


def _trends(result: views.Overview, cohorts: list[str], cfg: Config) -> Section:
    """Attendance and persistent absence by week for each cohort chosen (every cohort when none is)."""
    names = glossary.cohort_names(cfg)
    weekly = result.weekly.filter(pl.col("cohort").is_in(cohorts)) if cohorts else result.weekly
    figs = [
        charts.trend_lines(weekly, value, "cohort", title, y_title, names)
        for value, title, y_title in [
            ("attendance_pct", "Attendance by week", "Attendance %"),
            ("persistent_absence_rate", "Persistent absence so far, by week", "Persistently absent %"),
        ]
    ]
    lines = [
        "Each cohort's children as held on the as-at date, from the summed sessions of each school week."
        + result.withheld_note("weekly")
    ]
    return Section("Trends by cohort", lines, charts=figs)


def _movers(moved: pl.DataFrame, column: str) -> pl.DataFrame:
    """The largest rises and falls in attendance among the groups big enough to list."""
    if moved.is_empty() or "attendance_change" not in moved.columns:
        return moved
    shown = [column, *(c for c in ("school_la_name",) if c in moved.columns)]
    figures = [
        "children",
        "attendance_pct",
        "attendance_change",
        "persistent_absence_rate",
        "persistent_absence_change",
    ]
    numbers = moved.filter(pl.col("attendance_change").cast(pl.Float64, strict=False).is_not_null())
    order = pl.col("attendance_change").cast(pl.Float64, strict=False).abs()
    return numbers.sort(order, descending=True).head(MOVERS).select(*shown, *figures)


def _breakdowns(name: str, result: views.Overview) -> Section:
    """The selection's figures by locality and by social-care team."""
    tables = [
        PackTable(
            part.title,
            part.table.with_columns(pl.col(part.column).fill_null(part.missing)).select(
                part.column, *views.BREAKDOWN_FIGURES
            ),
        )
        for part in result.breakdowns
    ]
    return Section(f"By locality and team: {name}", tables=tables)


def _movers_section(overviews: list[tuple[str, views.Overview]], cfg: Config) -> Section:
    """The teams and schools whose attendance moved most since last month, for each selection."""
    first = overviews[0][1]
    lines = [
        f"The largest changes in attendance since {first.last_month:%d/%m/%Y}, up or down, among teams and "
        f"schools of at least {cfg.thresholds.what_moved_min_children} children."
    ]
    prefix = len(overviews) > 1
    tables = [
        PackTable(f"{name}: {what}" if prefix else what.capitalize(), _movers(moved, column))
        for name, result in overviews
        for what, moved, column in (("teams", result.moved_teams, "team"), ("schools", result.moved_schools, "school"))
    ]
    return Section("Largest movers since last month", lines, tables=tables)


def suspension_table(children: pl.DataFrame, cohorts: list[str], cfg: Config, forum: bool) -> pl.DataFrame:
    """Suspensions and permanent exclusions by cohort (the cohorts chosen), with the DfE's rates per 100
    children, as the Suspensions page's table."""
    table = susp_views.group_table(children, "cohort", {}, cfg)
    if cohorts:
        table = table.filter(pl.col("group").is_in(["All", *(cfg.cohorts.get(c, c) for c in cohorts)]))
    table = table.with_columns(pl.col(c).round(2) for c in SUSPENSION_SPEC.derived)
    return _forum_text(table, SUSPENSION_SPEC, cfg.forum.threshold, total_row=True) if forum else table


def _suspensions(children: pl.DataFrame, cohorts: list[str], cfg: Config, forum: bool) -> Section:
    """Suspensions and exclusions of the selection by cohort, beside all pupils nationally."""
    national, label = susp_views.national_rates(cfg)
    lines = [
        "Rates per 100 children, as the DfE's: suspensions, children suspended at least once, permanent exclusions."
    ]
    if label:
        lines.append(
            f"{label}: {national['one_or_more_rate']:.2f} children in 100 suspended at least once, "
            f"{national['permanent_exclusion_rate']:.2f} in 100 permanently excluded."
        )
    return Section(
        "Suspensions and exclusions",
        lines,
        tables=[PackTable("By cohort", suspension_table(children, cohorts, cfg, forum))],
    )


def moves_table(moves: pl.DataFrame, forum: bool, threshold: int) -> pl.DataFrame:
    """School moves in the window as counts (no child named)."""
    table = moves.select(
        pl.len().cast(pl.Int64).alias("moves"),
        pl.col("upn").n_unique().cast(pl.Int64).alias("children_moved"),
        pl.col("to_out_of_area").fill_null(False).sum().cast(pl.Int64).alias("to_out_of_area"),
        pl.col("move_back").fill_null(False).sum().cast(pl.Int64).alias("moves_back"),
        pl.col("suspended_before").fill_null(False).sum().cast(pl.Int64).alias("after_suspension"),
    )
    return _forum_text(table, MOVES_SPEC, threshold, total_row=False) if forum else table


def _moves(moves: pl.DataFrame, forum: bool, threshold: int) -> Section:
    """Changes of school in the window."""
    lines = ["A move is a change of the school a child is on roll at, found from the attendance schools send."]
    return Section(
        "School moves", lines, tables=[PackTable("School moves in the window", moves_table(moves, forum, threshold))]
    )


def _out_of_area(view: out_of_area_mod.OutOfArea) -> Section:
    """Our children educated elsewhere against those in our schools, by distance and by LA."""
    silent = view.silent_schools.height
    lines = [f"{counted(silent, 'school')} elsewhere with our children sent no data, or stopped sending."]
    tables = [
        PackTable("In and out of area", out_of_area_mod.columns(view.compared, ["area"])),
        PackTable(
            "Out of area, by distance from the authority", out_of_area_mod.columns(view.by_distance, ["distance_band"])
        ),
        PackTable("Out of area, by the school's LA", out_of_area_mod.columns(view.by_la, ["school_la_name"])),
    ]
    return Section("Out-of-area children", lines, tables=tables)


def quality_line(matching: quality.Matching, freshness: pl.DataFrame, forum: bool, threshold: int) -> str:
    """Data quality in one line: the list's match rate and the schools that have gone silent."""
    counts = matching.counts()
    rate = matching.match_rate()
    silent = freshness.filter(pl.col("status") != quality.SENDING).height
    listed = counts["listed"]
    if forum and suppression.is_small(listed, threshold):
        return "Data quality: c (too few children listed to show)."
    matched = (
        "no children listed" if rate is None else f"{rate:.1f}% of the {listed:,} children listed matched to attendance"
    )
    return f"Data quality: {matched}; {counted(silent, 'school')} silent or never sending."


def _definitions(cfg: Config, forum: bool, threshold: int, quality_text: str) -> Section:
    """The definitions used, and the data-quality line."""
    words = terms(cfg)
    keys = [*views.BREAKDOWN_FIGURES, "out_of_area_children", "possible_sessions"]
    frame = pl.DataFrame({"term": [words.of(k).label for k in keys], "meaning": [words.of(k).help for k in keys]})
    lines = [quality_text]
    if forum:
        lines.append(
            f"c: withheld (1 to {threshold - 1} children, or a figure that would give one away); "
            "z: not applicable (no child with data); x: not available."
        )
    groups = "; ".join(f"{label}" for label in DFE_GROUP_LABELS.values())
    lines.append(f"National comparisons are like for like, in the DfE's mutually exclusive groups: {groups}.")
    return Section("Data quality and definitions", lines, tables=[PackTable("Definitions", frame)])


@dataclass(frozen=True)
class Parts:
    """What the pack is made from, each already in forum form when the pack is a forum pack (the door's)."""

    overviews: list[tuple[str, views.Overview]]  # (selection's name, its Overview) for each selection
    trends: views.Overview  # every selected child's Overview: its weekly trend has a line per cohort
    children: pl.DataFrame  # the selected children's per-child figures (suspensions by cohort)
    moves: pl.DataFrame  # the selected children's moves in the window
    out_of_area: out_of_area_mod.OutOfArea
    quality_text: str


def build(parts: Parts, cfg: Config, cohorts: list[str], forum: bool, made: datetime) -> Pack:
    """The pack's sections in meeting order."""
    first = parts.overviews[0][1]
    threshold = cfg.forum.threshold
    compared = _compared(parts.overviews)
    several = len(parts.overviews) > 1
    sections = [
        *(_headline(name, result, several) for name, result in parts.overviews),
        *([compared] if compared else []),
        _trends(parts.trends, cohorts, cfg),
        *(_breakdowns(name, result) for name, result in parts.overviews),
        _movers_section(parts.overviews, cfg),
        _suspensions(parts.children, cohorts, cfg, forum),
        _moves(parts.moves, forum, threshold),
        _out_of_area(parts.out_of_area),
        _definitions(cfg, forum, threshold, parts.quality_text),
    ]
    return Pack(
        cfg.authority_name,
        first.window,
        _selection_words(cohorts, cfg),
        forum,
        threshold,
        made,
        sections,
        cfg.pack.marking,
    )


def selections(as_of: date, cohorts: list[str]) -> list[tuple[str | None, Filters]]:
    """The filters of each selection the pack covers: all children, or each cohort chosen."""
    return [(c, Filters(as_of=as_of, cohort=c)) for c in cohorts] if cohorts else [(None, Filters(as_of=as_of))]
