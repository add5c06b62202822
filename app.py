"""vsdash: the virtual school's attendance and exclusions dashboard (run with `streamlit run app.py`)."""

import streamlit as st

from vsdash import ui

st.set_page_config(page_title="vsdash", page_icon=":bar_chart:", layout="wide")
cfg = ui.config()
st.sidebar.markdown(f"**{cfg.authority_name}**")

pages = [
    st.Page("pages/data_loaded.py", title="Data loaded", icon=":material/database:", default=True),
]
st.navigation(pages).run()
