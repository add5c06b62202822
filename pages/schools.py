"""Schools: one row per school with its figures against the authority's; a school opened (from the list or a
?school=URN link) with its weekly trend, its figures beside the authority's and, for roles allowed, its
children; summaries by locality, phase and area with each cohort's share. In forum mode (the door's) small
numbers are withheld as c and no child is listed."""

import re

import streamlit as st

from vsdash import charts, schools, ui, views
from vsdash.glossary import cohort_names, column_label

shell = ui.shell("schools")
cfg, access, filters, described = shell.cfg, shell.access, shell.filters, shell.described
st.title("Schools")
forum = ui.forum_switch(access, key="forum_schools")
table = access.schools(filters, forum=forum)
st.caption(f"{described[0].upper()}{described[1:]}. Differences are from the authority's figure for the same children.")
if table.authority["children"][0] in (0, "0"):
    st.info("No children match these filters. Widen the selection in the sidebar.")
    st.stop()

ANY = "All"
phase_box, la_box, area_box, locality_box, sort_box = st.columns(5)
choice = schools.SchoolChoice(
    phase=ui.optional(phase_box.selectbox("Phase", [ANY, *schools.options(table, "phase")], key="school_phase"), ANY),
    school_la_name=ui.optional(
        la_box.selectbox("School's LA", [ANY, *schools.options(table, "school_la_name")], key="school_la_name"), ANY
    ),
    area=ui.optional(area_box.selectbox("In or out of area", [ANY, schools.IN_AREA, schools.OUT_OF_AREA]), ANY),
    school_locality=ui.optional(
        locality_box.selectbox("School's locality", [ANY, *schools.options(table, "school_locality")]), ANY
    ),
)
sort = sort_box.selectbox("Sort by", list(schools.SORTS), format_func=column_label, key="school_sort")
shown = schools.shown_schools(table, choice, sort)
st.dataframe(
    shown,
    hide_index=True,
    column_config=ui.figure_columns(shown, forum=table.forum),
    height=min(36 * (shown.height + 1) + 3, 600),
    key="schools_table",
)
if table.forum:
    st.caption(
        f"c: withheld (1 to {table.threshold - 1} children, or a figure that would give one away); "
        "z: not applicable (no child with data); x: not available."
    )
about = [cfg.authority_name, f"Selection: {described}", "Forum mode" if table.forum else "All figures"]
ui.downloads(access, shown, "schools_forum" if table.forum else "schools", about, key="dl_schools")

st.subheader("Open a school")
names = dict(table.schools.select("school_urn", "school").drop_nulls("school_urn").iter_rows())
# The URL carries the school's URN, so a link opens it (a URN names a school, never a child).
asked = st.query_params.get("school")
wanted = schools.urn_from_text(asked)
named = access.user.child_level and not table.forum  # the school's children: never in forum mode
choices = [None, *(u for u in shown["school_urn"].to_list() if u is not None)]
if wanted is not None and wanted not in choices:
    choices.append(wanted)
urn = st.selectbox(
    "Open a school",
    choices,
    index=choices.index(wanted) if wanted in choices else 0,
    format_func=lambda u: "Choose a school" if u is None else f"{names[u]} ({u})" if names.get(u) else f"URN {u}",
    help="Its weekly trend and its figures beside the authority's" + (", and its children" if named else ""),
    key="open_school",
    label_visibility="collapsed",  # the heading above says it; screen readers still read the label
)
if asked and wanted is None:
    quoted = f"URN {asked}" if re.fullmatch(r"[A-Za-z0-9]{1,12}", asked) else "That URN"
    st.warning(f"{quoted} is not a school's URN (a URN is a number). Choose a school above.")
detail = None
if urn is None:
    st.query_params.pop("school", None)
else:
    st.query_params["school"] = str(urn)
    detail = access.school_detail(urn, filters, forum=forum, children=named)
    if detail is None:
        st.warning(f"No school with URN {urn} is on the schools list. Choose a school above.")
