"""The Schools page's figures: one row per school, locality and phase summaries with each cohort's share, and
the same tables suppressed for a forum (vsdash.suppression), worked out without Streamlit.

Every rate comes from `metrics.aggregate` over the school's children, so it equals the Overview's figure for
the same children; the forum's version withholds small counts across all these tables at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from vsdash import metrics, running, suppression
from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.frames import Frames

NO_SCHOOL = "No school known (no mark yet)"
IN_AREA, OUT_OF_AREA = "In area", "Out of area"
# The summaries beside the schools, by the school's attribute each groups on (a column of `schools`).
SUMMARIES = {"school_locality": "By the school's locality", "phase": "By phase", "area": "In and out of area"}
MARGINS = (*SUMMARIES, "school_la_name")  # every grouping a forum could add up: suppressed together
COUNTS = (
    "children",
    "children_with_data",
    "persistent_absence_children",
    "severe_absence_children",
    "suspended_children",
    "suspensions",
    "permanent_exclusions",
)
# What each rate or measure is built on: withheld with any of them (domain: disclosure control).
DERIVED = {
    "attendance_pct": ("children_with_data",),
    "attendance_difference": ("children_with_data",),
    "persistent_absence_rate": ("persistent_absence_children", "children_with_data"),
    "persistent_absence_difference": ("persistent_absence_children", "children_with_data"),
    "severe_absence_rate": ("severe_absence_children", "children_with_data"),
    "suspension_rate": ("suspended_children", "children"),
    "suspension_sessions": ("suspended_children",),
}
# The columns that name a row rather than count it.
KEYS = ("school_urn", "school", "phase", "school_la_name", "area", "school_locality", "last_data_received")
RATES = ("attendance_pct", "persistent_absence_rate", "severe_absence_rate", "suspension_rate")


def cohort_column(cohort: str) -> str:
    """The column counting a cohort's children ("children_CLA")."""
    return f"children_{cohort}"


def share_column(cohort: str | None) -> str:
    """The column giving a setting's share of a cohort's children ("share_CLA"; "share_all" for everyone)."""
    return f"share_{cohort or 'all'}"


@dataclass(frozen=True)
class SchoolChoice:
    """The Schools page's own filters, on the school rather than the child (phase, LA, area, locality)."""

    phase: str | None = None
    school_la_name: str | None = None
    area: str | None = None  # IN_AREA or OUT_OF_AREA
    school_locality: str | None = None

    def expression(self) -> pl.Expr:
        """The rows of the schools table this choice keeps."""
        keep = pl.lit(True)
        for column in ("phase", "school_la_name", "area", "school_locality"):
            value = getattr(self, column)
            if value is not None:
                keep &= pl.col(column) == value
        return keep


@dataclass(frozen=True)
class SchoolsTable:
    """The Schools page: the schools, the summaries and the authority's row; text with `c` in forum mode."""

    schools: pl.DataFrame
    summaries: dict[str, pl.DataFrame]
    authority: pl.DataFrame
    cohorts: tuple[str, ...]
    forum: bool = False
    threshold: int = suppression.DEFAULT_THRESHOLD

    @property
    def children(self) -> int | str:
        """How many children the tables cover (`c` when the authority's own figure is withheld)."""
        return self.authority["children"][0]


def spec(cohorts: tuple[str, ...]) -> suppression.Spec:
    """The counts, rates and shares of the schools tables, for suppression."""
    cohort_counts = tuple(cohort_column(c) for c in cohorts)
    shares = {share_column(c): (cohort_column(c),) for c in cohorts} | {share_column(None): ("children",)}
    return suppression.Spec(
        counts=(*COUNTS, *cohort_counts),
        derived=DERIVED | shares,
        unit="schools",
        not_applicable_when_zero=dict.fromkeys(
            (
                "attendance_pct",
                "attendance_difference",
                "persistent_absence_rate",
                "persistent_absence_difference",
                "severe_absence_rate",
            ),
            "children_with_data",
        )
        | {"suspension_rate": "children"},
    )


