"""Small builders shared by the metric and triage tests."""

from datetime import date, timedelta


def weekdays(n: int, first: date = date(2024, 9, 2)) -> list[date]:
    """The first n weekdays from `first` (a Monday)."""
    out, day = [], first
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out
