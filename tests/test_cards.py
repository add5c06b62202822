"""The Overview's headline cards: the change since last month as a person reads it off a projector."""

from __future__ import annotations

import pytest

from vsdash.views import Card, Pill


@pytest.mark.parametrize(
    ("key", "value", "last_month", "rise_is_good", "pill"),
    [
        ("attendance_pct", 88.4, 86.1, True, Pill("+2.3 pts", "normal", "auto")),  # good news: green
        ("persistent_absence_rate", 30.0, 27.5, False, Pill("+2.5 pts", "inverse", "auto")),  # bad news: red
        ("attendance_pct", 88.42, 88.44, True, Pill("no change", "off", "off")),  # -0.02 shows as no change
        ("persistent_absence_rate", 30.04, 30.0, False, Pill("no change", "off", "off")),  # never "+0.0" in red
        ("children", 120, 120, None, Pill("no change", "off", "off")),
        ("suspensions", 14, 9, None, Pill("+5", "off", "auto")),  # a count to date: grey
        ("children", 1_250, 1_190, None, Pill("+60", "off", "auto")),
        ("permanent_exclusions", 2, 3, False, Pill("-1", "inverse", "auto")),  # fewer: green (inverse)
    ],
)
def test_the_change_pill(key, value, last_month, rise_is_good, pill):
    assert Card(key, "label", value, last_month, rise_is_good).pill() == pill


def test_no_pill_without_last_months_figure():
    assert Card("attendance_pct", "Attendance", 88.0, None, True).pill() is None
