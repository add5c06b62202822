"""Plotly figures for the pages; pure functions of frames, never calling Streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
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

# Legible on a projector (issue 14): a 1280x720 projector shows a 14 px base font at about 12 px from the back.
BASE_FONT, TICK_FONT, BAR_TEXT_FONT = 14, 13, 13
UK_DATE = "%d/%m/%Y"


def _white() -> dict[str, Any]:
    """Plotly's white look (plotly_white), only the part a chart of bars and lines on x and y axes reads: the
    whole template is checked and copied for every figure made with it (12 ms a chart against 3 ms)."""
    white = pio.templates["plotly_white"].to_plotly_json()
    unused = ("polar", "ternary", "scene", "geo", "coloraxis", "colorscale")  # other kinds of plot
    layout = {key: value for key, value in white["layout"].items() if key not in unused}
    return {"layout": layout, "data": {kind: white["data"][kind] for kind in ("bar", "scatter")}}


# Named in every chart: plotly's default template is whatever was set last (Streamlit sets its own).
WHITE = _white()


def _font(size: int | None = None) -> dict[str, Any]:
    """Chart text in the colour that passes contrast, at `size` when given."""
    return {"color": TEXT_COLOUR, **({"size": size} if size else {})}


def _merged(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """`base` with `more` written over it, nested settings merged rather than replaced."""
    out = dict(base)
    for key, value in more.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _figure(
    data: list[dict[str, Any]], title: str, y_title: str, height: int = 360, projector: bool = True, **layout: Any
) -> go.Figure:
    """One look for every chart (white, compact, legend on top, text that passes contrast and, with `projector`,
    reads on a projector), made in one step: plotly checks a whole figure once, where each update_layout or
    add_hline checks and copies it again (25-45 ms a chart against 3 ms, on every rerun of a page)."""

    def size(points: int) -> int | None:
        return points if projector else None

    look = {
        "template": WHITE,
        "title": {"text": title, "font": _font(size(BASE_FONT + 2))},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -0.2,
            "xanchor": "left",
            "x": 0,
            "font": _font(size(BASE_FONT)),
        },
        "hovermode": "x unified",
        "font": _font(size(BASE_FONT)),
        "xaxis": {"tickfont": _font(size(TICK_FONT)), "title": {"font": _font()}},
        "yaxis": {"tickfont": _font(size(TICK_FONT)), "title": {"text": y_title, "font": _font()}},
    }
    return go.Figure({"data": data, "layout": _merged(look, layout)})


def _across(y: float, dash: str, colour: str) -> dict[str, Any]:
    """A line across the whole plot at `y` (what plotly's add_hline draws)."""
    line = {"color": colour, "dash": dash}
    return {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y, "line": line}


def _line_label(y: float, text: str, font: dict[str, Any], top_left: bool) -> dict[str, Any]:
    """A line's label in dark text on a light box (a light line colour on white fails contrast): above its
    left end, or under its right end."""
    place = (
        {"x": 0, "xanchor": "left", "yanchor": "bottom"} if top_left else {"x": 1, "xanchor": "right", "yanchor": "top"}
    )
    note = {"text": text, "showarrow": False, "xref": "x domain", "yref": "y", "y": y}
    return {**note, "font": font, "bgcolor": LABEL_BACKGROUND, **place}


def _weeks_axis(ticks: int) -> dict[str, Any]:
    """An x axis of school weeks: UK dates, at most `ticks` of them, and the week's Monday on hover."""
    return {"tickformat": UK_DATE, "hoverformat": f"week beginning {UK_DATE}", "nticks": ticks}


def colour_for(name: str, index: int) -> str:
    """A cohort's own colour, else the palette in order."""
    return COHORT_COLOURS.get(name, OKABE_ITO[index % len(OKABE_ITO)])


# Forum mode (issue 15): one chart per row on a projector, read from the back of the room, so every text larger.
FORUM_FONT, FORUM_TITLE_FONT, FORUM_TICK_FONT = 20, 24, 18
FORUM_HEIGHT = 1.35  # the chart's height grows with its text (a bar's row keeps room for its label)


def for_forum(fig: go.Figure) -> go.Figure:
    """The forum's projector look, applied to a finished chart in one place: larger base, title, legend, tick,
    bar-label and line-label text, and the height to hold it; a copy, the chart given is left as it was."""
    spec = fig.to_dict()
    layout = _merged(
        spec["layout"],
        {
            "font": {"size": FORUM_FONT},
            "title": {"font": {"size": FORUM_TITLE_FONT}},
            "legend": {"font": {"size": FORUM_FONT}},
            "height": round((fig.layout.height or 360) * FORUM_HEIGHT),
            "margin": {"t": 60},
        },
    )
    if layout.get("uniformtext", {}).get("minsize"):
        layout["uniformtext"] = {**layout["uniformtext"], "minsize": FORUM_TICK_FONT}
    axis = {"tickfont": {"size": FORUM_TICK_FONT}, "title": {"font": {"size": FORUM_FONT}}}
    layout |= {key: _merged(value, axis) for key, value in layout.items() if key.startswith(("xaxis", "yaxis"))}
    label = {"size": FORUM_TICK_FONT}
    if "annotations" in layout:
        layout["annotations"] = [_merged(note, {"font": label}) for note in layout["annotations"]]
    bar_text = {"textfont": label, "insidetextfont": label, "outsidetextfont": label}
    data = [_merged(trace, bar_text) if trace.get("type") == "bar" else trace for trace in spec["data"]]
    return go.Figure({"data": data, "layout": layout})


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
    data = []
    for i, name in enumerate(names):
        part = weekly.filter(pl.col(group) == name).sort("week_start")
        data.append(
            {
                "type": "scatter",
                "x": part["week_start"].to_list(),
                "y": part[value].to_list(),
                "name": labels.get(str(name), str(name)),
                "mode": "lines+markers",
                "line": {"color": colour_for(str(name), i), "width": 2},
                "hovertemplate": "%{y:.1f}%",
            }
        )
    shapes, notes = [], []
    for line in national or []:
        colour = colour_for(line.group, names.index(line.group) if line.group in names else 0)
        shapes.append(_across(line.value, "dash", colour))
        notes.append(
            _line_label(line.value, f"England {line.year}: {line.value:.1f}%", _font(TICK_FONT), top_left=True)
        )
    # A few full UK dates fit a half-width chart; more overlap.
    return _figure(data, title, y_title, shapes=shapes, annotations=notes, xaxis=_weeks_axis(ticks=5))


def _horizontal_bars(
    labels: list, values: list, texts: list[str], hover: str, title: str, x_title: str, row_height: int
) -> go.Figure:
    """Horizontal bars, each labelled at the projector's size (every bar chart's one look)."""
    bars = {
        "type": "bar",
        "x": values,
        "y": [str(v) for v in labels],
        "orientation": "h",
        "marker": {"color": OKABE_ITO[0]},
        "text": texts,
        "textposition": "auto",
        "textangle": 0,  # a label inside a short bar stays level, never turned on its side
        "textfont": {"size": BAR_TEXT_FONT},
        "insidetextfont": {"size": BAR_TEXT_FONT, "color": "white"},
        "outsidetextfont": {"size": BAR_TEXT_FONT},
        "hovertemplate": hover,
    }
    return _figure(
        [bars],
        title,
        "",
        height=max(260, 60 + row_height * len(values)),
        hovermode="closest",
        xaxis={"title": {"text": x_title}},
        # Small bars would shrink their labels to fit: keep them at the projector's size instead.
        uniformtext={"minsize": BAR_TEXT_FONT, "mode": "show"},
    )


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
    bars = {
        "type": "bar",
        "x": weekly["week_start"].to_list(),
        "y": weekly["attendance_pct"].to_list(),
        "marker": {"color": OKABE_ITO[0]},
        "name": "Attendance %",
        "hovertemplate": "week beginning %{x|%d/%m/%Y}: %{y:.1f}%<extra></extra>",
    }
    lines = list(zip(attendance_lines(cfg), LINE_STYLES, strict=True))
    return _figure(
        [bars],
        title,
        "Attendance %",
        height=320,
        projector=False,
        shapes=[_across(y, dash, colour) for (y, _), (dash, colour) in lines],
        annotations=[_line_label(y, words, _font(), top_left=False) for (y, words), _ in lines],
        yaxis={"range": [0, 100]},
    )


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
    data = [
        {
            "type": "bar",
            "x": weekly["week_start"].to_list(),
            "y": weekly[column].to_list(),
            "name": name,
            "marker": {"color": OKABE_ITO[(i * 5) % len(OKABE_ITO)]},  # blue, then vermilion
            "hovertemplate": f"{name}: %{{y:,}}<extra></extra>",
        }
        for i, (column, name) in enumerate(series.items())
    ]
    return _figure(data, title, y_title, height=320, barmode="stack", xaxis=_weeks_axis(ticks=8))
