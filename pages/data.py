"""Data quality: which schools are sending, how the social-care list matches the attendance, the exceptions
report for social care, and what each load did (the load log and the rejected rows)."""

import polars as pl
import streamlit as st

from vsdash import quality, ui
from vsdash.access import AccessDenied, DataAccess
from vsdash.glossary import counted


def confirm_form(access: DataAccess, suggestions: pl.DataFrame) -> None:
    """The admin confirms the suggested matches they have checked; each is stored with their name."""
    labels = {
        r["attendance_upn"]: f"{r['first_name']} {r['last_name']} ({r['la_child_id']}, list UPN "
        f"{r['list_upn'] or 'none'}) = {r['attendance_upn']} at {r['schools']}"
        for r in suggestions.iter_rows(named=True)
    }
    with st.container(border=True):
        chosen = st.multiselect(
            "Suggested matches to confirm",
            list(labels),
            format_func=labels.get,
            key="confirm_choices",
            placeholder="Choose the matches you have checked",
        )
        st.caption(f"Confirmed as {access.user.name}.")
        if st.button("Confirm selected matches", key="confirm_matches", disabled=not chosen):
            by_upn = {r["attendance_upn"]: r["la_child_id"] for r in suggestions.iter_rows(named=True)}
            for upn in chosen:
                access.confirm_match(upn, by_upn[upn])
            st.session_state["match_message"] = (
                f"Confirmed {counted(len(chosen), 'match', 'matches')}; every figure now uses them."
            )
            del st.session_state["confirm_choices"]
            st.rerun()


shell = ui.shell("data")
cfg, access = shell.cfg, shell.access
st.title("Data quality")
as_at = access.as_at()
st.caption(f"Data as at {as_at:%A %d/%m/%Y}" if as_at else "No attendance has been loaded yet.")
schools_tab, matching_tab, loads_tab = st.tabs(
    ["Schools sending", "Matching and exceptions", "Loads and rejected rows"]
)

# ---- freshness by school ------------------------------------------------------------------------------------
with schools_tab:
    fresh = access.school_freshness()
    silent_days = cfg.thresholds.silent_school_days
    counts = dict(fresh.group_by("status").len().iter_rows())
    cols = st.columns(4)
    cols[0].metric("Schools sending", f"{counts.get(quality.SENDING, 0):,}")
    cols[1].metric(
        "Silent schools",
        f"{counts.get(quality.SILENT, 0):,}",
        help=f"No marks for {silent_days} or more school days (days on which any school sent marks).",
    )
    cols[2].metric(
        "Never sent",
        f"{counts.get(quality.NEVER_SENT, 0):,}",
        help="Schools on the schools list with no marks at all. The children list names no expected school, "
        "so this is every listed school with nothing received.",
    )
    cols[3].metric("Latest school day", f"{as_at:%d/%m/%Y}" if as_at else "–")
    problems = fresh.filter(pl.col("status") != quality.SENDING)
    for row in problems.iter_rows(named=True):
        where = f"{row['la_name'] or row['la_code']}, out of area" if row["out_of_area"] else row["la_name"] or ""
        if row["status"] == quality.SILENT:
            st.warning(
                f"**{row['name']}** ({row['urn']}, {where}) has sent nothing since {row['last_mark']:%a %d/%m/%Y}: "
                f"{row['school_days_silent']} school days; {row['listed_children']} listed children attend."
            )
        else:
            st.error(f"**{row['name']}** ({row['urn']}, {where}) has never sent attendance.")
    only_problems = st.toggle("Only silent and never-sent schools", key="only_problem_schools")
    table = (problems if only_problems else fresh).with_columns(
        pl.when(pl.col("out_of_area")).then(pl.lit("out of area")).otherwise(pl.lit("in area")).alias("area")
    )
    shown = table.select(
        "status",
        "urn",
        "name",
        "last_mark",
        "school_days_silent",
        "listed_children",
        "pupils",
        "area",
        "la_name",
        "phase",
        "locality",
    )
    highlight = "background-color: rgba(255, 196, 0, 0.18)"
    # A school that never sent has no date and no count: the table says so, never "None" or "10.000000".
    shown = shown.with_columns(
        pl.col("last_mark").dt.strftime("%d/%m/%Y").fill_null("never"),
        pl.col("school_days_silent").cast(pl.String).fill_null("–"),
    )
    styled = shown.to_pandas().style.apply(lambda r: [highlight if r["area"] == "out of area" else ""] * len(r), axis=1)
    st.dataframe(
        styled,
        hide_index=True,
        key="school_freshness",
        column_config={
            "status": "Status",
            "urn": st.column_config.NumberColumn("URN", format="%d"),
            "name": "School",
            "last_mark": "Last mark received",
            "school_days_silent": "School days silent",
            "listed_children": st.column_config.NumberColumn(
                "Listed children", help="Listed children whose current school this is"
            ),
            "pupils": st.column_config.NumberColumn("Pupils sent", help="Distinct UPNs this school has sent"),
            "area": "Area",
            "la_name": "School's LA",
            "phase": "Phase",
            "locality": "Locality",
        },
    )
    st.caption("Out-of-area schools are shaded: their data is the hardest to get.")
    ui.downloads(
        access,
        shown,
        "school_freshness",
        [
            f"{cfg.authority_name}: freshness by school",
            f"data as at {as_at}",
            f"silent = no marks for {silent_days}+ school days",
        ],
        key="dl_freshness",
        selection=False,
    )

