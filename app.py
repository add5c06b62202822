"""vsdash: the virtual school's attendance and exclusions dashboard (run with `streamlit run app.py`)."""

import logging

import streamlit as st
from streamlit import config as st_config

from vsdash import failures

log = logging.getLogger("vsdash.app")
failures.start_log()


def tracebacks_wanted() -> bool:
    """A developer who starts Streamlit with `--client.showErrorDetails=full` (or stacktrace) sees the real error."""
    return st_config.is_manually_set("client.showErrorDetails") and st.get_option("client.showErrorDetails") in (
        "full", "stacktrace")


def run(page: st.Page) -> None:
    """Run the chosen page; any failure shows one plain sentence and goes to the log, never a traceback.

    st.rerun, st.stop and st.switch_page raise Streamlit's control exceptions, which are BaseException,
    not Exception: they pass through untouched, as they must.
    """
    try:
        page.run()
    except Exception as exc:
        log.exception("the %s page failed", page.title)
        if tracebacks_wanted():
            raise
        st.error(f"This page could not be shown: {failures.explain(exc)}.", icon=":material/error:")


run(st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", url_path="overview", default=True),
    st.Page("pages/triage.py", title="Triage", icon=":material/checklist:", url_path="triage"),
    st.Page("pages/child.py", title="Child", icon=":material/person:", url_path="child"),
    st.Page("pages/about.py", title="About these figures", icon=":material/help:", url_path="about"),
    st.Page("pages/data_loaded.py", title="Data quality", icon=":material/database:", url_path="data"),
    *([st.Page("pages/upload.py", title="Upload feeds", icon=":material/upload:", url_path="upload")] if st.session_state.get("role", "admin") == "admin" else []),
]))
