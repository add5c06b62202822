"""Shared fixtures: the real configuration, and a fresh store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vsdash.config import load_config
from vsdash.store import Store

POSTGRES_URL = os.environ.get("VSDASH_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session", autouse=True)
def page_errors_raise():
    """Pages show a one-line error box to users; in tests a page's exception must reach AppTest, as
    `--client.showErrorDetails=full` makes it for a developer, so `at.exception` still catches a crash."""
    from streamlit import config as st_config

    st_config.set_option("client.showErrorDetails", "full")


@pytest.fixture(scope="session")
def cfg():
    """The project's own configuration file, as a user runs it."""
    return load_config()


def postgres_url_or_skip() -> str:
    """The test server's URL; in CI a missing server is a failure, elsewhere a skip."""
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("CI must set VSDASH_TEST_POSTGRES_URL (see .ci/start-postgres)")
    pytest.skip("no PostgreSQL server: set VSDASH_TEST_POSTGRES_URL (.ci/start-postgres prints one)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path):
    """An empty store on each engine vsdash supports."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'vsdash.db'}")
    else:
        s = Store(postgres_url_or_skip(), create=False)
        s.drop_schema()
        s.create_schema()
    yield s
    s.dispose()


@pytest.fixture
def write(tmp_path: Path):
    """Write a small feed file into the test's folder and return its path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text.lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> str:
    """The bundled sample authority loaded once into an SQLite file (copy it before writing)."""
    from vsdash.ingest import SAMPLE_DATA, ingest_folder

    path = tmp_path_factory.mktemp("sample") / "sample.db"
    store = Store(f"sqlite:///{path}")
    results = ingest_folder(store, SAMPLE_DATA, load_config())
    assert results and all(r.status == "loaded" for r in results)
    store.dispose()
    return str(path)
