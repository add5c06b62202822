"""Triage for the attendance officer: who needs a call today, and why."""

from datetime import date

import polars as pl
import streamlit as st

from vsdash import ui
from vsdash.glossary import counted, terms

shell = ui.shell("triage")
cfg, access, filters, options, described = shell.cfg, shell.access, shell.filters, shell.options, shell.described
words = terms(cfg)
st.title("Triage")
st.caption(f"Children with a signal or a follow-up due, most urgent first: {described}.")

mine_team, mine_school = st.columns(2)
teams = mine_team.multiselect("My teams", options.teams, key="my_teams", persist_state="session")
schools = mine_school.multiselect(
    "My schools",
    list(options.schools),
    key="my_schools",
    persist_state="session",
    format_func=lambda urn: options.schools.get(urn, str(urn)),
)
worklist = access.triage_list(filters, teams=teams, schools=schools)
unmatched = access.no_attendance_count(filters)
if unmatched:
    where = "on the Data quality page" if ui.may_open(access.user, "data") else "by the data manager"
    st.info(
        f"{counted(unmatched, 'child', 'children')} in this selection "
        f"{'has' if unmatched == 1 else 'have'} no attendance received at all: a matching question worked {where}, "
        "not a call, so they are not on this list.",
        icon=":material/link_off:",
    )
    if ui.may_open(access.user, "data"):
        st.page_link("pages/data.py", label="Open the exceptions report on Data quality", icon=":material/database:")
if worklist.is_empty():
    st.info("No children match these filters, or none has a signal. Widen the selection in the sidebar.")
    st.stop()

due = worklist.filter(pl.col("follow_up_due"))
view = st.segmented_control(
    "Show",
    ["all", "due"],
    default="all",
    key="triage_view",
    format_func=lambda v: (
        f"Everyone on the list ({worklist.height:,})" if v == "all" else f"Follow-ups due ({due.height:,})"
    ),
)
chosen = due if view == "due" else worklist

first, *rest = st.columns(5)
first.metric("Children on the list", f"{worklist.height:,}")
for column, signal in zip(rest, ("severe_absence", "consecutive_unauthorised", "not_seen", "drift"), strict=True):
    column.metric(words.of(signal).label, f"{worklist[signal].sum():,}", help=words.of(signal).help)

# The columns an officer works from; the export adds the LA child ID and team.
SHOWN = ("priority", "child", "why", "attendance_pct", "school", "social_worker", "last_action", "follow_up")
table = chosen.select(
    "priority",
    "child",
    pl.col("reasons_text").alias("why"),
    "attendance_pct",
    "school",
    "social_worker",
    pl.col("last_action_text").alias("last_action"),
    pl.col("follow_up_text").alias("follow_up"),
    "la_child_id",
    "team",
)
st.caption(
    "The priority is the child's most urgent signal. Within a priority, children with more signals come first, "
    "then those with lower attendance. Select a row to open the child's page."
)
if table.is_empty():
    st.info("No follow-up is due by the as-at date.")
event = st.dataframe(
    table,
    hide_index=True,
    key="worklist",
    on_select="rerun",
    selection_mode="single-row",
    column_order=SHOWN,
    # Widths in pixels so the eight columns fit a 1440 px screen with the sidebar open (no sideways scrolling).
    column_config=ui.table_columns(
        table,
        priority=st.column_config.TextColumn("Priority", help="The most urgent signal the child has", width=135),
        child=st.column_config.TextColumn("Child", width=110),
        why=st.column_config.TextColumn("Why", width=200),
        attendance_pct=ui.pct_column(words.attendance_pct.label, words.attendance_pct.help, width=90),
        school=st.column_config.TextColumn("School", width=115),
        social_worker=st.column_config.TextColumn("Social worker", width=110),
        last_action=st.column_config.TextColumn("Last action", width=100),
        follow_up=st.column_config.TextColumn(
            "Follow up", help="Due from its date (the as-at date decides) until marked done", width=95
        ),
    ),
)
ui.downloads(
    access,
    table,
    "triage" if view == "all" else "follow_ups_due",
    [cfg.authority_name, f"Triage list: {described}", f"Printed {date.today():%d/%m/%Y}"],
    key="dl_triage",
    child_rows=True,
)
if event.selection.rows:
    st.session_state["open_child"] = table["la_child_id"][event.selection.rows[0]]
    st.switch_page("pages/child.py")

ui.follow_up_form(access, due, key="triage_done")
st.subheader("Record an action")
ui.action_form(
    access, dict(zip(worklist["la_child_id"].to_list(), worklist["child"].to_list(), strict=True)), key="triage_action"
)
