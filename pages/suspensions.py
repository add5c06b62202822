"""Suspensions and exclusions: the Monday check, rates against England, reasons, repeat and long suspensions,
the 45-day limit, provision from the sixth day, and school moves."""

import streamlit as st

from vsdash import charts, suspensions, ui
from vsdash.glossary import column_label, counted
from vsdash.suspension_views import NOTIFIED_WORDS, PER_100

shell = ui.shell("suspensions")
cfg, access, filters, described = shell.cfg, shell.access, shell.filters, shell.described
st.title("Suspensions and exclusions")
st.caption(described[0].upper() + described[1:])
page = access.suspensions_page(filters)
if page.children == 0:
    st.info("No children match these filters. Widen the selection in the sidebar.")
    st.stop()

window = f"{page.window.start:%d/%m/%Y} to {page.window.as_of:%d/%m/%Y}"
about = [cfg.authority_name, f"Selection: {described}", f"Window: {window}"]
RATE = {"format": "%.2f"}
rate_columns = {
    PER_100: st.column_config.NumberColumn("Suspensions per 100", **RATE, help="Suspensions / children x 100"),
    "one_or_more_rate": st.column_config.NumberColumn(
        "Suspended at least once %", **RATE, help="Children with at least one suspension / children x 100"
    ),
    "permanent_exclusion_rate": st.column_config.NumberColumn(
        "Permanent exclusion %", **RATE, help="Permanent exclusions / children x 100"
    ),
}


def national(key: str) -> str | None:
    """The card's line for England's all-pupil figure, when configured."""
    value = page.national.get(key)
    return None if value is None else f"{page.national_label}: {value:.2f}%"


def shown_rate(value: float | None) -> str:
    """A rate as a card shows it: two decimals (0.13%), a dash with no children."""
    return "–" if value is None else f"{value:.2f}"


t = page.totals
cards = [
    ("Suspensions", f"{t['suspensions']:,}", f"{t['suspension_sessions']:,} sessions lost", None),
    ("Suspensions per 100 children", shown_rate(t[PER_100]), "suspensions / children x 100", None),
    (
        "Suspended at least once %",
        shown_rate(t["one_or_more_rate"]),
        f"{t['children_suspended']:,} of {t['children']:,} children",
        national("one_or_more_rate"),
    ),
    (
        "Permanent exclusion rate %",
        shown_rate(t["permanent_exclusion_rate"]),
        f"{t['permanent_exclusions']:,} permanent exclusions",
        national("permanent_exclusion_rate"),
    ),
]
for column, (label, value, help_text, line) in zip(st.columns(len(cards)), cards, strict=True):
    column.metric(label, value, help=help_text)
    column.caption("  \n".join(p for p in (help_text, line) if p))
if page.national_source:
    st.caption(
        f"National figures: {page.national_source}, all pupils in England for a whole academic year; this "
        f"selection's run from {window}. Lunchtime exclusions are not counted (the school census does not collect them)."
    )

# ---- the Monday check --------------------------------------------------------------------------------------
st.subheader(f"Monday check: suspensions since {page.monday_since:%d/%m/%Y}")
st.caption(
    "Every suspension and permanent exclusion starting in the last "
    f"{cfg.thresholds.recent_suspension_school_days} school days, with the child's social worker and team: has "
    "the social worker been told? Mark each one once they know."
)
monday = page.monday
MONDAY_SHOWN = (
    "child",
    "school",
    "start_date",
    "sessions_text",
    "type",
    "reasons",
    "social_worker",
    "team",
    "notified_text",
    "set_text",
)
# Narrow columns, so the columns an officer works from fit the page without sideways scrolling.
NARROW = {
    c: st.column_config.TextColumn(label, width="small")
    for c, label in [("child", "Child"), ("school", "School"), ("social_worker", "Social worker"), ("team", "Team")]
} | {
    "reasons": st.column_config.TextColumn("Reasons", width="medium"),
    "sessions_text": st.column_config.TextColumn("Sessions", width="small"),
    "type": st.column_config.TextColumn("Type", width="small"),
    "notified_text": st.column_config.TextColumn(
        "Told?", width="small", help="Whether the social worker has been told of the suspension"
    ),
    "set_text": st.column_config.TextColumn("Set by", width="small"),
}
if monday.is_empty():
    st.info("No suspension or exclusion started in these school days for the children you can see.")