def school_attributes(schools: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Each school once, by URN, with its name, phase, LA, locality and whether it is in the authority."""
    return schools.select(
        pl.col("urn").alias("school_urn"),
        pl.col("name").alias("school"),
        "phase",
        pl.col("la_name").alias("school_la_name"),
        pl.col("locality").alias("school_locality"),
        pl.when(pl.col("la_code") == cfg.la_code).then(pl.lit(IN_AREA)).otherwise(pl.lit(OUT_OF_AREA)).alias("area"),
        "latitude",
        "longitude",
    ).unique("school_urn", keep="first")


def with_school_attributes(children: pl.DataFrame, schools: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Per-child figures with their school's name, phase, LA, locality and whether it is in the authority."""
    attributes = school_attributes(schools, cfg)
    return children.join(attributes, on="school_urn", how="left").with_columns(
        pl.when(pl.col("school_urn").is_null()).then(pl.lit(NO_SCHOOL)).otherwise(pl.col("school")).alias("school")
    )


def figures_by(children: pl.DataFrame, by: list[str], cohorts: tuple[str, ...]) -> pl.DataFrame:
    """metrics.aggregate by `by`, with each cohort's children beside it and the number of schools behind
    each row (a group of one school is withheld in forum mode)."""
    keys = by or ["_all"]  # the whole selection as one group, so both cases join alike
    rows = children.with_columns(_all=pl.lit(0))
    table = metrics.aggregate(children, by).with_columns(_all=pl.lit(0))
    held = rows.explode("cohorts").filter(pl.col("cohorts").is_in(list(cohorts)))
    counts = held.group_by([*keys, "cohorts"]).agg(pl.len().cast(pl.Int64).alias("n"))
    if not counts.is_empty():
        wide = counts.pivot("cohorts", index=keys, values="n")
        table = table.join(
            wide.rename({c: cohort_column(c) for c in cohorts if c in wide.columns}),
            on=keys,
            how="left",
            nulls_equal=True,
        )
    schools = rows.group_by(keys).agg(pl.col("school_urn").drop_nulls().n_unique().cast(pl.Int64).alias("schools"))
    table = table.join(schools, on=keys, how="left", nulls_equal=True).with_columns(pl.col("schools").fill_null(0))
    return _every_cohort(table.drop("_all"), cohorts)


def _every_cohort(table: pl.DataFrame, cohorts: tuple[str, ...]) -> pl.DataFrame:
    """A column for every cohort (0 where none of its children are in the group)."""
    return table.with_columns(
        pl.col(cohort_column(c)).fill_null(0)
        if cohort_column(c) in table.columns
        else pl.lit(0, pl.Int64).alias(cohort_column(c))
        for c in cohorts
    )


def _differences(table: pl.DataFrame, authority: dict) -> pl.DataFrame:
    """Each row's attendance and persistent absence against the authority's for the same children's cohort,
    in percentage points."""
    return table.with_columns(
        attendance_difference=pl.col("attendance_pct") - pl.lit(authority["attendance_pct"], pl.Float64),
        persistent_absence_difference=pl.col("persistent_absence_rate")
        - pl.lit(authority["persistent_absence_rate"], pl.Float64),
    )


def _shares(table: pl.DataFrame, authority: dict, cohorts: tuple[str, ...]) -> pl.DataFrame:
    """Each setting's share of the authority's children, all of them and each cohort's ("disproportionality":
    a cohort's share well above everyone's share points at a setting to ask about)."""

    def share(column: str) -> pl.Expr:
        whole = authority[column] or 0
        return pl.col(column) * 100.0 / whole if whole else pl.lit(None, pl.Float64)

    return table.with_columns(
        share("children").alias(share_column(None)), *(share(cohort_column(c)).alias(share_column(c)) for c in cohorts)
    )


def last_data(frames_rows: pl.DataFrame) -> pl.DataFrame:
    """The latest day each school sent a mark for, within the window (its children's week summary rows)."""
    return frames_rows.group_by("school_urn").agg(weeks_mod.last_mark_date().max().alias("last_data_received"))


def schools_table(children: pl.DataFrame, frames: Frames, rows: pl.DataFrame, cfg: Config) -> SchoolsTable:
    """One row per school the selected children attend (and one for children with no school yet), the
    summaries by locality, phase and area, and the authority's own row, all from metrics.aggregate."""
    cohorts = tuple(cfg.cohorts)
    located = with_school_attributes(children, frames.schools, cfg)
    authority = figures_by(located, [], cohorts)
    whole = authority.row(0, named=True)
    detail_keys = list(KEYS[:-1])
    detail = (
        figures_by(located, ["school_urn"], cohorts)
        .join(located.select(detail_keys).unique("school_urn"), on="school_urn", how="left", nulls_equal=True)
        .join(last_data(rows), on="school_urn", how="left")
        .pipe(_differences, whole)
        .sort("school", nulls_last=True)
    )
    summaries = {
        m: figures_by(located, [m], cohorts).pipe(_shares, whole, cohorts).pipe(_differences, whole) for m in MARGINS
    }
    authority = authority.pipe(_shares, whole, cohorts).pipe(_differences, whole)
    return SchoolsTable(detail, summaries, authority, cohorts, threshold=cfg.forum.threshold)


def for_forum(table: SchoolsTable) -> SchoolsTable:
    """The same tables as a forum may see them: counts 1 to threshold - 1 and whatever would give them away
    withheld as `c` (suppressed across the schools, every summary and the authority's row at once)."""
    rules = spec(table.cohorts)
    published = suppression.suppress(
        table.schools, rules, table.threshold, margins=table.summaries, total=table.authority
    )
    totals = published.total_withheld

    def shown(frame: pl.DataFrame, withheld: pl.DataFrame) -> pl.DataFrame:
        # Only what the suppression covers leaves: no session sums, which would give a small group away.
        keep = [c for c in frame.columns if c in KEYS or c in withheld.columns or c == "schools"]
        frame = frame.select(keep)
        # A share also gives away the authority's count it divides by: withheld when that is.
        shares = [c for c in withheld.columns if c.startswith("share_")]
        withheld = withheld.with_columns(
            pl.col(c) | totals[c.replace("share_", "children_") if c != "share_all" else "children"][0] for c in shares
        )
        return suppression.as_text(suppression.withheld_as_null(frame, withheld), withheld, rules)

    return replace(
        table,
        schools=shown(published.detail, published.detail_withheld),
        summaries={m: shown(published.margins[m], published.margins_withheld[m]) for m in table.summaries},
        authority=shown(published.total, totals),
        forum=True,
    )


# The sort orders the page offers: a column and whether the largest comes first.
SORTS = {
    "school": False,
    "children": True,
    "attendance_pct": False,
    "persistent_absence_rate": True,
    "severe_absence_rate": True,
    "suspension_rate": True,
    "attendance_difference": False,
    "persistent_absence_difference": True,
}


def shown_schools(table: SchoolsTable, choice: SchoolChoice, sort: str = "school") -> pl.DataFrame:
    """The schools the page's own filters keep, in the order asked, with the columns people read. In forum
    mode a withheld figure sorts last, whatever it is, so the order says nothing about it."""
    if sort not in SORTS:
        raise ValueError(f"cannot sort the schools by {sort!r}; choose from {', '.join(SORTS)}")
    rows = table.schools.filter(choice.expression())
    value = pl.col(sort)
    if table.forum and sort != "school":
        value = value.cast(pl.Float64, strict=False)
    return (
        rows.sort(value, descending=SORTS[sort], nulls_last=True)
        .select(columns(table, "school"))
        .with_columns(_in_words())
    )


def _in_words() -> list[pl.Expr]:
    """A school's missing phase, LA or locality in words, never an empty cell or "None" (a school outside the
    authority is in none of its localities)."""
    outside = pl.when(pl.col("area") == OUT_OF_AREA).then(pl.lit("Another LA"))
    return [
        pl.col("school_locality").fill_null(outside.otherwise(pl.lit("No locality recorded"))),
        pl.col("phase").fill_null(pl.lit("No phase recorded")),
        pl.col("school_la_name").fill_null(pl.lit("Not known")),
    ]


def columns(table: SchoolsTable, group: str) -> list[str]:
    """The columns a table of schools (`group` "school") or of a summary shows, in reading order."""
    names = (
        ["school", "school_urn", "phase", "school_la_name", "area", "school_locality"]
        if group == "school"
        else [group, "schools"]
    )
    names += ["children", *(cohort_column(c) for c in table.cohorts), "children_with_data"]
    names += ["attendance_pct", "attendance_difference", "persistent_absence_rate", "persistent_absence_difference"]
    names += ["severe_absence_rate", "suspension_rate", "suspensions", "suspension_sessions", "permanent_exclusions"]
    if group == "school":
        names.append("last_data_received")
    else:
        names += [share_column(None), *(share_column(c) for c in table.cohorts)]
    return names


def summary(table: SchoolsTable, group: str, missing: str) -> pl.DataFrame:
    """One summary (by locality, phase or area) with its columns, a group with no value named `missing`."""
    frame = table.summaries[group]
    return frame.with_columns(pl.col(group).fill_null(missing)).select(columns(table, group))


def options(table: SchoolsTable, column: str) -> list[str]:
    """The values a school filter can take (phases, LAs, localities) among the schools in the table."""
    return sorted(table.schools[column].drop_nulls().unique().to_list())


# ---- one school opened (issue 15: "a school opens its trend and, for roles allowed, its children") ----

EVERYONE = "All"  # the trend's and the figures' row for every selected child (metrics.cohort_trend's name)
# The figures a school shows beside the authority's for the same cohort.
BESIDE = ("attendance_pct", "persistent_absence_rate", "severe_absence_rate", "suspension_rate")
# The columns of a school's list of children, in reading order (named children: child-level roles only).
ON_ROLL = (
    "child",
    "la_child_id",
    "upn",
    "cohorts",
    "attendance_pct",
    "persistent_absence",
    "severe_absence",
    "suspensions",
)


def authority_column(figure: str) -> str:
    """The column holding the authority's figure beside a school's ("authority_attendance_pct")."""
    return f"authority_{figure}"


@dataclass(frozen=True)
class SchoolDetail:
    """One school opened on the Schools page: who it is, its weekly trend by cohort and its figures beside the
    authority's for the same cohorts; its children only for a role allowed them, never in forum mode."""

    urn: int
    name: str
    la_name: str | None
    phase: str | None
    area: str  # IN_AREA or OUT_OF_AREA
    locality: str | None
    children: int | str  # the selected children on roll there (`c` when a forum may not see it)
    weekly: pl.DataFrame  # metrics.cohort_trend of those children (forum mode: only the points shown)
    figures: pl.DataFrame  # per cohort: the school's figures and the authority's beside them
    on_roll: pl.DataFrame | None = None  # the children themselves (ON_ROLL), when the door gave them
    forum: bool = False
    threshold: int = suppression.DEFAULT_THRESHOLD
    withheld_points: bool = False  # forum mode: the trend left points out


def urn_from_text(text: str | None) -> int | None:
    """A URN typed in a link (?school=100001): None unless it is plainly a number."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def cohort_figures(children: pl.DataFrame, cohort: str | None) -> pl.DataFrame:
    """metrics.aggregate for every child given (the row EVERYONE, or the cohort chosen) and, with no cohort
    chosen, for each cohort they hold: the same rows as the Overview's trend lines (metrics.cohort_trend)."""
    every = metrics.aggregate(children, []).with_columns(cohort=pl.lit(cohort or EVERYONE))
    if cohort:
        return every
    by_cohort = metrics.aggregate(children, ["cohort"])
    return pl.concat([every.select(by_cohort.columns), by_cohort])


def beside(school: pl.DataFrame, authority: pl.DataFrame) -> pl.DataFrame:
    """A school's figures for each cohort it has children in, each with the authority's for the same cohort
    next to it (attendance, the authority's attendance, persistent absence, ...)."""
    theirs = authority.select("cohort", *(pl.col(f).alias(authority_column(f)) for f in BESIDE))
    shown = school.select("cohort", "children", "children_with_data", *BESIDE)
    pairs = [column for f in BESIDE for column in (f, authority_column(f))]
    return shown.join(theirs, on="cohort", how="left", maintain_order="left").select(
        "cohort", "children", "children_with_data", *pairs
    )


def on_school_roll(children: pl.DataFrame, urn: int) -> pl.DataFrame:
    """The selected children on roll at a school: its row of the Schools table counts exactly these (their
    current school, the latest mark that is not D)."""
    return children.filter(pl.col("school_urn") == urn)


def school_detail(
    children: pl.DataFrame, weeks: running.ChildWeeks, schools: pl.DataFrame, urn: int, cohort: str | None, cfg: Config
) -> SchoolDetail | None:
    """One school's trend and figures from the selected `children` (per-child figures) and the window's
    child-weeks: the Overview's arithmetic restricted to the children on roll there. None for a URN the
    schools list does not hold."""
    known = school_attributes(schools, cfg).filter(pl.col("school_urn") == urn)
    if known.is_empty():
        return None
    school = known.row(0, named=True)
    mine = on_school_roll(children, urn)
    return SchoolDetail(
        urn=urn,
        name=school["school"] or f"URN {urn}",
        la_name=school["school_la_name"],
        phase=school["phase"],
        area=school["area"],
        locality=school["school_locality"],
        children=mine.height,
        weekly=metrics.cohort_trend(weeks, mine, cohort),
        figures=beside(cohort_figures(mine, cohort), cohort_figures(children, cohort)),
        threshold=cfg.forum.threshold,
    )


def on_roll(children: pl.DataFrame, names: pl.DataFrame, urn: int) -> pl.DataFrame:
    """A school's children as an officer reads them (ON_ROLL), lowest attendance first: named, so the door
    hands it only to child-level roles, cut to the viewer's own children, and audits each look."""
    named = on_school_roll(children, urn).join(
        names.select("la_child_id", "first_name", "last_name"), on="la_child_id", how="left"
    )
    return named.select(
        pl.concat_str("first_name", "last_name", separator=" ", ignore_nulls=True).alias("child"),
        "la_child_id",
        "upn",
        pl.col("cohorts").list.sort().list.join(", ").alias("cohorts"),
        "attendance_pct",
        "persistent_absence",
        "severe_absence",
        "suspensions",
    ).sort("attendance_pct", "child", nulls_last=True)


def figures_shown(detail: SchoolDetail, labels: dict[str, str]) -> pl.DataFrame:
    """A school's figures beside the authority's as a table people read: each cohort by its name."""
    return detail.figures.with_columns(pl.col("cohort").replace_strict(labels, default=pl.col("cohort")))
