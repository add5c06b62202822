"""The schools map as pydeck layers, built without Streamlit (as charts.py builds figures): schools as points
sized by children and coloured by a rate, arcs from the authority to the schools its children attend
elsewhere. No base map is needed (`map_provider=None`), so the map draws with no internet."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pydeck as pdk

from vsdash import schools as schools_mod
from vsdash.config import Config
from vsdash.glossary import column_label

# Okabe-Ito colours (the palette of every page): low to high rate, and a withheld or missing figure.
LOW, HIGH, WITHHELD = (0, 114, 178), (213, 94, 0), (153, 153, 153)
OUT_OF_AREA_OUTLINE, IN_AREA_OUTLINE = (0, 0, 0), (255, 255, 255)
ARC = (230, 159, 0)
# The rates the map can colour schools by, and whether a high figure is bad news.
COLOUR_BY = ("persistent_absence_rate", "attendance_pct", "severe_absence_rate", "suspension_rate")
FORUM_RADIUS = 600  # metres: in forum mode every school the same size, so a point's size tells no count


@dataclass(frozen=True)
class MapData:
    """What the map draws: one row per school with a place, and one arc per school outside the authority."""

    points: pl.DataFrame
    arcs: pl.DataFrame
    centre: tuple[float, float]  # latitude, longitude of the authority's schools
    colour_by: str
    forum: bool


def _number(column: str) -> pl.Expr:
    """A figure as a number (forum mode's text too: a withheld `c` becomes null)."""
    return pl.col(column).cast(pl.String).cast(pl.Float64, strict=False)


def _text(column: str, decimals: int) -> pl.Expr:
    """A figure as the tooltip writes it: rounded, or forum mode's symbol (c, z, x) as it is."""
    number = _number(column).round(decimals)
    shown = number.cast(pl.Int64).cast(pl.String) if decimals == 0 else number.cast(pl.String)
    symbol = pl.col(column).cast(pl.String).fill_null("no figures")
    return pl.when(number.is_not_null()).then(shown).otherwise(symbol).alias(f"{column}_text")


def centre_of(inside: pl.DataFrame, every: pl.DataFrame) -> tuple[float, float]:
    """The authority's centre (latitude, longitude): the mean place of its own schools (`inside`), of all
    the schools when none is in the authority; the arcs and the out-of-area distances start here."""
    rows = inside if inside.height else every
    if not rows.height:
        return (52.7, -2.75)
    return (float(rows["latitude"].mean() or 0), float(rows["longitude"].mean() or 0))  # type: ignore[arg-type]


def map_data(table: schools_mod.SchoolsTable, schools: pl.DataFrame, cfg: Config, colour_by: str) -> MapData:
    """The schools of a Schools table with their latitude and longitude (converted from GIAS's British
    National Grid when loaded, vsdash.geo), a colour from the chosen rate and a radius from the children."""
    if colour_by not in COLOUR_BY:
        raise ValueError(f"cannot colour the map by {colour_by!r}; choose from {', '.join(COLOUR_BY)}")
    places = schools.select(pl.col("urn").alias("school_urn"), "latitude", "longitude").unique("school_urn")
    rows = table.schools.join(places, on="school_urn", how="inner").filter(
        pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null()
    )
    rate = _number(colour_by)
    low, high = rate.min(), rate.max()
    share = ((rate - low) / pl.when(high > low).then(high - low).otherwise(1)).fill_null(-1)
    colour = [
        pl.when(share < 0).then(WITHHELD[i]).otherwise((LOW[i] + share * (HIGH[i] - LOW[i])).round(0)).cast(pl.Int64)
        for i in range(3)
    ]
    children = _number("children")
    radius = pl.lit(FORUM_RADIUS) if table.forum else (300 + 250 * children.fill_null(1).sqrt()).round(0)
    outside = pl.col("area") == schools_mod.OUT_OF_AREA
    points = rows.with_columns(
        pl.concat_list(colour).alias("colour"),
        pl.when(outside)
        .then(pl.lit(list(OUT_OF_AREA_OUTLINE)))
        .otherwise(pl.lit(list(IN_AREA_OUTLINE)))
        .alias("outline"),
        radius.alias("radius"),
        _text("children", 0),
        *(_text(c, 1) for c in COLOUR_BY),
        pl.col("school_la_name").fill_null("LA not known"),
        pl.col("area").fill_null("not known"),
    )
    centre = centre_of(rows.filter(~outside), rows)
    arcs = points.filter(outside).select(
        "school",
        pl.lit([centre[1], centre[0]]).alias("source"),
        pl.concat_list("longitude", "latitude").alias("target"),
    )
    return MapData(points, arcs, centre, colour_by, table.forum)


TOOLTIP = (
    "<b>{school}</b><br/>{school_la_name} ({area})<br/>Children: {children_text}<br/>"
    "Attendance: {attendance_pct_text}%<br/>Persistent absence: {persistent_absence_rate_text}%<br/>"
    "Severe absence: {severe_absence_rate_text}%<br/>Suspended: {suspension_rate_text}%"
)


def deck(data: MapData, tile_url: str | None = None) -> pdk.Deck:
    """The pydeck map: no base map (draws offline) unless the configuration names a tile server."""
    layers = []
    if tile_url:
        layers.append(pdk.Layer("TileLayer", data=tile_url, min_zoom=0, max_zoom=19, tile_size=256))
    layers += [
        pdk.Layer(
            "ArcLayer",
            data=data.arcs.to_dicts(),
            get_source_position="source",
            get_target_position="target",
            get_source_color=list(ARC),
            get_target_color=list(ARC),
            get_width=2,
            pickable=False,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            data=data.points.select(
                "school",
                "school_la_name",
                "area",
                "latitude",
                "longitude",
                "colour",
                "outline",
                "radius",
                *(f"{c}_text" for c in ("children", *COLOUR_BY)),
            ).to_dicts(),
            get_position=["longitude", "latitude"],
            get_fill_color="colour",
            get_line_color="outline",
            get_radius="radius",
            line_width_min_pixels=2,
            stroked=True,
            pickable=True,
            opacity=0.85,
        ),
    ]
    view = pdk.ViewState(latitude=data.centre[0], longitude=data.centre[1], zoom=8, pitch=0)
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=None,
        tooltip={"html": TOOLTIP, "style": {"fontSize": "16px"}},
    )


def legend(data: MapData) -> str:
    """The map's key in words: what colour, size, outline and arcs mean."""
    size = "every school the same size (forum mode)" if data.forum else "size: the number of our children there"
    return (
        f"Colour: {column_label(data.colour_by).lower()}, blue low to orange high, grey withheld or no figures; "
        f"{size}; black outline: a school outside the authority, joined to the authority by an arc."
    )
