"""Upload feed files: see what each would load, reject and replace, then confirm to load it (admin only)."""

import polars as pl
import streamlit as st

from vsdash import quality, ui
from vsdash.access import AccessDenied
from vsdash.feeds import KIND_WORDS
from vsdash.glossary import counted
from vsdash.inbox import upload_names

shell = ui.shell("upload")
access = shell.access
st.title("Upload feeds")
try:
    access.require_admin("load data")
except AccessDenied as exc:
    st.error(f"Only the data's administrator may load files: {exc}.")
    st.stop()

if done := st.session_state.pop("upload_results", None):
    failed = [line for line, status in done if status == "failed"]
    if failed:
        st.warning(
            f"{len(failed)} of {counted(len(done), 'file')} could not be loaded; the reasons are below. "
            "The others loaded, and every page now shows their data."
        )
    else:
        st.success("Loaded. Every page now shows the new data.")
    st.code("\n".join(line for line, _ in done), language=None)

round_ = st.session_state.get("upload_round", 0)
uploads = st.file_uploader(
    "Feed files: attendance, children, suspensions or schools (CSV, CSV.GZ or XLSX)",
    type=["csv", "gz", "xlsx"],
    accept_multiple_files=True,
    key=f"upload_files_{round_}",
)
if not uploads:
    st.info("Choose one or more files. Each is checked first: nothing is loaded until you confirm.")
    st.stop()

# Each upload is its own entry, under a name that is safe for a file and distinct from the others'.
files = {name: uploads[i] for name, i in upload_names([u.name for u in uploads]).items()}  # in load order
bar = st.progress(0.0, text="Checking the files")
previews = []
for n, name in enumerate(files, start=1):
    bar.progress((n - 1) / len(files), text=f"Checking {name} ({n}/{len(files)})")
    previews.append(access.preview_upload(name, files[name].getvalue()))
bar.empty()

for preview in previews:
    with st.container(border=True):
        st.subheader(preview.file)
        if (sent := files[preview.file].name) != preview.file:
            st.caption(
                f"Uploaded as “{sent}”: renamed because another file had the same name or the name "
                "held characters a file name cannot have."
            )
        if preview.error:
            st.error(f"This file cannot be loaded: {preview.error}")
            continue
        if preview.already_loaded:
            st.info("This exact file was loaded before: loading it again would change nothing, so it is left out.")
            continue
        st.caption(f"Recognised as {KIND_WORDS.get(preview.kind or '', 'a feed file')}.")
        cols = st.columns(4)
        cols[0].metric("Rows read", f"{preview.rows_read:,}")
        cols[1].metric("Rows to load", f"{preview.rows_to_load:,}")
        cols[2].metric("Rows rejected", f"{preview.rows_rejected:,}")
        cols[3].metric(
            "Stored rows replaced",
            f"{preview.rows_to_replace:,}",
            help="Rows already stored for the same key (a later file replaces them).",
        )
        if preview.rejects.height:
            st.markdown("Rows that will be rejected, and why:")
            st.dataframe(
                preview.rejects.with_columns(quality.problem_kind(pl.col("reason")).alias("problem")).select(
                    "line", "column", "problem", "reason", "outcome", "raw"
                ),
                hide_index=True,
                key=f"rejects_{preview.file}",
                column_config={
                    "line": st.column_config.NumberColumn("Line", format="%d"),
                    "column": "Column",
                    "problem": "Problem",
                    "reason": "Reason",
                    "outcome": "Outcome",
                    "raw": "The row as sent",
                },
            )

loadable = [p.file for p in previews if not p.error and not p.already_loaded]
label = f"Confirm and load {counted(len(loadable), 'file')}" if loadable else "Nothing new to load"
if st.button(label, type="primary", key="confirm_upload", disabled=not loadable):
    bar = st.progress(0.0, text="Loading")
    results = []
    for n, name in enumerate(loadable, start=1):
        bar.progress((n - 1) / len(loadable), text=f"Loading {name} ({n}/{len(loadable)})")
        result = access.load_upload(name, files[name].getvalue())
        results.append((result.summary(), result.status))
    bar.progress(1.0, text="Done")
    st.session_state["upload_results"] = results
    st.session_state["upload_round"] = round_ + 1  # a fresh, empty uploader
    st.rerun()
