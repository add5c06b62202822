"""What every figure means, in one place: cards, tables, tooltips, the About page and exports use the same words."""

from __future__ import annotations

from dataclasses import dataclass, fields

import polars as pl

from vsdash.config import Config
from vsdash.triage import PART_TIME_SCHOOL_WEEKS
from vsdash.weeks import PART_TIME_CODE


@dataclass(frozen=True)
class Term:
    """A figure's or a signal's name as people read it, and what it means."""

    label: str
    help: str


@dataclass(frozen=True)
class Terms:
    """Every figure and triage signal by name (the figure's column, the signal's name in `triage.SIGNALS`)."""

    children: Term
    children_with_data: Term
    attendance_pct: Term
    persistent_absence_rate: Term
    severe_absence_rate: Term
    suspensions: Term
    suspension_rate: Term
    suspension_sessions: Term
    permanent_exclusions: Term
    out_of_area_children: Term
    possible_sessions: Term
    absence_sessions: Term
    # Triage signals.
    severe_absence: Term
    consecutive_unauthorised: Term
    not_seen: Term
    drift: Term
    recent_suspension: Term
    part_time_timetable: Term
    persistent_absence: Term
    new_to_cohort: Term

    def of(self, key: str) -> Term:
        """The term for a figure or signal named at run time (a card's key, a signal's rank)."""
        return getattr(self, key)

    def items(self) -> list[tuple[str, Term]]:
        """Every term with its name, in the order above (the About page's table)."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def terms(cfg: Config) -> Terms:
    """Labels and definitions with this authority's thresholds, year start and codes."""
    th = cfg.thresholds
    since = f"since {cfg.year_start_day} {_month(cfg.year_start_month)}"
    not_possible = ", ".join(cfg.codes_in("not_possible"))
    missed = "missed {}% or more of their own possible sessions " + since
    return Terms(
        children=Term(
            "Children",
            "Children selected by the filters who are in the cohort as at the as-at date "
            "(a child can be in several cohorts; each is counted once here).",
        ),
        children_with_data=Term("With data", "Children with at least one possible session."),
        attendance_pct=Term(
            "Attendance",
            "Attendance: sessions present or in approved educational activity, divided "
            "by possible sessions, summed over all the children (not an average of "
            f"percentages), {since}.",
        ),
        persistent_absence_rate=Term(
            "Persistent absence",
            f"Persistent absence: {missed.format(th.persistent_absence_pct)}"
            "; as a share of children with at least one possible session.",
        ),
        severe_absence_rate=Term(
            "Severe absence",
            f"Severe absence: {missed.format(th.severe_absence_pct)}; as a share "
            "of children with at least one possible session.",
        ),
        suspensions=Term("Suspensions", "Suspensions (fixed-period exclusions) starting in the window."),
        suspension_rate=Term(
            "Suspended %", "Children with at least one suspension in the window, as a share of the children."
        ),
        suspension_sessions=Term("Sessions lost to suspension", "Sessions of the suspensions starting in the window."),
        permanent_exclusions=Term("Permanent exclusions", "Permanent exclusions starting in the window."),
        out_of_area_children=Term(
            "Out-of-area children",
            "Children whose current school (latest mark that is not D) "
            "is in another local authority than the one responsible for them.",
        ),
        possible_sessions=Term(
            "Possible sessions",
            "Half-day sessions the child could have attended: every code except "
            f"those that are not possible sessions ({not_possible}).",
        ),
        absence_sessions=Term("Absent sessions", "Possible sessions missed, authorised or not."),
        severe_absence=Term("Severe absence", f"The child {missed.format(th.severe_absence_pct)}."),
        consecutive_unauthorised=Term(
            f"{th.consecutive_unauthorised_days}+ days unauthorised",
            f"{th.consecutive_unauthorised_days} or more school days in a row of unauthorised "
            "absence: schools must tell the local authority.",
        ),
        not_seen=Term(
            "Not being seen",
            f"In a cohort now and marked before, but no mark received for {th.not_seen_school_days} school days "
            "(a child with no attendance ever received is on the data-quality page: a matching question).",
        ),
        drift=Term(
            "Drifting down",
            f"Attendance over the last {th.drift_weeks} school weeks at least {th.drift_points} "
            f"points below the {th.drift_weeks} weeks before.",
        ),
        recent_suspension=Term(
            "Suspended",
            f"A suspension or exclusion starting in the last {th.recent_suspension_school_days} school days.",
        ),
        part_time_timetable=Term(
            "Part-time timetable",
            f"A {PART_TIME_CODE} code (part-time timetable) in the last "
            f"{PART_TIME_SCHOOL_WEEKS} school weeks: attendance can look "
            "better than the education received.",
        ),
        persistent_absence=Term("Persistent absence", f"The child {missed.format(th.persistent_absence_pct)}."),
        new_to_cohort=Term(
            "New to cohort", f"A cohort episode that started in the last {th.new_to_cohort_school_days} school days."
        ),
    )


