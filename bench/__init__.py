"""The benchmark: the sample authority at scale, loaded like a real one and driven through the pages, beside
the floor (the same figures from the shortest polars code over a parquet copy of the marks).

Run from the project folder: `python -m bench --help`. It lives outside the `vsdash` package and measures
only through the product's own functions: the loader, the store, `DataAccess`, and the pages through
Streamlit's AppTest. Modules: `run` (the phases in order), `load`, `direct` (read and views), `pages` (the
only one importing Streamlit), `floor`, `scenario` (the filter changes), `measure` (rows, targets,
verdicts), `report` (table and JSON).
"""
