"""Plotly figures for the pages; pure functions of frames, never calling Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from vsdash.config import Config
from vsdash.glossary import attendance_lines

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. One colour per meaning,
# the same on every page.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
COHORT_COLOURS = {
    "CLA": "#0072B2",
    "CIN": "#E69F00",
    "CP": "#D55E00",
    "PLAC": "#009E73",
    "EVER6": "#CC79A7",
    "CWSW": "#56B4E9",
    "All": "#000000",
}
CATEGORY_COLOURS = {
    "present": "#009E73",
    "approved_activity": "#56B4E9",
    "authorised": "#E69F00",
    "unauthorised": "#D55E00",
    "not_possible": "#999999",
    "no_mark": "#E8E8E8",
}
# The persistent and severe absence lines: the first dashed in amber, the second dotted in vermilion.
LINE_STYLES = (("dash", CATEGORY_COLOURS["authorised"]), ("dot", CATEGORY_COLOURS["unauthorised"]))


# Chart text dark enough on white for WCAG 2.2 AA (1.4.3, 4.5:1): Streamlit's chart theme greys it to 3.7:1.
TEXT_COLOUR = "#333333"  # 12.6:1 on white
LABEL_BACKGROUND = "rgba(255,255,255,0.85)"  # a line's label stays legible over bars


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 360) -> go.Figure:
    """One look for every chart: white, compact, legend on top, text that passes contrast."""
    fig.update_layout(
        title=title,
        height=height,
        template="plotly_white",
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
        yaxis_title=y_title,
        hovermode="x unified",
        font=dict(color=TEXT_COLOUR),
        title_font=dict(color=TEXT_COLOUR),
        legend_font=dict(color=TEXT_COLOUR),
    )
    for axes in (fig.update_xaxes, fig.update_yaxes):
        axes(tickfont=dict(color=TEXT_COLOUR), title_font=dict(color=TEXT_COLOUR))
    return fig


def colour_for(name: str, index: int) -> str:
    """A cohort's own colour, else the palette in order."""
    return COHORT_COLOURS.get(name, OKABE_ITO[index % len(OKABE_ITO)])


# Legible on a projector (issue 14): a 1280x720 projector shows a 14 px base font at about 12 px from the back.
BASE_FONT, TICK_FONT, BAR_TEXT_FONT = 14, 13, 13
UK_DATE = "%d/%m/%Y"


def _projector(fig: go.Figure) -> go.Figure:
    """Font sizes that read on a projector, and UK dates on a date axis."""
    fig.update_layout(font=dict(size=BASE_FONT), title_font=dict(size=BASE_FONT + 2), legend_font=dict(size=BASE_FONT))
    fig.update_xaxes(tickfont=dict(size=TICK_FONT))
    fig.update_yaxes(tickfont=dict(size=TICK_FONT))
    return fig


# Forum mode (issue 15): one chart per row on a projector, read from the back of the room, so every text larger.
FORUM_FONT, FORUM_TITLE_FONT, FORUM_TICK_FONT = 20, 24, 18
FORUM_HEIGHT = 1.35  # the chart's height grows with its text (a bar's row keeps room for its label)


def for_forum(fig: go.Figure) -> go.Figure:
    """The forum's projector look, applied to a finished chart in one place: larger base, title, legend, tick,
    bar-label and line-label text, and the height to hold it; a copy, the chart given is left as it was."""
    big = go.Figure(fig)
    big.update_layout(
        font=dict(size=FORUM_FONT),
        title_font=dict(size=FORUM_TITLE_FONT),
        legend_font=dict(size=FORUM_FONT),
        height=round((fig.layout.height or 360) * FORUM_HEIGHT),
        margin=dict(t=60),
    )
    if big.layout.uniformtext.minsize:
        big.update_layout(uniformtext=dict(minsize=FORUM_TICK_FONT))
    big.update_xaxes(tickfont=dict(size=FORUM_TICK_FONT), title_font=dict(size=FORUM_FONT))
    big.update_yaxes(tickfont=dict(size=FORUM_TICK_FONT), title_font=dict(size=FORUM_FONT))
    big.update_traces(
        textfont=dict(size=FORUM_TICK_FONT),
        insidetextfont=dict(size=FORUM_TICK_FONT),
        outsidetextfont=dict(size=FORUM_TICK_FONT),
        selector=dict(type="bar"),
    )
    big.update_annotations(font=dict(size=FORUM_TICK_FONT))
    return big


@dataclass(frozen=True)
class NationalLine:
    """A published national figure drawn across a trend: whose it is, in words, its value and year."""

    group: str  # the group the line belongs to (its colour: the group's own)
    label: str  # "CIN (not CP or CLA)"
    value: float
    year: str


def national_lines(national: pl.DataFrame, value: str, labels: dict[str, str]) -> list[NationalLine]:
    """The national lines of a trend from the overview's national figures (one row per DfE group)."""
    return [
        NationalLine(row["dfe_group"], labels.get(row["dfe_group"], row["dfe_group"]), row[value], row["year"])
        for row in national.iter_rows(named=True)
        if row[value] is not None
    ]


