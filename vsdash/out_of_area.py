"""The out-of-area view (issue 15, point 4): our children educated in other authorities, by the school's LA,
by distance from the authority's centre and by cohort, their figures against in-area children, the schools
elsewhere that send no data, and other authorities' children in our schools; worked out without Streamlit.

Every figure is `metrics.aggregate` over the children concerned, so it equals the Overview's for the same
children; the forum's version withholds small counts with vsdash.suppression (domain: disclosure control).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import polars as pl

from vsdash import mapping, metrics, quality, suppression
from vsdash import schools as schools_mod
from vsdash.config import Config

# Distance bands from the authority's centre (km): a school over the border is often 50 km or more away.
BANDS = ((10, "Under 10 km"), (25, "10 to 25 km"), (50, "25 to 50 km"))
FAR, NO_PLACE = "50 km or more", "Place not known"
BAND_ORDER = [label for _, label in BANDS] + [FAR, NO_PLACE]
IN_AREA, OUT_OF_AREA, NOT_KNOWN = "In area", "Out of area", "School's LA not known"
EARTH_KM = 6371.0088  # mean Earth radius (IUGG)
# The figures each table shows (counts beside their rates: a rate alone hides the children behind it).
FIGURES = (
    "children",
    "children_with_data",
    "attendance_pct",
    "persistent_absence_rate",
    "severe_absence_rate",
    "suspended_children",
    "suspension_rate",
    "suspensions",
    "permanent_exclusions",
)
SPEC = suppression.Spec(
    counts=schools_mod.COUNTS,
    derived={k: v for k, v in schools_mod.DERIVED.items() if not k.endswith("_difference")},
    not_applicable_when_zero=dict.fromkeys(
        ("attendance_pct", "persistent_absence_rate", "severe_absence_rate"), "children_with_data"
    )
    | {"suspension_rate": "children"},
)
SILENT_SPEC = suppression.Spec(counts=("listed_children",))
CHARTED = ("compared", "by_la", "by_distance")  # the tables the page also draws as bars
NOT_KNOWN_NAME = "Not known"  # a key with no name on the schools list


@dataclass(frozen=True)
class OutOfArea:
    """The out-of-area page's tables; text with `c` in forum mode."""

    compared: pl.DataFrame  # our children in area, out of area and with the school's LA unknown
    by_la: pl.DataFrame  # our children educated elsewhere, by the school's LA
    by_distance: pl.DataFrame  # the same children by distance band from the authority's centre
    by_cohort: pl.DataFrame  # each cohort in and out of area
    silent_schools: pl.DataFrame  # schools elsewhere our children were at that sent no data, or stopped
    placed_here: pl.DataFrame  # other authorities' children in our schools, by their responsible LA
    forum: bool = False
    threshold: int = suppression.DEFAULT_THRESHOLD
    # Forum mode: the charted tables as numbers with every withheld figure null (what a chart may draw).
    numbers: Mapping[str, pl.DataFrame] = field(default_factory=dict)

    def bars(self, table: str, label: str, value: str) -> tuple[pl.DataFrame, tuple[str, ...]]:
        """A chart's bars from one of the tables (`CHARTED`): its figures as numbers, those withheld in forum mode
        left out, and the labels of the bars left out (for the caption)."""
        frame = self.numbers.get(table, getattr(self, table))
        frame = frame.with_columns(pl.col(label).cast(pl.String).fill_null(NOT_KNOWN_NAME))
        left_out = frame.filter(pl.col(value).is_null())[label].to_list() if self.forum else []
        return frame.filter(pl.col(value).is_not_null()), tuple(left_out)


def distance_km(lat: pl.Expr, lon: pl.Expr, centre: tuple[float, float]) -> pl.Expr:
    """Great-circle distance (haversine) from the centre, in km."""
    lat0, lon0 = (pl.lit(v).radians() for v in centre)
    dlat, dlon = lat.radians() - lat0, lon.radians() - lon0
    a = (dlat / 2).sin() ** 2 + lat0.cos() * lat.radians().cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_KM * a.sqrt().arcsin()


