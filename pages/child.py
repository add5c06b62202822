"""One child's attendance on one page, for a social worker or reviewing officer."""

import re
from datetime import date

import polars as pl
import streamlit as st

from vsdash import charts, ui
from vsdash.glossary import terms
from vsdash.report import child_summary_html

shell = ui.shell("child")
cfg, access, filters = shell.cfg, shell.access, shell.filters
words = terms(cfg)
st.title("Child")
directory = access.child_directory()
labels = dict(
    directory.select(
        "la_child_id",
        pl.format(
            "{} {} ({}, UPN {})",
            pl.col("first_name").fill_null(""),
            pl.col("last_name").fill_null(""),
            "la_child_id",
            pl.col("upn").fill_null("unknown"),
        ),
    ).iter_rows()
)
# The URL carries the LA child ID only (never a name), so a link to a child's page can be shared safely.
wanted = st.session_state.pop("open_child", None) or st.query_params.get("child")
if wanted and wanted not in labels:
    # The ID comes from the URL: quoted only when it is plainly an ID, never as markdown someone typed.
    shown = f"LA child ID {wanted}" if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", wanted) else "that LA child ID"
    mine = " among your teams, schools and localities" if access.user.limited else ""
    st.warning(f"No child with {shown} is on the list{mine}. Choose a child below.")
choices = [None, *labels]
child_id = st.selectbox(
    "Find a child by name, LA child ID or UPN",
    choices,
    index=choices.index(wanted) if wanted in labels else 0,
    format_func=lambda i: "Choose a child" if i is None else labels.get(i, i),
)
if child_id:
    st.query_params["child"] = child_id
elif "child" in st.query_params:
    del st.query_params["child"]
if child_id is None:
    st.info("Choose a child above, or select one on the Triage page.")
    st.stop()
page = access.child_page(child_id, filters)
if page is None:
    st.warning("No children match: this child is not in the social-care list loaded.")
    st.stop()

who, fig = page.identity, page.figures
st.header(who.name)
st.caption(
    f"LA child ID {child_id} · UPN {who.upn or 'not known'} · born {who.dob:%d %b %Y} · year {who.year_group or '?'}"
    f" · EHCP {'yes' if who.ehcp else 'no'} · responsible LA {who.responsible_la}"
    if who.dob
    else f"LA child ID {child_id} · UPN {who.upn or 'not known'}"
)
st.markdown(
    f"**Social worker:** {who.social_worker or 'none allocated'} · **Team:** {who.team or '—'} · "
    f"**Locality:** {who.locality or '—'} · **Cohorts now:** {', '.join(fig.cohorts) or 'none'}"
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

st.plotly_chart(
    charts.session_calendar(page.sessions, f"Every session, {page.window.start:%d %b} to {page.window.as_of:%d %b %Y}"),
    key="calendar",
)
st.plotly_chart(charts.weekly_attendance(page.weekly, cfg), key="weekly")

left, right = st.columns(2)
with left:
    st.subheader("Cohorts")
    st.dataframe(
        page.cohort_history.select("label", "start_date", "end_date"),
        hide_index=True,
        key="cohorts",
        column_config={"label": "Cohort", "start_date": "From", "end_date": "To (blank: open)"},
    )
    st.subheader("Suspensions and exclusions")
    st.dataframe(
        page.suspensions.select("start_date", "category", "sessions", "reason", "reason_2", "urn"),
        hide_index=True,
        key="suspensions",
    )
with right:
    st.subheader("Schools")
    st.dataframe(
        page.schools,
        hide_index=True,
        key="schools",
        column_config={
            "out_of_area": st.column_config.CheckboxColumn("Out of area"),
            "dual_registered_days": "Days dual registered (D)",
        },
    )
    st.subheader("Actions recorded")
    actions = access.actions(child_id)
    st.dataframe(
        actions.drop("id", "la_child_id"),
        hide_index=True,
        key="actions",
        column_config={
            "action": "Action",
            "note": "Note",
            "follow_up": st.column_config.DateColumn("Follow up", format="DD/MM/YYYY"),
            "recorded_by": "Recorded by",
            "recorded_at": st.column_config.DatetimeColumn("Recorded at (UTC)", format="DD/MM/YYYY HH:mm"),
        },
    )
    ui.action_form(access, {child_id: who.name}, key="child_action")

about = [cfg.authority_name, f"Child {child_id}", f"Window {page.window.start} to {page.window.as_of}"]
ui.downloads(access, page.sessions, f"sessions_{child_id}", about, key="dl_sessions", child_rows=True)
summary_name = f"attendance_summary_{child_id}.html"
st.download_button(
    "Printable one-page summary (open, then print)",
    lambda: access.export(
        child_summary_html(page, cfg, actions, date.today()).encode(),
        summary_name,
        f"child {child_id}",
        child_rows=True,
    ),
    summary_name,
    "text/html",
    key="summary",
    on_click="ignore",
)