def principles(cfg: Config) -> str:
    """How every figure is worked out, for the top of the About page (markdown)."""
    th = cfg.thresholds
    return f"""
Every figure follows the Department for Education's definitions, computed from half-day **sessions**:

- **Attendance %** = sessions present or in approved educational activity ÷ possible sessions.
  A group's figure comes from its summed sessions, never from an average of children's percentages.
- **Persistent absence**: a child who missed {th.persistent_absence_pct}% or more of their own possible sessions
  (exactly {100 - th.persistent_absence_pct:.1f}% attendance counts).
- **Severe absence**: missed {th.severe_absence_pct}% or more.
- A child with no possible session in the window has no attendance figure ("no data") and is in neither flag;
  rates are shares of children with at least one possible session.
- **Cohorts** are taken *as at* the as-at date from the dated episodes in the social-care list: a child whose plan
  ended before that date is no longer counted (Ever 6 keeps children who had a social worker in the last
  {th.ever6_years} years).
- **Out of area**: the child's current school (latest mark that is not D) is in another local authority than the one
  responsible for the child.
"""


def attendance_lines(cfg: Config) -> list[tuple[int, str]]:
    """The attendance % at or below which a child is persistently or severely absent, with their words."""
    th, words = cfg.thresholds, terms(cfg)
    # DfE: absent for 10% (50%) or more of possible sessions = attendance of 90% (50%) or less.
    return [
        (100 - pct, f"{100 - pct}% or below: {term.label.lower()}")
        for pct, term in (
            (th.persistent_absence_pct, words.persistent_absence),
            (th.severe_absence_pct, words.severe_absence),
        )
    ]


# Attendance-code categories in words, for legends, the calendar and the codes table.
# Each page's title, by the name the configuration's access.roles gives it (app.py's menu and the Users page).
PAGE_TITLES = {
    "overview": "Overview",
    "triage": "Triage",
    "child": "Child",
    "suspensions": "Suspensions and exclusions",
    "schools": "Schools",
    "map": "Map",
    "out_of_area": "Out of area",
    "about": "About these figures",
    "data": "Data quality",
    "upload": "Upload feeds",
    "users": "Users and audit log",
}


# Every table column as people read it, for every page's headers and every export's header row: a table
# never shows a raw name (`urn`, `la_name`, `start_date`). A column not here keeps its name, so a test
# (tests/test_labels.py) checks that each page's tables are covered.
COLUMNS = {
    # Children and their records.
    "la_child_id": "LA child ID",
    "upn": "UPN",
    "first_name": "First name",
    "last_name": "Last name",
    "child": "Child",
    "dob": "Date of birth",
    "gender": "Gender",
    "year_group": "Year group",
    "ehcp": "EHCP",
    "responsible_la": "Responsible LA",
    "social_worker": "Social worker",
    "team": "Team",
    "locality": "Locality",
    "cohort": "Cohort",
    "cohorts": "Cohorts",
    "label": "Cohort",
    # Schools.
    "urn": "URN",
    "school_urn": "URN",
    "school": "School",
    "name": "School",
    "la_code": "LA number",
    "la_name": "Local authority",
    "school_la_name": "School's LA",
    "phase": "Phase",
    "postcode": "Postcode",
    "out_of_area": "Out of area",
    # Dates and periods.
    "date": "Date",
    "start_date": "From",
    "end_date": "To",
    "first_date": "First date",
    "last_date": "Last date",
    "week_start": "Week beginning",
    # Attendance and suspensions.
    "session": "Session",
    "code": "Code",
    "meaning": "Meaning",
    "category": "Type",
    "sessions": "Sessions",
    "reason": "Reason",
    "reason_2": "Second reason",
    "reason_3": "Third reason",
    # Actions.
    "action": "Action",
    "note": "Note",
    "follow_up": "Follow up on",
    "recorded_by": "Recorded by",
    "recorded_at": "Recorded at",
    "last_action": "Last action",
    "last_action_on": "Action recorded",
    "follow_up_due": "Follow-up due",
    "done_by": "Done by",
    "done_at": "Done at",
    # Figures, as table headers (the cards use `terms`).
    "children": "Children",
    "children_with_data": "With data",
    "attendance_pct": "Attendance %",
    "persistent_absence_rate": "Persistent absence %",
    "severe_absence_rate": "Severe absence %",
    "suspension_rate": "Suspended %",
    "suspensions": "Suspensions",
    "suspension_sessions": "Sessions lost to suspension",
    "permanent_exclusions": "Permanent exclusions",
    "possible_sessions": "Possible sessions",
    "absence_sessions": "Absent sessions",
    "priority": "Priority",
    "days_since_last_mark": "School days since last mark",
    # Data quality and loads.
    "list_upn": "UPN on the list",
    "attendance_upn": "UPN the school sends",
    "rule": "Found by",
    "schools": "School URN(s)",
    "rows": "Rows",
    "la_child_id_sent": "LA child ID sent",
    "why": "Why",
    "upn_as_sent": "UPN as sent",
    "kind": "Feed",
    "problem": "Problem",
    "outcome": "Outcome",
    "first_file": "First file",
    "last_file": "Last file",
    "example_row": "Example row",
    "days": "Days",
    "alias_upn": "UPN the school sends",
    "confirmed_by": "Confirmed by",
    "confirmed_at": "Confirmed at",
    "file": "File",
    "line": "Line",
    "column": "Column",
    "raw": "Row as sent",
}