def band(km: pl.Expr) -> pl.Expr:
    """A distance's band in words ("10 to 25 km"); a school with no place is "Place not known"."""
    out = pl.lit(FAR)
    for limit, label in reversed(BANDS):  # the nearest band last, so it wins
        out = pl.when(km < limit).then(pl.lit(label)).otherwise(out)
    return pl.when(km.is_null()).then(pl.lit(NO_PLACE)).otherwise(out)


def area_of(children: pl.DataFrame) -> pl.Expr:
    """In area, out of area, or not known (a school missing from the schools list), for a child with a school."""
    return (
        pl.when(pl.col("out_of_area").is_null())
        .then(pl.lit(NOT_KNOWN))
        .when(pl.col("out_of_area"))
        .then(pl.lit(OUT_OF_AREA))
        .otherwise(pl.lit(IN_AREA))
    )


def ours(children: pl.DataFrame, cfg: Config) -> pl.Expr:
    """Children the authority is responsible for (the list's Responsible LA, the authority when empty)."""
    return pl.col("responsible_la").fill_null(cfg.la_code) == cfg.la_code


def view(children: pl.DataFrame, schools: pl.DataFrame, freshness: pl.DataFrame, cfg: Config) -> OutOfArea:
    """The out-of-area tables for the selected children (`views.selected_children`), the GIAS schools with
    their places and the schools' freshness (`quality.school_freshness`)."""
    places = schools.select(pl.col("urn").alias("school_urn"), "latitude", "longitude", "la_code").unique("school_urn")
    with_school = children.filter(pl.col("school_urn").is_not_null()).join(places, on="school_urn", how="left")
    mine = with_school.filter(ours(with_school, cfg)).with_columns(area_of(with_school).alias("area"))
    inside = with_school.filter(pl.col("la_code") == cfg.la_code).drop_nulls(["latitude", "longitude"])
    centre = mapping.centre_of(inside.unique("school_urn"), with_school.drop_nulls(["latitude", "longitude"]))
    away = mine.filter(pl.col("area") == OUT_OF_AREA).with_columns(
        band(distance_km(pl.col("latitude"), pl.col("longitude"), centre)).alias("distance_band")
    )
    la_names = schools.select(pl.col("la_code").alias("school_la"), pl.col("la_name").alias("school_la_name"))
    by_la = (
        metrics.aggregate(away, ["school_la"])
        .join(la_names.unique("school_la"), on="school_la", how="left")
        .sort("children", descending=True)
    )
    by_distance = metrics.aggregate(away, ["distance_band"]).sort(
        pl.col("distance_band").replace_strict(BAND_ORDER, list(range(len(BAND_ORDER))), return_dtype=pl.Int64)
    )
    theirs = with_school.filter(~ours(with_school, cfg) & (pl.col("la_code") == cfg.la_code))
    responsible = la_names.rename({"school_la": "responsible_la", "school_la_name": "responsible_la_name"})
    placed = metrics.aggregate(theirs, ["responsible_la"]).join(
        responsible.unique("responsible_la"), on="responsible_la", how="left"
    )
    attended = away.select("school_urn").unique()
    silent = (
        freshness.filter(pl.col("out_of_area") & (pl.col("status") != quality.SENDING))
        .join(attended, left_on="urn", right_on="school_urn", how="semi")
        .select("name", "la_name", "status", "last_mark", "school_days_silent", "listed_children")
    )
    return OutOfArea(
        compared=metrics.aggregate(mine, ["area"]),
        by_la=by_la,
        by_distance=by_distance,
        by_cohort=metrics.aggregate(mine, ["cohort", "area"]),
        silent_schools=silent,
        placed_here=placed,
        threshold=cfg.forum.threshold,
    )