if detail is not None:
    st.header(detail.name)
    st.caption(
        f"URN {detail.urn} · {detail.la_name or 'LA not known'} · {detail.phase or 'phase not recorded'} · "
        f"{detail.area} · locality {detail.locality or 'not recorded'} · children on roll: {detail.children} "
        "(the selected children whose current school this is: their latest mark that is not D)"
    )
if detail is not None and detail.children in (0, "0"):
    st.info("None of the selected children is on roll at this school. Widen the selection in the sidebar.")
elif detail is not None:
    labels = cohort_names(cfg)
    held = f"each cohort held on {filters.as_of:%d/%m/%Y} (a child counts in every cohort they hold)"
    for column, value, title, y_title in zip(
        ui.side_by_side(2, forum=table.forum),
        ("attendance_pct", "persistent_absence_rate"),
        ("Attendance by week", "Persistent absence so far, by week"),
        ("Attendance %", "Persistently absent %"),
        strict=True,
    ):
        with column:
            lines = charts.trend_lines(detail.weekly, value, "cohort", f"{title}: {detail.name}", y_title, labels)
            ui.chart(lines, key=f"school_trend_{value}", forum=table.forum)
            note = views.withheld_points_note(detail.threshold) if detail.withheld_points else ""
            st.caption(
                f"{title} for the children on roll here, {held}, from the summed sessions of each school week." + note
            )
            with st.expander("The figures in this chart"):
                points = views.chart_table(detail.weekly, "cohort", labels)
                settings = ui.figure_columns(points, forum=False)
                st.dataframe(points, hide_index=True, column_config=settings, key=f"school_points_{value}")
    st.subheader("Beside the authority")
    st.caption("The school's figures for each cohort, with the authority's for the same cohort (every selected child).")
    beside = schools.figures_shown(detail, labels)
    config = ui.figure_columns(beside, forum=detail.forum)
    st.dataframe(beside, hide_index=True, column_config=config, key="school_figures")
    name = f"school_{detail.urn}_forum" if detail.forum else f"school_{detail.urn}"
    ui.downloads(access, beside, name, [*about, detail.name], key="dl_school_figures")
if detail is not None and detail.on_roll is not None:
    st.subheader("Children on roll")
    mine = " of yours (your teams, schools and localities)" if access.user.limited else ""
    opens = ui.may_open(access.user, "child")
    st.caption(
        f"The selected children{mine} on roll here, lowest attendance first."
        + (" Select a row to open the child's page." if opens else "")
    )
    if detail.on_roll.is_empty():
        st.info(f"None of the selected children{mine} is on roll at this school.")
    else:
        picked = st.dataframe(
            detail.on_roll,
            hide_index=True,
            key="school_children",
            on_select="rerun" if opens else "ignore",
            selection_mode="single-row",
            column_order=schools.ON_ROLL,
            column_config=ui.table_columns(
                detail.on_roll,
                attendance_pct=st.column_config.NumberColumn(column_label("attendance_pct"), format="%.1f"),
            ),
        )
        ui.downloads(
            access,
            detail.on_roll,
            f"school_{detail.urn}_children",
            [*about, detail.name],
            key="dl_school_children",
            child_rows=True,
        )
        if opens and picked.selection.rows:
            st.session_state["open_child"] = detail.on_roll["la_child_id"][picked.selection.rows[0]]
            st.switch_page("pages/child.py")

st.subheader("Summaries and each cohort's share")
st.caption(
    "Share: the setting's part of all the authority's children, and of each cohort's. A cohort's share well "
    "above everyone's points at a setting to ask about."
)
missing = {"school_locality": "No locality recorded", "phase": "No phase recorded", "area": "No school known"}
for tab, (group, title) in zip(st.tabs(list(schools.SUMMARIES.values())), schools.SUMMARIES.items(), strict=True):
    with tab:
        part = schools.summary(table, group, missing[group])
        st.dataframe(
            part, hide_index=True, column_config=ui.figure_columns(part, forum=table.forum), key=f"summary_{group}"
        )
        ui.downloads(access, part, f"schools_{group}", [*about, title], key=f"dl_summary_{group}")
