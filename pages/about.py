"""About these figures: definitions, the codes table, national sources and caveats."""

from dataclasses import asdict

import polars as pl
import streamlit as st

from vsdash import ui
from vsdash.glossary import CATEGORY_WORDS, principles, terms

cfg = ui.shell("about").cfg
st.title("About these figures")
st.markdown(principles(cfg))
st.subheader("Figures")
defined = terms(cfg).items()
st.dataframe(
    pl.DataFrame({"figure": [term.label for _, term in defined], "definition": [term.help for _, term in defined]}),
    hide_index=True,
    key="figures",
    column_config={"definition": st.column_config.TextColumn(width="large")},
)
st.subheader("Attendance codes")
codes = pl.DataFrame(
    {
        "code": list(cfg.code_category),
        "meaning": [cfg.code_meaning[c] for c in cfg.code_category],
        "category": [CATEGORY_WORDS[cfg.code_category[c]] for c in cfg.code_category],
    }
)
st.dataframe(codes, hide_index=True, key="codes")
st.subheader("National figures")
rows = [
    {"cohort": cohort, "year": year, **asdict(values)}
    for cohort, years in cfg.benchmarks.by_cohort.items()
    for year, values in years.items()
]
if rows:
    st.dataframe(pl.DataFrame(rows), hide_index=True, key="national")
st.caption(
    f"Source: {cfg.benchmarks.source}. National figures cover whole academic years; "
    "figures here are year to date, so early in the year they are not directly comparable."
)
st.subheader("Caveats")
st.markdown("""
- Figures are only as complete as the feeds: a school that stops sending data makes its children look "not seen"
  rather than absent (see *Data loaded*).
- Marks sent later for the same child, school and day replace earlier ones, so a figure can change after a correction.
- Children the social-care list knows without a matching UPN have no attendance here until the UPN is corrected.
""")
