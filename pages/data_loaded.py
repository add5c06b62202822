"""What is in the store: table counts, the load log and the rejected rows."""

import streamlit as st

from vsdash import ui

access = ui.shell().access
st.title("Data loaded")
counts = access.table_counts()
cols = st.columns(4)
for col, (label, table) in zip(cols, [("Children", "children"), ("Cohort episodes", "cohort_episodes"),
                                       ("Attendance rows", "attendance"), ("Schools", "schools")]):
    col.metric(label, f"{counts.get(table, 0):,}")

st.subheader("Load log")
log = access.load_log()
if log.is_empty():
    st.info("No files have been loaded yet. Load feeds with `python -m vsdash ingest FILE...`.")
else:
    st.dataframe(log.drop("sha256"), hide_index=True, key="load_log")

st.subheader("Rejected rows")
rejected = access.rejected_rows()
if rejected.is_empty():
    st.success("No rows have been rejected.")
else:
    st.dataframe(rejected, hide_index=True, key="rejected_rows")
