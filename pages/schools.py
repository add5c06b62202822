"""Schools: one row per school with its figures against the authority's, and summaries by locality, phase and
area with each cohort's share; in forum mode (the door's) small numbers are withheld as c."""

import streamlit as st

from vsdash import schools, ui
from vsdash.glossary import column_label

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