# The child page's tables in people's words (views.ChildTables).
COLUMNS |= {
    "episode_end": "To (blank: still open)",
    "local_authority": "Local authority",
    "from": "From",
    "to": "To",
    "dual_registered_days": "Days dual registered (D)",
    "reasons": "Reasons",
}

# The Overview's figures and its comparisons with England.
COLUMNS |= {
    "persistent_absence_children": "Persistently absent",
    "attendance_change": "Change (pts)",
    "persistent_absence_change": "PA change (pts)",
    "dfe_group": "DfE group",
    "year": "Year",
    "national_attendance_pct": "England attendance %",
    "national_persistent_absence_rate": "England persistent absence %",
    "national_severe_absence_rate": "England severe absence %",
}

# The meeting pack's tables (vsdash/pack.py).
COLUMNS |= {
    "selection": "Selection",
    "figure": "Figure",
    "now": "Now",
    "last_month": "A month ago",
    "change": "Change since last month",
    "last_year": "Same point last year",
    "england": "England, like for like",
    "moves": "Moves",
    "children_moved": "Children who moved",
    "to_out_of_area": "To an out-of-area school",
    "moves_back": "Back to an earlier school",
    "after_suspension": "After a suspension",
    "term": "Term",
}

# The Suspensions and exclusions page, `report suspensions` and `report moves` (vsdash/suspension_views.py).
COLUMNS |= {
    "group": "Group",
    "children_suspended": "Children suspended",
    "suspensions_per_100": "Suspensions per 100 children",
    "one_or_more_rate": "Suspended at least once %",
    "permanent_exclusion_rate": "Permanent exclusion rate %",
    "events": "Suspensions and exclusions",
    "reason_words": "Reason",
    "type": "Type",
    "first_suspension": "First suspension",
    "last_suspension": "Latest suspension",
    "schools_suspending": "Schools suspending",
    "suspension_days": "School days suspended this year",
    "days_left": "Days left of the 45",
    "sixth_day": "Sixth day",
    "e_sessions": "Sessions coded E from day 6",
    "notified_text": "Social worker told",
    "notified_by": "Set by",
    "notified_on": "Set on",
    "set_text": "Set by",
    "sessions_text": "Sessions",
    "end_text": "To",
    "move_date": "Moved on",
    "from_urn": "From URN",
    "from_school": "From school",
    "from_la": "From LA",
    "from_out_of_area": "From out of area",
    "to_urn": "To URN",
    "to_school": "To school",
    "to_la": "To LA",
    "to_out_of_area": "To out of area",
    "move_back": "Back to an earlier school",
    "suspended_before": "Suspended in the 4 weeks before",
    "suspended_on": "Suspended on",
    "moves_out": "Moves out",
    "moves_in": "Moves in",
    "moves_out_after_suspension": "Moves out after a suspension",
}

