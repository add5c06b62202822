"""Overview for the head of service: headline cards against last month, last year and England, weekly
trends, breakdowns and what moved; legible on a projector."""

import polars as pl
import streamlit as st

from vsdash import charts, glossary, ui, views
from vsdash.glossary import DFE_GROUP_LABELS, DFE_GROUPS_EXPLAINED, column_label, terms

shell = ui.shell("overview")
cfg, access, filters, described = shell.cfg, shell.access, shell.filters, shell.described
st.title("Overview")
st.caption(described[0].upper() + described[1:])
forum = ui.forum_switch(access, key="forum_overview")
result = access.overview(filters, forum=forum)
if result.children == 0:
    st.info("No children match these filters. Widen the selection in the sidebar.")
    st.stop()

ui.cards(result.cards, cfg, result.last_month, result.last_year)
if result.forum:
    st.caption(
        f"c: withheld (1 to {result.threshold - 1} children, or a figure that would give one away); "
        "z: not applicable (no child with data); x: not available."
    )
if result.national_source:
    pupils = f" All pupils: {result.all_pupils_source}." if result.all_pupils_source else ""
    st.caption(
        f"National figures: {result.national_source}.{pupils} The DfE's figures cover a whole academic year; "
        f"this year's run from {result.window.start:%d/%m/%Y} to {result.window.as_of:%d/%m/%Y}. "
        + DFE_GROUPS_EXPLAINED
    )
ui.meeting_pack(access, filters, forum)
words = terms(cfg)
about = [
    f"{cfg.authority_name}",
    f"Selection: {described}",
    f"Window: {result.window.start:%d/%m/%Y} to {result.window.as_of:%d/%m/%Y}",
]
RATES = (
    "attendance_pct",
    "persistent_absence_rate",
    "severe_absence_rate",
    "national_attendance_pct",
    "national_persistent_absence_rate",
    "national_severe_absence_rate",
    "suspension_rate",
)
# Rates to one decimal; no fixed width, so each column is as wide as its header.
PCT = {key: st.column_config.NumberColumn(column_label(key), format="%.1f") for key in RATES}


def figures_table(frame: pl.DataFrame, key: str) -> None:
    """A chart's text alternative: the same figures as a table under an expander."""
    with st.expander("The figures in this chart"):
        st.dataframe(frame, hide_index=True, column_config=ui.table_columns(frame, **PCT), key=key)


if not result.compared.is_empty():
    st.subheader(f"Compared with England ({result.national_year}), like for like")
    compared = views.compared_table(result.compared)
    england = {
        f"national_{key}": st.column_config.NumberColumn("England", format="%.1f", help=f"England, {column_label(key)}")
        for key in views.GROUP_FIGURES
    }
    settings = ui.text_when_forum(ui.table_columns(compared, **(PCT | england)), result.forum)
    st.dataframe(compared, hide_index=True, column_config=settings, key="compared")

cohort_names = glossary.cohort_names(cfg)
trend_attendance, trend_pa = ui.side_by_side(2, forum=result.forum)
for column, value, title, y_title in [
    (trend_attendance, "attendance_pct", "Attendance by week", "Attendance %"),
    (trend_pa, "persistent_absence_rate", "Persistent absence so far, by week", "Persistently absent %"),
]:
    with column:
        ui.chart(
            charts.trend_lines(result.weekly, value, "cohort", title, y_title, cohort_names),
            key=f"trend_{value}",
            forum=result.forum,
        )
        st.caption(
            f"{title} for each cohort held on {result.window.as_of:%d/%m/%Y} (a child counts in every cohort "
            "they hold), from the summed sessions of each school week." + result.withheld_note("weekly")
        )
        figures_table(views.chart_table(result.weekly, "cohort", cohort_names), f"trend_table_{value}")

