"""What every figure means, in one place: tooltips, the About page and export headers use the same words."""

from __future__ import annotations

from vsdash.config import Config


def figure_help(cfg: Config) -> dict[str, str]:
    """Definitions of the figures, with this authority's thresholds and year start."""
    th = cfg.thresholds
    start = f"{cfg.year_start_day} {_month(cfg.year_start_month)}"
    return {
        "children": "Children selected by the filters who are in the cohort as at the as-at date "
                    "(a child can be in several cohorts; each is counted once here).",
        "attendance_pct": "Attendance: sessions present or in approved educational activity, divided by possible "
                          f"sessions, summed over all the children (not an average of percentages), since {start}.",
        "persistent_absence_rate": f"Persistent absence: missed {th.persistent_absence_pct}% or more of their own possible "
                                   f"sessions since {start}; as a share of children with at least one possible session.",
        "severe_absence_rate": f"Severe absence: missed {th.severe_absence_pct}% or more of their own possible sessions "
                               f"since {start}; as a share of children with at least one possible session.",
        "suspensions": "Suspensions (fixed-period exclusions) starting in the window.",
        "suspension_rate": "Children with at least one suspension in the window, as a share of the children.",
        "permanent_exclusions": "Permanent exclusions starting in the window.",
        "out_of_area_children": "Children whose current school (latest mark that is not D) is in another local "
                                "authority than the one responsible for them.",
        "possible_sessions": "Half-day sessions the child could have attended: every code except those that are not "
                             "possible sessions (X, Q, Y1-Y7, D, Z, #).",
        "drift": f"Attendance over the last {th.drift_weeks} school weeks at least {th.drift_points} points below the "
                 f"{th.drift_weeks} weeks before.",
        "consecutive_unauthorised": f"{th.consecutive_unauthorised_days} or more school days in a row of unauthorised "
                                    "absence: schools must tell the local authority.",
        "not_seen": f"In a cohort now, but no mark received for {th.not_seen_school_days} school days, or ever.",
        "recent_suspension": f"A suspension or exclusion starting in the last {th.recent_suspension_school_days} school days.",
        "part_time_timetable": "A C2 code (part-time timetable) in the last 4 school weeks: attendance can look "
                               "better than the education received.",
        "new_to_cohort": f"A cohort episode that started in the last {th.new_to_cohort_school_days} school days.",
    }


# Attendance-code categories in words, for legends, the calendar and the codes table.
CATEGORY_WORDS = {
    "present": "Present",
    "approved_activity": "Approved educational activity",
    "authorised": "Authorised absence",
    "unauthorised": "Unauthorised absence",
    "not_possible": "Not a possible session",
    "no_mark": "No mark",
}


def _month(number: int) -> str:
    """Month name for a sentence."""
    return ("January February March April May June July August September October November December").split()[number - 1]
