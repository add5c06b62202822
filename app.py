"""vsdash: the virtual school's attendance and exclusions dashboard (run with `streamlit run app.py`)."""

import logging
from collections.abc import Callable

import streamlit as st
from streamlit import config as st_config

from vsdash import failures, ui
from vsdash.glossary import PAGE_TITLES as TITLE

log = logging.getLogger("vsdash.app")
failures.start_log()


def tracebacks_wanted() -> bool:
    """A developer who starts Streamlit with `--client.showErrorDetails=full` (or stacktrace) sees the real error."""
    return st_config.is_manually_set("client.showErrorDetails") and st.get_option("client.showErrorDetails") in (
        "full",
        "stacktrace",
    )


def guarded(what: str, step: Callable[[], None]) -> None:
    """Run one step of drawing; any failure shows one plain sentence and goes to the log, never a traceback.

    st.rerun, st.stop and st.switch_page raise Streamlit's control exceptions, which are BaseException,
    not Exception: they pass through untouched, as they must.
    """
    try:
        step()
    except Exception as exc:
        log.exception("the %s page failed", what)
        if tracebacks_wanted():
            raise
        st.error(f"This page could not be shown: {failures.explain(exc)}.", icon=":material/error:")
        st.stop()


# Every page the app has, by the name the configuration's access.roles gives it; a role sees only its own.
PAGES = {
    "overview": st.Page(
        "pages/overview.py", title=TITLE["overview"], icon=":material/monitoring:", url_path="overview", default=True
    ),
    "triage": st.Page("pages/triage.py", title=TITLE["triage"], icon=":material/checklist:", url_path="triage"),
    "child": st.Page("pages/child.py", title=TITLE["child"], icon=":material/person:", url_path="child"),
    "suspensions": st.Page(
        "pages/suspensions.py", title=TITLE["suspensions"], icon=":material/event_busy:", url_path="suspensions"
    ),
    "schools": st.Page("pages/schools.py", title=TITLE["schools"], icon=":material/school:", url_path="schools"),
    "map": st.Page("pages/map.py", title=TITLE["map"], icon=":material/map:", url_path="map"),
    "out_of_area": st.Page(
        "pages/out_of_area.py", title=TITLE["out_of_area"], icon=":material/explore:", url_path="out-of-area"
    ),
    "about": st.Page("pages/about.py", title=TITLE["about"], icon=":material/help:", url_path="about"),
    "data": st.Page("pages/data.py", title=TITLE["data"], icon=":material/database:", url_path="data"),
    "upload": st.Page("pages/upload.py", title=TITLE["upload"], icon=":material/upload:", url_path="upload"),
    "users": st.Page("pages/users.py", title=TITLE["users"], icon=":material/admin_panel_settings:", url_path="users"),
}


def refused(name: str) -> st.Page:
    """A page this role may not open, kept at its address (hidden from the menu) so a link to it says why."""
    return st.Page(lambda: ui.not_for_this_role(TITLE[name]), title=TITLE[name], url_path=name, visibility="hidden")


def navigate() -> None:
    """The pages this visitor's role may open, or the sign-in page; then run the one chosen.

    Every page's address always leads somewhere: signed out, to the sign-in form (which then opens the page
    the link pointed at, query and all); signed in, to the page or to why this role may not open it.
    """
    user = ui.visitor()
    st.session_state[ui.ROUTED] = True
    if user is None:
        sign_in = st.Page(ui.sign_in_page, title="Sign in", icon=":material/lock:", url_path="sign-in", default=True)
        behind = [st.Page(ui.sign_in_page, title="Sign in", url_path=name, visibility="hidden") for name in PAGES]
        page = st.navigation([sign_in, *behind])
    else:
        # A role whose pages leave out the Overview starts on the first page it has.
        mine = [page for name, page in PAGES.items() if ui.may_open(user, name)]
        page = st.navigation(mine + [refused(name) for name in PAGES if not ui.may_open(user, name)])
    guarded(page.title, page.run)


guarded("navigation", navigate)