# ---- matching and the exceptions report -------------------------------------------------------------------
with matching_tab:
    try:
        matching = access.matching()
    except AccessDenied as exc:
        st.info(f"Matching names children: {exc}.")
        matching = None
    if matching is not None:
        n = matching.counts()
        rate = matching.match_rate()
        cols = st.columns(4)
        cols[0].metric("Children on the list", f"{n['listed']:,}")
        cols[1].metric(
            "Match rate",
            f"{rate:.1f}%" if rate is not None else "–",
            help="Listed children whose attendance is found, by UPN or a confirmed match. Authorities report 77-85%.",
        )
        cols[2].metric("Matched by UPN", f"{n[quality.MATCHED_UPN]:,}")
        cols[3].metric("Confirmed matches", f"{n[quality.CONFIRMED]:,}")
        cols = st.columns(4)
        cols[0].metric(
            "Suggested matches",
            f"{n[quality.SUGGESTED]:,}",
            help="Attendance under another UPN carrying the child's LA Child ID: confirm below.",
        )
        cols[1].metric("No attendance found", f"{n[quality.NO_DATA]:,}")
        cols[2].metric(
            "Unknown pupils",
            f"{n['unknown_pupils']:,}",
            help="UPNs in the attendance that no listed child has (and no suggestion explains).",
        )
        if message := st.session_state.pop("match_message", None):
            st.success(message)

        report = access.exceptions_report()
        about_date = as_at
        left, right, _ = st.columns([1, 1, 3])
        left.download_button(
            "Exceptions report (XLSX)",
            lambda: access.export(
                quality.report_xlsx(report, cfg, about_date),
                "exceptions_report.xlsx",
                "exceptions report",
                child_rows=True,
            ),
            "exceptions_report.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="report_xlsx",
            on_click="ignore",
        )
        right.download_button(
            "Exceptions report (CSV)",
            lambda: access.export(
                quality.report_csv(report, cfg, about_date),
                "exceptions_report.csv",
                "exceptions report",
                child_rows=True,
            ),
            "exceptions_report.csv",
            "text/csv",
            key="report_csv",
            on_click="ignore",
        )

        for section in report:
            st.subheader(f"{section.name} ({section.frame.height:,})")
            st.caption(section.title)
            if section.frame.is_empty():
                st.caption("None found.")
                continue
            st.dataframe(
                section.frame,
                hide_index=True,
                key=f"section_{section.name}",
                column_config=ui.table_columns(section.frame),
            )
            if section.name == "Suggested matches":
                confirm_form(access, matching.suggestions)

        confirmed = access.confirmed_matches()
        if confirmed.height:
            undo = st.selectbox(
                "Withdraw a confirmed match made in error",
                confirmed["alias_upn"].to_list(),
                index=None,
                key="withdraw_choice",
                placeholder="Choose a UPN",
            )
            if st.button("Withdraw", key="withdraw_match", disabled=undo is None):
                access.withdraw_match(undo)
                st.session_state["match_message"] = f"Withdrew the match for {undo}."
                st.rerun()

# ---- the load log and rejected rows --------------------------------------------------------------------------
with loads_tab:
    counts = access.loaded_counts()
    cols = st.columns(4)
    for col, (label, table) in zip(
        cols,
        [
            ("Children", "children"),
            ("Cohort episodes", "cohort_episodes"),
            ("Attendance rows", "attendance"),
            ("Schools", "schools"),
        ],
        strict=True,
    ):
        col.metric(label, f"{counts.get(table, 0):,}")

    st.subheader("Load log")
    log = access.load_log()
    if log.is_empty():
        st.info(
            "No files have been loaded yet. Load feeds on the Upload page or with `python -m vsdash ingest FILE...`."
        )
    else:
        shown = log.drop("sha256").with_columns(pl.col("message").fill_null(""))
        st.dataframe(shown, hide_index=True, key="load_log", column_config=ui.table_columns(shown, id="Load"))
        ui.downloads(
            access,
            shown,
            "load_log",
            [f"{cfg.authority_name}: load log"],
            key="dl_load_log",
            selection=False,
        )

    st.subheader("Rejected rows")
    try:
        rejected = access.rejected_explained()
    except AccessDenied as exc:
        st.info(f"Rejected rows hold UPNs and names: {exc}.")
        rejected = None
    if rejected is not None and rejected.is_empty():
        st.success("No rows have been rejected.")
    elif rejected is not None:
        summary = rejected.group_by("kind", "problem", "outcome").agg(rows=pl.len()).sort("rows", descending=True)
        st.dataframe(summary, hide_index=True, key="rejected_summary", column_config=ui.table_columns(summary))
        left, right = st.columns(2)
        files = left.multiselect(
            "File", sorted(rejected["file"].unique().to_list()), key="rejected_files", placeholder="All files"
        )
        problems = right.multiselect(
            "Problem",
            sorted(rejected["problem"].unique().to_list()),
            key="rejected_problems",
            placeholder="All problems",
        )
        chosen = rejected.filter(
            pl.col("file").is_in(files) if files else pl.lit(True),
            pl.col("problem").is_in(problems) if problems else pl.lit(True),
        )
        st.caption(
            f"{chosen.height:,} of {rejected.height:,} rejected values. 'value dropped' means the row loaded "
            "without that value (for example a child without a usable UPN); 'flagged' means it loaded and a person "
            "should check it (an identity conflict)."
        )
        st.dataframe(chosen, hide_index=True, key="rejected_rows", column_config=ui.table_columns(chosen))
        ui.downloads(
            access,
            chosen,
            "rejected_rows",
            [
                f"{cfg.authority_name}: rejected rows",
                f"files: {', '.join(files) or 'all'}; problems: {', '.join(problems) or 'all'}",
            ],
            key="dl_rejected",
            selection=False,
            child_rows=True,
        )