else:
    shown = monday.select(*MONDAY_SHOWN, "end_text", "la_child_id")
    st.dataframe(
        shown,
        hide_index=True,
        key="monday",
        column_order=MONDAY_SHOWN,
        column_config=ui.table_columns(shown, **NARROW),
    )
    ui.downloads(access, shown, "suspensions_monday_check", about, key="dl_monday", child_rows=True)
    if access.pseudonymised:
        st.caption("Whether a social worker was told is not recorded in pseudonymised mode.")
    else:
        labels = {
            i: f"{r['child']}: {r['type'].lower()} from {r['start_date']:%d/%m/%Y} at {r['school']} "
            f"({r['notified_text'].lower()})"
            for i, r in enumerate(monday.iter_rows(named=True))
        }
        if saved := st.session_state.pop("notice_saved", None):
            st.success(saved)
        with st.form("notices"):
            chosen = st.multiselect(
                "Suspensions", list(labels), format_func=lambda i: labels[i], placeholder="Choose suspensions"
            )
            status = st.radio(
                "The social worker", [True, False], format_func=lambda v: NOTIFIED_WORDS[v], horizontal=True
            )
            st.caption(f"Set as {access.user.name}.")
            if st.form_submit_button("Save"):
                if not chosen:
                    st.error("Choose the suspensions to mark; nothing was changed.")
                else:
                    for i in chosen:
                        row = monday.row(i, named=True)
                        access.set_suspension_notice(row["upn"], row["urn"], row["start_date"], row["category"], status)
                    st.session_state["notice_saved"] = (
                        f"Marked {NOTIFIED_WORDS[status].lower()}: {counted(len(chosen), 'suspension')}."
                    )
                    st.rerun()

# ---- rates by group ----------------------------------------------------------------------------------------
st.subheader("Rates by cohort, school, locality and team")
st.caption(
    "Each rate is per 100 children of the group (a child counts in every cohort they hold); the first row is "
    "every child of the selection. Compare with England's all-pupil figures above."
)
tabs = st.tabs(["By cohort", "By school", "By locality", "By team"])
for tab, (by, table) in zip(tabs, page.groups.items(), strict=True):
    with tab:
        st.dataframe(table, hide_index=True, key=f"rates_{by}", column_config=ui.table_columns(table, **rate_columns))
        ui.downloads(access, table, f"suspension_rates_{by}", about, key=f"dl_rates_{by}")

# ---- reasons and timeline ----------------------------------------------------------------------------------
reasons = page.reasons.select("reason_words", "events", "children")
if reasons.is_empty():
    st.info("No suspension or exclusion in the window gives a reason.")
else:
    ui.chart(
        charts.count_bars(reasons, "reason_words", "events", "Reasons given", "Suspensions and exclusions"),
        key="reasons_chart",
    )
    st.caption(
        "Reasons given for the suspensions and permanent exclusions in the window: each event gives up to "
        "three, and each reason counts once per event. The table holds every figure of the chart."
    )
    with st.expander("The figures in this chart"):
        st.dataframe(reasons, hide_index=True, key="reasons", column_config=ui.table_columns(reasons))
timeline = page.timeline
if not timeline.is_empty():
    series = {"suspensions": "Suspensions", "permanent_exclusions": "Permanent exclusions"}
    ui.chart(
        charts.weekly_counts(timeline, series, "Suspensions and exclusions by week", "Starting that week"),
        key="timeline_chart",
    )
    st.caption(
        "Suspensions and permanent exclusions by the school week they started in. The table holds every figure "
        "of the chart."
    )
    with st.expander("The figures in this chart"):
        st.dataframe(timeline, hide_index=True, key="timeline", column_config=ui.table_columns(timeline))

