"""Overview for the head of service: headline cards, weekly trends, breakdowns and what moved."""

import polars as pl
import streamlit as st

from vsdash import charts, ui
from vsdash.glossary import terms

shell = ui.shell("overview")
cfg, access, filters, described = shell.cfg, shell.access, shell.filters, shell.described
st.title("Overview")
st.caption(described[0].upper() + described[1:])
result = access.overview(filters)
if result.children == 0:
    st.info("No children match these filters. Widen the selection in the sidebar.")
    st.stop()

ui.cards(result.cards, cfg, result.last_month, result.national_year)
if result.national_source:
    st.caption(f"National figures: {result.national_source}, {result.national_year}.")
words = terms(cfg)
about = [
    f"{cfg.authority_name}",
    f"Selection: {described}",
    f"Window: {result.window.start:%d %b %Y} to {result.window.as_of:%d %b %Y}",
]

left, right = st.columns(2)
left.plotly_chart(
    charts.trend_lines(result.weekly, "attendance_pct", "cohort", "Attendance by week", "Attendance %"),
    key="trend_attendance",
)
right.plotly_chart(
    charts.trend_lines(
        result.weekly,
        "persistent_absence_rate",
        "cohort",
        "Persistent absence so far, by week",
        "Children persistently absent %",
    ),
    key="trend_pa",
)

BREAKDOWN_COLUMNS = [
    "children",
    "children_with_data",
    "attendance_pct",
    "persistent_absence_rate",
    "severe_absence_rate",
    "suspension_rate",
    "suspension_sessions",
    "permanent_exclusions",
]
column_config = {
    "children": st.column_config.NumberColumn(words.children.label, help=words.children.help),
    "children_with_data": st.column_config.NumberColumn(
        words.children_with_data.label, help=words.children_with_data.help
    ),
    **{
        key: ui.pct_column(words.of(key).label, words.of(key).help)
        for key in ("attendance_pct", "persistent_absence_rate", "severe_absence_rate")
    },
    "suspension_rate": st.column_config.NumberColumn(
        words.suspension_rate.label, format="%.1f", help=words.suspension_rate.help
    ),
    "suspension_sessions": st.column_config.NumberColumn(
        words.suspension_sessions.label, help=words.suspension_sessions.help
    ),
    "permanent_exclusions": st.column_config.NumberColumn(
        words.permanent_exclusions.label, help=words.permanent_exclusions.help
    ),
}

for title, table, column, missing in [
    ("By locality", result.by_locality, "locality", "No locality recorded"),
    ("By social-care team", result.by_team, "team", "No team allocated"),
]:
    st.subheader(title)
    shown = table.with_columns(pl.col(column).fill_null(missing)).select(column, *BREAKDOWN_COLUMNS)
    chart_col, table_col = st.columns([2, 3])
    chart_col.plotly_chart(
        charts.breakdown_bars(
            shown,
            column,
            "persistent_absence_rate",
            "children_with_data",
            f"Persistent absence {title.lower()}",
            "Persistent absence %",
        ),
        key=f"bars_{column}",
    )
    with table_col:
        st.dataframe(
            shown,
            hide_index=True,
            column_config={column: column.replace("_", " ").capitalize(), **column_config},
            key=f"table_{column}",
        )
        ui.downloads(access, shown, f"overview_{column}", about, key=f"dl_{column}")

st.subheader(f"What moved since {result.last_month:%d %b %Y}")
st.caption(
    "Largest changes in attendance since the same date last month, among teams and schools of at least "
    f"{cfg.thresholds.what_moved_min_children} children; n is the number of children behind each figure."
)
moved_config = {
    "children": st.column_config.NumberColumn("n"),
    "attendance_pct": st.column_config.NumberColumn("Attendance %", format="%.1f"),
    "attendance_change": st.column_config.NumberColumn("Change (pts)", format="%+.1f"),
    "persistent_absence_rate": st.column_config.NumberColumn("Persistent absence %", format="%.1f"),
    "persistent_absence_change": st.column_config.NumberColumn("Change (pts)", format="%+.1f"),
}
teams_col, schools_col = st.columns(2)
moved_teams = result.moved_teams.select(
    "team", "children", "attendance_pct", "attendance_change", "persistent_absence_rate", "persistent_absence_change"
)
moved_schools = result.moved_schools.select(
    "school",
    "school_la_name",
    "children",
    "attendance_pct",
    "attendance_change",
    "persistent_absence_rate",
    "persistent_absence_change",
)
with teams_col:
    st.markdown("**Teams**")
    st.dataframe(moved_teams, hide_index=True, column_config=moved_config, key="moved_teams")
    ui.downloads(access, moved_teams, "moved_teams", about, key="dl_moved_teams")
with schools_col:
    st.markdown("**Schools**")
    st.dataframe(
        moved_schools, hide_index=True, column_config={**moved_config, "school_la_name": "LA"}, key="moved_schools"
    )
    ui.downloads(access, moved_schools, "moved_schools", about, key="dl_moved_schools")