if not result.weekly_groups.is_empty():
    st.subheader("Against England: the DfE's groups by week")
    group_attendance, group_pa = ui.side_by_side(2, forum=result.forum)
    for column, value, title, y_title in [
        (group_attendance, "attendance_pct", "Attendance by week, DfE groups", "Attendance %"),
        (group_pa, "persistent_absence_rate", "Persistent absence so far, DfE groups", "Persistently absent %"),
    ]:
        with column:
            lines = charts.national_lines(result.national, value, DFE_GROUP_LABELS)
            ui.chart(
                charts.trend_lines(result.weekly_groups, value, "dfe_group", title, y_title, DFE_GROUP_LABELS, lines),
                key=f"groups_{value}",
                forum=result.forum,
            )
            st.caption(
                f"{title}: solid lines are this selection's children in each DfE group; dashed lines are the "
                f"national figure for the same group ({result.national_year}), the year's whole figure."
                + result.withheld_note("weekly_groups")
            )
            figures_table(views.chart_table(result.weekly_groups, "dfe_group", DFE_GROUP_LABELS), f"groups_{value}_t")

breakdown_config = {
    "children": st.column_config.NumberColumn("Children", help=words.children.help),
    "children_with_data": st.column_config.NumberColumn("With data", help=words.children_with_data.help),
    # Numbers, not bars: every column of the table then fits the width of a projector.
    # Short headers (the help says each in full), so nine columns fit a 1280 px projector.
    **{
        key: st.column_config.NumberColumn(short, format="%.1f", help=words.of(key).help)
        for key, short in [
            ("attendance_pct", "Attendance %"),
            ("persistent_absence_rate", "Persistent %"),
            ("severe_absence_rate", "Severe %"),
        ]
    },
    "suspension_rate": st.column_config.NumberColumn("Suspended %", format="%.1f", help=words.suspension_rate.help),
    "suspension_sessions": st.column_config.NumberColumn("Sessions lost", help=words.suspension_sessions.help),
    "permanent_exclusions": st.column_config.NumberColumn("Excluded", help=words.permanent_exclusions.help),
}

for part in result.breakdowns:
    st.subheader(part.title)
    column = part.column
    shown = part.table.with_columns(pl.col(column).fill_null(part.missing)).select(column, *views.BREAKDOWN_FIGURES)
    ui.chart(
        charts.breakdown_bars(
            part.bars(),
            column,
            "persistent_absence_rate",
            "children_with_data",
            f"Persistent absence {part.title[0].lower()}{part.title[1:]}",
            "Persistently absent %",
        ),
        key=f"bars_{column}",
        forum=result.forum,
    )
    st.caption(
        f"Persistent absence {part.title[0].lower()}{part.title[1:]}: the share of children with data who missed "
        f"{cfg.thresholds.persistent_absence_pct}% or more of their possible sessions; n is the children with "
        "data behind each bar. The table below holds every figure of the chart."
        + (
            f" Left out of the chart (withheld, forum mode): {', '.join(part.withheld_bars)}."
            if part.withheld_bars
            else ""
        )
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config=ui.text_when_forum(ui.table_columns(shown, **breakdown_config), result.forum),
        height=ui.every_row(shown),
        key=f"table_{column}",
    )
    ui.downloads(access, shown, f"overview_{column}", about, key=f"dl_{column}")

st.subheader(f"What moved since {result.last_month:%d/%m/%Y}")
st.caption(
    "Largest changes in attendance since the same date last month, among teams and schools of at least "
    f"{cfg.thresholds.what_moved_min_children} children; n is the number of children behind each figure."
)
moved_config = {
    "children": st.column_config.NumberColumn("n"),
    "attendance_pct": st.column_config.NumberColumn("Attendance %", format="%.1f"),
    "attendance_change": st.column_config.NumberColumn("Change (pts)", format="%+.1f"),
    "persistent_absence_rate": st.column_config.NumberColumn("Persistent absence %", format="%.1f"),
    "persistent_absence_change": st.column_config.NumberColumn("PA change (pts)", format="%+.1f"),
}
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
teams_tab, schools_tab = st.tabs(["Teams", "Schools"])
with teams_tab:
    st.dataframe(
        moved_teams,
        hide_index=True,
        column_config=ui.text_when_forum(ui.table_columns(moved_teams, **moved_config), result.forum),
        key="moved_teams",
    )
    ui.downloads(access, moved_teams, "moved_teams", about, key="dl_moved_teams")
with schools_tab:
    st.dataframe(
        moved_schools,
        hide_index=True,
        column_config=ui.text_when_forum(ui.table_columns(moved_schools, **moved_config), result.forum),
        key="moved_schools",
    )
    ui.downloads(access, moved_schools, "moved_schools", about, key="dl_moved_schools")
