"""About these figures: definitions, the codes table, national sources and caveats."""

from dataclasses import asdict

import polars as pl
import streamlit as st

from vsdash import ui
from vsdash.glossary import CATEGORY_WORDS, figure_help

cfg = ui.shell().cfg
st.title("About these figures")
helps = figure_help(cfg)
st.markdown("""
Every figure follows the Department for Education's definitions, computed from half-day **sessions**:

- **Attendance %** = sessions present or in approved educational activity ÷ possible sessions.
  A group's figure comes from its summed sessions, never from an average of children's percentages.
- **Persistent absence**: a child who missed 10% or more of their own possible sessions (exactly 90.0% attendance counts).
- **Severe absence**: missed 50% or more.
- A child with no possible session in the window has no attendance figure ("no data") and is in neither flag;
  rates are shares of children with at least one possible session.
- **Cohorts** are taken *as at* the as-at date from the dated episodes in the social-care list: a child whose plan
  ended before that date is no longer counted (Ever 6 keeps children who had a social worker in the last six years).
- **Out of area**: the child's current school (latest mark that is not D) is in another local authority than the one
  responsible for the child.
""")
st.subheader("Figures")
st.dataframe(pl.DataFrame({"figure": list(helps), "definition": list(helps.values())}), hide_index=True, key="figures",
             column_config={"definition": st.column_config.TextColumn(width="large")})
st.subheader("Attendance codes")
codes = pl.DataFrame({
    "code": list(cfg.code_category),
    "meaning": [cfg.code_meaning[c] for c in cfg.code_category],
    "category": [CATEGORY_WORDS[cfg.code_category[c]] for c in cfg.code_category],
})
st.dataframe(codes, hide_index=True, key="codes")
st.subheader("National figures")
rows = [{"cohort": cohort, "year": year, **asdict(values)}
        for cohort, years in cfg.benchmarks.by_cohort.items() for year, values in years.items()]
if rows:
    st.dataframe(pl.DataFrame(rows), hide_index=True, key="national")
st.caption(f"Source: {cfg.benchmarks.source}. National figures cover whole academic years; "
           "figures here are year to date, so early in the year they are not directly comparable.")
st.subheader("Caveats")
st.markdown("""
- Figures are only as complete as the feeds: a school that stops sending data makes its children look "not seen"
  rather than absent (see *Data loaded*).
- Marks sent later for the same child, school and day replace earlier ones, so a figure can change after a correction.
- Children the social-care list knows without a matching UPN have no attendance here until the UPN is corrected.
""")