# ---- children to look at ------------------------------------------------------------------------------------
st.subheader("Repeat suspensions")
st.caption(f"Children suspended {suspensions.REPEAT_MIN} or more times in the window, with their totals.")
REPEAT_SHOWN = (
    "child",
    "suspensions",
    "suspension_sessions",
    "first_suspension",
    "last_suspension",
    "social_worker",
    "team",
)
ui.children_table(
    access,
    page.repeats.select(*REPEAT_SHOWN, "la_child_id"),
    REPEAT_SHOWN,
    "repeats",
    "repeat_suspensions",
    about,
    "No child was suspended more than once in the window.",
)

st.subheader(f"Nearing the {suspensions.LIMIT_SCHOOL_DAYS}-school-day limit")
st.caption(
    f"A pupil may be suspended for at most {suspensions.LIMIT_SCHOOL_DAYS} school days in an academic year, across "
    f"schools. Children with {cfg.thresholds.suspension_days_warning} or more since {page.year_start:%d/%m/%Y}."
)
NEAR_SHOWN = ("child", "suspension_days", "days_left", "suspensions", "schools_suspending", "social_worker", "team")
ui.children_table(
    access,
    page.nearing_limit.select(*NEAR_SHOWN, "la_child_id"),
    NEAR_SHOWN,
    "nearing",
    "nearing_45_days",
    about,
    f"No child has {cfg.thresholds.suspension_days_warning} or more school days of suspension this year.",
    **{c: st.column_config.NumberColumn(format="%.1f") for c in ("suspension_days", "days_left")},
)

st.subheader("No alternative provision from the sixth day")
st.caption(
    f"Suspensions of more than five school days with a session coded {suspensions.NO_PROVISION} (suspended, no "
    f"alternative provision) on day {suspensions.PROVISION_DAY} or later: provision is due from the sixth day."
)
LONG_SHOWN = (
    "child",
    "school",
    "start_date",
    "sessions",
    "sixth_day",
    "e_sessions",
    "reasons",
    "social_worker",
    "team",
)
ui.children_table(
    access,
    page.without_provision.select(*LONG_SHOWN, "la_child_id"),
    LONG_SHOWN,
    "no_provision",
    "no_provision_from_day_6",
    about,
    "No suspension of more than five days in the window shows a day without provision from the sixth day.",
)

# ---- school moves --------------------------------------------------------------------------------------------
st.subheader("School moves")
st.caption(
    "Moves read from the attendance marks: the child's marks move from one school to another and the old school "
    "stops sending them (dual registration, D, is not a move). A move soon after a suspension may be a managed "
    "move or off-rolling."
)
MOVES_SHOWN = (
    "move_date",
    "child",
    "from_school",
    "from_la",
    "to_school",
    "to_la",
    "to_out_of_area",
    "move_back",
    "suspended_before",
    "suspended_on",
    "social_worker",
)
moves = page.moves
if moves.is_empty():
    st.info("No school move in the window for the children you can see.")
else:
    after = int(moves["suspended_before"].sum())
    st.markdown(
        f"**{counted(moves.height, 'move')}** in the window, {counted(after, 'move')} within four weeks of a suspension."
    )
    small = {
        c: st.column_config.TextColumn(column_label(c), width="small")
        for c in ("child", "from_la", "to_la", "suspended_on", "social_worker")
    }
    st.dataframe(
        moves, hide_index=True, key="moves", column_order=MOVES_SHOWN, column_config=ui.table_columns(moves, **small)
    )
    ui.downloads(access, moves, "school_moves", about, key="dl_moves", child_rows=True)
    st.markdown("**Moves by school**")
    by_school = page.moves_by_school
    st.dataframe(by_school, hide_index=True, key="moves_by_school", column_config=ui.table_columns(by_school))
    ui.downloads(access, by_school, "school_moves_by_school", about, key="dl_moves_by_school")
st.caption("A child the list holds no UPN for cannot be matched to their suspensions or marks.")