def _shown(frame: pl.DataFrame, withheld: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """A suppressed table as a forum sees it: its keys and the figures the suppression covers, as text."""
    kept = frame.select(*keys, *withheld.columns)
    return suppression.as_text(suppression.withheld_as_null(kept, withheld), withheld, SPEC)


def linked_sums(tables: OutOfArea) -> list[list[suppression.Row]]:
    """How the page's tables tie together, as sums of rows (suppression.suppress_linked): the areas add up to
    our children (`_total`); the LA and distance splits each add up to the out-of-area row; each cohort's areas
    add up to the cohort (`_cohorts`: the page filtered by that cohort publishes it); each area's cohort rows
    are taken to add up to the area row, though a child holding two cohorts is in both (so more is withheld,
    never less); and a cohort row holding every child of its area is that area's row again."""
    compared, by_cohort = tables.compared, tables.by_cohort
    area_row = {area: i for i, area in enumerate(compared["area"].to_list())}
    area_children = dict(zip(compared["area"].to_list(), compared["children"].to_list(), strict=True))
    sums: list[list[suppression.Row]] = [[*(("compared", i) for i in range(compared.height)), ("_total", 0)]]
    if OUT_OF_AREA in area_row:
        away = ("compared", area_row[OUT_OF_AREA])
        sums += [[*((name, i) for i in range(getattr(tables, name).height)), away] for name in ("by_la", "by_distance")]
    cohorts = by_cohort["cohort"].unique(maintain_order=True).to_list()
    rows = list(enumerate(by_cohort.select("cohort", "area", "children").iter_rows()))
    for area, j in area_row.items():
        sums.append([*(("by_cohort", i) for i, (_, a, _) in rows if a == area), ("compared", j)])
    for k, cohort in enumerate(cohorts):
        sums.append([*(("by_cohort", i) for i, (c, _, _) in rows if c == cohort), ("_cohorts", k)])
    sums += [[("by_cohort", i), ("compared", area_row[a])] for i, (_, a, n) in rows if n == area_children.get(a)]
    return sums


def for_forum(tables: OutOfArea) -> OutOfArea:
    """The same tables as a forum may see them: counts 1 to threshold - 1 as `c`, with the cells that would give
    them away, the comparison, its splits by LA and distance and the table by cohort checked as one
    (`linked_sums`); a count withheld in the out-of-area row is withheld in both of its splits whole, as nothing
    else would stop their columns adding back up to it."""
    t, counts = tables.threshold, list(SPEC.counts)
    linked = {
        "compared": tables.compared,
        "by_la": tables.by_la,
        "by_distance": tables.by_distance,
        "by_cohort": tables.by_cohort,
        "_total": tables.compared.select(pl.col(counts).sum()),
        "_cohorts": tables.by_cohort.group_by("cohort", maintain_order=True).agg(pl.col(counts).sum()),
    }
    masks = suppression.suppress_linked(linked, linked_sums(tables), SPEC, t)
    away = tables.compared.with_row_index("_row").filter(pl.col("area") == OUT_OF_AREA)
    if away.height:
        row = masks["compared"].row(int(away["_row"][0]), named=True)
        for name in ("by_la", "by_distance"):
            masks[name] = masks[name].with_columns(pl.col(c) | row[c] for c in masks[name].columns)
    silent = tables.silent_schools
    silent_mask = suppression.suppress(silent, SILENT_SPEC, t).detail_withheld
    placed_mask = suppression.suppress(tables.placed_here, SPEC, t).detail_withheld
    numbers = {name: suppression.withheld_as_null(getattr(tables, name), masks[name]) for name in CHARTED}
    return replace(
        tables,
        compared=_shown(tables.compared, masks["compared"], ["area"]),
        by_la=_shown(tables.by_la, masks["by_la"], ["school_la", "school_la_name"]),
        by_distance=_shown(tables.by_distance, masks["by_distance"], ["distance_band"]),
        by_cohort=_shown(tables.by_cohort, masks["by_cohort"], ["cohort", "area"]),
        silent_schools=suppression.as_text(suppression.withheld_as_null(silent, silent_mask), silent_mask, SILENT_SPEC),
        placed_here=_shown(tables.placed_here, placed_mask, ["responsible_la", "responsible_la_name"]),
        numbers=numbers,
        forum=True,
    )


def columns(table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """A table with its keys (a name not on the schools list: "Not known", never None), then the figures
    people read, in order."""
    return table.select(
        *(pl.col(k).cast(pl.String).fill_null(NOT_KNOWN_NAME) for k in keys),
        *(c for c in FIGURES if c in table.columns),
    )
