"""About these figures: definitions, the codes table, national sources and caveats."""

from dataclasses import asdict

import polars as pl
import streamlit as st

from vsdash import ui
from vsdash.glossary import CATEGORY_WORDS, DFE_GROUP_LABELS, DFE_GROUPS_EXPLAINED, principles, terms

cfg = ui.shell("about").cfg
st.title("About these figures")
st.markdown(principles(cfg))
st.subheader("Figures")
defined = terms(cfg).items()
# A static table: each definition is read whole, wrapped, not cut at a column's width.
st.table(pl.DataFrame({"Figure": [t.label for _, t in defined], "Definition": [t.help for _, t in defined]}))
st.subheader("Attendance codes")
codes = pl.DataFrame(
    {
        "code": list(cfg.code_category),
        "meaning": [cfg.code_meaning[c] for c in cfg.code_category],
        "category": [CATEGORY_WORDS[cfg.code_category[c]] for c in cfg.code_category],
    }
)
st.dataframe(codes, hide_index=True, key="codes", column_config=ui.table_columns(codes, category="Category"))
st.subheader("National figures")
# The national figures as the Overview compares them: each DfE group beside the same group of local children.
NATIONAL_HEADERS = {
    "cohort": "DfE group",
    "year": "Year",
    "overall_absence": "Overall absence %",
    "persistent_absence": "Persistent absence %",
    "severe_absence": "Severe absence %",
    "one_or_more_suspension": "One or more suspensions %",
    "permanent_exclusion": "Permanent exclusion rate %",
}
rows = [
    {"cohort": DFE_GROUP_LABELS.get(cohort, cohort), "year": year, **asdict(values)}
    for cohort, years in cfg.benchmarks.by_cohort.items()
    for year, values in years.items()
]
if rows:
    national = pl.DataFrame(rows)
    st.dataframe(
        national, hide_index=True, column_config=ui.table_columns(national, **NATIONAL_HEADERS), key="national"
    )
st.caption(
    f"Source: {cfg.benchmarks.source}. Attendance % is 100 minus overall absence. {DFE_GROUPS_EXPLAINED} "
    "The Overview compares each group with the same group of the selected children, on the as-at date."
)
pupils = [
    {"cohort": "All pupils", "year": year, **asdict(values)} for year, values in cfg.benchmarks.all_pupils.items()
]
if pupils:
    everyone = pl.DataFrame(pupils)
    st.dataframe(
        everyone, hide_index=True, column_config=ui.table_columns(everyone, **NATIONAL_HEADERS), key="all_pupils"
    )
    st.caption(
        f"Source: {cfg.benchmarks.all_pupils_source or cfg.benchmarks.source}. The suspension cards compare the "
        "selection's own rates with these: children with one or more suspensions / children x 100, and permanent "
        "exclusions / children x 100."
    )
st.caption(
    "National figures cover whole academic years; figures here are year to date, so early in the year they are "
    "not directly comparable."
)
st.subheader("Caveats")
st.markdown("""
- Figures are only as complete as the feeds: a school that stops sending data makes its children look "not seen"
  rather than absent (see *Data loaded*).
- Marks sent later for the same child, school and day replace earlier ones, so a figure can change after a correction.
- Children the social-care list knows without a matching UPN have no attendance here until the UPN is corrected.
""")