# The DfE's mutually exclusive comparison groups (domain: national benchmarks), as a card or chart names them.
DFE_GROUP_LABELS = {"CLA": "CLA (12+ months)", "CP": "CP (not CLA)", "CIN": "CIN (not CP or CLA)"}
DFE_GROUPS_EXPLAINED = (
    "The DfE's groups do not overlap: a looked-after child counts as CLA only (and only once looked after for "
    "12 months or more), a child on a CP plan who is not looked after as CP, and any other child in need as CIN; "
    "each child's group is the one held on the as-at date."
)


# What a suspension's category means (the suspensions feed's Category column).
CATEGORY_NAMES = {
    "suspension": "Suspension",
    "permanent_exclusion": "Permanent exclusion",
    "lunchtime": "Lunchtime exclusion",
}
# Times people read (an action's "recorded at") are shown in the UK's own time, not the store's UTC.
UK_TIME_ZONE = "Europe/London"


def reason_words(code: str, cfg: Config) -> str:
    """A suspension reason code with its meaning from the configuration: "DB: Persistent disruptive behaviour"."""
    meaning = cfg.suspension_reasons.get(code)
    return f"{code}: {meaning}" if meaning else code


# The Schools page, forum mode and the map (vsdash.schools): a school's own attributes and its figures
# against the authority's; `children_CLA` and `share_CLA` are named by `cohort_column_label`.
COLUMNS |= {
    "school_locality": "School's locality",
    "area": "In or out of area",
    "schools": "Schools",
    "attendance_difference": "Attendance vs authority (pts)",
    "persistent_absence_difference": "Persistent absence vs authority (pts)",
    "last_data_received": "Last data received",
    "severe_absence_children": "Severely absent",
    "suspended_children": "Suspended children",
    "share_all": "Share of all children %",
    "distance_band": "Distance from the authority",
    "distance_km": "Distance (km)",
}

# A school opened on the Schools page (vsdash.schools.SchoolDetail): the authority's figures beside the
# school's, and the flags of its children's list.
COLUMNS |= {
    "authority_attendance_pct": "Authority attendance %",
    "authority_persistent_absence_rate": "Authority persistent absence %",
    "authority_severe_absence_rate": "Authority severe absence %",
    "authority_suspension_rate": "Authority suspended %",
    "persistent_absence": "Persistently absent",
    "severe_absence": "Severely absent",
}


def cohort_names(cfg: Config) -> dict[str, str]:
    """Each cohort's name for a trend's legend and a table, with the row of every selected child."""
    return dict(cfg.cohorts) | {"All": "All selected children"}


# The out-of-area page (vsdash.out_of_area).
COLUMNS |= {
    "responsible_la_name": "Responsible LA's name",
    "school_la": "School's LA number",
    "status": "Status",
    "last_mark": "Last mark received",
    "school_days_silent": "School days silent",
    "listed_children": "Our children there",
}

# Short headers for a table of figures that must fit a 1440 px screen or a projector without scrolling
# sideways; each column's help gives its full header (`column_label`).
SHORT_COLUMNS = {
    "persistent_absence_rate": "Persistent %",
    "severe_absence_rate": "Severe %",
    "suspended_children": "Suspended",
    "suspension_rate": "Suspended %",
    "permanent_exclusions": "Excluded",
    "school_la": "LA number",
    "responsible_la": "LA number",
    "responsible_la_name": "Responsible LA",
    "distance_band": "Distance",
}


def cohort_column_label(column: str) -> str | None:
    """`children_CLA` -> "CLA children", `share_CLA` -> "Share of CLA %" (the Schools page's cohort columns)."""
    for prefix, words in (("children_", "{} children"), ("share_", "Share of {} %")):
        code = column.removeprefix(prefix)
        if column.startswith(prefix) and code.isupper():
            return words.format(code)
    return None


def column_label(column: str) -> str:
    """A column's header as people read it (a column not listed: its name in words, never with underscores)."""
    return COLUMNS.get(column) or cohort_column_label(column) or column.replace("_", " ").capitalize()


def headed(frame: pl.DataFrame) -> pl.DataFrame:
    """The table with people's headers, for an export (a header used twice is numbered: "School (2)")."""
    names: dict[str, str] = {}
    for column in frame.columns:
        label, n = column_label(column), 1
        while (label if n == 1 else f"{label} ({n})") in names.values():
            n += 1
        names[column] = label if n == 1 else f"{label} ({n})"
    return frame.rename(names)


def counted(n: int, one: str, many: str | None = None) -> str:
    """A count with its noun as a person writes it: "1 file", "2 files", "3 matches"."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


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
    return [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ][number - 1]
