"""One child's attendance on one page, for a social worker or reviewing officer."""

import re
from datetime import date

import streamlit as st

from vsdash import charts, ui, views
from vsdash.child_search import FOUND, markdown_text
from vsdash.glossary import terms
from vsdash.report import child_summary_html, print_opener_html, register_html

shell = ui.shell("child")
cfg, access, filters = shell.cfg, shell.access, shell.filters
words = terms(cfg)
st.title("Child")
# The URL carries the LA child ID only (never a name), so a link to a child's page can be shared safely.
if opened := st.session_state.pop("open_child", None):  # a row chosen on the Triage page
    st.query_params["child"] = opened
wanted = st.query_params.get("child")
if wanted and wanted not in access.find_children(wanted, 1).labels:  # an exact LA child ID is listed first
    # The ID comes from the URL: quoted only when it is plainly an ID, never as markdown someone typed.
    shown = f"LA child ID {wanted}" if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", wanted) else "that LA child ID"
    mine = " among your teams, schools and localities" if access.user.limited else ""
    st.warning(f"No child with {shown} is on the list{mine}. Choose a child below.")
    del st.query_params["child"]


@st.fragment
def finder() -> None:
    """The search box and its short list: typing reruns only this part, not the open child's page below;
    choosing a child runs the whole page again with them in the URL."""
    query = st.text_input(
        "Find a child by name, LA child ID or UPN",
        key="child_search",
        type="search",
        live=True,
        placeholder="Part of a name, LA child ID or UPN, for example: smith jo",
    )
    found = access.find_children(query)
    # A button a child, not a radio list: arrow keys move through buttons without opening (and auditing)
    # each child passed on the way.
    with st.container(gap=None):  # the list reads as one list, a line a child
        for child_id, label in found.labels.items():
            if st.button(markdown_text(label), key=f"{FOUND}{child_id}", type="tertiary", icon=":material/person:"):
                st.query_params["child"] = child_id
                st.rerun()
    if note := found.note():
        st.caption(note)


finder()
child_id = st.query_params.get("child")
if child_id is None:
    st.info("Choose a child above, or select one on the Triage page.")
    st.stop()
page = access.child_page(child_id, filters)
if page is None:
    st.warning("No children match: this child is not in the social-care list loaded.")
    st.stop()

who, fig, tables = page.identity, page.figures, page.tables
st.header(who.name)
st.caption(
    f"LA child ID {child_id} · UPN {who.upn or 'not known'} · born {who.dob:%d/%m/%Y} · year {who.year_group or '—'}"
    f" · EHCP {'yes' if who.ehcp else 'no'} · responsible LA {tables.responsible_la}"
    if who.dob
    else f"LA child ID {child_id} · UPN {who.upn or 'not known'} · responsible LA {tables.responsible_la}"
)
st.markdown(
    f"**Social worker:** {who.social_worker or 'none allocated'} · **Team:** {who.team or '—'} · "
    f"**Locality:** {who.locality or '—'} · **Cohorts now:** {', '.join(f'{cfg.cohorts.get(c, c)} ({c})' for c in fig.cohorts) or 'none'}"
)

c1, c2, c3, c4 = st.columns(4)
c1.metric(
    words.attendance_pct.label,
    "no data" if fig.attendance_pct is None else f"{fig.attendance_pct:.1f}%",
    help=words.attendance_pct.help,
)
c2.metric(words.possible_sessions.label, fig.possible_sessions, help=words.possible_sessions.help)
c3.metric(
    words.absence_sessions.label,
    fig.absence_sessions,
    help=f"{fig.authorised_sessions} authorised, {fig.unauthorised_sessions} unauthorised",
)
c4.metric(
    words.suspensions.label,
    fig.suspensions,
    help=f"{fig.suspension_sessions} sessions lost; {fig.permanent_exclusions} permanent exclusions",
)
if page.signals.reasons:
    st.warning("**Signals:** " + "; ".join(page.signals.reasons))

st.html(register_html(page.register))
ui.chart(charts.weekly_attendance(page.weekly, cfg), key="weekly")

left, right = st.columns(2)
with left:
    st.subheader("Cohorts")
    st.dataframe(tables.cohorts, hide_index=True, key="cohorts", column_config=ui.table_columns(tables.cohorts))
    st.subheader("Suspensions and exclusions")
    st.dataframe(
        tables.suspensions,
        hide_index=True,
        key="suspensions",
        column_config=ui.table_columns(tables.suspensions),
    )
with right:
    st.subheader("Schools")
    st.dataframe(tables.schools, hide_index=True, key="schools", column_config=ui.table_columns(tables.schools))
    st.subheader("School moves")
    moves = access.child_moves(child_id, filters)
    if moves.is_empty():
        st.caption("No move between schools in the marks received (dual registration, D, is not a move).")
    else:
        st.dataframe(moves, hide_index=True, key="moves", column_config=ui.table_columns(moves))
    st.subheader("Actions recorded")
    actions = access.actions(child_id)
    shown_actions = views.action_rows(actions)
    st.dataframe(shown_actions, hide_index=True, key="actions", column_config=ui.table_columns(shown_actions))
    ui.action_form(access, {child_id: who.name}, key="child_action")

about = [
    cfg.authority_name,
    f"Child {child_id}",
    f"Window {page.window.start:%d/%m/%Y} to {page.window.as_of:%d/%m/%Y}",
]
ui.downloads(access, tables.sessions, f"sessions_{child_id}", about, key="dl_sessions", child_rows=True)

# The summary opens in a new tab ready to print; the click that builds it puts the export on the audit log.
summary_name = f"attendance_summary_{child_id}.html"
if st.button("Printable summary", key="summary_print", help="Opens the one-page summary in a new tab to print"):
    summary = access.export(
        child_summary_html(page, cfg, actions, date.today()).encode(), summary_name, f"child {child_id}", True
    )
    st.iframe(print_opener_html(summary.decode()), height=48)
    st.download_button(
        "Or download the summary (HTML)",
        summary,
        summary_name,
        "text/html",
        key="summary",
        on_click="ignore",
    )
