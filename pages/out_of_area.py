"""Out of area: our children educated in other authorities (by LA, distance and cohort) against those in our
schools, the schools elsewhere that send no data, and other authorities' children in our schools; in forum
mode (the door's) small numbers are withheld as c."""

import streamlit as st

from vsdash import charts, out_of_area, ui

shell = ui.shell("out_of_area")
cfg, access, filters, described = shell.cfg, shell.access, shell.filters, shell.described
st.title("Out of area")
forum = ui.forum_switch(access, key="forum_out_of_area")
view = access.out_of_area(filters, forum=forum)
st.caption(
    f"{described[0].upper()}{described[1:]}. Out of area: the child's school is in another LA than the one "
    "responsible for them (their current school: the latest mark that is not D)."
)
if view.forum:
    st.caption(
        f"c: withheld (1 to {view.threshold - 1} children, or a figure that would give one away); "
        "z: not applicable (no child with data); x: not available."
    )
about = [cfg.authority_name, f"Selection: {described}", "Forum mode" if view.forum else "All figures"]


# The sections drawn as bars too: the door's table, the bars' labels, the figure, the children behind each rate
# (None: the figure is itself a count of children) and the chart's title.
CHARTS = {
    "in_out": (
        "compared",
        "area",
        "persistent_absence_rate",
        "children_with_data",
        "Persistent absence, in and out of area",
    ),
    "by_la": ("by_la", "school_la_name", "children", None, "Our children elsewhere, by the school's LA"),
    "by_distance": ("by_distance", "distance_band", "children", None, "Our children elsewhere, by distance"),
}


def bars_chart(key: str) -> None:
    """A section's bars from the door's figures (in forum mode only those shown), with a caption saying what n
    is and which bars are left out."""
    table, label, value, n, title = CHARTS[key]
    bars, left_out = view.bars(table, label, value)
    if n is None:
        fig = charts.count_bars(bars, label, value, title, "Children", in_order=key == "by_distance")
        said = "each bar is a number of children"
    else:
        fig = charts.breakdown_bars(bars, label, value, n, title, "Persistently absent %")
        said = "n is the children with data behind each bar"
    if not bars.is_empty():
        ui.chart(fig, key=f"chart_{key}", forum=view.forum)
    withheld = f" Left out of the chart (withheld, forum mode): {', '.join(left_out)}." if left_out else ""
    st.caption(f"{title}: {said}. The table below holds every figure of the chart.{withheld}")


SECTIONS = [
    ("Our children in and out of area", view.compared, ["area"], "in_out"),
    ("Our children elsewhere, by the school's LA", view.by_la, ["school_la_name", "school_la"], "by_la"),
    ("By distance from the authority's centre", view.by_distance, ["distance_band"], "by_distance"),
    ("By cohort, in and out of area", view.by_cohort, ["cohort", "area"], "by_cohort"),
    (
        "Other authorities' children in our schools",
        view.placed_here,
        ["responsible_la_name", "responsible_la"],
        "placed",
    ),
]
for title, frame, keys, key in SECTIONS:
    st.subheader(title)
    shown = out_of_area.columns(frame, keys)
    if shown.is_empty():
        st.info("None in this selection.")
        continue
    if key in CHARTS:
        bars_chart(key)
    settings = ui.compact_figure_columns(shown, forum=view.forum)
    st.dataframe(shown, hide_index=True, column_config=settings, height=ui.every_row(shown), key=f"ooa_{key}")
    ui.downloads(access, shown, f"out_of_area_{key}", [*about, title], key=f"dl_ooa_{key}")
st.subheader("Schools elsewhere that send no data")
st.caption(
    "Schools in other authorities our children attend that have never sent a mark, or have been silent for "
    f"{cfg.thresholds.silent_school_days} school days or more (Data quality has every school)."
)
if view.silent_schools.is_empty():
    st.info("Every school elsewhere our selected children attend is sending data.")
else:
    silent = view.silent_schools
    settings = ui.compact_figure_columns(silent, forum=view.forum)
    st.dataframe(silent, hide_index=True, column_config=settings, key="ooa_silent")
    ui.downloads(access, silent, "out_of_area_silent", [*about, "Schools that send no data"], key="dl_ooa_silent")
