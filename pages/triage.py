"""Triage for the attendance officer: who needs a call today, and why."""

from datetime import date

import polars as pl
import streamlit as st

from vsdash import ui
from vsdash.glossary import terms

shell = ui.shell("triage")
cfg, access, filters, options, described = shell.cfg, shell.access, shell.filters, shell.options, shell.described
words = terms(cfg)
st.title("Triage")
st.caption(f"Children with at least one signal, most urgent first: {described}.")

mine_team, mine_school = st.columns(2)
teams = mine_team.multiselect("My teams", options.teams, key="my_teams", persist_state="session")
schools = mine_school.multiselect(
    "My schools",
    list(options.schools),
    key="my_schools",
    persist_state="session",
    format_func=lambda urn: options.schools.get(urn, str(urn)),
)
worklist = access.triage_list(filters, today=date.today(), teams=teams, schools=schools)
if worklist.is_empty():
    st.info("No children match these filters, or none has a signal. Widen the selection in the sidebar.")
    st.stop()

shown = worklist.select(
    "priority",
    "child",
    "la_child_id",
    pl.col("reasons_text").alias("why"),
    "attendance_pct",
    "school",
    "social_worker",
    "team",
    "days_since_last_mark",
    "last_action",
    "last_action_on",
    "follow_up",
    "follow_up_due",
)
first, *rest = st.columns(5)
first.metric("Children on the list", f"{worklist.height:,}")
for column, signal in zip(rest, ("severe_absence", "consecutive_unauthorised", "not_seen", "drift"), strict=True):
    column.metric(words.of(signal).label, f"{worklist[signal].sum():,}", help=words.of(signal).help)

st.caption("Select a row to open the child's page.")
event = st.dataframe(
    shown,
    hide_index=True,
    key="worklist",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "priority": st.column_config.TextColumn("Priority", help="The most urgent signal the child has"),
        "child": "Child",
        "la_child_id": "LA child ID",
        "why": st.column_config.TextColumn("Why", width="large"),
        "attendance_pct": ui.pct_column(words.attendance_pct.label, words.attendance_pct.help),
        "school": "School",
        "social_worker": "Social worker",
        "team": "Team",
        "days_since_last_mark": st.column_config.NumberColumn("School days since last mark", help=words.not_seen.help),
        "last_action": "Last action",
        "last_action_on": st.column_config.DateColumn("Recorded on", format="DD/MM/YYYY"),
        "follow_up": st.column_config.DateColumn("Follow up", format="DD/MM/YYYY"),
        "follow_up_due": st.column_config.CheckboxColumn("Follow-up due", help="The follow-up date has come"),
    },
)
ui.downloads(
    access,
    shown,
    "triage",
    [cfg.authority_name, f"Triage list: {described}", f"Printed {date.today():%d %b %Y}"],
    key="dl_triage",
    child_rows=True,
)
if event.selection.rows:
    st.session_state["open_child"] = shown["la_child_id"][event.selection.rows[0]]
    st.switch_page("pages/child.py")

st.subheader("Record an action")
ui.action_form(
    access, dict(zip(worklist["la_child_id"].to_list(), worklist["child"].to_list(), strict=True)), key="triage_action"
)
