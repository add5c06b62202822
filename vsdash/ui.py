"""The only module in vsdash that imports Streamlit: shared resources and widgets for the pages."""

from __future__ import annotations

import streamlit as st

from vsdash.access import DataAccess
from vsdash.config import Config, cached_config
from vsdash.ingest import load_sample_if_empty
from vsdash.store import Store


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    """One engine per database URL, shared by every session."""
    return Store(url)


@st.cache_resource(show_spinner="Loading the bundled sample authority (first start only)...")
def _bootstrap(url: str) -> int:
    """Load the bundled sample into an empty store once per process; returns the files loaded."""
    return len(load_sample_if_empty(_store(url), cached_config()))


def config() -> Config:
    """The configuration, read once per process."""
    return cached_config()


def access() -> DataAccess:
    """The viewer's door to the data (every visitor is an admin until sign-in arrives)."""
    cfg = config()
    _bootstrap(cfg.database_url)
    return DataAccess(_store(cfg.database_url), cfg, role=st.session_state.get("role", "admin"))
