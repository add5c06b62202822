"""School-day calendar for the sample: English term dates built by rule, 190 school days a year."""

from __future__ import annotations

from datetime import date, timedelta

SCHOOL_DAYS_PER_YEAR = 190  # DfE: schools open for 380 sessions


def _monday_of_week(day: date) -> date:
    """The Monday of the week containing `day`."""
    return day - timedelta(days=day.weekday())


def _nth_monday(year: int, month: int, n: int) -> date:
    """The n-th Monday of a month (n = -1 for the last one)."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def easter_sunday(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm), which places the spring holiday."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _week(monday: date) -> set[date]:
    """Monday to Friday of one holiday week."""
    return {monday + timedelta(days=i) for i in range(5)}


def term_start(year: int) -> date:
    """Autumn term starts on the first Wednesday of September (two INSET days before it)."""
    first = date(year, 9, 1)
    return first + timedelta(days=(2 - first.weekday()) % 7)


def holidays(year: int) -> set[date]:
    """Weekday holidays of the academic year starting in September `year` (before summer)."""
    out = _week(_nth_monday(year, 10, -1))  # October half-term
    christmas_end = date(year + 1, 1, 4)
    christmas_end += timedelta(days=(7 - christmas_end.weekday()) % 7)  # back on the Monday
    day = date(year, 12, 20)
    while day < christmas_end:
        out.add(day)
        day += timedelta(days=1)
    out |= _week(_nth_monday(year + 1, 2, 3))  # February half-term
    easter = easter_sunday(year + 1)
    out |= _week(easter - timedelta(days=6)) | _week(easter + timedelta(days=1))
    out.add(_nth_monday(year + 1, 5, 1))  # early May bank holiday
    out |= _week(_nth_monday(year + 1, 5, -1))  # May half-term
    return out


def academic_year_days(year: int) -> list[date]:
    """The 190 school days of the academic year starting in September `year`."""
    off = holidays(year)
    days: list[date] = []
    day = term_start(year)
    while len(days) < SCHOOL_DAYS_PER_YEAR:
        if day.weekday() < 5 and day not in off:
            days.append(day)
        day += timedelta(days=1)
    return days


def academic_year_of(day: date) -> int:
    """The calendar year in which the academic year containing `day` started."""
    return day.year if day.month >= 9 else day.year - 1


def default_end(start: date) -> date:
    """Last school day before the February half-term: the sample's default 'today'."""
    year = academic_year_of(start)
    half_term = _nth_monday(year + 1, 2, 3)
    days = academic_year_days(year)
    before = [d for d in days if start <= d < half_term]
    return before[-1] if before else days[-1]  # starting after half-term: run to the summer


def school_days(start: date, days: int | None = None) -> list[date]:
    """School days from `start`: `days` of them, or up to the default end when omitted."""
    end = default_end(start) if days is None else None
    out: list[date] = []
    year = academic_year_of(start)
    while True:
        for day in academic_year_days(year):
            if day < start:
                continue
            if (end is not None and day > end) or (days is not None and len(out) >= days):
                return out
            out.append(day)
        year += 1