def trend_lines(
    weekly: pl.DataFrame,
    value: str,
    group: str,
    title: str,
    y_title: str,
    labels: dict[str, str] | None = None,
    national: list[NationalLine] | None = None,
) -> go.Figure:
    """One line per group over weeks (e.g. attendance % by cohort), named by `labels` (the configured cohort
    names), with a dashed line at each national figure in the group's colour, labelled with its year."""
    labels = labels or {}
    names = sorted(weekly[group].drop_nulls().unique().to_list())
    fig = go.Figure()
    for i, name in enumerate(names):
        part = weekly.filter(pl.col(group) == name).sort("week_start")
        fig.add_trace(
            go.Scatter(
                x=part["week_start"].to_list(),
                y=part[value].to_list(),
                name=labels.get(str(name), str(name)),
                mode="lines+markers",
                line=dict(color=colour_for(str(name), i), width=2),
                hovertemplate="%{y:.1f}%",
            )
        )
    for line in national or []:
        colour = colour_for(line.group, names.index(line.group) if line.group in names else 0)
        fig.add_hline(
            y=line.value,
            line_dash="dash",
            line_color=colour,
            annotation_text=f"England {line.year}: {line.value:.1f}%",
            annotation_position="top left",
            # The label in dark text (a light line colour on white fails contrast), the line in the group's colour.
            annotation_font=dict(size=TICK_FONT, color=TEXT_COLOUR),
            annotation_bgcolor=LABEL_BACKGROUND,
        )
    fig = _layout(fig, title, y_title)
    # A few full UK dates fit a half-width chart; more overlap.
    fig.update_xaxes(tickformat=UK_DATE, hoverformat=f"week beginning {UK_DATE}", nticks=5)
    return _projector(fig)


def _horizontal_bars(
    labels: list, values: list, texts: list[str], hover: str, title: str, x_title: str, row_height: int
) -> go.Figure:
    """Horizontal bars, each labelled at the projector's size (every bar chart's one look)."""
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[str(v) for v in labels],
            orientation="h",
            marker_color=OKABE_ITO[0],
            text=texts,
            textposition="auto",
            textangle=0,  # a label inside a short bar stays level, never turned on its side
            textfont=dict(size=BAR_TEXT_FONT),
            insidetextfont=dict(size=BAR_TEXT_FONT, color="white"),
            outsidetextfont=dict(size=BAR_TEXT_FONT),
            hovertemplate=hover,
        )
    )
    fig = _layout(fig, title, "", height=max(260, 60 + row_height * len(values)))
    # Small bars would shrink their labels to fit: keep them at the projector's size instead.
    fig.update_layout(xaxis_title=x_title, hovermode="closest", uniformtext=dict(minsize=BAR_TEXT_FONT, mode="show"))
    return _projector(fig)


def breakdown_bars(table: pl.DataFrame, label: str, value: str, count: str, title: str, x_title: str) -> go.Figure:
    """Horizontal bars of a rate by group, with the number of children behind each bar."""
    table = table.filter(pl.col(value).is_not_null()).sort(value)
    values = table[value].to_list()
    texts = [f"{v:.1f}% (n={n})" for v, n in zip(values, table[count].to_list(), strict=True)]
    return _horizontal_bars(
        table[label].to_list(), values, texts, "%{y}: %{x:.1f}%<extra></extra>", title, x_title, row_height=34
    )


def weekly_attendance(weekly: pl.DataFrame, cfg: Config, title: str = "Attendance by week") -> go.Figure:
    """A child's attendance per week with the persistent and severe absence lines at the configured thresholds."""
    fig = go.Figure(
        go.Bar(
            x=weekly["week_start"].to_list(),
            y=weekly["attendance_pct"].to_list(),
            marker_color=OKABE_ITO[0],
            name="Attendance %",
            hovertemplate="week beginning %{x|%d/%m/%Y}: %{y:.1f}%<extra></extra>",
        )
    )
    for (y, words), (dash, colour) in zip(attendance_lines(cfg), LINE_STYLES, strict=True):
        fig.add_hline(
            y=y,
            line_dash=dash,
            line_color=colour,
            annotation_text=words,
            annotation_position="bottom right",
            annotation_font=dict(color=TEXT_COLOUR),
            annotation_bgcolor=LABEL_BACKGROUND,
        )
    fig = _layout(fig, title, "Attendance %", height=320)
    fig.update_yaxes(range=[0, 100])
    return fig


# ---- suspensions and exclusions (pages/suspensions.py) ----------------------------------------------------


def count_bars(
    table: pl.DataFrame, label: str, value: str, title: str, x_title: str, in_order: bool = False
) -> go.Figure:
    """Horizontal bars of a count by group (e.g. suspensions by reason), largest at the top, each labelled;
    `in_order` keeps the table's order from the top down instead (distance bands, nearest first)."""
    table = table.reverse() if in_order else table.sort(value)  # plotly draws the first bar at the bottom
    values = table[value].to_list()
    texts = [f"{v:,}" for v in values]
    return _horizontal_bars(
        table[label].to_list(), values, texts, "%{y}: %{x:,}<extra></extra>", title, x_title, row_height=30
    )


def weekly_counts(weekly: pl.DataFrame, series: dict[str, str], title: str, y_title: str) -> go.Figure:
    """Stacked bars per school week (e.g. suspensions and permanent exclusions starting in it), one colour each."""
    fig = go.Figure()
    for i, (column, name) in enumerate(series.items()):
        fig.add_trace(
            go.Bar(
                x=weekly["week_start"].to_list(),
                y=weekly[column].to_list(),
                name=name,
                marker_color=OKABE_ITO[(i * 5) % len(OKABE_ITO)],  # blue, then vermilion
                hovertemplate=f"{name}: %{{y:,}}<extra></extra>",
            )
        )
    fig = _layout(fig, title, y_title, height=320)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat=UK_DATE, hoverformat=f"week beginning {UK_DATE}", nticks=8)
    return _projector(fig)
