"""Chart text passes WCAG 2.2 AA contrast (1.4.3: 4.5:1 on white), which axe-core cannot measure inside a chart."""

from __future__ import annotations

from datetime import date

import polars as pl

from vsdash import charts
from vsdash.config import load_config


def luminance(hex_colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour."""
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str = "#ffffff") -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_on_known_pairs():
    assert round(contrast("#000000"), 1) == 21.0 and round(contrast("#808495"), 1) == 3.7  # Streamlit's grey


def every_chart():
    weeks = [date(2026, 1, 5), date(2026, 1, 12)]
    weekly = pl.DataFrame({"week_start": weeks, "cohort": ["CP", "CP"], "attendance_pct": [91.0, 80.0]})
    national = [charts.NationalLine("CP", "CP (not CLA)", 78.2, "2024/25")]
    table = pl.DataFrame({"locality": ["North", "South"], "attendance_pct": [88.0, 91.0], "children": [20, 30]})
    return [
        charts.trend_lines(weekly, "attendance_pct", "cohort", "Attendance", "%", {"CP": "CP"}, national),
        charts.breakdown_bars(table, "locality", "attendance_pct", "children", "By locality", "Attendance %"),
        charts.weekly_attendance(weekly.select("week_start", "attendance_pct"), load_config()),
    ]


def test_every_chart_s_text_and_line_labels_pass_contrast():
    for fig in every_chart():
        layout = fig.layout
        for colour in (layout.font.color, layout.xaxis.tickfont.color, layout.yaxis.tickfont.color):
            assert contrast(colour) >= 4.5, (layout.title.text, colour)
        for note in layout.annotations:
            assert contrast(note.font.color) >= 4.5, note.text


def test_every_chart_is_drawn_on_white_with_its_lines_labelled():
    """The charts are made from whole specs, each naming the white look (plotly's default template is Streamlit's
    once a page has drawn a chart)."""
    trend, bars, child = every_chart()
    for fig in (trend, bars, child, charts.for_forum(trend)):
        look = fig.to_dict()["layout"]["template"]["layout"]
        assert (look["plot_bgcolor"], look["paper_bgcolor"]) == ("white", "white")
    assert [(s.y0, s.line.dash) for s in trend.layout.shapes] == [(78.2, "dash")]
    assert [n.text for n in trend.layout.annotations] == ["England 2024/25: 78.2%"]
    assert [(s.y0, s.line.dash) for s in child.layout.shapes] == [(90, "dash"), (50, "dot")]
    assert (child.layout.yaxis.range, bars.layout.xaxis.title.text) == ((0, 100), "Attendance %")
