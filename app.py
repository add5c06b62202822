"""vsdash: the virtual school's attendance and exclusions dashboard (run with `streamlit run app.py`)."""

import streamlit as st

st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", url_path="overview", default=True),
    st.Page("pages/triage.py", title="Triage", icon=":material/checklist:", url_path="triage"),
    st.Page("pages/child.py", title="Child", icon=":material/person:", url_path="child"),
    st.Page("pages/about.py", title="About these figures", icon=":material/help:", url_path="about"),
    st.Page("pages/data_loaded.py", title="Data quality", icon=":material/database:", url_path="data"),
    *([st.Page("pages/upload.py", title="Upload feeds", icon=":material/upload:", url_path="upload")] if st.session_state.get("role", "admin") == "admin" else []),
]).run()
