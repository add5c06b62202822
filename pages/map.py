"""Map: the schools our children attend, sized by children and coloured by a rate, with arcs to the schools
outside the authority; drawn with no base map, so it works with no internet."""

import streamlit as st

from vsdash import mapping, ui
from vsdash.glossary import column_label

shell = ui.shell("map")
cfg, access, filters, described = shell.cfg, shell.access, shell.filters, shell.described
st.title("Map")
forum = ui.forum_switch(access, key="forum_map")
colour_by = st.selectbox("Colour schools by", mapping.COLOUR_BY, format_func=column_label, key="map_colour")
data = access.school_map(filters, colour_by, forum=forum)
st.caption(f"{described[0].upper()}{described[1:]}. {mapping.legend(data)}")
if data.points.is_empty():
    st.info("No school with a known place matches these filters. Widen the selection in the sidebar.")
    st.stop()
st.pydeck_chart(mapping.deck(data, cfg.map.tile_url), height=640, key="schools_map")
st.caption(
    f"{data.points.height} schools, {data.arcs.height} of them outside the authority. Hover over a school for "
    "its figures; the Schools page has them as a table. To put the map on a slide, open it full screen (the "
    "button at its top right) and use the computer's screenshot tool (on Windows, Windows key + Shift + S): a "
    "browser cannot save a map drawn this way as a picture, as it does a chart."
)
